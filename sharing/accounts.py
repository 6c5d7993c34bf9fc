"""Signing in and out: passwords (argon2), the TOTP second factor, lockout, one-time
sign-in tickets and server-side sessions with an idle timeout.

Every outcome is written to the audit trail; failures are recorded even though the
action's own transaction rolls back (see ``DomainError.durable_effects``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import update
from sqlmodel import Session, col, select

from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.crypto import decrypt_secret, encrypt_secret, new_token, token_hash
from sharing.db import utcnow
from sharing.errors import AccountLocked, SessionExpired, SignInFailed
from sharing.models import Organisation, Role, SignInTicket, User, UserRole, UserSession
from sharing.permissions import ROLES_REQUIRING_TOTP, Actor

WRONG_CREDENTIALS = "The email or password is not right. Check them and try again."
WRONG_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."
INACTIVE_ACCOUNT = "This account has been deactivated. Ask your portal administrator if you still need access."
TICKET_LIFETIME = timedelta(seconds=120)
ISSUER_NAME = "ASB Panel Portal"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing-only")

SignInMethod = Literal["password", "sso"]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # No account (or an SSO-only one): spend the same time as a real check, then refuse.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def roles_of(session: Session, user_id: int) -> frozenset[Role]:
    rows = session.exec(select(UserRole.role).where(UserRole.user_id == user_id))
    return frozenset(Role(r) for r in rows)


def actor_for_user(
    session: Session, user: User, *, session_id: int | None = None, ip_address: str | None = None
) -> Actor:
    organisation = session.get(Organisation, user.organisation_id)
    assert user.id is not None
    return Actor(
        user_id=user.id,
        organisation_id=user.organisation_id,
        roles=roles_of(session, user.id),
        email=user.email,
        full_name=user.full_name,
        organisation_name=organisation.name if organisation else "",
        organisation_type=organisation.type if organisation else None,
        session_id=session_id,
        ip_address=ip_address,
    )


def second_factor_required(session: Session, user: User) -> bool:
    """Administrators and information-sharing officers must use TOTP; others may opt in.
    Demo accounts are excused while demo mode is on, so the demo can be tried at once."""
    if user.totp_enabled:
        return True
    if user.is_demo and get_settings().is_demo:
        return False
    assert user.id is not None
    return bool(roles_of(session, user.id) & ROLES_REQUIRING_TOTP)


@dataclass(frozen=True)
class SignInStep:
    """What comes next after a step of signing in succeeded."""

    user_id: int
    next: Literal["done", "totp", "enrol_totp"]
    ticket: str | None = None


def _local_time(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%H:%M")


def _failure(
    user: User | None,
    *,
    email: str,
    reason: str,
    ip_address: str | None,
    message: str,
    action: AuditAction = AuditAction.SIGNIN_FAILED,
    count_towards_lockout: bool = True,
) -> SignInFailed:
    """Build the refusal; its durable effect counts the attempt and audits it."""
    settings = get_settings()
    user_id = user.id if user else None
    if user is not None and count_towards_lockout and user.failed_attempts + 1 >= settings.lockout_threshold:
        # This attempt locks the account: say so now, not only at the next attempt.
        message = _locked_message(utcnow() + timedelta(minutes=settings.lockout_minutes))

    def _remember(session: Session) -> None:
        record_event(
            session,
            action=action,
            outcome=Outcome.FAILURE,
            actor_label=email,
            subject_type="user" if user_id else None,
            subject_id=user_id,
            reason=reason,
            ip_address=ip_address,
        )
        if user_id is None or not count_towards_lockout:
            return
        fresh = session.get(User, user_id)
        if fresh is None:
            return
        fresh.failed_attempts += 1
        if fresh.failed_attempts >= settings.lockout_threshold:
            fresh.locked_until = utcnow() + timedelta(minutes=settings.lockout_minutes)
            fresh.failed_attempts = 0
            record_event(
                session,
                action=AuditAction.ACCOUNT_LOCKED,
                outcome=Outcome.FAILURE,
                actor_label=email,
                subject_type="user",
                subject_id=user_id,
                reason=f"{settings.lockout_threshold} failed attempts",
                detail={"locked_until": fresh.locked_until.isoformat()},
                ip_address=ip_address,
            )
        session.add(fresh)

    return SignInFailed(message, durable_effects=[_remember])


def _locked_message(locked_until: datetime) -> str:
    return (
        f"This account is locked after {get_settings().lockout_threshold} failed attempts. "
        f"Try again after {_local_time(locked_until)}, or ask your portal administrator to unlock it."
    )


def _refuse_if_locked(user: User, *, email: str, ip_address: str | None) -> None:
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        base = _failure(
            user,
            email=email,
            reason="account locked",
            ip_address=ip_address,
            message="",
            count_towards_lockout=False,
        )
        raise AccountLocked(_locked_message(user.locked_until), durable_effects=base.durable_effects)


def _user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def sign_in_with_password(*, session: Session, email: str, password: str, ip_address: str | None = None) -> SignInStep:
    """First step of a password sign-in.  Raises :class:`SignInFailed` with the same message
    whether the email or the password was wrong."""
    email = normalise_email(email)
    user = _user_by_email(session, email)
    if user is None:
        verify_password(None, password)
        raise _failure(None, email=email, reason="unknown email", ip_address=ip_address, message=WRONG_CREDENTIALS)
    _refuse_if_locked(user, email=email, ip_address=ip_address)
    if not verify_password(user.password_hash, password):
        raise _failure(user, email=email, reason="wrong password", ip_address=ip_address, message=WRONG_CREDENTIALS)
    if not user.is_active:
        raise _failure(
            user,
            email=email,
            reason="account deactivated",
            ip_address=ip_address,
            message=INACTIVE_ACCOUNT,
            count_towards_lockout=False,
        )
    assert user.id is not None
    if second_factor_required(session, user):
        return SignInStep(user_id=user.id, next="totp" if user.totp_enabled else "enrol_totp")
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    return SignInStep(user_id=user.id, next="done", ticket=issue_ticket(session, user=user, method="password"))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_provisioning_uri(*, email: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER_NAME)


def _accept_code(user: User, secret: str, code: str) -> bool:
    """Check a code against the current window and refuse a replay of one already used."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for offset in (-1, 0, 1):
        moment = now + timedelta(seconds=offset * totp.interval)
        step = totp.timecode(moment)
        if totp.at(moment) == code:
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def _pending_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise SignInFailed("Your sign-in has expired. Please start again.")
    return user


def verify_second_factor(*, session: Session, user_id: int, code: str, ip_address: str | None = None) -> SignInStep:
    """Second step for accounts with TOTP: a wrong code counts towards lockout."""
    user = _pending_user(session, user_id)
    _refuse_if_locked(user, email=user.email, ip_address=ip_address)
    if not user.totp_enabled or not user.totp_secret_encrypted:
        raise SignInFailed("Your sign-in has expired. Please start again.")
    if not _accept_code(user, decrypt_secret(user.totp_secret_encrypted), code):
        raise _failure(
            user,
            email=user.email,
            reason="wrong second-factor code",
            ip_address=ip_address,
            message=WRONG_CODE,
            action=AuditAction.SIGNIN_SECOND_FACTOR_FAILED,
        )
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    return SignInStep(user_id=user_id, next="done", ticket=issue_ticket(session, user=user, method="password"))


def confirm_totp_enrolment(
    *, session: Session, user_id: int, secret: str, code: str, ip_address: str | None = None
) -> SignInStep:
    """Save a new authenticator once the person proves it works with a current code."""
    user = _pending_user(session, user_id)
    _refuse_if_locked(user, email=user.email, ip_address=ip_address)
    if user.totp_enabled:
        # Replacing an authenticator must not be a way round the one already set up.
        raise _failure(
            user,
            email=user.email,
            reason="authenticator already set up",
            ip_address=ip_address,
            message="Your sign-in has expired. Please start again.",
            action=AuditAction.SIGNIN_SECOND_FACTOR_FAILED,
        )
    if not _accept_code(user, secret, code):
        raise _failure(
            user,
            email=user.email,
            reason="wrong code while setting up the authenticator",
            ip_address=ip_address,
            message=WRONG_CODE,
            action=AuditAction.SIGNIN_SECOND_FACTOR_FAILED,
        )
    user.totp_secret_encrypted = encrypt_secret(secret)
    user.totp_enabled = True
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    record_event(
        session,
        action=AuditAction.TOTP_ENROLLED,
        outcome=Outcome.SUCCESS,
        actor_label=user.email,
        subject_type="user",
        subject_id=user_id,
        ip_address=ip_address,
    )
    return SignInStep(user_id=user_id, next="done", ticket=issue_ticket(session, user=user, method="password"))


def issue_ticket(session: Session, *, user: User, method: SignInMethod) -> str:
    """A one-time ticket the browser exchanges for an HttpOnly session cookie."""
    assert user.id is not None
    ticket = new_token()
    session.add(
        SignInTicket(
            token_hash=token_hash(ticket),
            user_id=user.id,
            method=method,
            expires_at=utcnow() + TICKET_LIFETIME,
        )
    )
    session.flush()
    return ticket


@dataclass(frozen=True)
class StartedSession:
    token: str
    session_id: int
    user_id: int


def redeem_ticket(
    *, session: Session, ticket: str, ip_address: str | None = None, user_agent: str | None = None
) -> StartedSession:
    """Exchange a sign-in ticket (once, before it expires) for a new server-side session."""
    row = session.exec(select(SignInTicket).where(SignInTicket.token_hash == token_hash(ticket))).first()
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at < now:
        if row is None:
            reason = "unknown sign-in ticket"
        elif row.used_at is not None:
            reason = "sign-in ticket already used"
        else:
            reason = "sign-in ticket expired"
        ticket_user_id = row.user_id if row is not None else None

        def _audit(durable: Session) -> None:
            record_event(
                durable,
                action=AuditAction.SIGNIN_FAILED,
                outcome=Outcome.FAILURE,
                subject_type="user" if ticket_user_id else None,
                subject_id=ticket_user_id,
                reason=reason,
                ip_address=ip_address,
            )

        raise SignInFailed("That sign-in link has expired. Please sign in again.", durable_effects=[_audit])
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise SignInFailed(INACTIVE_ACCOUNT)
    # Claim the ticket atomically: of two requests racing with the same ticket, only one wins.
    claimed = session.connection().execute(
        update(SignInTicket)
        .where(col(SignInTicket.id) == row.id, col(SignInTicket.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise SignInFailed("That sign-in link has expired. Please sign in again.")
    return start_session(
        session,
        user=user,
        method="sso" if row.method == "sso" else "password",
        ip_address=ip_address,
        user_agent=user_agent,
    )


def start_session(
    session: Session,
    *,
    user: User,
    method: SignInMethod,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> StartedSession:
    """Create the server-side session and audit the successful sign-in."""
    assert user.id is not None
    token = new_token()
    now = utcnow()
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        method=method,
        created_at=now,
        last_seen_at=now,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:400] or None,
    )
    session.add(row)
    user.last_sign_in_at = now
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    session.flush()
    assert row.id is not None
    record_event(
        session,
        action=AuditAction.SIGNIN_SUCCEEDED,
        outcome=Outcome.SUCCESS,
        actor=actor_for_user(session, user, session_id=row.id, ip_address=ip_address),
        subject_type="user",
        subject_id=user.id,
        detail={"method": method, "session_id": row.id},
    )
    return StartedSession(token=token, session_id=row.id, user_id=user.id)


def resolve_session(
    *, session: Session, token: str | None, ip_address: str | None = None, idle_timeout: timedelta | None = None
) -> Actor:
    """The actor behind a session cookie, or :class:`SessionExpired`.  Every request that
    needs a person calls this, so a sign-out, a deactivation or an idle timeout takes
    effect on the very next action."""
    if not token:
        raise SessionExpired("Please sign in to continue.")
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_hash(token))).first()
    if row is None or row.ended_at is not None:
        raise SessionExpired("Please sign in to continue.")
    user = session.get(User, row.user_id)
    now = utcnow()
    idle = idle_timeout or timedelta(minutes=get_settings().session_idle_minutes)
    session_id = row.id
    if user is None or not user.is_active or now - row.last_seen_at > idle:
        reason = "idle_timeout" if user is not None and user.is_active else "account_deactivated"
        idle_minutes = int(idle.total_seconds() // 60)
        # Read now: this runs after the rollback, when ``user`` can no longer be loaded.
        user_email = user.email if user else None

        def _expire(durable: Session) -> None:
            stored = durable.get(UserSession, session_id)
            if stored is None or stored.ended_at is not None:
                return
            stored.ended_at = utcnow()
            stored.end_reason = reason
            durable.add(stored)
            record_event(
                durable,
                action=AuditAction.SESSION_EXPIRED,
                outcome=Outcome.SUCCESS,
                actor_label=user_email,
                subject_type="user",
                subject_id=stored.user_id,
                reason=reason,
                detail={"session_id": session_id},
                ip_address=ip_address,
            )

        message = (
            f"You were signed out after {idle_minutes} minutes without activity. Please sign in again."
            if reason == "idle_timeout"
            else INACTIVE_ACCOUNT
        )
        raise SessionExpired(message, durable_effects=[_expire])
    # Only write when it matters, so page views don't each cost a write.
    if now - row.last_seen_at > timedelta(seconds=30):
        row.last_seen_at = now
        session.add(row)
    return actor_for_user(session, user, session_id=row.id, ip_address=ip_address)


def sign_out(*, session: Session, token: str | None, ip_address: str | None = None) -> bool:
    """End the session behind ``token``.  Returns False when there was none to end."""
    if not token:
        return False
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_hash(token))).first()
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = utcnow()
    row.end_reason = "signed_out"
    session.add(row)
    user = session.get(User, row.user_id)
    record_event(
        session,
        action=AuditAction.SIGNOUT,
        outcome=Outcome.SUCCESS,
        actor=actor_for_user(session, user, session_id=row.id, ip_address=ip_address) if user else None,
        subject_type="user",
        subject_id=row.user_id,
        detail={"session_id": row.id},
    )
    return True


def end_all_sessions(session: Session, *, user_id: int, reason: str) -> int:
    """End every open session of a person (after a password reset or deactivation)."""
    rows = session.exec(
        select(UserSession).where(UserSession.user_id == user_id, col(UserSession.ended_at).is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.ended_at = now
        row.end_reason = reason
        session.add(row)
    return len(rows)
