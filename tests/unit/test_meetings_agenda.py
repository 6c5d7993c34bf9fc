"""Building the agenda (accepted referrals, cases due back for review, cases carried forward),
ordering it, and publishing it by hand or when its publication date comes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.action_models import Notification, Reminder
from panels.agenda import agenda_items, build_agenda, list_agenda, publish_agenda, publish_due_agendas, reorder_agenda
from panels.case_models import Case
from panels.decisions import DecisionInput, record_decision
from panels.meeting_room import declare_interest
from panels.meetings import move_meeting
from panels.reminders import SWEEP_STEPS
from sharing.config import get_settings
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.permissions import SYSTEM_ACTOR
from tests.unit.case_helpers import make_case
from tests.unit.helpers import audit_events, last_audit_id, update_row
from tests.unit.meeting_helpers import MeetingWorld, load_meeting, make_meeting, meeting_with_case, meeting_world

__all__ = ["meeting_world"]

JULY = datetime(2030, 7, 9, 9, 0, tzinfo=UTC)  # Tuesday 9 July 2030, 10:00 in London


def _review(engine: Engine, world: MeetingWorld, panel_id: int | None, review_on: date) -> tuple[int, Case]:
    held = meeting_with_case(engine, world, panel_id=panel_id, present=(world.council.member, world.legal.member))
    with transaction(engine) as session:
        record_decision(
            session=session, actor=world.chair, agenda_item_id=held.agenda_item_id,
            data=DecisionInput("keep_under_review", "Improving; see again.", review_on=review_on),
        )  # fmt: skip
    return held.panel_id, held.case


def test_the_agenda_gathers_reviews_and_carried_forward_cases_once(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    panel_id, due = _review(engine, world, None, date(2030, 7, 1))
    _, not_yet = _review(engine, world, panel_id, date(2030, 8, 1))
    july = make_meeting(engine, panel_id, JULY)
    forward = make_case(engine, world.council.officer)
    since = last_audit_id(engine)
    with transaction(engine) as session:
        items = build_agenda(session=session, actor=world.chair, meeting_id=july, carried_forward=[forward.id])  # type: ignore[list-item]
    assert [(i.case_id, i.source, i.position) for i in items] == [
        (due.id, "review", 1),
        (forward.id, "carried_forward", 2),
    ]
    with transaction(engine) as session:
        again = build_agenda(session=session, actor=world.chair, meeting_id=july, carried_forward=[forward.id])  # type: ignore[list-item]
    assert [i.id for i in again] == [i.id for i in items]
    assert [e.detail["added"] for e in audit_events(engine, action="panels:agenda:built", since=since)] == [
        {"referral": 0, "review": 1, "carried_forward": 1},
        {"referral": 0, "review": 0, "carried_forward": 0},
    ]
    assert not_yet.id not in {i.case_id for i in again}

    closed = make_case(engine, world.council.officer)
    update_row(engine, Case, closed.id, status="closed")
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        build_agenda(session=session, actor=world.chair, meeting_id=july, carried_forward=[closed.id])  # type: ignore[list-item]
    assert invalid.value.field_errors == {"carried_forward": f"These cases are closed or do not exist: [{closed.id}]."}


def test_the_chair_orders_and_publishes_the_agenda(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    panel_id, due = _review(engine, world, None, date(2030, 7, 1))
    july = make_meeting(engine, panel_id, JULY)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        publish_agenda(session=session, actor=world.chair, meeting_id=july)
    assert invalid.value.field_errors == {"agenda": "There is nothing on the agenda yet."}
    extra = make_case(engine, world.council.officer)
    with transaction(engine) as session:
        first, second = build_agenda(session=session, actor=world.chair, meeting_id=july, carried_forward=[extra.id])  # type: ignore[list-item]
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        reorder_agenda(session=session, actor=world.chair, meeting_id=july, item_ids=[second.id])  # type: ignore[list-item]
    assert invalid.value.field_errors == {"item_ids": "List every item on the agenda once."}
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        reorder_agenda(session=session, actor=world.police.member, meeting_id=july, item_ids=[second.id, first.id])  # type: ignore[list-item]
    with transaction(engine) as session:
        reorder_agenda(session=session, actor=world.deputy, meeting_id=july, item_ids=[second.id, first.id])  # type: ignore[list-item]
    with Session(engine) as session:
        assert [i.case_id for i in agenda_items(session, july)] == [extra.id, due.id]
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_agenda(session=session, actor=world.police.member, meeting_id=july)
    with transaction(engine) as session:
        publish_agenda(session=session, actor=world.chair, meeting_id=july, now=JULY - timedelta(days=10))
    assert load_meeting(engine, july).agenda_published_at == JULY - timedelta(days=10)
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.police.member, agenda_item_id=first.id,  # type: ignore[arg-type]
                         reason="Knows the family")  # fmt: skip
        agenda = list_agenda(session=session, actor=world.police.member, meeting_id=july)
    assert [(a.position, a.source_label) for a in agenda] == [
        (1, "Carried forward (open actions)"),
        (2, "Due for review"),
    ]
    assert agenda[1].conflicted == ("Panel Member",) and agenda[0].conflicted == ()


def test_agendas_publish_themselves_when_the_pack_lead_time_comes(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    panel_id, _ = _review(engine, world, None, date(2030, 7, 1))
    july = make_meeting(engine, panel_id, JULY)
    with transaction(engine) as session:
        build_agenda(session=session, actor=world.chair, meeting_id=july)
    # Five working days before Tuesday 9 July 2030 at 10:00 is Tuesday 2 July at 10:00 (09:00 UTC).
    due = datetime(2030, 7, 2, 9, 0, tzinfo=UTC)
    with transaction(engine) as session:
        assert july not in publish_due_agendas(session=session, actor=SYSTEM_ACTOR, now=due - timedelta(minutes=1))
    with transaction(engine) as session:
        assert july in publish_due_agendas(session=session, actor=SYSTEM_ACTOR, now=due)
    assert load_meeting(engine, july).agenda_published_at == due


def _agenda_notices(engine: Engine, user_id: int | None, meeting_id: int) -> list[Notification]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Notification).where(
                    Notification.recipient_user_id == user_id,
                    Notification.kind == "agenda_published",
                    Notification.link_path == f"/meetings/{meeting_id}",
                )
            )
        )


def test_publishing_tells_the_panels_people_once_without_case_details(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    panel_id, due = _review(engine, world, None, date(2030, 7, 1))
    july = make_meeting(engine, panel_id, JULY)
    with transaction(engine) as session:
        build_agenda(session=session, actor=world.chair, meeting_id=july)
    with transaction(engine) as session:
        publish_agenda(session=session, actor=world.chair, meeting_id=july, now=JULY - timedelta(days=10))
    with transaction(engine) as session:
        publish_agenda(session=session, actor=world.chair, meeting_id=july, now=JULY - timedelta(days=9))
    (notice,) = _agenda_notices(engine, world.police.member.user_id, july)
    assert notice.title.startswith("Agenda published: ")
    assert "1 item." in notice.body
    assert due.reference not in notice.title + notice.body
    assert len(_agenda_notices(engine, world.deputy.user_id, july)) == 1
    # The chair who published it is not told what they did.
    assert _agenda_notices(engine, world.chair.user_id, july) == []


def _meeting_step(engine: Engine, now: datetime) -> None:
    with transaction(engine) as session:
        SWEEP_STEPS["meetings"](session, now, now.date())


def _meeting_reminders(engine: Engine, meeting_id: int) -> list[Reminder]:
    with Session(engine) as session:
        return list(
            session.exec(select(Reminder).where(Reminder.subject_type == "meeting", Reminder.subject_id == meeting_id))
        )


def test_the_panels_people_are_reminded_the_working_day_before_and_again_if_it_moves(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    panel_id, _ = _review(engine, world, None, date(2030, 7, 1))
    july = make_meeting(engine, panel_id, JULY)
    # One working day before Tuesday 9 July 2030 at 10:00 is Monday 8 July at 10:00 (09:00 UTC).
    due = datetime(2030, 7, 8, 9, 0, tzinfo=UTC)
    _meeting_step(engine, due - timedelta(minutes=1))
    assert _meeting_reminders(engine, july) == []
    _meeting_step(engine, due)
    _meeting_step(engine, due + timedelta(hours=3))
    (reminder,) = _meeting_reminders(engine, july)
    assert reminder.kind == "meeting_reminder"
    assert {world.chair.user_id, world.deputy.user_id, world.police.member.user_id} <= set(reminder.recipient_user_ids)
    with Session(engine) as session:
        (notice,) = session.exec(
            select(Notification).where(
                Notification.reminder_id == reminder.id, Notification.recipient_user_id == world.police.member.user_id
            )
        ).all()
    assert notice.title.endswith("meets on Tuesday 9 July 2030 at 10:00")
    assert "Its agenda is not published yet." in notice.body

    # Moved a week on: reminded again the working day before the new date.
    with transaction(engine) as session:
        move_meeting(session=session, actor=world.chair, meeting_id=july, starts_at=JULY + timedelta(days=7),
                     reason="The chair is on leave.", now=due)  # fmt: skip
    _meeting_step(engine, due + timedelta(days=7))
    assert len(_meeting_reminders(engine, july)) == 2


def test_meeting_reminders_can_be_turned_off(
    engine: Engine, meeting_world: MeetingWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = meeting_world
    panel_id, _ = _review(engine, world, None, date(2030, 7, 1))
    july = make_meeting(engine, panel_id, JULY)
    monkeypatch.setenv("PORTAL_MEETING_REMINDER_WORKING_DAYS", "0")
    get_settings.cache_clear()
    try:
        _meeting_step(engine, JULY - timedelta(hours=1))
    finally:
        monkeypatch.delenv("PORTAL_MEETING_REMINDER_WORKING_DAYS")
        get_settings.cache_clear()
    assert _meeting_reminders(engine, july) == []
