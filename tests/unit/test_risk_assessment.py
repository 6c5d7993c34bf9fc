"""Assessing a case's risk, the first-contact deadline it sets, recording first contact, and
reading assessments through the need-to-know chokepoint.

The fixed dates: the first report arrives on Friday 1 May 2026 at 16:00 (London, BST); Monday
4 May is the early May bank holiday, so Cambridge's High (1 working day) is due by the end of
Tuesday 5 May, Medium (3) by the end of Thursday 7 May, Standard (5) by the end of Monday
11 May -- 23:59:59 BST, which is 22:59:59 UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, CaseReport, RiskAssessment
from panels.cases import NOT_YOUR_CASE, read_case
from panels.policy import CAMBRIDGE_SCHEME, WELWYN_SCHEME, CasePolicy, RiskScheme, set_case_policy
from panels.risk import (
    FirstContactStatus,
    RiskAssessmentRead,
    assess_risk,
    first_contact_status,
    list_risk_assessments,
    record_first_contact,
)
from sharing.db import transaction
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.models import AccessLog, InformationItem, OrganisationType, Role
from sharing.permissions import Actor
from sharing.vocabulary import LawfulBasis
from tests.conftest import actor_of
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, load, update_row
from tests.unit.sharing_helpers import Org, make_agreement, share

__all__ = ["case_world"]

MakeUser = Callable[..., tuple[int, str]]

REPORTED = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)  # Friday 1 May 2026, 16:00 in London
OPENED = datetime(2026, 5, 1, 15, 30, tzinfo=UTC)
HIGH_DUE = datetime(2026, 5, 5, 22, 59, 59, tzinfo=UTC)
MEDIUM_DUE = datetime(2026, 5, 7, 22, 59, 59, tzinfo=UTC)
STANDARD_DUE = datetime(2026, 5, 11, 22, 59, 59, tzinfo=UTC)
LATER = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def answers_scoring(scheme: RiskScheme, score: int) -> dict[str, str]:
    for options in product(*(q.options for q in scheme.questions)):
        if sum(o.points for o in options) == score:
            return {q.key: o.key for q, o in zip(scheme.questions, options, strict=True)}
    raise AssertionError(f"no answers score {score}")


STANDARD = answers_scoring(CAMBRIDGE_SCHEME, 12)
MEDIUM = answers_scoring(CAMBRIDGE_SCHEME, 20)
HIGH = answers_scoring(CAMBRIDGE_SCHEME, 32)


def reported_case(engine: Engine, actor: Actor, **overrides: object) -> Case:
    """A case opened on Friday 1 May 2026 from a report received half an hour earlier."""
    case = make_case(engine, actor, **overrides)
    update_row(engine, Case, case.id, opened_at=OPENED)
    with transaction(engine) as session:
        session.add(
            CaseReport(
                organisation_id=case.lead_organisation_id, channel="phone", received_at=REPORTED,
                what_happened="Loud music every night", triage_outcome="case_opened", case_id=ident(case),
            )
        )  # fmt: skip
    loaded: Case = load(engine, Case, case.id)
    return loaded


def ident(case: Case) -> int:
    assert case.id is not None
    return case.id


def assess(
    engine: Engine, actor: Actor, case_id: int | None, answers: Mapping[str, str], now: datetime = LATER
) -> RiskAssessment:
    assert case_id is not None
    with transaction(engine) as session:
        assessment = assess_risk(session=session, actor=actor, case_id=case_id, answers=answers, now=now)
        session.refresh(assessment)
        session.expunge(assessment)
    return assessment


PHONED = "Phoned the victim and agreed a visit"


def contact(engine: Engine, actor: Actor, case_id: int | None, at: datetime, now: datetime, note: str = PHONED) -> Case:
    assert case_id is not None
    with transaction(engine) as session:
        case = record_first_contact(session=session, actor=actor, case_id=case_id, contacted_at=at, note=note, now=now)
        session.refresh(case)
        session.expunge(case)
    return case


def chronology(engine: Engine, case_id: int | None) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(
            session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))).all()
        )


def assessments_of(engine: Engine, case_id: int | None) -> list[RiskAssessment]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(RiskAssessment).where(RiskAssessment.case_id == case_id).order_by(col(RiskAssessment.id))
            ).all()
        )


# --- The first assessment -------------------------------------------------------------------


def test_the_first_assessment_sets_the_level_and_the_first_contact_deadline(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = reported_case(engine, case_world.officer)
    since = last_audit_id(engine)
    assessment = assess(engine, case_world.officer, case.id, MEDIUM)

    assert (assessment.scheme, assessment.score, assessment.level) == ("cambridge", 20, "medium")
    assert (assessment.level_label, assessment.rank, assessment.override_reason) == ("Medium", 2, "")
    assert assessment.answers == MEDIUM
    assert assessment.first_contact_due_at == MEDIUM_DUE
    assert assessment.assessed_at == LATER
    assert assessment.assessed_by_user_id == case_world.officer.user_id

    stored: Case = load(engine, Case, case.id)
    assert (stored.risk_scheme, stored.risk_level, stored.risk_label) == ("cambridge", "medium", "Medium")
    assert (stored.risk_rank, stored.risk_score) == (2, 20)
    assert stored.first_contact_due_at == MEDIUM_DUE
    assert stored.first_contact_made_at is None

    item: InformationItem = load(engine, InformationItem, assessment.item_id)
    assert (item.kind, item.category, item.owner_organisation_id) == (
        "risk_assessment",
        "asb_history",
        case_world.council_id,
    )
    assert item.case_reference == case.reference
    content = {f["key"]: (f["label"], f["value"]) for f in item.content}
    assert content["score"] == ("Score", "20")
    assert content["level"] == ("Risk level", "Medium")
    assert set(content) == {"score", "level", *MEDIUM}
    for question in CAMBRIDGE_SCHEME.questions:
        option = next(o for o in question.options if o.key == MEDIUM[question.key])
        assert content[question.key] == (question.label, option.label)

    events = chronology(engine, case.id)
    assert [e.kind for e in events] == ["case_opened", "risk_assessed"]
    assert events[1].summary == "Risk assessed: Medium (score 20); first contact due by the end of Thursday 7 May 2026"
    assert events[1].item_id == assessment.item_id
    assert events[1].occurred_at == LATER

    actions = [e.action for e in audit_events(engine, since=since)]
    assert actions == ["sharing:item:created", "cases:risk:assessed"]
    (audit,) = audit_events(engine, since=since, action="cases:risk:assessed")
    assert (audit.subject_type, audit.subject_id, audit.actor_user_id) == (
        "case",
        str(case.id),
        case_world.officer.user_id,
    )
    assert audit.detail["level"] == "medium" and audit.detail["score"] == 20 and audit.detail["change"] == "first"

    # The case summary partners may be shown carries the new risk and deadline.
    with Session(engine) as session:
        _, view = read_case(session, case_world.officer, ident(case), via="test")
    fields = {f.key: f.value for f in view.fields}
    assert fields["risk"] == "Medium (score 20)"
    assert fields["first_contact_due"] == MEDIUM_DUE.isoformat()


@pytest.mark.parametrize(("answers", "due"), [(HIGH, HIGH_DUE), (STANDARD, STANDARD_DUE)], ids=["high", "standard"])
def test_each_level_has_its_own_deadline(
    engine: Engine, case_world: CaseWorld, answers: dict[str, str], due: datetime
) -> None:
    case = reported_case(engine, case_world.officer)
    assert assess(engine, case_world.officer, case.id, answers).first_contact_due_at == due
    assert load(engine, Case, case.id).first_contact_due_at == due


def test_without_a_report_the_deadline_runs_from_the_case_opening(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    # Opened at 23:30 UTC on Friday 12 June 2026: 00:30 on Saturday in London.
    update_row(engine, Case, case.id, opened_at=datetime(2026, 6, 12, 23, 30, tzinfo=UTC))
    assessment = assess(engine, case_world.officer, case.id, HIGH, now=datetime(2026, 6, 13, 9, 0, tzinfo=UTC))
    assert assessment.first_contact_due_at == datetime(2026, 6, 15, 22, 59, 59, tzinfo=UTC)  # end of Monday


def test_the_earliest_report_starts_the_clock(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    with transaction(engine) as session:
        session.add(
            CaseReport(organisation_id=case.lead_organisation_id, channel="email", what_happened="Again tonight",
                       received_at=datetime(2026, 5, 6, 20, 0, tzinfo=UTC), case_id=ident(case))
        )  # fmt: skip
    assert assess(engine, case_world.officer, case.id, MEDIUM).first_contact_due_at == MEDIUM_DUE


def test_a_serious_case_type_makes_the_case_high_whatever_the_score(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer, types=["noise", "hate_incident"])
    assessment = assess(engine, case_world.officer, case.id, STANDARD)
    assert (assessment.score, assessment.level, assessment.level_label) == (12, "high", "High")
    assert assessment.override_reason == "Hate incident: high risk whatever the score"
    assert assessment.first_contact_due_at == HIGH_DUE
    item: InformationItem = load(engine, InformationItem, assessment.item_id)
    assert {f["key"]: f["value"] for f in item.content}["override"] == "Hate incident: high risk whatever the score"
    assert chronology(engine, case.id)[-1].summary == (
        "Risk assessed: High (score 12); Hate incident: high risk whatever the score; "
        "first contact due by the end of Tuesday 5 May 2026"
    )


# --- Repeat assessments -----------------------------------------------------------------------


def test_a_higher_repeat_raises_the_case_and_brings_the_deadline_forward(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    first = assess(engine, case_world.officer, case.id, MEDIUM)
    since = last_audit_id(engine)
    second = assess(engine, case_world.officer, case.id, HIGH, now=LATER + timedelta(hours=2))

    assert [a.id for a in assessments_of(engine, case.id)] == [first.id, second.id]
    assert load(engine, RiskAssessment, first.id).level == "medium"  # never overwritten
    stored: Case = load(engine, Case, case.id)
    assert (stored.risk_level, stored.risk_label, stored.risk_rank, stored.risk_score) == ("high", "High", 3, 32)
    assert stored.first_contact_due_at == HIGH_DUE

    events = chronology(engine, case.id)
    assert [e.kind for e in events] == ["case_opened", "risk_assessed", "risk_assessed", "risk_raised"]
    assert events[2].summary == (
        "Risk assessed: High (score 32); first contact now due by the end of Tuesday 5 May 2026"
    )
    assert events[3].summary == "Risk raised from Medium to High: score 32"
    assert events[3].item_id == second.item_id
    (audit,) = audit_events(engine, since=since, action="cases:risk:assessed")
    assert audit.detail["change"] == "raised" and audit.detail["previous_level"] == "medium"


def test_a_raise_after_first_contact_keeps_the_deadline(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, STANDARD)
    made = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)
    contact(engine, case_world.officer, case.id, made, now=made)
    assess(engine, case_world.officer, case.id, HIGH, now=made + timedelta(hours=1))
    stored: Case = load(engine, Case, case.id)
    assert stored.risk_level == "high"
    assert stored.first_contact_due_at == STANDARD_DUE
    assert first_contact_status(stored, made + timedelta(days=30)) == FirstContactStatus.MET_ON_TIME
    events = chronology(engine, case.id)
    assert events[-1].kind == "risk_raised"
    assert events[-2].summary == "Risk assessed: High (score 32)"


def test_a_lower_repeat_is_kept_and_noted_and_the_deadline_stays(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, HIGH)
    since = last_audit_id(engine)
    lower = assess(engine, case_world.officer, case.id, STANDARD, now=LATER + timedelta(days=1))
    assert len(assessments_of(engine, case.id)) == 2
    assert lower.first_contact_due_at == STANDARD_DUE  # what this level alone would give
    stored: Case = load(engine, Case, case.id)
    assert (stored.risk_level, stored.risk_label, stored.risk_score) == ("standard", "Standard", 12)
    assert stored.first_contact_due_at == HIGH_DUE
    events = chronology(engine, case.id)
    assert [e.kind for e in events] == ["case_opened", "risk_assessed", "risk_assessed"]
    assert events[-1].summary == (
        "Risk assessed: Standard (score 12); lower than the previous assessment (High), kept and noted"
    )
    (audit,) = audit_events(engine, since=since, action="cases:risk:assessed")
    assert audit.detail["change"] == "lowered"


def test_a_repeat_at_the_same_level_changes_no_deadline(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, MEDIUM)
    assess(engine, case_world.officer, case.id, answers_scoring(CAMBRIDGE_SCHEME, 25))
    stored: Case = load(engine, Case, case.id)
    assert (stored.risk_score, stored.first_contact_due_at) == (25, MEDIUM_DUE)
    assert chronology(engine, case.id)[-1].summary == "Risk assessed: Medium (score 25)"
    assert audit_events(engine, action="cases:risk:assessed", subject_id=case.id)[-1].detail["change"] == "same"


# --- Refusals -------------------------------------------------------------------------------


def test_a_partner_cannot_assess_risk(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        assess_risk(session=session, actor=case_world.police, case_id=ident(case), answers=HIGH)
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]
    assert assessments_of(engine, case.id) == []


def test_another_councils_officer_cannot_assess_risk(
    engine: Engine, case_world: CaseWorld, make_organisation: Callable[..., int], make_user: MakeUser
) -> None:
    case = reported_case(engine, case_world.officer)
    other = make_organisation(type=OrganisationType.COUNCIL_ASB_TEAM)
    outsider = actor_of(engine, make_user((Role.LEAD_OFFICER,), organisation_id=other)[0])
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        assess_risk(session=session, actor=outsider, case_id=ident(case), answers=HIGH)
    assert error.value.message == NOT_YOUR_CASE
    assert assessments_of(engine, case.id) == []


def test_unanswered_questions_are_refused_and_nothing_is_stored(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        assess_risk(session=session, actor=case_world.officer, case_id=ident(case), answers={**HIGH, "frequency": ""})
    assert error.value.field_errors == {"frequency": "Choose an answer for 'How often does it happen?'"}
    assert assessments_of(engine, case.id) == []
    stored: Case = load(engine, Case, case.id)
    assert (stored.risk_label, stored.first_contact_due_at) == ("Not assessed", None)


def test_a_missing_case(engine: Engine, case_world: CaseWorld) -> None:
    with pytest.raises(NotFound), transaction(engine) as session:
        assess_risk(session=session, actor=case_world.officer, case_id=10**9, answers=HIGH)


# --- Schemes are data -----------------------------------------------------------------------


def use_scheme(engine: Engine, admin: Actor, organisation_id: int, scheme: RiskScheme | dict[str, object]) -> None:
    with transaction(engine) as session:
        set_case_policy(
            session=session, actor=admin, organisation_id=organisation_id,
            policy=CasePolicy.model_validate({"risk_scheme": scheme}) if isinstance(scheme, dict)
            else CasePolicy(risk_scheme=scheme),
        )  # fmt: skip


def test_welwyn_priorities_through_the_organisations_policy(
    engine: Engine, case_world: CaseWorld, admin: Actor
) -> None:
    use_scheme(engine, admin, case_world.council_id, WELWYN_SCHEME)
    case = reported_case(engine, case_world.officer)
    first = assess(engine, case_world.officer, case.id, answers_scoring(WELWYN_SCHEME, 8))
    assert (first.scheme, first.level_label, first.rank) == ("welwyn", "Priority 3", 2)
    # Priority 3: first contact within 10 working days -> the end of Monday 18 May 2026.
    assert first.first_contact_due_at == datetime(2026, 5, 18, 22, 59, 59, tzinfo=UTC)

    raised = assess(engine, case_world.officer, case.id, answers_scoring(WELWYN_SCHEME, 32))
    assert raised.level_label == "Priority 1"
    stored: Case = load(engine, Case, case.id)
    assert (stored.risk_scheme, stored.risk_label, stored.risk_rank) == ("welwyn", "Priority 1", 4)
    # Priority 1: 3 working days -> the end of Thursday 7 May 2026.
    assert stored.first_contact_due_at == MEDIUM_DUE
    assert chronology(engine, case.id)[-1].summary == "Risk raised from Priority 3 to Priority 1: score 32"


def test_a_welwyn_raise_with_no_earlier_deadline_keeps_it(engine: Engine, case_world: CaseWorld, admin: Actor) -> None:
    use_scheme(engine, admin, case_world.council_id, WELWYN_SCHEME)
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, answers_scoring(WELWYN_SCHEME, 7))  # Priority 4: 10 days
    assess(engine, case_world.officer, case.id, answers_scoring(WELWYN_SCHEME, 8))  # Priority 3: 10 days too
    events = chronology(engine, case.id)
    assert [e.summary for e in events[-2:]] == [
        "Risk assessed: Priority 3 (score 8)",
        "Risk raised from Priority 4 to Priority 3: score 8",
    ]
    assert load(engine, Case, case.id).first_contact_due_at == datetime(2026, 5, 18, 22, 59, 59, tzinfo=UTC)


def test_harassment_is_priority_1_whatever_the_score_at_welwyn(
    engine: Engine, case_world: CaseWorld, admin: Actor
) -> None:
    use_scheme(engine, admin, case_world.council_id, WELWYN_SCHEME)
    case = reported_case(engine, case_world.officer, types=["harassment"])
    assessment = assess(engine, case_world.officer, case.id, answers_scoring(WELWYN_SCHEME, 5))
    assert assessment.level_label == "Priority 1"
    assert assessment.override_reason == "Harassment or intimidation: Priority 1 whatever the score"


def test_a_change_of_scheme_between_assessments_is_not_a_raise(
    engine: Engine, case_world: CaseWorld, admin: Actor
) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, STANDARD)
    use_scheme(engine, admin, case_world.council_id, WELWYN_SCHEME)
    since = last_audit_id(engine)
    assess(engine, case_world.officer, case.id, answers_scoring(WELWYN_SCHEME, 32))
    (audit,) = audit_events(engine, since=since, action="cases:risk:assessed")
    assert audit.detail["change"] == "scheme_changed" and audit.detail["scheme"] == "welwyn"
    events = chronology(engine, case.id)
    assert "risk_raised" not in [e.kind for e in events]
    assert events[-1].summary == (
        "Risk assessed: Priority 1 (score 32); assessed under Priority 1-4 (Welwyn Hatfield); "
        "first contact now due by the end of Thursday 7 May 2026"
    )
    assert load(engine, Case, case.id).first_contact_due_at == MEDIUM_DUE


EASTBROOK: dict[str, object] = {
    "key": "eastbrook",
    "name": "Red / Amber / Green (Eastbrook)",
    "questions": [
        {
            "key": "harm",
            "label": "How much harm is being done?",
            "options": [
                {"key": "none", "label": "None", "points": 0},
                {"key": "some", "label": "Some", "points": 5},
                {"key": "serious", "label": "Serious", "points": 10},
            ],
        },
        {
            "key": "repeat",
            "label": "Has it been reported before?",
            "options": [{"key": "no", "label": "No", "points": 0}, {"key": "yes", "label": "Yes", "points": 5}],
        },
    ],
    "levels": [
        {"key": "red", "label": "Red", "min_score": 12, "rank": 3, "first_contact_working_days": 0},
        {"key": "amber", "label": "Amber", "min_score": 5, "rank": 2, "first_contact_working_days": 4},
        {"key": "green", "label": "Green", "min_score": 0, "rank": 1, "first_contact_working_days": 10},
    ],
    "override_types": {"exploitation": "red"},
}


def test_a_council_defined_scheme(engine: Engine, case_world: CaseWorld, admin: Actor) -> None:
    use_scheme(engine, admin, case_world.council_id, EASTBROOK)
    case = reported_case(engine, case_world.officer)
    amber = assess(engine, case_world.officer, case.id, {"harm": "some", "repeat": "no"})
    assert (amber.scheme, amber.score, amber.level_label) == ("eastbrook", 5, "Amber")
    # 4 working days after Friday 1 May (Monday 4 May a bank holiday): the end of Friday 8 May.
    assert amber.first_contact_due_at == datetime(2026, 5, 8, 22, 59, 59, tzinfo=UTC)
    red = assess(engine, case_world.officer, case.id, {"harm": "serious", "repeat": "yes"})
    assert red.level_label == "Red"
    # 0 working days: the end of the day of the report itself.
    assert load(engine, Case, case.id).first_contact_due_at == datetime(2026, 5, 1, 22, 59, 59, tzinfo=UTC)
    # Cambridge's questions are not Eastbrook's.
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        assess_risk(session=session, actor=case_world.officer, case_id=ident(case), answers=HIGH)
    assert error.value.field_errors["harm"] == "Choose an answer for 'How much harm is being done?'"
    assert error.value.field_errors["type"] == (
        "'type' is not a question of the Red / Amber / Green (Eastbrook) risk assessment"
    )


def test_a_council_scheme_override(engine: Engine, case_world: CaseWorld, admin: Actor) -> None:
    use_scheme(engine, admin, case_world.council_id, EASTBROOK)
    case = reported_case(engine, case_world.officer, types=["exploitation"])
    assessment = assess(engine, case_world.officer, case.id, {"harm": "none", "repeat": "no"})
    assert (assessment.score, assessment.level_label) == (0, "Red")
    assert assessment.override_reason == "Exploitation or cuckooing: red risk whatever the score"


# --- First contact --------------------------------------------------------------------------


def test_first_contact_on_time(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, MEDIUM)
    since = last_audit_id(engine)
    # The last second of the deadline is still on time.
    stored = contact(engine, case_world.officer, case.id, MEDIUM_DUE, now=MEDIUM_DUE + timedelta(hours=1))
    assert stored.first_contact_made_at == MEDIUM_DUE
    assert first_contact_status(stored, MEDIUM_DUE + timedelta(days=9)) == FirstContactStatus.MET_ON_TIME
    event = chronology(engine, case.id)[-1]
    assert (event.kind, event.occurred_at, event.item_id) == ("first_contact", MEDIUM_DUE, case.summary_item_id)
    assert event.summary == (
        "First contact made (met on time: due by the end of Thursday 7 May 2026): Phoned the victim and agreed a visit"
    )
    (audit,) = audit_events(engine, since=since, action="cases:contact:first_recorded")
    assert audit.subject_id == str(case.id)
    assert audit.detail["status"] == "met on time"


def test_first_contact_late(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, MEDIUM)
    late = MEDIUM_DUE + timedelta(seconds=1)  # midnight at the start of Friday 8 May in London
    stored = contact(engine, case_world.officer, case.id, late, now=late + timedelta(days=1))
    assert first_contact_status(stored, late + timedelta(days=1)) == FirstContactStatus.MET_LATE
    assert chronology(engine, case.id)[-1].summary.startswith("First contact made (met late: due by the end of")


def test_first_contact_before_any_assessment(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    stored = contact(engine, case_world.officer, case.id, OPENED, now=LATER)  # the very moment it opened is allowed
    assert stored.first_contact_made_at == OPENED
    assert chronology(engine, case.id)[-1].summary == "First contact made: Phoned the victim and agreed a visit"
    # A later assessment sets a deadline, which contact already met.
    assess(engine, case_world.officer, case.id, HIGH)
    assert first_contact_status(load(engine, Case, case.id), LATER) == FirstContactStatus.MET_ON_TIME


@pytest.mark.parametrize(
    ("at", "note", "field", "message"),
    [
        (LATER + timedelta(seconds=1), "Phoned", "contacted_at", "The time of first contact cannot be in the future."),
        (OPENED - timedelta(seconds=1), "Phoned", "contacted_at",
         "The time of first contact cannot be before the case was opened, on Friday 1 May 2026 at 16:30."),
        (datetime(2026, 5, 2, 9, 0), "Phoned", "contacted_at", "Give the date and time of first contact."),
        (LATER, "   ", "note", "Say how contact was made and with whom (for example, a phone call with the victim)."),
        (LATER, "x" * 901, "note", "Keep the note to 900 characters or fewer."),
    ],
    ids=["future", "before-opening", "no-time-zone", "no-note", "long-note"],
)  # fmt: skip
def test_first_contact_refusals(
    engine: Engine, case_world: CaseWorld, at: datetime, note: str, field: str, message: str
) -> None:
    case = reported_case(engine, case_world.officer)
    with pytest.raises(InvalidInput) as error:
        contact(engine, case_world.officer, case.id, at, now=LATER, note=note)
    assert error.value.field_errors == {field: message}
    assert load(engine, Case, case.id).first_contact_made_at is None


def test_first_contact_is_recorded_once(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    contact(engine, case_world.officer, case.id, datetime(2026, 5, 2, 9, 15, tzinfo=UTC), now=LATER)
    with pytest.raises(InvalidInput) as error:
        contact(engine, case_world.officer, case.id, LATER, now=LATER)
    assert error.value.field_errors == {
        "contacted_at": "First contact was already recorded, on Saturday 2 May 2026 at 10:15."
    }


def test_a_partner_cannot_record_first_contact(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied):
        contact(engine, case_world.police, case.id, LATER, now=LATER)
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]


def test_first_contact_status_edges() -> None:
    case = Case(reference="ASB-2026-0001", lead_organisation_id=1, category="personal")
    assert first_contact_status(case, LATER) == FirstContactStatus.NOT_SET
    case.first_contact_due_at = MEDIUM_DUE
    assert first_contact_status(case, MEDIUM_DUE - timedelta(days=3)) == FirstContactStatus.DUE
    assert first_contact_status(case, MEDIUM_DUE) == FirstContactStatus.DUE
    assert first_contact_status(case, MEDIUM_DUE + timedelta(seconds=1)) == FirstContactStatus.OVERDUE
    case.first_contact_made_at = MEDIUM_DUE
    assert first_contact_status(case, MEDIUM_DUE + timedelta(days=1)) == "met on time"
    case.first_contact_made_at = MEDIUM_DUE + timedelta(seconds=1)
    assert first_contact_status(case, MEDIUM_DUE + timedelta(days=1)) == "met late"
    assert FirstContactStatus.OVERDUE == "overdue" and FirstContactStatus.DUE == "due"


# --- Reading assessments --------------------------------------------------------------------


def listed(engine: Engine, actor: Actor, case_id: int | None) -> list[RiskAssessmentRead]:
    assert case_id is not None
    with transaction(engine) as session:
        return list_risk_assessments(session=session, actor=actor, case_id=case_id)


def test_the_lead_sees_every_assessment_newest_first(engine: Engine, case_world: CaseWorld) -> None:
    case = reported_case(engine, case_world.officer)
    first = assess(engine, case_world.officer, case.id, STANDARD, now=LATER)
    second = assess(engine, case_world.officer, case.id, MEDIUM, now=LATER + timedelta(days=1))
    third = assess(engine, case_world.officer, case.id, HIGH, now=LATER + timedelta(days=2))
    found = listed(engine, case_world.officer, case.id)
    assert [a.id for a in found] == [third.id, second.id, first.id]
    assert [a.assessed_at for a in found] == [third.assessed_at, second.assessed_at, first.assessed_at]
    assert [{f.key: f.value for f in a.view.fields}["level"] for a in found] == ["High", "Medium", "Standard"]
    assert {a.view.access for a in found} == {"owner"}


def test_a_partner_sees_only_the_assessments_disclosed_to_it(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser
) -> None:
    case = reported_case(engine, case_world.officer)
    first = assess(engine, case_world.officer, case.id, MEDIUM, now=LATER)
    second = assess(engine, case_world.officer, case.id, HIGH, now=LATER + timedelta(days=1))
    assert listed(engine, case_world.police, case.id) == []
    with Session(engine) as session:
        refused = session.exec(
            select(AccessLog).where(AccessLog.user_id == case_world.police.user_id, AccessLog.via == "risk assessments")
        ).all()
    assert {(r.item_id, r.outcome) for r in refused} == {(first.item_id, "denied"), (second.item_id, "denied")}

    council = Org(case_world.council_id, "Council", OrganisationType.COUNCIL_ASB_TEAM)
    police = Org(case_world.police_id, "Police", OrganisationType.POLICE)
    iso = actor_of(engine, make_user((Role.INFORMATION_SHARING_OFFICER,), organisation_id=council.id)[0])
    make_agreement(engine, iso, [council, police])
    assert first.item_id is not None
    share(
        engine, case_world.officer, [first.item_id], police, basis=LawfulBasis.CRIME_AND_DISORDER_S115, emergency=True
    )

    found = listed(engine, case_world.police, case.id)
    assert [a.id for a in found] == [first.id]
    assert found[0].view.access == "disclosed"
    assert {f.key: f.value for f in found[0].view.fields}["level"] == "Medium"


def test_reading_assessments_needs_the_case_read_permission(
    engine: Engine, case_world: CaseWorld, admin: Actor
) -> None:
    case = reported_case(engine, case_world.officer)
    assess(engine, case_world.officer, case.id, MEDIUM)
    with pytest.raises(PermissionDenied):
        listed(engine, admin, case.id)
    with pytest.raises(NotFound):
        listed(engine, case_world.officer, 10**9)
