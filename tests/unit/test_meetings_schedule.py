"""Meetings from a panel's cadence (RFC 5545 recurrence), moving, cancelling and adding them,
and calendars: one meeting's ICS file and each person's secret feed."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.meetings import (
    FEED_NOT_VALID,
    MeetingUnavailable,
    add_meeting,
    calendar_feed,
    calendar_token,
    cancel_meeting,
    generate_meetings,
    meeting_ics,
    move_meeting,
    occurrences,
    reset_calendar_token,
)
from panels.models import CalendarFeedSecret, Meeting
from sharing.db import transaction
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.permissions import SYSTEM_ACTOR
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, load_meeting, make_meeting, make_panel, meeting_world

__all__ = ["meeting_world"]

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _second_tuesday(year: int, month: int) -> date:
    tuesdays = [week[calendar.TUESDAY] for week in calendar.monthcalendar(year, month) if week[calendar.TUESDAY]]
    return date(year, month, tuesdays[1])


def test_the_second_tuesday_of_every_month_for_a_year() -> None:
    found = occurrences(
        "FREQ=MONTHLY;BYDAY=2TU", starts_on=date(2026, 1, 1), start_time=time(10, 0),
        after=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2026, 12, 31, 23, tzinfo=UTC), tz=LONDON,
    )  # fmt: skip
    local = [moment.astimezone(LONDON) for moment in found]
    assert [m.date() for m in local] == [_second_tuesday(2026, month) for month in range(1, 13)]
    assert [m.date().isoformat() for m in local[:3]] == ["2026-01-13", "2026-02-10", "2026-03-10"]
    # Always 10:00 in London: 10:00 UTC in winter, 09:00 UTC in summer time.
    assert {m.time() for m in local} == {time(10, 0)}
    assert found[0].hour == 10 and found[6].hour == 9  # January, July
    assert all(m.tzinfo == UTC for m in found)


def test_recurrence_runs_across_the_year_end_and_starts_after_now() -> None:
    found = occurrences(
        "FREQ=MONTHLY;BYDAY=2TU", starts_on=date(2025, 1, 1), start_time=time(10, 0),
        after=datetime(2025, 12, 9, 10, 0, tzinfo=UTC), until=datetime(2026, 2, 28, tzinfo=UTC), tz=LONDON,
    )  # fmt: skip
    # 9 December 2025 at 10:00 is exactly "after": not included.
    assert [m.astimezone(LONDON).date() for m in found] == [date(2026, 1, 13), date(2026, 2, 10)]


def test_every_other_week_keeps_its_phase_from_the_start_date() -> None:
    found = occurrences(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", starts_on=date(2026, 1, 7), start_time=time(14, 30),
        after=datetime(2026, 1, 10, tzinfo=UTC), until=datetime(2026, 2, 28, tzinfo=UTC), tz=LONDON,
    )  # fmt: skip
    assert [m.astimezone(LONDON).date().day for m in found] == [21, 4, 18]


def _meetings(engine: Engine, panel_id: int) -> list[Meeting]:
    with Session(engine) as session:
        return list(session.exec(select(Meeting).where(Meeting.panel_id == panel_id).order_by(col(Meeting.starts_at))))


def test_generating_a_year_of_meetings_is_idempotent_and_never_resurrects_a_cancelled_one(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    panel_id = make_panel(engine, meeting_world, cadence_starts_on=date(2026, 1, 1))
    since = last_audit_id(engine)
    with transaction(engine) as session:
        added = generate_meetings(session=session, actor=meeting_world.chair, panel_id=panel_id,
                                  until=date(2026, 12, 31), now=NOW)  # fmt: skip
        assert len(added) == 12
    meetings = _meetings(engine, panel_id)
    assert [m.starts_at.astimezone(LONDON).date() for m in meetings] == [
        _second_tuesday(2026, month) for month in range(1, 13)
    ]
    assert all(m.venue == "Committee Room 1" and m.status == "scheduled" for m in meetings)
    assert meetings[0].ends_at - meetings[0].starts_at == timedelta(minutes=120)
    assert len(audit_events(engine, action="panels:meeting:scheduled", since=since)) == 12

    march, april = meetings[2], meetings[3]
    with transaction(engine) as session:
        move_meeting(session=session, actor=meeting_world.chair, meeting_id=march.id,  # type: ignore[arg-type]
                     starts_at=march.starts_at + timedelta(days=2), reason="Room unavailable", now=NOW)  # fmt: skip
        cancel_meeting(session=session, actor=meeting_world.chair, meeting_id=april.id,  # type: ignore[arg-type]
                       reason="Easter holidays", now=NOW)  # fmt: skip
    with transaction(engine) as session:
        again = generate_meetings(session=session, actor=meeting_world.chair, panel_id=panel_id,
                                  until=date(2027, 1, 31), now=NOW)  # fmt: skip
        assert [m.starts_at.astimezone(LONDON).date() for m in again] == [date(2027, 1, 12)]
    after = _meetings(engine, panel_id)
    assert len(after) == 13
    assert next(m for m in after if m.id == april.id).status == "cancelled"
    assert next(m for m in after if m.id == march.id).starts_at.astimezone(LONDON).date() == date(2026, 3, 12)


def test_generation_starts_from_now_and_refuses_the_past_and_the_far_future(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    panel_id = make_panel(engine, meeting_world, cadence_starts_on=date(2026, 1, 1))
    with transaction(engine) as session:
        added = generate_meetings(session=session, actor=SYSTEM_ACTOR, panel_id=panel_id, until=date(2026, 3, 31),
                                  now=datetime(2026, 1, 13, 10, 0, tzinfo=UTC))  # fmt: skip
    # 13 January at 10:00 has started: February and March only.
    assert [m.starts_at.astimezone(LONDON).date() for m in added] == [date(2026, 2, 10), date(2026, 3, 10)]
    for until, message in ((date(2025, 12, 1), "Choose a date in the future."),
                           (date(2029, 1, 1), "Schedule at most two years ahead.")):  # fmt: skip
        with pytest.raises(InvalidInput) as error, transaction(engine) as session:
            generate_meetings(session=session, actor=SYSTEM_ACTOR, panel_id=panel_id, until=until, now=NOW)
        assert error.value.field_errors == {"until": message}


def test_only_the_chair_deputy_or_an_administrator_schedules(engine: Engine, meeting_world: MeetingWorld) -> None:
    panel_id = make_panel(engine, meeting_world, cadence_starts_on=date(2026, 1, 1))
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        generate_meetings(session=session, actor=meeting_world.police.member, panel_id=panel_id,
                          until=date(2026, 3, 1), now=NOW)  # fmt: skip
    assert error.value.message.startswith("Only the chair or deputy chair of the Panel-")
    (event,) = audit_events(engine, actor_user_id=meeting_world.police.member.user_id, since=since)
    assert (event.action, event.reason) == ("access:permission:denied", "not the panel's chair")
    for actor in (meeting_world.deputy, meeting_world.admin):
        with transaction(engine) as session:
            generate_meetings(session=session, actor=actor, panel_id=panel_id, until=date(2026, 3, 1), now=NOW)
    assert len(_meetings(engine, panel_id)) == 2


def test_moving_and_cancelling_need_a_reason_and_a_meeting_still_to_come(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    panel_id = make_panel(engine, meeting_world)
    meeting_id = make_meeting(engine, panel_id, datetime(2026, 6, 9, 9, 0, tzinfo=UTC))
    chair = meeting_world.chair
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        move_meeting(session=session, actor=chair, meeting_id=meeting_id, reason=" ",
                     starts_at=datetime(2026, 1, 1, tzinfo=UTC), venue="", video_link="", now=NOW)  # fmt: skip
    assert error.value.field_errors == {
        "starts_at": "Choose a time in the future.",
        "venue": "Give a venue or a video link.",
        "reason": "Say why the meeting is moving; members will see it.",
    }
    since = last_audit_id(engine)
    new_start = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)
    with transaction(engine) as session:
        move_meeting(session=session, actor=chair, meeting_id=meeting_id, starts_at=new_start, reason="Clash",
                     video_link="https://meet.example.com/panel", now=NOW)  # fmt: skip
    moved = load_meeting(engine, meeting_id)
    assert (moved.starts_at, moved.ends_at - moved.starts_at, moved.sequence) == (new_start, timedelta(hours=2), 1)
    assert moved.video_link == "https://meet.example.com/panel"
    (event,) = audit_events(engine, subject_type="meeting", subject_id=meeting_id, since=since)
    assert event.action == "panels:meeting:moved"
    assert event.detail == {"from": "2026-06-09T09:00:00+00:00", "to": "2026-06-10T13:00:00+00:00"}

    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        cancel_meeting(session=session, actor=chair, meeting_id=meeting_id, reason="", now=NOW)
    assert error.value.field_errors == {"reason": "Say why the meeting is cancelled; members will see it."}
    with transaction(engine) as session:
        cancel_meeting(session=session, actor=chair, meeting_id=meeting_id, reason="No cases", now=NOW)
    with pytest.raises(MeetingUnavailable) as refused, transaction(engine) as session:
        move_meeting(session=session, actor=chair, meeting_id=meeting_id, starts_at=new_start, reason="x", now=NOW)
    assert refused.value.message == "This meeting was cancelled; add a new meeting instead."


def test_an_ad_hoc_meeting_needs_a_future_time_and_somewhere_to_meet(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    panel_id = make_panel(engine, meeting_world)
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        add_meeting(session=session, actor=meeting_world.chair, panel_id=panel_id, venue="", video_link="",
                    starts_at=datetime(2025, 1, 1, tzinfo=UTC), now=NOW)  # fmt: skip
    assert error.value.field_errors == {
        "starts_at": "Choose a time in the future.",
        "venue": "Give a venue or a video link.",
    }
    with transaction(engine) as session:
        meeting = add_meeting(
            session=session, actor=meeting_world.chair, panel_id=panel_id, duration_minutes=45,
            starts_at=datetime(2026, 2, 2, 15, 0, tzinfo=UTC), note="Urgent case", now=NOW,
        )  # fmt: skip
        assert meeting.ad_hoc and meeting.occurrence_at is None
        assert meeting.ends_at == datetime(2026, 2, 2, 15, 45, tzinfo=UTC)


def test_a_meeting_as_an_ics_file_reads_back_in_london_time(engine: Engine, meeting_world: MeetingWorld) -> None:
    panel_id = make_panel(engine, meeting_world)
    meeting_id = make_meeting(engine, panel_id, datetime(2026, 7, 14, 9, 0, tzinfo=UTC))
    meeting = load_meeting(engine, meeting_id)
    parsed = Calendar.from_ical(meeting_ics(meeting, panel_name="Problem Solving Group"))
    (event,) = parsed.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 7, 14, 10, 0, tzinfo=LONDON)
    assert event.get("dtstart").params["TZID"] == "Europe/London"
    assert event.decoded("dtend").astimezone(UTC) == datetime(2026, 7, 14, 11, 0, tzinfo=UTC)
    assert str(event.get("summary")) == "Problem Solving Group"
    assert str(event.get("location")) == "Committee Room 1"
    assert str(event.get("uid")) == f"panel-meeting-{meeting_id}@localhost"
    assert str(event.get("status")) == "CONFIRMED"
    assert parsed.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"

    with transaction(engine) as session:
        cancel_meeting(session=session, actor=meeting_world.chair, meeting_id=meeting_id, reason="Clash", now=NOW)
    (event,) = Calendar.from_ical(
        meeting_ics(load_meeting(engine, meeting_id), panel_name="Problem Solving Group")
    ).walk("VEVENT")
    assert str(event.get("status")) == "CANCELLED"
    assert int(event.get("sequence")) == 1
    assert str(event.get("summary")) == "Cancelled: Problem Solving Group"


def _feed_events(engine: Engine, token: str) -> list[str]:
    with transaction(engine) as session:
        data = calendar_feed(session=session, token=token, now=NOW)
    return [str(e.get("uid")) for e in Calendar.from_ical(data).walk("VEVENT")]


def test_a_personal_calendar_feed_and_resetting_its_secret_address(
    engine: Engine, meeting_world: MeetingWorld, make_organisation: object
) -> None:
    panel_id = make_panel(engine, meeting_world)
    meeting_id = make_meeting(engine, panel_id, datetime(2026, 2, 10, 10, 0, tzinfo=UTC))
    member = meeting_world.police.member
    since = last_audit_id(engine)
    with transaction(engine) as session:
        token = calendar_token(session=session, actor=member)
    with transaction(engine) as session:
        assert calendar_token(session=session, actor=member) == token  # the same address until reset
    assert f"panel-meeting-{meeting_id}@localhost" in _feed_events(engine, token)
    with Session(engine) as session:
        secret = session.get(CalendarFeedSecret, member.user_id)
        assert secret is not None and token not in (secret.token_hash, secret.nonce)

    with transaction(engine) as session:
        new_token = reset_calendar_token(session=session, actor=member)
    assert new_token != token
    with pytest.raises(NotFound) as error:
        _feed_events(engine, token)
    assert error.value.message == FEED_NOT_VALID
    assert f"panel-meeting-{meeting_id}@localhost" in _feed_events(engine, new_token)
    assert [e.action for e in audit_events(engine, actor_user_id=member.user_id, since=since)] == [
        "panels:calendar:token_issued",
        "panels:calendar:token_reset",
    ]


def test_the_feed_holds_only_the_holders_panels(engine: Engine, meeting_world: MeetingWorld) -> None:
    # A panel the police do not sit on.
    panel_id = make_panel(
        engine, meeting_world, organisation_ids=[meeting_world.council.org.id, meeting_world.legal.org.id],
        deputy_chair_user_id=None,
    )  # fmt: skip
    meeting_id = make_meeting(engine, panel_id, datetime(2026, 2, 10, 10, 0, tzinfo=UTC))
    with transaction(engine) as session:
        police_token = calendar_token(session=session, actor=meeting_world.police.member)
        legal_token = calendar_token(session=session, actor=meeting_world.legal.member)
    assert f"panel-meeting-{meeting_id}@localhost" not in _feed_events(engine, police_token)
    assert f"panel-meeting-{meeting_id}@localhost" in _feed_events(engine, legal_token)
