"""Notifications in the portal, and email through the outbox to a real SMTP server on
loopback: sent after commit, never with personal data, kept when no server is set."""

from __future__ import annotations

import email
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.action_models import EmailOutbox, Notification
from panels.notifications import (
    CLAIM_TIMEOUT,
    Notice,
    list_notifications,
    list_outbox,
    mark_all_read,
    mark_read,
    notify,
    notify_many,
    queue_daily_digests,
    send_outbox,
    set_email_mode,
    unread_count,
)
from sharing.config import Settings
from sharing.db import transaction, utcnow
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.models import Role, User
from sharing.permissions import Actor
from tests.conftest import actor_of
from tests.unit.action_helpers import add, notifications_of
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, update_row

__all__ = ["case_world"]


@dataclass
class Mailbox:
    """What the SMTP server received, and the addresses it refuses."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for rcpts, m in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_settings(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> Settings:
    """The settings the outbox sees, with these changes (on top of earlier ones in the test)."""
    from panels import notifications

    settings = notifications.get_settings().model_copy(update=changes)
    monkeypatch.setattr("panels.notifications.get_settings", lambda: settings)
    return settings


@pytest.fixture(autouse=True)
def _only_this_tests_mail(engine: Engine) -> None:
    """Each test sends only the mail it queues: what other tests and the demo left waiting is
    set aside first (the sender works oldest first, a batch at a time)."""
    from sqlalchemy import update

    with transaction(engine) as session:
        session.execute(
            update(EmailOutbox).where(col(EmailOutbox.status).in_(["pending", "sending"])).values(status="failed")
        )


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    use_settings(monkeypatch, smtp_host="127.0.0.1", smtp_port=port, public_url="https://portal.example.org")
    try:
        yield box
    finally:
        controller.stop()


def email_of(engine: Engine, user_id: int) -> str:
    from sharing.models import User

    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.email


def outbox_of(engine: Engine, user_id: int) -> list[EmailOutbox]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(EmailOutbox).where(EmailOutbox.recipient_user_id == user_id).order_by(col(EmailOutbox.id))
            )
        )


def tell(engine: Engine, user_id: int, title: str = "Action 1 due today on case ASB-2026-0001") -> Notification:
    with transaction(engine) as session:
        made = notify(
            session, user_ids=[user_id], kind="action_due", title=title, body="It is due today.",
            link_path="/actions/1", case_reference="ASB-2026-0001",
        )  # fmt: skip
        session.expunge_all()
    return made[0]


# --- Email -----------------------------------------------------------------------------------


def test_an_action_email_reaches_the_owner_after_commit_with_no_personal_data(
    engine: Engine, case_world: CaseWorld, mailbox: Mailbox
) -> None:
    cw = case_world
    case = make_case(engine, cw.officer)
    add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.police.user_id,
        description="Warn Mr Jonah Pilkington about the dog")  # fmt: skip
    queued = outbox_of(engine, cw.police.user_id)
    assert [r.status for r in queued] == ["pending"]
    since = last_audit_id(engine)
    result = send_outbox(engine=engine)
    assert result["sent"] >= 1
    address = email_of(engine, cw.police.user_id)
    received = mailbox.to(address)
    assert len(received) == 1
    message = received[0]
    assert message["To"] == address
    assert message["Subject"] == f"ASB Panel Portal: New action on case {case.reference}"
    assert message["Message-ID"].startswith(f"<outbox-{queued[0].id}-")
    body = message.get_payload(decode=True).decode()
    assert case.reference in body and "https://portal.example.org/actions/" in body
    for private in ("Jonah", "Pilkington", "dog", "Police Member", "Lead Officer", "Example Road"):
        assert private not in body and private not in message["Subject"]
    assert [r.status for r in outbox_of(engine, cw.police.user_id)] == ["sent"]
    assert audit_events(engine, since=since, action="notifications:email:sent", subject_id=queued[0].id)
    send_outbox(engine=engine)  # nothing twice
    assert len(mailbox.to(address)) == 1


def test_a_change_that_rolls_back_leaves_no_email(engine: Engine, case_world: CaseWorld) -> None:
    before = len(outbox_of(engine, case_world.police.user_id))
    with pytest.raises(RuntimeError), transaction(engine) as session:
        notify(session, user_ids=[case_world.police.user_id], kind="x", title="t", body="", link_path="/")
        raise RuntimeError("the change failed")
    assert len(outbox_of(engine, case_world.police.user_id)) == before
    assert notifications_of(engine, case_world.police.user_id) == []


def test_without_an_smtp_server_email_waits_in_the_outbox(
    engine: Engine, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch, admin: Actor
) -> None:
    use_settings(monkeypatch, smtp_host=None)
    tell(engine, case_world.officer.user_id)
    result = send_outbox(engine=engine)
    assert result["sent"] == 0 and result["waiting"] >= 1
    [row] = outbox_of(engine, case_world.officer.user_id)
    assert row.status == "pending" and row.attempts == 0
    with Session(engine) as session:
        listed = list_outbox(session=session, actor=admin, status="pending", limit=10_000)
    assert row.id in [r.id for r in listed]
    with pytest.raises(PermissionDenied), Session(engine) as session:
        list_outbox(session=session, actor=case_world.officer)


def test_a_refused_email_is_retried_then_marked_failed_and_kept(
    engine: Engine, case_world: CaseWorld, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, email_max_attempts=2)
    user_id = case_world.manager.user_id
    mailbox.refuse.add(email_of(engine, user_id))
    tell(engine, user_id)
    since = last_audit_id(engine)
    send_outbox(engine=engine)
    [row] = outbox_of(engine, user_id)
    assert (row.status, row.attempts) == ("pending", 1) and "550" in row.last_error
    assert row.next_attempt_at > utcnow()
    send_outbox(engine=engine)  # not due again yet
    assert outbox_of(engine, user_id)[0].attempts == 1
    send_outbox(engine=engine, now=utcnow() + timedelta(minutes=2))
    [row] = outbox_of(engine, user_id)
    assert (row.status, row.attempts) == ("failed", 2)
    failures = audit_events(engine, since=since, action="notifications:email:failed", subject_id=row.id)
    assert [e.detail["gave_up"] for e in failures] == [False, True]


def test_a_claim_left_by_a_sender_that_died_is_sent_again(
    engine: Engine, case_world: CaseWorld, mailbox: Mailbox
) -> None:
    user_id = case_world.officer.user_id
    tell(engine, user_id)
    [row] = outbox_of(engine, user_id)
    update_row(
        engine, EmailOutbox, row.id, status="sending", claimed_by="gone", claimed_at=utcnow() - timedelta(minutes=1)
    )
    send_outbox(engine=engine)
    assert outbox_of(engine, user_id)[0].status == "sending"  # a live claim is left alone
    update_row(engine, EmailOutbox, row.id, claimed_at=utcnow() - CLAIM_TIMEOUT - timedelta(seconds=1))
    result = send_outbox(engine=engine)
    assert result["released"] >= 1
    assert outbox_of(engine, user_id)[0].status == "sent"
    assert len(mailbox.to(email_of(engine, user_id))) == 1


def test_an_unreachable_server_fails_the_run_and_keeps_the_email(
    engine: Engine, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, smtp_host="127.0.0.1", smtp_port=free_port())
    tell(engine, case_world.officer.user_id)
    with pytest.raises(OSError):
        send_outbox(engine=engine)
    assert outbox_of(engine, case_world.officer.user_id)[0].status == "pending"


# --- The daily digest --------------------------------------------------------------------------


def test_the_daily_digest_gathers_unread_notifications_into_one_email(
    engine: Engine, case_world: CaseWorld, make_user: Callable[..., tuple[int, str]]
) -> None:
    user_id, _ = make_user((Role.LEAD_OFFICER,), organisation_id=case_world.council_id, password=None)
    actor = actor_of(engine, user_id)
    since = last_audit_id(engine)
    with transaction(engine) as session:
        set_email_mode(session=session, actor=actor, email_mode="daily_digest")
    assert audit_events(engine, since=since, action="notifications:preference:changed")[0].detail == {
        "email_mode": "daily_digest",
        "previous": "immediate",
    }
    first = tell(engine, user_id, "Action 1 due today on case ASB-2026-0101")
    tell(engine, user_id, "Action 2 overdue on case ASB-2026-0102")
    seen = tell(engine, user_id, "Action 3 overdue on case ASB-2026-0103")
    assert outbox_of(engine, user_id) == []  # nothing emailed at once
    with transaction(engine) as session:
        mark_read(session=session, actor=actor, notification_id=seen.id)
    morning = datetime(2026, 3, 2, 7, tzinfo=UTC)
    for _ in range(2):
        with transaction(engine) as session:
            queue_daily_digests(session=session, now=morning)
    [digest] = outbox_of(engine, user_id)
    assert digest.dedupe_key == f"digest:{user_id}:2026-03-02"
    assert digest.subject == "ASB Panel Portal: 2 new notifications (2 March 2026)"
    assert "ASB-2026-0101" in digest.body and "ASB-2026-0102" in digest.body and "ASB-2026-0103" not in digest.body
    states = {n.id: n.email_state for n in notifications_of(engine, user_id)}
    assert states[first.id] == "queued" and states[seen.id] == "skipped"
    tell(engine, user_id, "Case review due today on case ASB-2026-0104")
    with transaction(engine) as session:
        queue_daily_digests(session=session, now=morning + timedelta(days=1))
    assert [r.dedupe_key for r in outbox_of(engine, user_id)][-1] == f"digest:{user_id}:2026-03-03"
    with pytest.raises(InvalidInput), transaction(engine) as session:
        set_email_mode(session=session, actor=actor, email_mode="hourly")


# --- In the portal -----------------------------------------------------------------------------


def test_people_read_and_mark_only_their_own_notifications(engine: Engine, case_world: CaseWorld) -> None:
    cw = case_world
    first = tell(engine, cw.manager.user_id)
    tell(engine, cw.manager.user_id, "Second")
    with Session(engine) as session:
        assert unread_count(session=session, actor=cw.manager) == 2
        listed = list_notifications(session=session, actor=cw.manager)
        assert [n.title for n in listed] == ["Second", first.title]  # newest first
    with pytest.raises(NotFound), transaction(engine) as session:
        mark_read(session=session, actor=cw.police, notification_id=first.id)
    with transaction(engine) as session:
        read = mark_read(session=session, actor=cw.manager, notification_id=first.id)
        assert not read.unread
    with Session(engine) as session:
        assert unread_count(session=session, actor=cw.manager) == 1
        assert [n.title for n in list_notifications(session=session, actor=cw.manager, unread_only=True)] == ["Second"]
    with transaction(engine) as session:
        assert mark_all_read(session=session, actor=cw.manager) == 1
    with Session(engine) as session:
        assert unread_count(session=session, actor=cw.manager) == 0
        assert unread_count(session=session, actor=cw.police) == 0


def test_inactive_people_are_not_told(
    engine: Engine, case_world: CaseWorld, make_user: Callable[..., tuple[int, str]]
) -> None:
    from sharing.models import User

    user_id, _ = make_user((Role.PANEL_MEMBER,), organisation_id=case_world.police_id, password=None)
    update_row(engine, User, user_id, is_active=False)
    with transaction(engine) as session:
        assert notify(session, user_ids=[user_id], kind="x", title="t", body="", link_path="/") == []


def test_many_notices_at_once_honour_each_persons_email_preference(
    engine: Engine, case_world: CaseWorld, make_user: Callable[..., tuple[int, str]]
) -> None:
    council = case_world.council_id
    now_user, now_email = make_user((Role.LEAD_OFFICER,), organisation_id=council, password=None)
    later_user, _ = make_user((Role.LEAD_OFFICER,), organisation_id=council, password=None)
    gone_user, _ = make_user((Role.LEAD_OFFICER,), organisation_id=council, password=None)
    with transaction(engine) as session:
        set_email_mode(session=session, actor=actor_of(engine, later_user), email_mode="daily_digest")
    update_row(engine, User, gone_user, is_active=False)
    notices = [
        Notice([now_user, later_user, gone_user, now_user], "action_due", f"Action {n} due today", "Due today.",
               f"/actions/{n}", f"ASB-2026-{n:04d}")
        for n in range(1, 4)
    ]  # fmt: skip
    with transaction(engine) as session:
        ids = notify_many(session, notices)
    assert len(ids) == 6 and ids == sorted(ids)
    with Session(engine) as session:
        made = list(
            session.exec(select(Notification).where(col(Notification.id).in_(ids)).order_by(col(Notification.id)))
        )
        emails = {e.id: e for e in session.exec(select(EmailOutbox).where(EmailOutbox.recipient_user_id == now_user))}
    assert [(n.recipient_user_id, n.title, n.case_reference) for n in made if n] == [
        (who, f"Action {n} due today", f"ASB-2026-{n:04d}") for n in range(1, 4) for who in (now_user, later_user)
    ]
    for n in made:
        assert n is not None
        if n.recipient_user_id == later_user:  # waits for the daily digest
            assert (n.email_state, n.email_outbox_id) == ("pending", None)
            continue
        assert n.email_state == "queued" and n.email_outbox_id is not None
        outbox = emails[n.email_outbox_id]
        assert outbox.dedupe_key == f"notification:{n.id}" and outbox.to_address == now_email
        assert outbox.subject == f"ASB Panel Portal: {n.title}"
        assert outbox.body.startswith(f"{n.title}\nDue today.\nOpen it in the portal: ") and n.link_path in outbox.body
    assert len(emails) == 3
    assert notifications_of(engine, gone_user) == []
