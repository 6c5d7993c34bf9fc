"""The case page's helpers: reading what was typed into the forms, the words and colours of the
header, and turning the services' read models into rows the page shows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from panels.incidents import EvidenceRead, IncidentRead
from panels.policy import CAMBRIDGE_SCHEME
from panels.remedies import InterventionRead
from panels.risk import FirstContactStatus
from portal.pages.case_detail import (
    DEMOTION_PREFIX,
    file_size,
    first_contact_text,
    form_errors,
    incident_row,
    intervention_row,
    optional_id,
    parse_day,
    parse_local_datetime,
    question_rows,
    risk_colour,
    split_list,
    ticked,
)
from sharing.reads import FieldView, ItemView
from sharing.vocabulary import WITHHELD

# --- Reading the forms ---------------------------------------------------------------------------


def test_field_errors_go_to_the_fields_the_form_shows_and_the_rest_to_the_top() -> None:
    errors = form_errors(
        "incident",
        {"what_happened": "Describe what happened.", "case": "This case is closed.", "reported_at": "Too early."},
    )
    assert errors == {
        "incident.what_happened": "Describe what happened.",
        "incident": "This case is closed. Too early.",
    }


def test_a_form_with_only_field_errors_has_nothing_at_the_top() -> None:
    assert form_errors("move", {"to_stage": "Choose a stage.", "reason": "Say why."}) == {
        "move.to_stage": "Choose a stage.",
        "move.reason": "Say why.",
    }


def test_a_local_time_in_summer_is_an_hour_ahead_of_utc() -> None:
    moment, problem = parse_local_datetime("2026-07-01T09:30")
    assert problem == ""
    assert moment is not None and moment.astimezone(UTC) == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)


def test_a_local_time_in_winter_is_utc() -> None:
    moment, _ = parse_local_datetime("2026-11-20T23:15")
    assert moment is not None and moment.astimezone(UTC) == datetime(2026, 11, 20, 23, 15, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["", "   "])
def test_an_empty_time_is_none_without_complaint(raw: str) -> None:
    assert parse_local_datetime(raw) == (None, "")


def test_an_unreadable_time_says_so() -> None:
    moment, problem = parse_local_datetime("yesterday teatime")
    assert moment is None and "date and time" in problem


def test_days() -> None:
    assert parse_day("2026-02-28") == (date(2026, 2, 28), "")
    assert parse_day("") == (None, "")
    day, problem = parse_day("2026-02-30")
    assert day is None and problem == "Enter the date as day, month and year."


def test_ids_from_selects() -> None:
    assert optional_id("12") == 12
    assert optional_id("") is None
    assert optional_id(None) is None
    assert optional_id("panel:3") is None


@pytest.mark.parametrize(
    ("value", "expected"), [("on", True), (True, True), ("true", True), (None, False), (False, False), ("", False)]
)
def test_a_ticked_box_comes_as_on_or_as_true(value: object, expected: bool) -> None:
    assert ticked(value) is expected


def test_support_services_one_per_line_or_by_commas() -> None:
    assert split_list("Adult Social Care\nVictim Support, Mind \n\n , ") == [
        "Adult Social Care",
        "Victim Support",
        "Mind",
    ]


# --- The header ----------------------------------------------------------------------------------

DUE = datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC)


def test_first_contact_due_and_overdue() -> None:
    assert first_contact_text(FirstContactStatus.DUE, DUE) == "Due by 24 Nov 2026, 23:59"
    assert first_contact_text(FirstContactStatus.OVERDUE, DUE) == "Overdue: it was due by 24 Nov 2026, 23:59"


def test_first_contact_made() -> None:
    assert first_contact_text(FirstContactStatus.MET_ON_TIME, DUE) == "Made on time"
    assert first_contact_text(FirstContactStatus.MET_LATE, DUE) == "Made late (it was due by 24 Nov 2026, 23:59)"


def test_first_contact_before_any_assessment_and_for_partners() -> None:
    assert first_contact_text(FirstContactStatus.NOT_SET, None) == "Not set: assess the risk to set the deadline"
    # A partner has the deadline from the shared summary, not the lead's status.
    assert first_contact_text("", DUE) == "Due by 24 Nov 2026, 23:59"


def test_first_contact_in_summer_is_shown_in_local_time() -> None:
    due = datetime(2026, 7, 1, 22, 59, 59, tzinfo=UTC)
    assert first_contact_text(FirstContactStatus.DUE, due) == "Due by 1 Jul 2026, 23:59"


@pytest.mark.parametrize(
    ("rank", "top", "colour"),
    [(0, 3, "gray"), (1, 3, "green"), (2, 3, "orange"), (3, 3, "red"), (4, 4, "red"), (3, 4, "orange")],
)
def test_risk_colours(rank: int, top: int, colour: str) -> None:
    assert risk_colour(rank, top) == colour


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1.0 KB"), (1536, "1.5 KB"), (5 * 1024**2, "5.0 MB")],
)
def test_file_sizes(size: int, text: str) -> None:
    assert file_size(size) == text


# --- Rows ----------------------------------------------------------------------------------------


def test_the_questionnaire_has_one_radio_group_per_question_with_unique_ids() -> None:
    rows = question_rows(CAMBRIDGE_SCHEME)
    assert [r["key"] for r in rows] == ["type", "duration", "frequency", "impact", "vulnerability"]
    ids = [o["id"] for r in rows for o in r["options"]]
    assert len(ids) == len(set(ids))
    impact = next(r for r in rows if r["key"] == "impact")
    assert {"value": "severe", "label": "Afraid to leave or stay in the home", "id": "risk-impact-severe"} in impact[
        "options"
    ]
    assert question_rows(None) == []


def _view(fields: list[FieldView]) -> ItemView:
    return ItemView(
        id=7, kind="incident", title="Incident on 20 November 2026 (ASB-2026-0009)", owner_organisation="Council",
        category="asb_history", marking="official_sensitive", person_id=None, case_reference="ASB-2026-0009",
        access="owner", disclosure_ids=(), fields=tuple(fields),
    )  # fmt: skip


def test_an_incident_is_headed_by_when_it_happened_with_its_evidence() -> None:
    read = IncidentRead(
        id=3,
        case_id=9,
        view=_view(
            [
                FieldView("occurred_at", "When it happened", "20 November 2026 at 22:10", False),
                FieldView("what_happened", "What happened", "Music until 3am", False),
                FieldView("reported_by", "Reported by", WITHHELD, True),
            ]
        ),
        evidence=(EvidenceRead(5, "photo", "door.png", "image/png", 2048, "ab" * 32, "The damaged door"),),
    )
    row = incident_row(read)
    assert row["heading"] == "Incident on 20 November 2026 at 22:10"
    assert row["fields"] == [
        {"label": "What happened", "value": "Music until 3am", "withheld": ""},
        {"label": "Reported by", "value": WITHHELD, "withheld": "yes"},
    ]
    assert row["evidence"] == [
        {
            "name": "door.png",
            "href": "/evidence/5",
            "kind": "Photo",
            "type": "image/png",
            "size": "2.0 KB",
            "sha256": "ab" * 32,
            "description": "The damaged door",
        }
    ]


def _intervention(kind: str, status: str, **dates: date | None) -> InterventionRead:
    values: dict[str, date | None] = {
        "served_on": None, "expires_on": None, "review_on": None, "review_request_by": None,
        "earliest_proceedings_on": None, "monitoring_ends_on": None, "nosp_warning_on": None, "ended_on": None,
    }  # fmt: skip
    values.update(dates)
    return InterventionRead(
        id=4, case_id=9, kind=kind, kind_label=kind.replace("_", " ").capitalize(), is_legal_remedy=True,
        status=status, status_label=status.capitalize(), subject_person_id=11, witnesses_alerted_at=None,
        authorised_by="", details="Served by hand", outcome="", alerts=("Expires soon",), **values,  # type: ignore[arg-type]
    )  # fmt: skip


def test_an_intervention_row_names_who_it_is_about_and_its_dates() -> None:
    read = _intervention(
        "notice_of_seeking_possession", "served", served_on=date(2026, 1, 5), expires_on=date(2027, 1, 5),
        earliest_proceedings_on=date(2026, 2, 2),
    )  # fmt: skip
    row = intervention_row(read, {11: "Dylan Moss"})
    assert row["heading"] == "Notice of seeking possession on Dylan Moss"
    assert row["dates"] == ["Served 5 Jan 2026", "Proceedings from 2 Feb 2026", "Expires 5 Jan 2027"]
    assert row["alerts"] == ["Expires soon"]
    assert row["legal"] == "yes" and row["can_alert_witnesses"] == "yes"
    assert [c["value"] for c in row["choices"]] == ["breached", "ended", "withdrawn"]


def test_a_partner_does_not_learn_who_it_is_about() -> None:
    read = _intervention("warning_letter", "planned")
    row = intervention_row(read, {})
    assert row["heading"] == "Warning letter"
    assert [c["value"] for c in row["choices"]] == ["served", "withdrawn"]
    assert row["can_alert_witnesses"] == ""


def test_a_demotion_order_ends_by_restoring_the_tenancy_or_seeking_possession() -> None:
    row = intervention_row(_intervention("demotion_order", "breached", served_on=date(2026, 1, 5)), {})
    assert [c["value"] for c in row["choices"]] == [
        DEMOTION_PREFIX + "restored_to_secure",
        DEMOTION_PREFIX + "possession",
        "withdrawn",
    ]


def test_an_ended_intervention_offers_nothing_more() -> None:
    assert intervention_row(_intervention("mediation", "ended", ended_on=date(2026, 3, 1)), {})["choices"] == []
