"""Recording reports and triaging them: not ASB with advice, log only (anonymous), opening a
case, adding to a case (re-opening a closed one), and the victim's consent a third-party
report needs first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, CaseParty, CaseReport, StageMove
from panels.cases import NOT_YOUR_CASE, CaseInput
from panels.triage import (
    NOT_YOUR_REPORT,
    VICTIM_CONSENT_NEEDED,
    ReportInput,
    TriageDecision,
    VictimConsentNeeded,
    list_reports_awaiting_triage,
    record_report,
    triage_report,
)
from panels.vocabulary import NotAsbReason
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import AccessLog, ConsentRecord, InformationItem, OrganisationType
from sharing.vocabulary import DataCategory, Purpose
from tests.unit.case_helpers import make_case
from tests.unit.case_partners import Partnership, partnership, set_case
from tests.unit.helpers import audit_events, last_audit_id, load, update_row
from tests.unit.sharing_helpers import make_agency, make_consent, make_person, today

__all__ = ["partnership"]

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HAPPENED = datetime(2026, 3, 1, 23, 15, tzinfo=UTC)
NOISE = CaseInput(category="nuisance", types=["noise"], location="", area="North")


def report(engine: Engine, p: Partnership, **overrides: object) -> CaseReport:
    data = ReportInput(
        channel="phone",
        what_happened="Loud music from the flat above until 3am, third night this week.",
        received_at=RECEIVED,
        occurred_at=HAPPENED,
        location="14 Willow Court",
        reporter_name="Sam Caller",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    with transaction(engine) as session:
        return record_report(session=session, actor=p.council.officer, data=data)


def triage(engine: Engine, p: Partnership, report_id: int | None, decision: TriageDecision) -> CaseReport:
    assert report_id is not None
    with transaction(engine) as session:
        return triage_report(session=session, actor=p.council.officer, report_id=report_id, decision=decision)


def item_fields(engine: Engine, item_id: int | None) -> dict[str, str]:
    item: InformationItem = load(engine, InformationItem, item_id)
    return {f["key"]: f["value"] for f in item.content}


def events_of(engine: Engine, case_id: int | None) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))))


def parties_of(engine: Engine, case_id: int | None) -> list[tuple[int, str]]:
    with Session(engine) as session:
        rows = session.exec(select(CaseParty).where(CaseParty.case_id == case_id).order_by(col(CaseParty.id)))
        return [(r.person_id, r.role) for r in rows]


# --- Recording ------------------------------------------------------------------------------


def test_a_report_is_recorded_into_an_item_owned_by_the_receiving_organisation(
    engine: Engine, partnership: Partnership
) -> None:
    since = last_audit_id(engine)
    row = report(engine, partnership)
    assert row.triage_outcome == "pending" and row.organisation_id == partnership.council.org.id
    item: InformationItem = load(engine, InformationItem, row.item_id)
    assert item.owner_organisation_id == partnership.council.org.id
    assert item.kind == "case_note" and item.case_reference is None
    assert item_fields(engine, row.item_id) == {
        "channel": "Phone",
        "reporter": "Sam Caller",
        "received_at": "2 March 2026, 09:30",
        "occurred_at": "1 March 2026, 23:15",
        "what_happened": "Loud music from the flat above until 3am, third night this week.",
        "location": "14 Willow Court",
        "triage": "Awaiting triage",
    }
    categories = {f["key"]: f["category"] for f in item.content}
    assert categories["reporter"] == DataCategory.IDENTITY and categories["what_happened"] == DataCategory.ASB_HISTORY
    recorded = audit_events(engine, since=since, action="cases:report:recorded")
    assert [(e.subject_type, e.subject_id, e.detail["anonymous"]) for e in recorded] == [
        ("case_report", str(row.id), False)
    ]


def test_a_reporter_on_record_is_named_from_their_record(engine: Engine, partnership: Partnership) -> None:
    person = make_person(engine, partnership.council.officer)
    row = report(engine, partnership, reporter_name="", reporter_person_id=person.id)
    assert row.reporter_name == person.name
    item: InformationItem = load(engine, InformationItem, row.item_id)
    assert item.person_id == person.id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"what_happened": "  "}, "what_happened", "Say what happened."),
        ({"channel": "pigeon"}, "channel", "Choose how the report was made."),
        (
            {"channel": "anonymous"},
            "reporter_name",
            "An anonymous report does not name the person reporting. Choose another channel.",
        ),
        (
            {"reporter_name": ""},
            "reporter_name",
            "Give the name of the person reporting, or record the report as anonymous.",
        ),
        ({"reporter_person_id": 999_999_999}, "reporter_person_id", "Choose a person who is on record."),
        (
            {"channel": "third_party"},
            "victim_person_id",
            "Choose the victim the report is made for (add them to the record first).",
        ),
        (
            {"occurred_at": RECEIVED + timedelta(minutes=1)},
            "occurred_at",
            "What was reported cannot have happened after the report was made.",
        ),
        (
            {"received_at": datetime(2999, 1, 1, tzinfo=UTC)},
            "received_at",
            "A report cannot be received in the future.",
        ),
    ],
)
def test_a_report_needs_its_facts(
    engine: Engine, partnership: Partnership, overrides: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        report(engine, partnership, **overrides)
    assert error.value.field_errors[field] == message


def test_a_report_may_have_happened_the_moment_it_was_made(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership, occurred_at=RECEIVED)
    assert row.occurred_at == RECEIVED


def test_a_victim_is_named_only_on_a_third_party_report(engine: Engine, partnership: Partnership) -> None:
    victim = make_person(engine, partnership.council.officer)
    with pytest.raises(InvalidInput) as error:
        report(engine, partnership, victim_person_id=victim.id)
    assert error.value.field_errors == {
        "victim_person_id": "Only a report made by a third party on the victim's behalf names the victim."
    }


# --- Not ASB --------------------------------------------------------------------------------


def test_not_asb_gives_the_policy_advice_by_default(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    since = last_audit_id(engine)
    done = triage(engine, partnership, row.id, TriageDecision(outcome="not_asb", not_asb_reason="household_noise"))
    assert done.triage_outcome == "not_asb" and done.case_id is None
    assert done.advice_given == NotAsbReason.HOUSEHOLD_NOISE.advice
    assert done.triaged_by_user_id == partnership.council.officer.user_id
    fields = item_fields(engine, row.item_id)
    assert fields["triage"] == "Not anti-social behaviour: Normal household noise"
    assert fields["advice"] == NotAsbReason.HOUSEHOLD_NOISE.advice
    triaged = audit_events(engine, since=since, action="cases:report:triaged")
    assert [(e.outcome, e.detail["outcome"], e.detail["not_asb_reason"]) for e in triaged] == [
        ("success", "not_asb", "household_noise")
    ]


def test_not_asb_advice_may_be_edited(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    advice = "Talk to your neighbour first; we can send details of the mediation service."
    done = triage(
        engine, partnership, row.id, TriageDecision(outcome="not_asb", not_asb_reason="lifestyle_clash", advice=advice)
    )
    assert done.advice_given == advice and done.not_asb_reason == "lifestyle_clash"


def test_not_asb_needs_a_reason(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="not_asb", not_asb_reason="weather"))
    assert error.value.field_errors == {"not_asb_reason": "Choose why this is not anti-social behaviour."}
    assert load(engine, CaseReport, row.id).triage_outcome == "pending"


# --- Anonymous reports ----------------------------------------------------------------------


def test_an_anonymous_report_is_logged_only(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership, channel="anonymous", reporter_name="")
    assert item_fields(engine, row.item_id)["reporter"] == "Anonymous"
    since = last_audit_id(engine)
    done = triage(engine, partnership, row.id, TriageDecision(outcome="log_only"))
    assert done.triage_outcome == "log_only" and done.case_id is None and done.advice_given == ""
    assert item_fields(engine, row.item_id)["triage"] == "Log only (anonymous)"
    assert [e.detail["outcome"] for e in audit_events(engine, since=since, action="cases:report:triaged")] == [
        "log_only"
    ]


@pytest.mark.parametrize("outcome", ["not_asb", "added_to_case"])
def test_an_anonymous_report_can_only_be_logged_or_opened_as_a_case(
    engine: Engine, partnership: Partnership, outcome: str
) -> None:
    row = report(engine, partnership, channel="anonymous", reporter_name="")
    case = make_case(engine, partnership.council.officer)
    decision = TriageDecision(outcome=outcome, not_asb_reason="household_noise", case_id=case.id)
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, decision)
    assert error.value.field_errors == {"outcome": "An anonymous report can only be logged, or opened as a case."}


def test_an_anonymous_report_opens_a_case_without_anyone_to_contact(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership, channel="anonymous", reporter_name="")
    done = triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))
    assert done.case_id is not None
    assert parties_of(engine, done.case_id) == []


def test_only_an_anonymous_report_is_logged_without_action(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="log_only"))
    assert error.value.field_errors == {
        "outcome": "Only anonymous reports are logged without action: decide whether this one is ASB."
    }


# --- Opening a case -------------------------------------------------------------------------


def test_opening_a_case_links_the_report_and_the_reporter(engine: Engine, partnership: Partnership) -> None:
    reporter = make_person(engine, partnership.council.officer)
    row = report(engine, partnership, reporter_name="", reporter_person_id=reporter.id)
    since = last_audit_id(engine)
    done = triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))
    case: Case = load(engine, Case, done.case_id)
    assert done.triage_outcome == "case_opened"
    assert case.lead_organisation_id == partnership.council.org.id
    assert case.location == "14 Willow Court"  # taken from the report when not given
    assert case.types == ["noise"] and case.area == "North"
    item: InformationItem = load(engine, InformationItem, row.item_id)
    assert item.case_reference == case.reference
    assert item_fields(engine, row.item_id)["triage"] == "Case opened"
    assert parties_of(engine, case.id) == [(reporter.id, "victim")]
    kinds = {(e.kind, e.item_id) for e in events_of(engine, case.id)}
    assert ("report", row.item_id) in kinds and ("triage", row.item_id) in kinds
    assert ("case_opened", case.summary_item_id) in kinds
    report_line = next(e for e in events_of(engine, case.id) if e.kind == "report")
    assert report_line.occurred_at == RECEIVED
    assert report_line.summary.startswith("Report received (phone): Loud music")
    actions = [e.action for e in audit_events(engine, since=since)]
    assert {"cases:case:opened", "cases:party:added", "cases:report:triaged"} <= set(actions)


def test_the_reporter_may_be_a_witness(engine: Engine, partnership: Partnership) -> None:
    reporter = make_person(engine, partnership.council.officer)
    row = report(engine, partnership, reporter_name="", reporter_person_id=reporter.id)
    done = triage(
        engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE, reporter_role="witness")
    )
    assert parties_of(engine, done.case_id) == [(reporter.id, "witness")]


def test_opening_a_case_needs_its_category_and_types(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="case_opened"))
    assert error.value.field_errors == {"case": "Give the case's category, types of behaviour and location."}
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=CaseInput(category="personal")))
    assert set(error.value.field_errors) == {"types"}


def test_a_report_is_triaged_once(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    triage(engine, partnership, row.id, TriageDecision(outcome="not_asb", not_asb_reason="one_off_party"))
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))
    assert error.value.field_errors == {"outcome": "This report has already been triaged."}


def test_only_the_receiving_organisation_triages_a_report(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    other = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Other council")
    since = last_audit_id(engine)
    assert row.id is not None
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        triage_report(
            session=session, actor=other.officer, report_id=row.id, decision=TriageDecision(outcome="case_opened")
        )
    assert error.value.message == NOT_YOUR_REPORT
    denied = audit_events(engine, since=since, action="access:permission:denied")
    assert [(e.subject_type, e.subject_id) for e in denied] == [("case_report", str(row.id))]


def test_a_panel_member_cannot_triage(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    assert row.id is not None
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        triage_report(
            session=session, actor=partnership.council.member, report_id=row.id,
            decision=TriageDecision(outcome="not_asb", not_asb_reason="household_noise"),
        )  # fmt: skip


# --- Adding to a case -----------------------------------------------------------------------


def test_a_report_is_added_to_an_open_case(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    reporter = make_person(engine, partnership.council.officer)
    row = report(engine, partnership, reporter_name="", reporter_person_id=reporter.id)
    since = last_audit_id(engine)
    done = triage(engine, partnership, row.id, TriageDecision(outcome="added_to_case", case_id=case.id))
    assert done.case_id == case.id and done.triage_outcome == "added_to_case"
    after: Case = load(engine, Case, case.id)
    assert after.status == "open" and after.stage == "enquiry"
    assert parties_of(engine, case.id) == [(reporter.id, "victim")]
    assert "reopened" not in [e.kind for e in events_of(engine, case.id)]
    assert "cases:case:reopened" not in [e.action for e in audit_events(engine, since=since)]


def test_a_second_report_from_the_same_person_does_not_add_them_twice(engine: Engine, partnership: Partnership) -> None:
    reporter = make_person(engine, partnership.council.officer)
    first = report(engine, partnership, reporter_name="", reporter_person_id=reporter.id)
    opened = triage(engine, partnership, first.id, TriageDecision(outcome="case_opened", case=NOISE))
    second = report(engine, partnership, reporter_name="", reporter_person_id=reporter.id)
    triage(engine, partnership, second.id, TriageDecision(outcome="added_to_case", case_id=opened.case_id))
    assert parties_of(engine, opened.case_id) == [(reporter.id, "victim")]
    assert [e.kind for e in events_of(engine, opened.case_id)].count("report") == 2


def test_a_new_report_reopens_a_closed_case(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    closed_at = datetime(2026, 2, 1, tzinfo=UTC)
    set_case(engine, case.id, status="closed", stage="closure", closed_at=closed_at)
    row = report(engine, partnership)
    since = last_audit_id(engine)
    triage(engine, partnership, row.id, TriageDecision(outcome="added_to_case", case_id=case.id))
    after: Case = load(engine, Case, case.id)
    assert (after.status, after.stage, after.closed_at) == ("open", "investigation", None)
    with Session(engine) as session:
        moves = session.exec(select(StageMove).where(StageMove.case_id == case.id)).all()
        assert [(m.from_stage, m.to_stage, m.reason) for m in moves] == [
            ("closure", "investigation", "New report received")
        ]
    summary = item_fields(engine, case.summary_item_id)
    assert summary["status"] == "Open" and summary["stage"] == "2 Case investigation"
    reopened = [e for e in events_of(engine, case.id) if e.kind == "reopened"]
    assert [(e.item_id, e.summary) for e in reopened] == [
        (case.summary_item_id, "Case re-opened: a new report was received")
    ]
    audited = audit_events(engine, since=since, action="cases:case:reopened")
    assert [(e.subject_id, e.reason) for e in audited] == [(str(case.id), "New report received")]


def test_a_report_cannot_go_to_a_case_another_organisation_leads(engine: Engine, partnership: Partnership) -> None:
    other = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Other council")
    theirs = make_case(engine, other.officer)
    row = report(engine, partnership)
    with pytest.raises(PermissionDenied) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="added_to_case", case_id=theirs.id))
    assert error.value.message == NOT_YOUR_CASE
    assert load(engine, CaseReport, row.id).triage_outcome == "pending"


def test_adding_to_a_case_needs_the_case(engine: Engine, partnership: Partnership) -> None:
    row = report(engine, partnership)
    with pytest.raises(InvalidInput) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="added_to_case"))
    assert error.value.field_errors == {"case_id": "Choose the case to add the report to."}


# --- Third-party reports --------------------------------------------------------------------


def third_party_report(engine: Engine, p: Partnership) -> tuple[CaseReport, int, int]:
    victim = make_person(engine, p.council.officer, given_name="Vic")
    friend = make_person(engine, p.council.officer, given_name="Fran")
    row = report(engine, p, channel="third_party", reporter_name="", reporter_person_id=friend.id,
                 victim_person_id=victim.id)  # fmt: skip
    return row, victim.id, friend.id


def test_a_third_party_report_waits_for_the_victims_consent(engine: Engine, partnership: Partnership) -> None:
    row, victim, friend = third_party_report(engine, partnership)
    item: InformationItem = load(engine, InformationItem, row.item_id)
    assert item.person_id == victim  # the report is about the victim
    since = last_audit_id(engine)
    with pytest.raises(VictimConsentNeeded) as error:
        triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))
    expected = "Record the victim's consent before discussing the report with the person who made it."
    assert error.value.message == VICTIM_CONSENT_NEEDED == expected
    refused = audit_events(engine, since=since, action="cases:report:triaged")
    assert [(e.outcome, e.reason, e.subject_id) for e in refused] == [
        ("failure", "victim consent not recorded", str(row.id))
    ]
    assert load(engine, CaseReport, row.id).triage_outcome == "pending"
    with Session(engine) as session:
        opened = session.exec(select(Case).where(Case.opened_by_user_id == partnership.council.officer.user_id))
        assert opened.all() == []

    consent_id = make_consent(engine, partnership.council.officer, victim, organisations=[partnership.police.org])
    done = triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))
    assert done.victim_consent_id == consent_id and done.case_id is not None
    assert parties_of(engine, done.case_id) == [(victim, "victim"), (friend, "representative")]


def test_advice_to_a_third_party_also_waits_for_consent(engine: Engine, partnership: Partnership) -> None:
    row, _, _ = third_party_report(engine, partnership)
    with pytest.raises(VictimConsentNeeded):
        triage(engine, partnership, row.id, TriageDecision(outcome="not_asb", not_asb_reason="cooking_smells"))


def test_consent_given_tomorrow_does_not_count_today(engine: Engine, partnership: Partnership) -> None:
    row, victim, _ = third_party_report(engine, partnership)
    make_consent(engine, partnership.council.officer, victim, types=[OrganisationType.POLICE],
                 given_on=today() + timedelta(days=1))  # fmt: skip
    with pytest.raises(VictimConsentNeeded):
        triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))


def test_consent_expiring_today_still_counts(engine: Engine, partnership: Partnership) -> None:
    row, victim, _ = third_party_report(engine, partnership)
    consent_id = make_consent(engine, partnership.council.officer, victim, types=[OrganisationType.POLICE],
                              expires_on=today())  # fmt: skip
    done = triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))
    assert done.victim_consent_id == consent_id


def test_withdrawn_or_other_purpose_consent_does_not_count(engine: Engine, partnership: Partnership) -> None:
    row, victim, _ = third_party_report(engine, partnership)
    make_consent(engine, partnership.council.officer, victim, types=[OrganisationType.POLICE],
                 purposes=[Purpose.SAFEGUARDING])  # fmt: skip
    withdrawn = make_consent(engine, partnership.council.officer, victim, types=[OrganisationType.POLICE])
    update_row(engine, ConsentRecord, withdrawn, withdrawn_on=today())
    with pytest.raises(VictimConsentNeeded):
        triage(engine, partnership, row.id, TriageDecision(outcome="case_opened", case=NOISE))


# --- The triage queue -----------------------------------------------------------------------


def test_reports_awaiting_triage_are_read_through_the_chokepoint(engine: Engine, partnership: Partnership) -> None:
    first = report(engine, partnership)
    second = report(engine, partnership, channel="anonymous", reporter_name="",
                    received_at=RECEIVED - timedelta(days=1), occurred_at=None)  # fmt: skip
    done = report(engine, partnership)
    triage(engine, partnership, done.id, TriageDecision(outcome="not_asb", not_asb_reason="babies_crying"))
    with transaction(engine) as session:
        rows = list_reports_awaiting_triage(session=session, actor=partnership.council.officer)
    assert [(r.report_id, r.anonymous, r.reporter) for r in rows] == [
        (second.id, True, "Anonymous"),
        (first.id, False, "Sam Caller"),
    ]
    with Session(engine) as session:
        logged = session.exec(
            select(AccessLog.item_id).where(
                AccessLog.via == "triage queue", AccessLog.user_id == partnership.council.officer.user_id
            )
        ).all()
    assert sorted(logged) == sorted([first.item_id, second.item_id])
