"""Meetings of a panel: generated from its cadence (an RFC 5545 RRULE), moved, cancelled or
added ad hoc; the agenda cut-off and pack publication dates in working days; and calendars
(one meeting as an ICS file, and each person's secret calendar feed of their panels' meetings).

Times are stored in UTC and shown in the portal's time zone (``settings.timezone``,
Europe/London), which is also the TZID the calendars carry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from panels.models import AgendaItem, CalendarFeedSecret, Meeting, Panel, PanelMember, PanelOrganisation, Referral
from panels.panel_config import get_panel, parse_cadence, parse_start_time, require_scheduler
from panels.working_days import is_working_day
from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.crypto import token_hash
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, NotFound
from sharing.models import User
from sharing.permissions import Actor, Permission

# How far ahead meetings may be generated in one go, and what a calendar feed covers.
MAX_GENERATION_DAYS = 2 * 366
FEED_PAST_DAYS = 92
FEED_AHEAD_DAYS = 400


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class MeetingUnavailable(DomainError):
    """The meeting cannot be changed in its present state (cancelled, already held...)."""


def timezone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local(moment: datetime) -> datetime:
    """A stored UTC time in the portal's time zone."""
    return moment.astimezone(timezone())


def format_when(moment: datetime) -> str:
    """E.g. "Tuesday 14 July 2026 at 10:00" (local time)."""
    shown = local(moment)
    return f"{shown:%A} {shown.day} {shown:%B %Y} at {shown:%H:%M}"


def format_day(moment: datetime) -> str:
    shown = local(moment)
    return f"{shown.day} {shown:%B %Y}"


# --- Working days ----------------------------------------------------------------------------


def working_days_before(moment: datetime, days: int) -> datetime:
    """The same local clock time ``days`` working days before ``moment`` (working days as
    ``panels.working_days`` counts them: no weekends, no bank holidays in England and Wales)."""
    shown = local(moment)
    remaining = days
    while remaining > 0:
        shown -= timedelta(days=1)
        if is_working_day(shown.date()):
            remaining -= 1
    # Rebuild from the wall-clock time, so a change of clocks in between keeps 10:00 at 10:00.
    return shown.replace(tzinfo=None).replace(tzinfo=timezone()).astimezone(UTC)


def agenda_cutoff(panel: Panel, meeting: Meeting) -> datetime:
    """The last moment a referral can still land on this meeting: the meeting's start time,
    the panel's agenda cut-off in working days before it.  A referral exactly at the cut-off
    makes it."""
    return working_days_before(meeting.starts_at, panel.agenda_cutoff_working_days)


def agenda_publication_due(panel: Panel, meeting: Meeting) -> datetime:
    """When the agenda and pack are published by default (the pack lead time before)."""
    return working_days_before(meeting.starts_at, panel.pack_lead_working_days)


# --- Cadence ---------------------------------------------------------------------------------


def occurrences(
    rule: str, *, starts_on: date, start_time: time, after: datetime, until: datetime, tz: ZoneInfo | None = None
) -> list[datetime]:
    """The UTC start times the rule gives after ``after`` and up to ``until`` (both aware),
    counting the pattern from ``starts_on`` at ``start_time`` local time."""
    zone = tz or timezone()
    recurrence = parse_cadence(rule, datetime.combine(starts_on, start_time))
    low = after.astimezone(zone).replace(tzinfo=None)
    high = until.astimezone(zone).replace(tzinfo=None)
    return [
        moment.replace(tzinfo=zone).astimezone(UTC)
        for moment in recurrence.between(low, high, inc=True)
        if moment.replace(tzinfo=zone).astimezone(UTC) > after
    ]


def panel_occurrences(panel: Panel, *, after: datetime, until: datetime) -> list[datetime]:
    starts_on = panel.cadence_starts_on or local(panel.created_at).date()
    return occurrences(
        panel.cadence_rrule, starts_on=starts_on, start_time=parse_start_time(panel.start_time), after=after,
        until=until,
    )  # fmt: skip


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59)).replace(tzinfo=timezone()).astimezone(UTC)


def generate_meetings(
    *, session: Session, actor: Actor, panel_id: int, until: date, now: datetime | None = None
) -> list[Meeting]:
    """Schedule the panel's meetings from its cadence, from now up to the end of ``until``.

    Idempotent: a slot that already has a meeting (even one since moved or cancelled) is never
    scheduled again.  Returns the meetings added."""
    panel = get_panel(session, panel_id)
    require_scheduler(session, actor, panel)
    now = now or utcnow()
    if not panel.active:
        raise InvalidInput({"panel": "This panel is no longer active."})
    if until < local(now).date():
        raise InvalidInput({"until": "Choose a date in the future."})
    if (until - local(now).date()).days > MAX_GENERATION_DAYS:
        raise InvalidInput({"until": "Schedule at most two years ahead."})
    taken = {
        moment
        for moment in session.exec(
            select(Meeting.occurrence_at).where(Meeting.panel_id == panel_id, col(Meeting.occurrence_at).is_not(None))
        )
        if moment is not None
    }
    added: list[Meeting] = []
    for moment in panel_occurrences(panel, after=now, until=_end_of_day(until)):
        if moment in taken:
            continue
        meeting = Meeting(
            panel_id=panel_id, occurrence_at=moment, starts_at=moment,
            ends_at=moment + timedelta(minutes=panel.duration_minutes), venue=panel.venue,
            video_link=panel.video_link, created_by_user_id=actor.user_id,
        )  # fmt: skip
        session.add(meeting)
        session.flush()
        added.append(meeting)
        record_event(
            session, action=AuditAction.MEETING_SCHEDULED, outcome=Outcome.SUCCESS, actor=actor,
            subject_type="meeting", subject_id=meeting.id,
            detail={"panel": panel_id, "starts_at": moment.isoformat(), "how": "cadence"},
        )  # fmt: skip
    return added


# --- One meeting at a time -------------------------------------------------------------------


def meeting_path(meeting_id: int) -> str:
    """The meeting's page in the portal (the portal's route, built here as a plain path)."""
    return f"/meetings/{meeting_id}"


def get_meeting(session: Session, meeting_id: int) -> tuple[Meeting, Panel]:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("That meeting no longer exists.")
    return meeting, get_panel(session, meeting.panel_id)


def _where(meeting: Meeting, venue: str | None, video_link: str | None) -> dict[str, str]:
    if venue is not None:
        meeting.venue = venue.strip()
    if video_link is not None:
        meeting.video_link = video_link.strip()
    errors: dict[str, str] = {}
    if not meeting.venue and not meeting.video_link:
        errors["venue"] = "Give a venue or a video link."
    if meeting.video_link and not meeting.video_link.startswith("https://"):
        errors["video_link"] = "The video link must be an https:// address."
    return errors


def _check_start(starts_at: datetime, now: datetime) -> dict[str, str]:
    if starts_at.tzinfo is None:
        return {"starts_at": "Give the time with its time zone."}
    if starts_at <= now:
        return {"starts_at": "Choose a time in the future."}
    return {}


def add_meeting(
    *,
    session: Session,
    actor: Actor,
    panel_id: int,
    starts_at: datetime,
    duration_minutes: int | None = None,
    venue: str | None = None,
    video_link: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Meeting:
    """An extra (ad hoc) meeting outside the cadence."""
    panel = get_panel(session, panel_id)
    require_scheduler(session, actor, panel)
    now = now or utcnow()
    minutes = duration_minutes or panel.duration_minutes
    meeting = Meeting(
        panel_id=panel_id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), venue=panel.venue,
        video_link=panel.video_link, ad_hoc=True, note=note.strip()[:1000], created_by_user_id=actor.user_id,
    )  # fmt: skip
    errors = _check_start(starts_at, now) | _where(meeting, venue, video_link)
    if errors:
        raise InvalidInput(errors)
    session.add(meeting)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_SCHEDULED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting.id,
        detail={"panel": panel_id, "starts_at": starts_at.astimezone(UTC).isoformat(), "how": "ad hoc"},
    )  # fmt: skip
    return meeting


def _changeable(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingUnavailable("This meeting was cancelled; add a new meeting instead.")
    if meeting.status != MeetingStatus.SCHEDULED:
        raise MeetingUnavailable("This meeting has already started, so it can no longer be changed.")


def move_meeting(
    *,
    session: Session,
    actor: Actor,
    meeting_id: int,
    starts_at: datetime,
    reason: str,
    duration_minutes: int | None = None,
    venue: str | None = None,
    video_link: str | None = None,
    now: datetime | None = None,
) -> Meeting:
    """Move a meeting (and/or change where it is).  Calendars see the change (SEQUENCE)."""
    meeting, panel = get_meeting(session, meeting_id)
    require_scheduler(session, actor, panel)
    _changeable(meeting)
    now = now or utcnow()
    before = meeting.starts_at
    minutes = duration_minutes or int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
    errors = _check_start(starts_at, now) | _where(meeting, venue, video_link)
    if not reason.strip():
        errors["reason"] = "Say why the meeting is moving; members will see it."
    if errors:
        raise InvalidInput(errors)
    meeting.starts_at = starts_at.astimezone(UTC)
    meeting.ends_at = meeting.starts_at + timedelta(minutes=minutes)
    meeting.note = reason.strip()[:1000]
    meeting.sequence += 1
    session.add(meeting)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_MOVED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting.id, reason=reason.strip()[:500],
        detail={"from": before.isoformat(), "to": meeting.starts_at.isoformat()},
    )  # fmt: skip
    return meeting


def cancel_meeting(
    *, session: Session, actor: Actor, meeting_id: int, reason: str, now: datetime | None = None
) -> Meeting:
    """Cancel a meeting.  Referrals waiting for it move to the panel's next available meeting
    (their agenda items go: the next meeting's agenda is built afresh)."""
    meeting, panel = get_meeting(session, meeting_id)
    require_scheduler(session, actor, panel)
    _changeable(meeting)
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the meeting is cancelled; members will see it."})
    now = now or utcnow()
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = now
    meeting.cancelled_by_user_id = actor.user_id
    meeting.note = reason.strip()[:1000]
    meeting.sequence += 1
    session.add(meeting)
    for item in session.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)).all():
        session.delete(item)
    session.flush()
    target = next_available_meeting(session, meeting.panel_id, now) or _next_scheduled(session, panel, now)
    moved: list[int] = []
    if target is not None:
        for referral in session.exec(
            select(Referral).where(
                Referral.meeting_id == meeting_id, col(Referral.status).in_(["submitted", "accepted", "deferred"])
            )
        ).all():
            referral.meeting_id = target.id  # type: ignore[assignment]
            session.add(referral)
            moved.append(referral.id)  # type: ignore[arg-type]
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_CANCELLED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting.id, reason=reason.strip()[:500],
        detail={"referrals_moved": moved, "to_meeting": target.id if target else None},
    )  # fmt: skip
    return meeting


def _next_scheduled(session: Session, panel: Panel, now: datetime) -> Meeting | None:
    return session.exec(
        select(Meeting)
        .where(Meeting.panel_id == panel.id, Meeting.status == MeetingStatus.SCHEDULED, col(Meeting.starts_at) > now)
        .order_by(col(Meeting.starts_at))
    ).first()


def next_available_meeting(
    session: Session, panel_id: int, now: datetime, *, after: datetime | None = None
) -> Meeting | None:
    """The panel's next meeting a referral made ``now`` can land on: scheduled (not cancelled,
    not under way), starting after ``after`` (default: now), and whose agenda cut-off has not
    passed."""
    panel = get_panel(session, panel_id)
    later_than = max(now, after) if after is not None else now
    for meeting in session.exec(
        select(Meeting)
        .where(
            Meeting.panel_id == panel_id, Meeting.status == MeetingStatus.SCHEDULED, col(Meeting.starts_at) > later_than
        )
        .order_by(col(Meeting.starts_at))
    ):
        if now <= agenda_cutoff(panel, meeting):
            return meeting
    return None


# --- Read models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRead:
    id: int
    panel_id: int
    panel_name: str
    starts_at: datetime
    ends_at: datetime
    when: str
    venue: str
    video_link: str
    status: str
    ad_hoc: bool
    note: str
    agenda_cutoff_at: datetime
    agenda_published_at: datetime | None


def meeting_read(panel: Panel, meeting: Meeting) -> MeetingRead:
    assert meeting.id is not None and panel.id is not None
    return MeetingRead(
        id=meeting.id, panel_id=panel.id, panel_name=panel.name, starts_at=meeting.starts_at, ends_at=meeting.ends_at,
        when=format_when(meeting.starts_at), venue=meeting.venue, video_link=meeting.video_link,
        status=meeting.status, ad_hoc=meeting.ad_hoc, note=meeting.note,
        agenda_cutoff_at=agenda_cutoff(panel, meeting), agenda_published_at=meeting.agenda_published_at,
    )  # fmt: skip


def list_meetings(
    *, session: Session, actor: Actor, panel_id: int, start: datetime, end: datetime
) -> list[MeetingRead]:
    """A panel's meetings between two times, cancelled ones included."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="panel", subject_id=panel_id)
    panel = get_panel(session, panel_id)
    rows = session.exec(
        select(Meeting)
        .where(Meeting.panel_id == panel_id, col(Meeting.starts_at) >= start, col(Meeting.starts_at) <= end)
        .order_by(col(Meeting.starts_at))
    ).all()
    return [meeting_read(panel, m) for m in rows]


# --- Calendars -------------------------------------------------------------------------------

PRODID = "-//ASB Panel Portal//Panel meetings//EN"


def _host() -> str:
    url = get_settings().public_url
    return url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "portal"


def _event(meeting: Meeting, panel_name: str, stamp: datetime) -> Event:
    zone = timezone()
    event = Event()
    event.add("uid", f"panel-meeting-{meeting.id}@{_host()}")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    cancelled = meeting.status == MeetingStatus.CANCELLED
    event.add("summary", f"Cancelled: {panel_name}" if cancelled else panel_name)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if meeting.venue:
        event.add("location", meeting.venue)
    if meeting.video_link:
        event.add("url", meeting.video_link)
    # No case information: calendars leave the portal.
    lines = [f"Meeting of the {panel_name}."]
    if meeting.video_link:
        lines.append(f"Join online: {meeting.video_link}")
    if meeting.note:
        lines.append(meeting.note)
    lines.append("The agenda and papers are in the portal.")
    event.add("description", "\n".join(lines))
    return event


def _calendar(events: list[Event], name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", get_settings().timezone)
    for event in events:
        calendar.add_component(event)
    if events:
        calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def meeting_ics(meeting: Meeting, *, panel_name: str, now: datetime | None = None) -> bytes:
    """One meeting as an iCalendar file (local time with its TZID)."""
    return _calendar([_event(meeting, panel_name, now or utcnow())], panel_name)


def download_meeting_ics(*, session: Session, actor: Actor, meeting_id: int) -> bytes:
    """The ICS file of a meeting, for anyone who may see panels."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="meeting", subject_id=meeting_id)
    meeting, panel = get_meeting(session, meeting_id)
    return meeting_ics(meeting, panel_name=panel.name)


def _feed_token(user_id: int, nonce: str) -> str:
    key = get_settings().resolved_secret_key().encode("utf-8")
    digest = hmac.new(key, f"calendar-feed:{user_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _new_secret(session: Session, user_id: int) -> str:
    nonce = secrets.token_hex(16)
    token = _feed_token(user_id, nonce)
    row = session.get(CalendarFeedSecret, user_id) or CalendarFeedSecret(user_id=user_id, nonce="", token_hash="")
    row.nonce = nonce
    row.token_hash = token_hash(token)
    row.created_at = utcnow()
    session.add(row)
    session.flush()
    return token


def calendar_token(*, session: Session, actor: Actor) -> str:
    """The secret token of the actor's calendar feed (made on first use)."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="calendar_feed")
    if actor.user_id is None:
        raise InvalidInput({"calendar": "Only a person has a calendar feed."})
    row = session.get(CalendarFeedSecret, actor.user_id)
    if row is not None:
        return _feed_token(actor.user_id, row.nonce)
    token = _new_secret(session, actor.user_id)
    record_event(
        session, action=AuditAction.CALENDAR_TOKEN_ISSUED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="user", subject_id=actor.user_id,
    )  # fmt: skip
    return token


def reset_calendar_token(*, session: Session, actor: Actor) -> str:
    """A new feed address; the old one stops working at once."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="calendar_feed")
    if actor.user_id is None:
        raise InvalidInput({"calendar": "Only a person has a calendar feed."})
    token = _new_secret(session, actor.user_id)
    record_event(
        session, action=AuditAction.CALENDAR_TOKEN_RESET, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="user", subject_id=actor.user_id,
    )  # fmt: skip
    return token


FEED_NOT_VALID = "This calendar address is no longer valid. Copy the new one from the portal."


def panels_of_user(session: Session, user: User) -> list[Panel]:
    """Active panels the person's organisation sits on, they are named on, or they chair."""
    by_org = select(PanelOrganisation.panel_id).where(PanelOrganisation.organisation_id == user.organisation_id)
    by_name = select(PanelMember.panel_id).where(PanelMember.user_id == user.id)
    return list(
        session.exec(
            select(Panel)
            .where(
                col(Panel.active).is_(True),
                col(Panel.id).in_(by_org)
                | col(Panel.id).in_(by_name)
                | (col(Panel.chair_user_id) == user.id)
                | (col(Panel.deputy_chair_user_id) == user.id),
            )
            .order_by(col(Panel.name))
        )
    )


def calendar_feed(*, session: Session, token: str, now: datetime | None = None) -> bytes:
    """The calendar (ICS) of the meetings of the token holder's panels, recent and coming.
    Calendar programs fetch it without signing in, so the token is the only key."""
    row = session.exec(select(CalendarFeedSecret).where(CalendarFeedSecret.token_hash == token_hash(token))).first()
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.is_active:
        raise NotFound(FEED_NOT_VALID)
    now = now or utcnow()
    panels = {p.id: p for p in panels_of_user(session, user)}
    meetings = (
        session.exec(
            select(Meeting)
            .where(
                col(Meeting.panel_id).in_(list(panels)),
                col(Meeting.starts_at) >= now - timedelta(days=FEED_PAST_DAYS),
                col(Meeting.starts_at) <= now + timedelta(days=FEED_AHEAD_DAYS),
            )
            .order_by(col(Meeting.starts_at))
        ).all()
        if panels
        else []
    )
    return _calendar([_event(m, panels[m.panel_id].name, now) for m in meetings], "Panel meetings")
