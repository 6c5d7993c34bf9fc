"""One-time sign-in tickets and server-side sessions: redeeming, resolving, idle timeout,
signing out and deactivation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing.accounts import (
    INACTIVE_ACCOUNT,
    TICKET_LIFETIME,
    StartedSession,
    redeem_ticket,
    resolve_session,
    sign_out,
)
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.crypto import token_hash
from sharing.db import transaction, utcnow
from sharing.directory import set_user_active
from sharing.errors import SessionExpired, SignInFailed
from sharing.models import Organisation, OrganisationType, Role, SignInTicket, User, UserSession
from sharing.permissions import Actor, Permission
from tests.conftest import unique
from tests.unit.conftest import Clock
from tests.unit.helpers import (
    actions_about_user,
    audit_events,
    last_audit_id,
    load,
    load_user,
    redeem,
    sessions_of,
    sign_in,
    start_session_for,
    update_row,
)

MakeUser = Callable[..., tuple[int, str]]


def _resolve(engine: Engine, token: str | None, **kwargs: object) -> Actor:
    with transaction(engine) as session:
        return resolve_session(session=session, token=token, **kwargs)  # type: ignore[arg-type]


def _ticket_row(engine: Engine, ticket: str) -> SignInTicket:
    with Session(engine) as session:
        row = session.exec(select(SignInTicket).where(SignInTicket.token_hash == token_hash(ticket))).first()
        assert row is not None
        return row


# --- tickets -------------------------------------------------------------------------


def test_redeeming_a_ticket_starts_a_session_and_audits_the_sign_in(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    step = sign_in(engine, email)
    assert step.ticket
    ticket_row = _ticket_row(engine, step.ticket)
    assert ticket_row.token_hash != step.ticket
    assert ticket_row.used_at is None
    assert ticket_row.expires_at <= utcnow() + TICKET_LIFETIME
    before = last_audit_id(engine)

    started = redeem(engine, step.ticket, ip_address="198.51.100.4", user_agent="Firefox/140")

    assert started.user_id == user_id
    (row,) = sessions_of(engine, user_id)
    assert row.id == started.session_id
    assert row.token_hash == token_hash(started.token) != started.token
    assert row.method == "password"
    assert row.ended_at is None
    assert row.ip_address == "198.51.100.4"
    assert row.user_agent == "Firefox/140"
    assert _ticket_row(engine, step.ticket).used_at is not None
    assert load_user(engine, user_id).last_sign_in_at is not None

    (event,) = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert event.action == AuditAction.SIGNIN_SUCCEEDED
    assert event.outcome == Outcome.SUCCESS
    assert event.actor_user_id == user_id
    assert event.actor_label == email
    assert event.ip_address == "198.51.100.4"
    assert event.detail == {"method": "password", "session_id": started.session_id}


def test_a_ticket_can_be_redeemed_only_once(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    step = sign_in(engine, email)
    assert step.ticket
    redeem(engine, step.ticket)
    with pytest.raises(SignInFailed) as caught:
        redeem(engine, step.ticket)
    assert "expired" in caught.value.message
    assert len(sessions_of(engine, user_id)) == 1
    assert len(audit_events(engine, action=AuditAction.SIGNIN_SUCCEEDED, subject_id=user_id)) == 1


def test_a_ticket_cannot_be_redeemed_twice_by_racing_requests(engine: Engine, make_user: MakeUser) -> None:
    """Two requests read the unused ticket before either marks it used; only one may win."""
    user_id, email = make_user()
    step = sign_in(engine, email)
    assert step.ticket
    with Session(engine, expire_on_commit=False) as slow:
        # The slow request has already read the ticket (still unused) ...
        seen = slow.exec(select(SignInTicket).where(SignInTicket.user_id == user_id)).all()
        assert [t.used_at for t in seen] == [None]
        # ... when the fast one redeems it.
        redeem(engine, step.ticket)
        with pytest.raises(SignInFailed):
            redeem_ticket(session=slow, ticket=step.ticket)
        slow.rollback()
    assert len(sessions_of(engine, user_id)) == 1
    assert len(audit_events(engine, action=AuditAction.SIGNIN_SUCCEEDED, subject_id=user_id)) == 1


def test_an_expired_ticket_is_refused(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    step = sign_in(engine, email)
    assert step.ticket
    ticket_id = _ticket_row(engine, step.ticket).id
    update_row(engine, SignInTicket, ticket_id, expires_at=utcnow() - timedelta(seconds=1))
    before = last_audit_id(engine)
    with pytest.raises(SignInFailed):
        redeem(engine, step.ticket)
    assert sessions_of(engine, user_id) == []
    assert _ticket_row(engine, step.ticket).used_at is None
    # The refusal is on the record, and nothing else happened to the account.
    assert actions_about_user(engine, user_id, since=before) == ["auth:signin:failed"]


def test_an_unknown_ticket_is_refused(engine: Engine) -> None:
    before = last_audit_id(engine)
    with pytest.raises(SignInFailed):
        redeem(engine, "not-a-real-ticket")
    assert audit_events(engine, action=AuditAction.SIGNIN_SUCCEEDED, since=before) == []


def test_a_ticket_of_an_account_deactivated_since_is_refused(engine: Engine, make_user: MakeUser, admin: Actor) -> None:
    user_id, email = make_user()
    step = sign_in(engine, email)
    assert step.ticket
    with transaction(engine) as session:
        set_user_active(session=session, actor=admin, user_id=user_id, active=False)
    with pytest.raises(SignInFailed) as caught:
        redeem(engine, step.ticket)
    assert caught.value.message == INACTIVE_ACCOUNT
    assert sessions_of(engine, user_id) == []
    assert audit_events(engine, action=AuditAction.SIGNIN_SUCCEEDED, subject_id=user_id) == []


# --- resolving sessions ----------------------------------------------------------------


def test_resolve_session_gives_the_actor_with_roles_and_organisation(
    engine: Engine, make_user: MakeUser, make_organisation: Callable[..., int]
) -> None:
    org_name = unique("Housing Org")
    org_id = make_organisation(org_name, OrganisationType.COUNCIL_HOUSING)
    user_id, email = make_user((Role.LEAD_OFFICER, Role.PANEL_MEMBER), organisation_id=org_id)
    started = start_session_for(engine, email)

    actor = _resolve(engine, started.token, ip_address="192.0.2.9")

    assert actor.user_id == user_id
    assert actor.organisation_id == org_id
    assert actor.organisation_name == org_name
    assert actor.organisation_type == OrganisationType.COUNCIL_HOUSING
    assert actor.roles == frozenset({Role.LEAD_OFFICER, Role.PANEL_MEMBER})
    assert actor.email == email
    assert actor.full_name == "Test Person"
    assert actor.session_id == started.session_id
    assert actor.ip_address == "192.0.2.9"
    assert actor.is_system is False
    assert actor.can(Permission.PANELS_PANELS_READ)
    assert not actor.can(Permission.ADMIN_USERS_READ)
    with Session(engine) as session:
        assert session.get(Organisation, org_id) is not None


@pytest.mark.parametrize("token", [None, "", "no-such-session-token"])
def test_resolve_without_a_valid_token_asks_to_sign_in(engine: Engine, token: str | None) -> None:
    before = last_audit_id(engine)
    with pytest.raises(SessionExpired) as caught:
        _resolve(engine, token)
    assert caught.value.message == "Please sign in to continue."
    assert audit_events(engine, since=before) == []


def test_idle_session_expires_and_is_ended_in_the_database(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    started = start_session_for(engine, email)
    idle = get_settings().session_idle_minutes
    update_row(engine, UserSession, started.session_id, last_seen_at=utcnow() - timedelta(minutes=idle + 1))
    before = last_audit_id(engine)

    with pytest.raises(SessionExpired) as caught:
        _resolve(engine, started.token, ip_address="192.0.2.1")
    assert f"{idle} minutes" in caught.value.message

    row = load(engine, UserSession, started.session_id)
    assert row.ended_at is not None
    assert row.end_reason == "idle_timeout"
    (event,) = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert event.action == AuditAction.SESSION_EXPIRED
    assert event.reason == "idle_timeout"
    assert event.actor_label == email
    assert event.ip_address == "192.0.2.1"
    assert event.detail == {"session_id": started.session_id}

    # Ended for good: the next request is simply asked to sign in, with no second audit row.
    with pytest.raises(SessionExpired) as again:
        _resolve(engine, started.token)
    assert again.value.message == "Please sign in to continue."
    assert len(audit_events(engine, action=AuditAction.SESSION_EXPIRED, subject_id=user_id)) == 1


def test_idle_timeout_can_be_given_by_the_caller(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    started = start_session_for(engine, email)
    update_row(engine, UserSession, started.session_id, last_seen_at=utcnow() - timedelta(minutes=10))

    assert _resolve(engine, started.token, idle_timeout=timedelta(minutes=20)).user_id == user_id
    # That request counted as activity: last_seen_at moved forward.
    assert load(engine, UserSession, started.session_id).last_seen_at > utcnow() - timedelta(minutes=5)

    update_row(engine, UserSession, started.session_id, last_seen_at=utcnow() - timedelta(minutes=10))
    with pytest.raises(SessionExpired) as caught:
        _resolve(engine, started.token, idle_timeout=timedelta(minutes=5))
    assert "5 minutes" in caught.value.message
    assert load(engine, UserSession, started.session_id).end_reason == "idle_timeout"
    assert actions_about_user(engine, user_id)[-1] == AuditAction.SESSION_EXPIRED


def test_activity_is_written_at_most_every_thirty_seconds(engine: Engine, make_user: MakeUser, clock: Clock) -> None:
    _, email = make_user()
    started = start_session_for(engine, email)
    first_seen = load(engine, UserSession, started.session_id).last_seen_at
    assert first_seen == clock.now

    clock.advance(seconds=20)
    _resolve(engine, started.token)
    assert load(engine, UserSession, started.session_id).last_seen_at == first_seen

    clock.advance(seconds=20)
    _resolve(engine, started.token)
    assert load(engine, UserSession, started.session_id).last_seen_at == clock.now

    # Regular activity keeps the session alive well past the idle limit in total.
    idle = get_settings().session_idle_minutes
    for _ in range(3):
        clock.advance(minutes=idle - 1)
        _resolve(engine, started.token)
    assert load(engine, UserSession, started.session_id).ended_at is None


def test_sign_out_ends_the_session(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    started = start_session_for(engine, email)
    before = last_audit_id(engine)

    with transaction(engine) as session:
        assert sign_out(session=session, token=started.token, ip_address="192.0.2.5") is True

    row = load(engine, UserSession, started.session_id)
    assert row.ended_at is not None
    assert row.end_reason == "signed_out"
    (event,) = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert event.action == AuditAction.SIGNOUT
    assert event.actor_user_id == user_id
    assert event.ip_address == "192.0.2.5"
    assert event.detail == {"session_id": started.session_id}

    with pytest.raises(SessionExpired):
        _resolve(engine, started.token)
    # Signing out again (or without a cookie) does nothing and records nothing.
    with transaction(engine) as session:
        assert sign_out(session=session, token=started.token) is False
        assert sign_out(session=session, token=None) is False
        assert sign_out(session=session, token="no-such-token") is False
    assert len(audit_events(engine, action=AuditAction.SIGNOUT, subject_id=user_id)) == 1


def test_signing_out_one_session_leaves_the_others(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    first = start_session_for(engine, email)
    second = start_session_for(engine, email)
    assert first.token != second.token
    with transaction(engine) as session:
        sign_out(session=session, token=first.token)
    assert _resolve(engine, second.token).user_id == user_id
    with pytest.raises(SessionExpired):
        _resolve(engine, first.token)
    assert actions_about_user(engine, user_id)[-1] == AuditAction.SIGNOUT


def test_deactivating_a_person_ends_all_their_sessions(engine: Engine, make_user: MakeUser, admin: Actor) -> None:
    user_id, email = make_user()
    first = start_session_for(engine, email)
    second = start_session_for(engine, email)
    before = last_audit_id(engine)

    with transaction(engine) as session:
        read = set_user_active(session=session, actor=admin, user_id=user_id, active=False)
    assert read.is_active is False

    rows = sessions_of(engine, user_id)
    assert [(r.id, r.end_reason) for r in rows] == [
        (first.session_id, "account_deactivated"),
        (second.session_id, "account_deactivated"),
    ]
    assert all(r.ended_at is not None for r in rows)
    for started in (first, second):
        with pytest.raises(SessionExpired):
            _resolve(engine, started.token)
    events = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.actor_user_id, e.detail) for e in events] == [
        (AuditAction.USER_DEACTIVATED, admin.user_id, {"sessions_ended": 2})
    ]

    # Reactivating does not bring the old sessions back, but the person can sign in again.
    with transaction(engine) as session:
        set_user_active(session=session, actor=admin, user_id=user_id, active=True)
    with pytest.raises(SessionExpired):
        _resolve(engine, first.token)
    again = start_session_for(engine, email)
    assert _resolve(engine, again.token).user_id == user_id
    assert AuditAction.USER_REACTIVATED in actions_about_user(engine, user_id, since=before)


def test_a_session_of_an_account_made_inactive_directly_is_refused(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    started: StartedSession = start_session_for(engine, email)
    update_row(engine, User, user_id, is_active=False)
    before = last_audit_id(engine)

    with pytest.raises(SessionExpired) as caught:
        _resolve(engine, started.token)
    assert caught.value.message == INACTIVE_ACCOUNT
    assert load(engine, UserSession, started.session_id).end_reason == "account_deactivated"
    (event,) = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert (event.action, event.reason) == (AuditAction.SESSION_EXPIRED, "account_deactivated")


def test_a_refused_ticket_is_audited(engine: Engine) -> None:
    from sharing.accounts import redeem_ticket
    from sharing.errors import SignInFailed
    from sharing.models import AuditEvent

    with pytest.raises(SignInFailed), transaction(engine) as session:
        redeem_ticket(session=session, ticket="made-up-ticket", ip_address="192.0.2.7")
    with transaction(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.ip_address == "192.0.2.7").order_by(col(AuditEvent.id).desc())
        ).first()
    assert event is not None
    assert event.action == "auth:signin:failed"
    assert event.reason == "unknown sign-in ticket"
