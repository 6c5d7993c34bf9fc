"""Small helpers shared by the unit tests: reading the audit trail, signing in, editing rows
directly in the database (to move a clock-driven value such as ``locked_until``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyotp
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, func, select

from sharing.accounts import SignInStep, StartedSession, redeem_ticket, sign_in_with_password
from sharing.db import transaction, utcnow
from sharing.models import AuditEvent, User, UserSession

PASSWORD = "correct horse battery"


def last_audit_id(engine: Engine) -> int:
    """The id of the newest audit row, so a test can look only at what it caused."""
    with Session(engine) as session:
        return session.exec(select(func.max(col(AuditEvent.id)))).one() or 0


def audit_events(
    engine: Engine,
    *,
    action: str | None = None,
    subject_type: str | None = None,
    subject_id: int | str | None = None,
    actor_user_id: int | None = None,
    actor_label: str | None = None,
    since: int = 0,
) -> list[AuditEvent]:
    """Audit rows matching every given filter, oldest first."""
    query = select(AuditEvent).where(col(AuditEvent.id) > since)
    if action is not None:
        query = query.where(AuditEvent.action == str(action))
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == str(subject_id))
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if actor_label is not None:
        query = query.where(AuditEvent.actor_label == actor_label)
    with Session(engine) as session:
        return list(session.exec(query.order_by(col(AuditEvent.id))))


def actions_about_user(engine: Engine, user_id: int, *, since: int = 0) -> list[str]:
    return [e.action for e in audit_events(engine, subject_type="user", subject_id=user_id, since=since)]


def load(engine: Engine, model: type[SQLModel], key: Any) -> Any:
    with Session(engine) as session:
        row = session.get(model, key)
        assert row is not None
        return row


def load_user(engine: Engine, user_id: int) -> User:
    user: User = load(engine, User, user_id)
    return user


def update_row(engine: Engine, model: type[SQLModel], key: Any, **values: Any) -> None:
    """Change a row directly (not through a service), committed."""
    with transaction(engine) as session:
        row = session.get(model, key)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def sessions_of(engine: Engine, user_id: int) -> list[UserSession]:
    with Session(engine) as session:
        return list(
            session.exec(select(UserSession).where(UserSession.user_id == user_id).order_by(col(UserSession.id)))
        )


def sign_in(engine: Engine, email: str, password: str = PASSWORD, ip_address: str | None = None) -> SignInStep:
    with transaction(engine) as session:
        return sign_in_with_password(session=session, email=email, password=password, ip_address=ip_address)


def redeem(engine: Engine, ticket: str, **kwargs: Any) -> StartedSession:
    with transaction(engine) as session:
        return redeem_ticket(session=session, ticket=ticket, **kwargs)


def start_session_for(engine: Engine, email: str, password: str = PASSWORD) -> StartedSession:
    """Sign in with a password (no second factor expected) and redeem the ticket."""
    step = sign_in(engine, email, password)
    assert step.next == "done" and step.ticket
    return redeem(engine, step.ticket)


def wrong_code(secret: str, at: datetime | None = None) -> str:
    """A six-digit code that no TOTP window of ``secret`` within five minutes of ``at`` accepts."""
    totp = pyotp.TOTP(secret)
    centre = totp.timecode(at or utcnow())
    near = {totp.generate_otp(step) for step in range(centre - 10, centre + 11)}
    return next(code for code in (f"{d}" * 6 for d in range(10)) if code not in near)
