"""Telling people things: in-portal notifications, and email through an outbox.

A notification's title and body carry no personal data beyond a case reference; the link
leads to the page that shows the rest, through the sharing rules.  Emails carry the same
words and a link (``Settings.public_url`` + path), nothing more.

Email and transactions
    A service never talks to the mail server.  It writes an ``email_outbox`` row in its own
    transaction (so the email exists if and only if the change that caused it committed), and
    the outbox sender (a scheduled job, every minute) sends pending rows after commit:
    claim the row (``pending`` -> ``sending``, committed), hand it to the SMTP server, mark it
    ``sent`` (committed).

    Delivery is *at least once*, not exactly once: if the process dies after the server
    accepted a message but before the ``sent`` mark committed, the claim goes stale and the
    row is sent again after ``CLAIM_TIMEOUT``.  That window is the few milliseconds between
    the server's reply and the commit.  Each row is sent at most once per successful mark,
    and every copy carries the same ``Message-ID`` (built from the row id), so mail systems
    can drop a duplicate.  The other choice, never resending a stale claim, would lose a
    reminder whenever a sender died mid-send, which is worse here.

    With no SMTP server configured nothing is sent and nothing is dropped: rows wait in the
    outbox (``list_outbox`` shows them to administrators) until one is configured.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, NamedTuple, Protocol, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Table, bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from panels.action_models import EmailMode, EmailOutbox, EmailState, Notification, NotificationPreference, OutboxStatus
from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import Settings, get_settings
from sharing.db import transaction, utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import User
from sharing.permissions import SYSTEM_ACTOR, Actor, Permission

log = logging.getLogger(__name__)

# A claim older than this is taken to belong to a sender that died: the row is sent again.
CLAIM_TIMEOUT = timedelta(minutes=10)

# Paths of the pages notifications link to.
NOTIFICATIONS_PATH = "/notifications"
MY_ACTIONS_PATH = "/actions"
AGENCY_ACTIONS_PATH = "/actions/agency"
AGREEMENTS_PATH = "/sharing/agreements"
RECORDS_PATH = "/sharing/records"


def action_path(action_id: int) -> str:
    return f"/actions/{action_id}"


def case_path(case_id: int) -> str:
    return f"/cases/{case_id}"


def local_date(moment: datetime, settings: Settings | None = None) -> date:
    """The calendar day ``moment`` falls on in the portal's time zone (Europe/London): the
    day people mean by "due today"."""
    return moment.astimezone(ZoneInfo((settings or get_settings()).timezone)).date()


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- Creating notifications -------------------------------------------------------------------


def email_mode_of(session: Session, user_id: int) -> EmailMode:
    row = session.get(NotificationPreference, user_id)
    return EmailMode(row.email_mode) if row is not None else EmailMode.IMMEDIATE


def email_modes_of(session: Session, user_ids: Iterable[int]) -> dict[int, EmailMode]:
    """How each of these people wants email (one query; absent: immediately)."""
    wanted = list(dict.fromkeys(user_ids))
    modes = dict.fromkeys(wanted, EmailMode.IMMEDIATE)
    for chunk in _chunks(wanted):
        for user_id, mode in session.exec(
            select(NotificationPreference.user_id, NotificationPreference.email_mode).where(
                col(NotificationPreference.user_id).in_(chunk)
            )
        ):
            modes[user_id] = EmailMode(mode)
    return modes


# How many values one ``IN (...)`` list carries (SQLite's limit on bound values is far above).
_IN_LIST = 500


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_LIST):
        yield values[start : start + _IN_LIST]


def _table(model: type[SQLModel]) -> Table:
    return SQLModel.metadata.tables[str(model.__tablename__)]


@dataclass(frozen=True)
class Notice:
    """Something to tell some people (the arguments of :func:`notify`)."""

    user_ids: Sequence[int]
    kind: str
    title: str
    body: str
    link_path: str
    case_reference: str = ""
    reminder_id: int | None = None


def notify(
    session: Session,
    *,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    body: str,
    link_path: str,
    case_reference: str = "",
    reminder_id: int | None = None,
) -> list[Notification]:
    """Tell each (active) person, in the portal and by email as they prefer.  For use by
    services and jobs, inside their transaction; the callers decide who may be told what,
    and must keep personal data out of ``title`` and ``body``."""
    notice = Notice(list(user_ids), kind, title, body, link_path, case_reference, reminder_id)
    ids = notify_many(session, [notice])
    if not ids:
        return []
    return list(session.exec(select(Notification).where(col(Notification.id).in_(ids)).order_by(col(Notification.id))))


def notify_many(session: Session, notices: Sequence[Notice]) -> list[int]:
    """:func:`notify` for many notices at once, written in bulk: a query each for the people
    and their email preferences, multi-row inserts of the notifications and the emails.
    Returns the new notifications' ids, in the order of the notices and their people."""
    session.flush()  # the caller's own changes first, as when each row was added to the session
    addresses = _active_addresses(session, [u for notice in notices for u in notice.user_ids])
    told = [(notice, u) for notice in notices for u in dict.fromkeys(notice.user_ids) if u in addresses]
    if not told:
        return []
    modes = email_modes_of(session, addresses)
    now = utcnow()
    table = _table(Notification)
    rows = [
        {
            "recipient_user_id": user_id, "kind": str(notice.kind), "title": words.title, "body": words.body,
            "link_path": words.link_path, "case_reference": notice.case_reference[:40],
            "reminder_id": notice.reminder_id, "created_at": now, "read_at": None, "email_outbox_id": None,
            "email_state": str(EmailState.QUEUED if modes[user_id] == EmailMode.IMMEDIATE else EmailState.PENDING),
        }
        for notice, user_id in told
        for words in [_stored_words(notice)]
    ]  # fmt: skip
    # Read back with every column written (multi-row inserts need not return rows in order):
    # rows alike in all of them are interchangeable.
    written: dict[tuple[Any, ...], list[int]] = {}
    for notification_id, *values in session.execute(
        insert(table).returning(table.c.id, *(table.c[name] for name in _MATCHED)), rows
    ):
        written.setdefault(tuple(values), []).append(notification_id)
    for alike in written.values():
        alike.sort(reverse=True)  # the lowest id is popped first
    ids = [written[tuple(row[name] for name in _MATCHED)].pop() for row in rows]
    emails = {
        f"notification:{notification_id}": (notification_id, notice, user_id)
        for notification_id, (notice, user_id) in zip(ids, told, strict=True)
        if modes[user_id] == EmailMode.IMMEDIATE
    }
    queued = queue_emails(
        session,
        [
            OutboxEmail(key, user_id, addresses[user_id], notice.title, email_text([_stored_words(notice)]))
            for key, (_, notice, user_id) in emails.items()
        ],
    )
    if queued:
        session.execute(
            update(table).where(table.c.id == bindparam("notification_id")).values(email_outbox_id=bindparam("outbox")),
            [{"notification_id": emails[key][0], "outbox": outbox_id} for key, outbox_id in queued.items()],
        )
    return ids


# The columns a new notification is told apart by.
_MATCHED = ("recipient_user_id", "kind", "title", "body", "link_path", "case_reference", "reminder_id", "email_state")


def _active_addresses(session: Session, user_ids: Sequence[int]) -> dict[int, str]:
    """The email address of each of these people who is active."""
    return {
        user_id: email
        for chunk in _chunks(list(dict.fromkeys(user_ids)))
        for user_id, email in session.exec(
            select(User.id, User.email).where(col(User.id).in_(chunk), col(User.is_active))
        )
        if user_id is not None
    }


@dataclass(frozen=True)
class _Words:
    title: str
    body: str
    link_path: str


def _stored_words(notice: Notice) -> _Words:
    """A notice's words as a notification stores them (and its email repeats them)."""
    return _Words(notice.title[:200], notice.body[:1000], notice.link_path[:300])


class Worded(Protocol):
    """What an email says of a notification: its words and link."""

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...

    @property
    def link_path(self) -> str: ...


def email_text(notifications: Sequence[Worded], settings: Settings | None = None) -> str:
    """The body of an email about these notifications: their words and links, nothing else."""
    base = (settings or get_settings()).public_url
    parts = []
    for n in notifications:
        lines = [n.title]
        if n.body:
            lines.append(n.body)
        if n.link_path:
            lines.append(f"Open it in the portal: {base}{n.link_path}")
        parts.append("\n".join(lines))
    parts.append(
        "This email holds no case details. Sign in to the portal to see them.\n"
        f"Change how you get these emails: {base}{NOTIFICATIONS_PATH}"
    )
    return "\n\n".join(parts) + "\n"


class OutboxEmail(NamedTuple):
    """An email to put in the outbox (:func:`queue_emails`)."""

    dedupe_key: str
    user_id: int
    address: str
    subject: str
    body: str


def queue_emails(session: Session, emails: Sequence[OutboxEmail]) -> dict[str, int]:
    """Put emails in the outbox (inside the caller's transaction), but none whose dedupe key
    was queued already: one query for the keys, a multi-row insert.  Returns the new rows'
    ids by key."""
    taken: set[str | None] = set()
    for chunk in _chunks([e.dedupe_key for e in emails]):
        taken.update(session.exec(select(col(EmailOutbox.dedupe_key)).where(col(EmailOutbox.dedupe_key).in_(chunk))))
    now = utcnow()
    rows = [
        {
            "dedupe_key": e.dedupe_key, "recipient_user_id": e.user_id, "to_address": e.address,
            "subject": f"ASB Panel Portal: {e.subject}"[:300], "body": e.body, "status": OutboxStatus.PENDING,
            "attempts": 0, "next_attempt_at": now, "claimed_by": "", "claimed_at": None, "sent_at": None,
            "last_error": "", "created_at": now,
        }
        for e in {e.dedupe_key: e for e in emails}.values()
        if e.dedupe_key not in taken
    ]  # fmt: skip
    if not rows:
        return {}
    table = _table(EmailOutbox)
    written = session.execute(insert(table).returning(table.c.id, table.c.dedupe_key), rows).all()
    return {key: outbox_id for outbox_id, key in written}


# --- A person's own notifications --------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRead:
    id: int
    kind: str
    title: str
    body: str
    link_path: str
    case_reference: str
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _read(n: Notification) -> NotificationRead:
    assert n.id is not None
    return NotificationRead(n.id, n.kind, n.title, n.body, n.link_path, n.case_reference, n.created_at, n.read_at)


def _own(actor: Actor) -> int:
    require(actor, Permission.NOTIFICATIONS_OWN_READ, subject_type="notification")
    if actor.user_id is None:
        raise NotFound("Only people signed in to the portal have notifications.")
    return actor.user_id


def list_notifications(
    *, session: Session, actor: Actor, unread_only: bool = False, limit: int = 50
) -> list[NotificationRead]:
    """The actor's own notifications, newest first."""
    user_id = _own(actor)
    query = select(Notification).where(Notification.recipient_user_id == user_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    return [_read(n) for n in session.exec(query.order_by(col(Notification.id).desc()).limit(limit))]


def unread_count(*, session: Session, actor: Actor) -> int:
    user_id = _own(actor)
    return int(
        session.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.recipient_user_id == user_id, col(Notification.read_at).is_(None))
        ).one()
    )


def mark_read(*, session: Session, actor: Actor, notification_id: int, now: datetime | None = None) -> NotificationRead:
    """Mark one of the actor's notifications read (someone else's is "not found")."""
    user_id = _own(actor)
    notification = session.get(Notification, notification_id)
    if notification is None or notification.recipient_user_id != user_id:
        raise NotFound("That notification no longer exists.")
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        session.add(notification)
        session.flush()
    return _read(notification)


def mark_all_read(*, session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Mark all the actor's notifications read; returns how many were unread."""
    user_id = _own(actor)
    result = session.execute(
        update(Notification)
        .where(col(Notification.recipient_user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now or utcnow())
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


def get_email_mode(*, session: Session, actor: Actor) -> EmailMode:
    return email_mode_of(session, _own(actor))


def set_email_mode(*, session: Session, actor: Actor, email_mode: str) -> EmailMode:
    """Choose immediate emails or one daily digest."""
    user_id = _own(actor)
    try:
        mode = EmailMode(email_mode)
    except ValueError:
        raise InvalidInput({"email_mode": "Choose immediate emails or a daily digest."}) from None
    existing = session.get(NotificationPreference, user_id)
    previous = existing.email_mode if existing is not None else str(EmailMode.IMMEDIATE)
    row = existing or NotificationPreference(user_id=user_id)
    row.email_mode = mode
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record_event(
        session, action=AuditAction.NOTIFICATION_PREFERENCE_CHANGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="user", subject_id=user_id, detail={"email_mode": str(mode), "previous": previous},
    )  # fmt: skip
    return mode


# --- The daily digest (a scheduled job) --------------------------------------------------------


def queue_daily_digests(*, session: Session, now: datetime) -> dict[str, int]:
    """One email per person per day gathering their notifications not yet emailed and still
    unread (read ones are skipped: the person has seen them).  Idempotent per day."""
    today = local_date(now)
    pending = session.execute(
        sa_select(
            col(Notification.id), col(Notification.recipient_user_id), col(Notification.read_at),
            col(Notification.title), col(Notification.body), col(Notification.link_path),
        )
        .where(col(Notification.email_state) == EmailState.PENDING)
        .order_by(col(Notification.recipient_user_id), col(Notification.id))
    ).all()  # fmt: skip
    by_user: dict[int, list[tuple[int, _Words]]] = {}
    read: list[int] = []
    for notification_id, user_id, read_at, title, body, link_path in pending:
        assert notification_id is not None
        if read_at is not None:
            read.append(notification_id)
        else:
            by_user.setdefault(user_id, []).append((notification_id, _Words(title, body, link_path)))
    addresses = _active_addresses(session, list(by_user))
    gone = [n for user_id, told in by_user.items() if user_id not in addresses for n, _ in told]
    _set_email_state(session, read + gone, EmailState.SKIPPED)
    digests: dict[str, list[int]] = {}
    emails: list[OutboxEmail] = []
    for user_id, told in by_user.items():
        if user_id not in addresses:
            continue
        count = len(told)
        key = f"digest:{user_id}:{today}"
        subject = f"{count} new notification{'' if count == 1 else 's'} ({long_date(today)})"
        emails.append(OutboxEmail(key, user_id, addresses[user_id], subject, email_text([w for _, w in told])))
        digests[key] = [n for n, _ in told]
    # A digest already queued today leaves its notifications waiting for tomorrow's.
    queued = queue_emails(session, emails)
    for key, outbox_id in queued.items():
        _set_email_state(session, digests[key], EmailState.QUEUED, outbox_id)
    return {"digests_queued": len(queued), "notifications_skipped": len(read)}


def _set_email_state(
    session: Session, notification_ids: Sequence[int], state: EmailState, outbox_id: int | None = None
) -> None:
    """Move pending notifications on (those another job moved already are left alone)."""
    values: dict[str, Any] = {"email_state": state}
    if outbox_id is not None:
        values["email_outbox_id"] = outbox_id
    for chunk in _chunks(notification_ids):
        session.execute(
            update(Notification)
            .where(col(Notification.id).in_(chunk), col(Notification.email_state) == EmailState.PENDING)
            .values(**values)
        )


# --- The outbox --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRead:
    id: int
    to_address: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime
    last_error: str


def list_outbox(*, session: Session, actor: Actor, status: str | None = None, limit: int = 200) -> list[OutboxRead]:
    """The email outbox, newest first (administrators): what waits, what went, what failed."""
    require(actor, Permission.ADMIN_OUTBOX_READ, subject_type="email_outbox")
    query = select(EmailOutbox)
    if status:
        query = query.where(EmailOutbox.status == status)
    return [
        OutboxRead(
            id=r.id or 0,
            to_address=r.to_address,
            subject=r.subject,
            status=r.status,
            attempts=r.attempts,
            created_at=r.created_at,
            sent_at=r.sent_at,
            next_attempt_at=r.next_attempt_at,
            last_error=r.last_error,
        )
        for r in session.exec(query.order_by(col(EmailOutbox.id).desc()).limit(limit))
    ]


def _message(row: EmailOutbox, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    # The same on every attempt, so a copy sent twice (see the module notes) can be dropped.
    host = urlsplit(settings.public_url).hostname or "portal.invalid"
    message["Message-ID"] = f"<outbox-{row.id}-{int(row.created_at.timestamp())}@{host}>"
    message.set_content(row.body)
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    try:
        smtp.ehlo()
        if settings.smtp_starttls:
            smtp.starttls()
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def send_outbox(
    *, engine: Engine, now: datetime | None = None, sender_id: str = "", limit: int = 100
) -> dict[str, int]:
    """Send what waits in the outbox (a scheduled job; each row in transactions of its own).

    Nothing is sent, and nothing is lost, when no SMTP server is configured.  A message the
    server refuses is tried again later (after 1, 4, 9... minutes) and marked ``failed``
    after ``Settings.email_max_attempts``; failed rows stay for administrators to see.
    """
    settings = get_settings()
    now = now or utcnow()
    with transaction(engine) as session:
        # Claims of a sender that died: send again (at least once; see the module notes).
        released = _rowcount(
            session.execute(
                update(EmailOutbox)
                .where(
                    col(EmailOutbox.status) == OutboxStatus.SENDING,
                    col(EmailOutbox.claimed_at) < now - CLAIM_TIMEOUT,
                )
                .values(status=OutboxStatus.PENDING, claimed_by="", claimed_at=None)
            )
        )
        due = [
            i
            for i in session.exec(
                select(EmailOutbox.id)
                .where(EmailOutbox.status == OutboxStatus.PENDING, col(EmailOutbox.next_attempt_at) <= now)
                .order_by(col(EmailOutbox.id))
                .limit(limit)
            )
            if i is not None
        ]
    if not settings.smtp_host or not due:
        return {"sent": 0, "failed": 0, "waiting": len(due), "released": released}
    sent = failed = 0
    smtp = _connect(settings)  # a server that cannot be reached fails the run; rows stay pending
    try:
        for outbox_id in due:
            with transaction(engine) as session:
                claimed = _rowcount(
                    session.execute(
                        update(EmailOutbox)
                        .where(col(EmailOutbox.id) == outbox_id, col(EmailOutbox.status) == OutboxStatus.PENDING)
                        .values(status=OutboxStatus.SENDING, claimed_by=sender_id[:120], claimed_at=utcnow())
                    )
                )
                row = session.get(EmailOutbox, outbox_id) if claimed else None
            if row is None:
                continue  # another sender has it
            try:
                smtp.send_message(_message(row, settings))
            except (smtplib.SMTPException, OSError) as error:
                failed += 1
                _record_failure(engine, outbox_id, error, settings)
                # (SMTPException is an OSError too: only a lost connection stops the run.)
                if isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(error, smtplib.SMTPException):
                    break  # the connection is gone: the rest wait for the next run
                continue
            sent += 1
            with transaction(engine) as session:
                row = session.get(EmailOutbox, outbox_id)
                assert row is not None
                row.status = OutboxStatus.SENT
                row.sent_at = utcnow()
                row.attempts += 1
                row.last_error = ""
                session.add(row)
                record_event(
                    session, action=AuditAction.EMAIL_SENT, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR,
                    subject_type="email_outbox", subject_id=outbox_id,
                    detail={"recipient_user_id": row.recipient_user_id},
                )  # fmt: skip
    finally:
        try:
            smtp.quit()
        except OSError:  # SMTPException and timeouts are OSErrors
            smtp.close()
    return {"sent": sent, "failed": failed, "waiting": len(due) - sent - failed, "released": released}


def _record_failure(engine: Engine, outbox_id: int, error: BaseException, settings: Settings) -> None:
    with transaction(engine) as session:
        row = session.get(EmailOutbox, outbox_id)
        assert row is not None
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {error}"[:1000]
        row.claimed_by = ""
        row.claimed_at = None
        if row.attempts >= settings.email_max_attempts:
            row.status = OutboxStatus.FAILED
        else:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = utcnow() + timedelta(minutes=row.attempts**2)
        session.add(row)
        record_event(
            session, action=AuditAction.EMAIL_FAILED, outcome=Outcome.FAILURE, actor=SYSTEM_ACTOR,
            subject_type="email_outbox", subject_id=outbox_id, reason=row.last_error[:500],
            detail={"attempts": row.attempts, "gave_up": row.status == OutboxStatus.FAILED},
        )  # fmt: skip
    log.warning("Email %s not sent: %s", outbox_id, error)
