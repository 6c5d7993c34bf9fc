"""The clocks of interventions and legal remedies (002, 000 §10.4): every date on its edge day,
leap years, the organisation's own numbers, and the alerts each clock raises."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from panels.case_models import Intervention
from panels.policy import LegalClocks
from panels.remedies import Clocks, age_on, clock_alerts, compute_clocks, nosp_warning_on
from panels.vocabulary import InterventionKind

K = InterventionKind
LAW = LegalClocks()


def _served(kind: InterventionKind, on: date, clocks: LegalClocks = LAW, **values: object) -> Intervention:
    """An intervention in force, its dates set as on service."""
    dates = compute_clocks(kind, on, clocks)
    row = Intervention(
        case_id=1,
        kind=kind,
        status=str(values.pop("status", "served")),
        served_on=on,
        expires_on=dates.expires_on,
        review_on=dates.review_on,
        review_request_by=dates.review_request_by,
        earliest_proceedings_on=dates.earliest_proceedings_on,
        monitoring_ends_on=dates.monitoring_ends_on,
    )
    for key, value in values.items():
        setattr(row, key, value)
    return row


# --- Dates set on service ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "expires", "proceedings"),
    [
        (date(2027, 3, 1), date(2028, 3, 1), date(2027, 3, 29)),
        (date(2028, 2, 29), date(2029, 2, 28), date(2028, 3, 28)),  # leap day: no 29 February in 2029
        (date(2027, 2, 28), date(2028, 2, 28), date(2027, 3, 28)),
        (date(2027, 12, 15), date(2028, 12, 15), date(2028, 1, 12)),
    ],
)
def test_a_notice_of_seeking_possession_lasts_12_months_after_a_4_week_notice_period(
    served: date, expires: date, proceedings: date
) -> None:
    assert compute_clocks(K.NOTICE_OF_SEEKING_POSSESSION, served, LAW) == Clocks(
        expires_on=expires, earliest_proceedings_on=proceedings
    )


@pytest.mark.parametrize(
    ("served", "review_by", "proceedings"),
    [
        (date(2027, 3, 1), date(2027, 3, 15), date(2027, 3, 29)),
        (date(2028, 2, 29), date(2028, 3, 14), date(2028, 3, 28)),
        (date(2028, 2, 15), date(2028, 2, 29), date(2028, 3, 14)),  # counts 29 February 2028
        (date(2027, 2, 15), date(2027, 3, 1), date(2027, 3, 15)),
        (date(2027, 12, 20), date(2028, 1, 3), date(2028, 1, 17)),
    ],
)
def test_a_notice_of_intention_allows_a_review_for_14_days_and_proceedings_after_28(
    served: date, review_by: date, proceedings: date
) -> None:
    assert compute_clocks(K.NOTICE_OF_INTENTION_DEMOTION, served, LAW) == Clocks(
        review_request_by=review_by, earliest_proceedings_on=proceedings
    )


@pytest.mark.parametrize(
    ("served", "ends"),
    [
        (date(2027, 4, 30), date(2028, 4, 30)),
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2031, 2, 28), date(2032, 2, 28)),
    ],
)
def test_a_demotion_order_is_monitored_for_12_months(served: date, ends: date) -> None:
    assert compute_clocks(K.DEMOTION_ORDER, served, LAW) == Clocks(monitoring_ends_on=ends)


@pytest.mark.parametrize(("hours", "expires"), [(48, date(2027, 3, 3)), (36, date(2027, 3, 3)), (72, date(2027, 3, 4))])
def test_a_closure_notice_runs_for_its_hours_rounded_up_to_whole_days(hours: int, expires: date) -> None:
    clocks = LegalClocks(closure_notice_hours=hours)
    assert compute_clocks(K.CLOSURE_NOTICE, date(2027, 3, 1), clocks) == Clocks(expires_on=expires)


def test_a_closure_order_runs_to_the_date_set_or_at_most_the_maximum() -> None:
    assert compute_clocks(K.CLOSURE_ORDER, date(2027, 8, 31), LAW) == Clocks(expires_on=date(2028, 2, 29))
    assert compute_clocks(K.CLOSURE_ORDER, date(2026, 8, 31), LAW) == Clocks(expires_on=date(2027, 2, 28))
    three = LegalClocks(closure_order_max_months=3)
    assert compute_clocks(K.CLOSURE_ORDER, date(2027, 3, 1), three) == Clocks(expires_on=date(2027, 6, 1))
    chosen = compute_clocks(K.CLOSURE_ORDER, date(2027, 3, 1), LAW, ends_on=date(2027, 5, 1))
    assert chosen == Clocks(expires_on=date(2027, 5, 1))


@pytest.mark.parametrize(
    "kind",
    [
        K.WARNING_LETTER,
        K.ACCEPTABLE_BEHAVIOUR_CONTRACT,
        K.GOOD_NEIGHBOUR_AGREEMENT,
        K.MEDIATION,
        K.NEIGHBOURHOOD_RESOLUTION_PANEL,
        K.COMMUNITY_PROTECTION_WARNING,
        K.COMMUNITY_PROTECTION_NOTICE,
        K.CIVIL_INJUNCTION,
        K.CRIMINAL_BEHAVIOUR_ORDER,
        K.POSSESSION,
    ],
)
def test_the_others_are_reviewed_after_the_review_period(kind: InterventionKind) -> None:
    assert compute_clocks(kind, date(2027, 11, 30), LAW) == Clocks(review_on=date(2028, 2, 29))
    assert compute_clocks(kind, date(2026, 11, 30), LAW) == Clocks(review_on=date(2027, 2, 28))
    assert compute_clocks(kind, date(2027, 1, 15), LegalClocks(intervention_review_months=1)) == Clocks(
        review_on=date(2027, 2, 15)
    )


def test_the_organisations_own_numbers_set_the_clocks() -> None:
    clocks = LegalClocks(
        nosp_valid_months=6, possession_notice_weeks=2, noi_review_request_days=7, noi_earliest_proceedings_days=21,
        demotion_monitoring_months=18,
    )  # fmt: skip
    served = date(2027, 3, 1)
    assert compute_clocks(K.NOTICE_OF_SEEKING_POSSESSION, served, clocks) == Clocks(
        expires_on=date(2027, 9, 1), earliest_proceedings_on=date(2027, 3, 15)
    )
    assert compute_clocks(K.NOTICE_OF_INTENTION_DEMOTION, served, clocks) == Clocks(
        review_request_by=date(2027, 3, 8), earliest_proceedings_on=date(2027, 3, 22)
    )
    assert compute_clocks(K.DEMOTION_ORDER, served, clocks) == Clocks(monitoring_ends_on=date(2028, 9, 1))


# --- The expiry warning of a Notice of Seeking Possession ------------------------------------


def test_the_nosp_warning_starts_the_policy_days_before_expiry() -> None:
    nosp = _served(K.NOTICE_OF_SEEKING_POSSESSION, date(2026, 3, 3))
    assert nosp.expires_on == date(2027, 3, 3)
    assert nosp_warning_on(nosp, LAW) == date(2027, 2, 1)  # 30 days before
    assert nosp_warning_on(nosp, LegalClocks(nosp_expiry_warning_days=7)) == date(2027, 2, 24)
    leap = _served(K.NOTICE_OF_SEEKING_POSSESSION, date(2027, 3, 30))
    assert nosp_warning_on(leap, LAW) == date(2028, 2, 29)
    assert nosp_warning_on(_served(K.DEMOTION_ORDER, date(2027, 3, 3)), LAW) is None
    assert nosp_warning_on(Intervention(case_id=1, kind=K.NOTICE_OF_SEEKING_POSSESSION), LAW) is None


def test_the_nosp_alert_runs_from_the_warning_day_to_expiry_then_says_it_expired() -> None:
    nosp = _served(K.NOTICE_OF_SEEKING_POSSESSION, date(2026, 3, 3))
    assert clock_alerts(nosp, date(2027, 1, 31), LAW) == []
    warning = ["Notice of Seeking Possession expires on 3 March 2027: alert witnesses if appropriate"]
    assert clock_alerts(nosp, date(2027, 2, 1), LAW) == warning
    assert clock_alerts(nosp, date(2027, 3, 3), LAW) == warning
    assert clock_alerts(nosp, date(2027, 3, 4), LAW) == [
        "Notice of Seeking Possession expired on 3 March 2027: serve a new notice before seeking possession"
    ]
    nosp.witnesses_alerted_at = datetime(2027, 2, 2, 10, 0, tzinfo=UTC)
    assert clock_alerts(nosp, date(2027, 2, 2), LAW) == [
        "Notice of Seeking Possession expires on 3 March 2027 (witnesses alerted)"
    ]


@pytest.mark.parametrize("status", ["planned", "ended", "withdrawn", "expired"])
def test_only_an_intervention_in_force_raises_alerts(status: str) -> None:
    nosp = _served(K.NOTICE_OF_SEEKING_POSSESSION, date(2026, 3, 3), status=status)
    assert clock_alerts(nosp, date(2027, 3, 3), LAW) == []


def test_a_breached_intervention_is_still_in_force() -> None:
    injunction = _served(K.CIVIL_INJUNCTION, date(2027, 3, 1), status="breached")
    assert clock_alerts(injunction, date(2027, 6, 1), LAW) == ["Civil injunction review due today"]


# --- The other alerts ----------------------------------------------------------------------


def test_the_notice_of_intention_alerts_the_review_window_then_the_proceedings_date() -> None:
    noi = _served(K.NOTICE_OF_INTENTION_DEMOTION, date(2027, 3, 1))
    assert clock_alerts(noi, date(2027, 3, 15), LAW) == [
        "Tenant may request a review until 15 March 2027",
        "Proceedings for a Demotion Order can start on 29 March 2027",
    ]
    assert clock_alerts(noi, date(2027, 3, 16), LAW) == ["Proceedings for a Demotion Order can start on 29 March 2027"]
    assert clock_alerts(noi, date(2027, 3, 28), LAW) == ["Proceedings for a Demotion Order can start on 29 March 2027"]
    assert clock_alerts(noi, date(2027, 3, 29), LAW) == []


def test_the_demotion_order_alert_names_the_end_of_monitoring() -> None:
    order = _served(K.DEMOTION_ORDER, date(2028, 2, 29))
    assert clock_alerts(order, date(2029, 2, 28), LAW) == [
        "Demotion Order monitoring ends on 28 February 2029: then restore the secure tenancy or seek possession"
    ]
    assert clock_alerts(order, date(2029, 3, 1), LAW) == [
        "Demotion Order monitoring ended on 28 February 2029: record whether the secure tenancy was restored or "
        "possession sought"
    ]


def test_closure_notice_and_order_alerts() -> None:
    notice = _served(K.CLOSURE_NOTICE, date(2027, 3, 1))
    assert clock_alerts(notice, date(2027, 3, 3), LAW) == [
        "Closure notice expires on 3 March 2027: a closure order must be sought before then"
    ]
    assert clock_alerts(notice, date(2027, 3, 4), LAW) == ["Closure notice expired on 3 March 2027"]
    order = _served(K.CLOSURE_ORDER, date(2027, 3, 3))
    assert clock_alerts(order, date(2027, 9, 3), LAW) == ["Closure order ends on 3 September 2027"]
    assert clock_alerts(order, date(2027, 9, 4), LAW) == [
        "Closure order ended on 3 September 2027: record how it ended"
    ]


def test_a_review_is_due_on_its_day_and_overdue_after() -> None:
    contract = _served(K.ACCEPTABLE_BEHAVIOUR_CONTRACT, date(2027, 11, 30))
    assert clock_alerts(contract, date(2028, 2, 28), LAW) == []
    assert clock_alerts(contract, date(2028, 2, 29), LAW) == ["Acceptable Behaviour Contract review due today"]
    assert clock_alerts(contract, date(2028, 3, 1), LAW) == [
        "Acceptable Behaviour Contract review overdue since 29 February 2028"
    ]


# --- Age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2011, 6, 1), date(2027, 5, 31), 15),
        (date(2011, 6, 1), date(2027, 6, 1), 16),
        (date(2012, 2, 29), date(2028, 2, 28), 15),
        (date(2012, 2, 29), date(2028, 2, 29), 16),
        (date(2012, 2, 29), date(2029, 2, 28), 16),
        (date(2012, 2, 29), date(2027, 2, 28), 14),
        (date(2012, 2, 29), date(2027, 3, 1), 15),  # in a year without 29 February, a year older on 1 March
    ],
)
def test_age_in_whole_years(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age
