"""A case's stages: moves back and forth with a reason, never to Closure by hand; the enquiry
limit and the review schedule from the organisation's policy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, StageMove
from panels.policy import DEFAULT_POLICY, CasePolicy, StagePolicy, set_case_policy
from panels.stages import (
    WrongCaseStatus,
    add_months,
    enquiry_deadline,
    move_stage,
    next_review_on,
    record_stage_review,
    stage_alerts,
)
from panels.vocabulary import CaseStage
from sharing.db import transaction, utcnow
from sharing.errors import InvalidInput, PermissionDenied
from sharing.permissions import SYSTEM_ACTOR
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, load, update_row

__all__ = ["case_world"]


def _case(opened: date, stage: CaseStage = CaseStage.ENQUIRY, **values: object) -> Case:
    """An unsaved case for the pure rules."""
    case = Case(
        reference="ASB-TEST",
        lead_organisation_id=1,
        category="personal",
        stage=stage,
        opened_at=datetime(opened.year, opened.month, opened.day, 9, 30, tzinfo=UTC),
    )
    for key, value in values.items():
        setattr(case, key, value)
    return case


# --- Pure rules ----------------------------------------------------------------------------


def test_the_enquiry_stage_lasts_the_policy_days_from_opening() -> None:
    case = _case(date(2027, 1, 10))
    assert enquiry_deadline(case, DEFAULT_POLICY) == date(2027, 2, 7)  # 28 days
    assert stage_alerts(case, date(2027, 2, 7), DEFAULT_POLICY) == []
    assert stage_alerts(case, date(2027, 2, 8), DEFAULT_POLICY) == [
        "Enquiry stage over 4 weeks: it should have ended on 7 February 2027"
    ]


def test_an_enquiry_past_its_limit_is_not_flagged_once_the_case_has_moved_on() -> None:
    case = _case(date(2027, 1, 10), stage=CaseStage.INVESTIGATION)
    assert stage_alerts(case, date(2027, 2, 8), DEFAULT_POLICY) == []


def test_the_enquiry_limit_and_its_wording_follow_the_policy() -> None:
    policy = CasePolicy(stages=StagePolicy(enquiry_max_days=10))
    case = _case(date(2027, 1, 10))
    assert enquiry_deadline(case, policy) == date(2027, 1, 20)
    assert stage_alerts(case, date(2027, 1, 21), policy)[0].startswith("Enquiry stage over 10 days")


def test_the_first_review_is_months_after_opening_then_every_interval_after_the_last() -> None:
    case = _case(date(2027, 1, 10))
    assert next_review_on(case, DEFAULT_POLICY) == date(2027, 3, 10)
    assert next_review_on(case, DEFAULT_POLICY, last_reviewed_on=date(2027, 3, 12)) == date(2027, 4, 12)
    # A month without the day ends on its last day.
    assert next_review_on(_case(date(2027, 12, 31)), DEFAULT_POLICY) == date(2028, 2, 29)
    assert next_review_on(_case(date(2026, 12, 31)), DEFAULT_POLICY) == date(2027, 2, 28)
    slower = CasePolicy(stages=StagePolicy(first_review_after_months=3, review_every_months=2))
    assert next_review_on(case, slower) == date(2027, 4, 10)
    assert next_review_on(case, slower, last_reviewed_on=date(2027, 4, 10)) == date(2027, 6, 10)


def test_a_review_is_flagged_on_its_day_and_after() -> None:
    case = _case(date(2027, 1, 10), stage=CaseStage.REVIEW, next_review_on=date(2027, 3, 10))
    assert stage_alerts(case, date(2027, 3, 9), DEFAULT_POLICY) == []
    assert stage_alerts(case, date(2027, 3, 10), DEFAULT_POLICY) == ["Case review due today"]
    assert stage_alerts(case, date(2027, 3, 11), DEFAULT_POLICY) == ["Case review overdue: it was due on 10 March 2027"]
    # Without a stored date the schedule is worked out from opening.
    unscheduled = _case(date(2027, 1, 10), stage=CaseStage.REVIEW)
    assert stage_alerts(unscheduled, date(2027, 3, 10), DEFAULT_POLICY) == ["Case review due today"]


def test_a_closed_case_has_no_stage_alerts() -> None:
    case = _case(date(2026, 1, 10), status="closed")
    assert stage_alerts(case, date(2027, 3, 11), DEFAULT_POLICY) == []


def test_months_are_calendar_months() -> None:
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 5, 31), -3) == date(2027, 2, 28)


# --- Moving between stages -----------------------------------------------------------------


def test_a_stage_move_is_recorded_with_who_why_from_and_to(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    moved_at = utcnow()
    with transaction(engine) as session:
        move = move_stage(
            session=session, actor=case_world.officer, case_id=case.id, to_stage="investigation",
            reason="Diary sheets sent; gathering evidence", now=moved_at,
        )  # fmt: skip
        move_id = move.id
    row: StageMove = load(engine, StageMove, move_id)
    assert (row.from_stage, row.to_stage) == ("enquiry", "investigation")
    assert row.reason == "Diary sheets sent; gathering evidence"
    assert row.moved_by_user_id == case_world.officer.user_id
    after: Case = load(engine, Case, case.id)
    assert after.stage == "investigation"
    assert after.stage_changed_at == moved_at
    assert after.next_review_on == add_months(case.opened_at.date(), 2)
    with Session(engine) as session:
        lines = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "stage_moved")
        ).all()
    assert [line.summary for line in lines] == [
        "Moved from 1 Initial enquiry and assessment to 2 Case investigation: Diary sheets sent; gathering evidence"
    ]
    assert lines[0].item_id == case.summary_item_id
    events = audit_events(engine, since=since, action="cases:stage:moved", subject_id=case.id)
    assert [e.detail["from"] for e in events] == ["enquiry"]
    assert events[0].detail["to"] == "investigation"


def test_a_case_can_move_back_and_forth(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    for stage in ("review", "interventions", "investigation", "legal_remedies", "review"):
        with transaction(engine) as session:
            move_stage(session=session, actor=case_world.officer, case_id=case.id, to_stage=stage, reason="Next step")
    with Session(engine) as session:
        moves = session.exec(select(StageMove).where(StageMove.case_id == case.id).order_by(col(StageMove.id))).all()
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("enquiry", "review"),
        ("review", "interventions"),
        ("interventions", "investigation"),
        ("investigation", "legal_remedies"),
        ("legal_remedies", "review"),
    ]
    assert load(engine, Case, case.id).stage == "review"


@pytest.mark.parametrize(
    ("to_stage", "reason", "errors"),
    [
        ("closure", "Done", {"to_stage": "A case reaches Closure only when a manager approves its closure: "
                                          "ask for closure instead."}),
        ("enquiry", "Still", {"to_stage": "The case is already at 1 Initial enquiry and assessment."}),
        ("stage_7", "Odd", {"to_stage": "Choose a stage from the list."}),
        ("review", "  ", {"reason": "Say why the case is moving stage."}),
    ],
)  # fmt: skip
def test_stage_moves_that_are_refused(
    engine: Engine, case_world: CaseWorld, to_stage: str, reason: str, errors: dict[str, str]
) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        move_stage(session=session, actor=case_world.officer, case_id=case.id, to_stage=to_stage, reason=reason)
    assert error.value.field_errors == errors
    assert load(engine, Case, case.id).stage == "enquiry"


def test_a_closed_case_does_not_move_stage(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    update_row(engine, Case, case.id, status="closed", stage="closure")
    with pytest.raises(WrongCaseStatus, match="reopen it before moving its stage"), transaction(engine) as session:
        move_stage(session=session, actor=case_world.officer, case_id=case.id, to_stage="review", reason="Look again")


def test_only_the_lead_organisation_moves_a_case(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        move_stage(session=session, actor=case_world.police, case_id=case.id, to_stage="review", reason="Police view")
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]
    assert load(engine, Case, case.id).stage == "enquiry"


# --- Reviews -------------------------------------------------------------------------------


def test_recording_a_review_sets_the_next_one(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    today = utcnow().date()
    since = last_audit_id(engine)
    with transaction(engine) as session:
        upcoming = record_stage_review(
            session=session, actor=case_world.officer, case_id=case.id, reviewed_on=today,
            note="Evidence sufficient for a warning letter",
        )  # fmt: skip
    assert upcoming == add_months(today, 1)
    assert load(engine, Case, case.id).next_review_on == upcoming
    with Session(engine) as session:
        line = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "stage_review")
        ).one()
    assert line.summary.endswith(": Evidence sufficient for a warning letter")
    [event] = audit_events(engine, since=since, action="cases:case:updated", subject_id=case.id)
    assert event.detail == {"reviewed_on": today.isoformat(), "next_review_on": upcoming.isoformat()}
    # A later stage move keeps the schedule from the last review.
    with transaction(engine) as session:
        move_stage(session=session, actor=case_world.officer, case_id=case.id, to_stage="review", reason="Review")
    assert load(engine, Case, case.id).next_review_on == upcoming


def test_a_review_follows_the_organisations_interval(engine: Engine, case_world: CaseWorld) -> None:
    with transaction(engine) as session:
        set_case_policy(
            session=session, actor=SYSTEM_ACTOR, organisation_id=case_world.council_id,
            policy=CasePolicy(stages=StagePolicy(review_every_months=2)),
        )  # fmt: skip
    case = make_case(engine, case_world.officer)
    reviewed = utcnow().date()
    with transaction(engine) as session:
        upcoming = record_stage_review(
            session=session, actor=case_world.officer, case_id=case.id, reviewed_on=reviewed, note="On track"
        )
    assert upcoming == add_months(reviewed, 2)


def test_a_review_needs_a_note_and_a_date_that_has_come(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    tomorrow = date.fromordinal(utcnow().date().toordinal() + 1)
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        record_stage_review(session=session, actor=case_world.officer, case_id=case.id, reviewed_on=tomorrow, note="")
    assert error.value.field_errors == {
        "reviewed_on": "A review cannot be recorded for a date still to come.",
        "note": "Note what the review found and decided.",
    }
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        record_stage_review(
            session=session, actor=case_world.officer, case_id=case.id, reviewed_on=date(2000, 1, 1), note="Old"
        )
    assert error.value.field_errors == {"reviewed_on": "The review date is before the case was opened."}
    assert load(engine, Case, case.id).next_review_on is None


def test_a_partner_cannot_record_a_review(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        record_stage_review(
            session=session, actor=case_world.police, case_id=case.id, reviewed_on=utcnow().date(), note="Ours"
        )
