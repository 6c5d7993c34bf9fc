"""Referring a case to the next available meeting (agenda cut-off in working days, across
weekends and bank holidays), and the chair accepting, deferring or declining it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.agenda import agenda_items
from panels.case_models import CaseEvent
from panels.cases import NOT_YOUR_CASE
from panels.meetings import agenda_cutoff, cancel_meeting, next_available_meeting
from panels.models import Meeting, Panel, Referral
from panels.referrals import decide_referral, list_case_referrals, refer_case
from sharing.access import DENIED_MESSAGE
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import InformationItem
from tests.unit.case_helpers import make_case
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, make_meeting, make_panel, meeting_world, refer

__all__ = ["meeting_world"]

# Tuesday 26 May 2026, 10:00 in London, the day after the spring bank holiday (Monday 25 May).
AFTER_BANK_HOLIDAY = datetime(2026, 5, 26, 9, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 9, 9, 0, tzinfo=UTC)  # Tuesday 9 June 2026, 10:00 in London
# Five working days before 26 May, skipping the bank holiday: Monday 18 May at 10:00 (09:00 UTC).
CUTOFF = datetime(2026, 5, 18, 9, 0, tzinfo=UTC)


def _next(engine: Engine, panel_id: int, now: datetime) -> int | None:
    with Session(engine) as session:
        meeting = next_available_meeting(session, panel_id, now)
        return meeting.id if meeting else None


@pytest.fixture
def two_meetings(engine: Engine, meeting_world: MeetingWorld) -> tuple[int, int, int]:
    panel_id = make_panel(engine, meeting_world)
    return panel_id, make_meeting(engine, panel_id, AFTER_BANK_HOLIDAY), make_meeting(engine, panel_id, JUNE)


def test_the_cutoff_counts_working_days_and_skips_the_bank_holiday(
    engine: Engine, two_meetings: tuple[int, int, int]
) -> None:
    panel_id, may, june = two_meetings
    with Session(engine) as session:
        panel, meeting = session.get(Panel, panel_id), session.get(Meeting, may)
        assert panel is not None and meeting is not None
        assert agenda_cutoff(panel, meeting) == CUTOFF
    assert _next(engine, panel_id, CUTOFF - timedelta(days=3)) == may
    assert _next(engine, panel_id, CUTOFF) == may  # exactly at the cut-off: still in time
    assert _next(engine, panel_id, CUTOFF + timedelta(seconds=1)) == june
    # Tuesday 19 May would be five working days before were it not for the bank holiday.
    assert _next(engine, panel_id, datetime(2026, 5, 19, 8, 0, tzinfo=UTC)) == june
    assert _next(engine, panel_id, JUNE) is None


def test_the_cutoff_skips_a_weekend(engine: Engine, meeting_world: MeetingWorld) -> None:
    panel_id = make_panel(engine, meeting_world, agenda_cutoff_working_days=2)
    june = make_meeting(engine, panel_id, JUNE)
    # Two working days before Tuesday 9 June is Friday 5 June at 10:00 (09:00 UTC).
    assert _next(engine, panel_id, datetime(2026, 6, 5, 9, 0, tzinfo=UTC)) == june
    assert _next(engine, panel_id, datetime(2026, 6, 6, 9, 0, tzinfo=UTC)) is None  # Saturday: too late


def test_a_cancelled_meeting_is_not_available(
    engine: Engine, meeting_world: MeetingWorld, two_meetings: tuple[int, int, int]
) -> None:
    panel_id, may, june = two_meetings
    with transaction(engine) as session:
        cancel_meeting(session=session, actor=meeting_world.chair, meeting_id=may, reason="Clash",
                       now=datetime(2026, 5, 1, tzinfo=UTC))  # fmt: skip
    assert _next(engine, panel_id, datetime(2026, 5, 1, tzinfo=UTC)) == june


def test_a_lead_officer_refers_a_case_and_the_chair_is_notified(
    engine: Engine, meeting_world: MeetingWorld, two_meetings: tuple[int, int, int]
) -> None:
    panel_id, may, _ = two_meetings
    case = make_case(engine, meeting_world.council.officer)
    since = last_audit_id(engine)
    referral_id = refer(engine, meeting_world, case, panel_id, now=CUTOFF)
    with Session(engine) as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.status, referral.meeting_id) == ("submitted", may)
        item = session.get(InformationItem, referral.item_id)
        assert item is not None and item.owner_organisation_id == meeting_world.council.org.id
        assert item.case_reference == case.reference
        assert {f["key"]: f["value"] for f in item.content}["decision_sought"] == "Agree an action plan."
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "panel_referral"))
        (line,) = events.all()
        assert line.summary.endswith("(meeting on 26 May 2026)")
    (made,) = audit_events(engine, action="panels:referral:made", since=since)
    assert made.detail["notify_user_ids"] == [meeting_world.chair.user_id, meeting_world.deputy.user_id]
    assert made.detail["meeting"] == may


def test_who_may_refer_and_what_a_referral_needs(
    engine: Engine, meeting_world: MeetingWorld, two_meetings: tuple[int, int, int]
) -> None:
    panel_id, _, _ = two_meetings
    case = make_case(engine, meeting_world.council.officer)

    def attempt(actor: object, **kwargs: object) -> None:
        values = {"reason": "Why", "decision_sought": "What", "now": CUTOFF} | kwargs
        with transaction(engine) as session:
            refer_case(session=session, actor=actor, case_id=case.id, panel_id=panel_id, **values)  # type: ignore[arg-type]

    with pytest.raises(PermissionDenied) as error:
        attempt(meeting_world.police.officer)  # a lead officer, but not of this case's organisation
    assert error.value.message == NOT_YOUR_CASE
    with pytest.raises(PermissionDenied) as error:
        attempt(meeting_world.council.member)  # panel members do not refer
    assert error.value.message == DENIED_MESSAGE
    with pytest.raises(InvalidInput) as invalid:
        attempt(meeting_world.council.officer, reason=" ", decision_sought="")
    assert invalid.value.field_errors == {
        "reason": "Say why the case needs the panel.",
        "decision_sought": "Say what you are asking the panel to decide.",
    }
    with pytest.raises(InvalidInput) as invalid:
        attempt(meeting_world.council.officer, now=JUNE)
    assert invalid.value.field_errors["panel_id"].endswith(
        "has no meeting open for referrals. Ask its chair to schedule one."
    )
    attempt(meeting_world.council.officer)
    with pytest.raises(InvalidInput) as invalid:
        attempt(meeting_world.council.officer)
    assert invalid.value.field_errors["panel_id"].endswith("(meeting on 26 May 2026).")


def test_the_chair_accepts_defers_or_declines_and_the_referrer_sees_where_it_stands(
    engine: Engine, meeting_world: MeetingWorld, two_meetings: tuple[int, int, int]
) -> None:
    panel_id, may, june = two_meetings
    officer, chair = meeting_world.council.officer, meeting_world.chair
    accepted, deferred, declined = (
        refer(engine, meeting_world, make_case(engine, officer), panel_id, now=CUTOFF) for _ in range(3)
    )
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        decide_referral(session=session, actor=meeting_world.police.member, referral_id=accepted, decision="accept")
    assert error.value.message.startswith("Only the chair or deputy chair of the ")
    since = last_audit_id(engine)
    with transaction(engine) as session:
        decide_referral(session=session, actor=chair, referral_id=accepted, decision="accept", now=CUTOFF)
        decide_referral(session=session, actor=meeting_world.deputy, referral_id=deferred, decision="defer",
                        reason="Waiting for the police report", now=CUTOFF)  # fmt: skip
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        decide_referral(session=session, actor=chair, referral_id=declined, decision="decline", now=CUTOFF)
    assert invalid.value.field_errors == {
        "reason": "Say why the referral is declined; the referring officer will see it."
    }
    with transaction(engine) as session:
        decide_referral(session=session, actor=chair, referral_id=declined, decision="decline",
                        reason="Not a case for this panel", now=CUTOFF)  # fmt: skip
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        decide_referral(session=session, actor=chair, referral_id=declined, decision="accept", now=CUTOFF)
    assert invalid.value.field_errors == {"decision": "This referral has already been declined."}
    assert [e.action for e in audit_events(engine, subject_type="referral", since=since)] == [
        "panels:referral:accepted", "panels:referral:deferred", "panels:referral:declined",
    ]  # fmt: skip

    with Session(engine) as session:
        on_may = agenda_items(session, may)
        rows = {r.id: r for r in session.exec(select(Referral).where(Referral.panel_id == panel_id))}
    assert [(i.referral_id, i.source, i.position) for i in on_may] == [(accepted, "referral", 1)]
    assert (rows[deferred].status, rows[deferred].meeting_id) == ("deferred", june)

    case_id = rows[declined].case_id
    with transaction(engine) as session:
        (seen,) = list_case_referrals(session=session, actor=officer, case_id=case_id)
    assert (seen.status, seen.status_label, seen.decision_reason) == (
        "declined",
        "Declined",
        "Not a case for this panel",
    )
    assert seen.content is not None and seen.content.access == "owner"
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_case_referrals(session=session, actor=meeting_world.police.member, case_id=case_id)


def test_referrals_on_a_cancelled_meeting_move_to_the_next(
    engine: Engine, meeting_world: MeetingWorld, two_meetings: tuple[int, int, int]
) -> None:
    panel_id, may, june = two_meetings
    referral_id = refer(engine, meeting_world, make_case(engine, meeting_world.council.officer), panel_id, now=CUTOFF)
    with transaction(engine) as session:
        decide_referral(session=session, actor=meeting_world.chair, referral_id=referral_id, decision="accept")
        cancel_meeting(session=session, actor=meeting_world.chair, meeting_id=may, reason="Clash", now=CUTOFF)
    with Session(engine) as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None and (referral.meeting_id, referral.status) == (june, "accepted")
        assert agenda_items(session, may) == []
