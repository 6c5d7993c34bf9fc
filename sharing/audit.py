"""The append-only, hash-chained audit trail.

Every sign-in, failure, lockout, sign-out, administrative change and denial is one
``AuditEvent``.  Actions are named ``source:subject:action``.  Each row's hash covers its
content and the previous row's hash; :func:`verify_chain` proves nothing was changed or
removed.  Database triggers (see the migration) refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from sharing.db import utcnow
from sharing.models import AuditChainHead, AuditEvent
from sharing.permissions import Actor

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """Everything the audit trail records."""

    SIGNIN_SUCCEEDED = "auth:signin:succeeded"
    SIGNIN_FAILED = "auth:signin:failed"
    SIGNIN_SECOND_FACTOR_FAILED = "auth:totp:failed"
    ACCOUNT_LOCKED = "auth:account:locked"
    TOTP_ENROLLED = "auth:totp:enrolled"
    SIGNOUT = "auth:signout:completed"
    SESSION_EXPIRED = "auth:session:expired"
    SSO_SIGNIN_REFUSED = "auth:sso:refused"
    SSO_IDENTITY_LINKED = "auth:sso:linked"
    SSO_USER_PROVISIONED = "auth:sso:provisioned"
    PERMISSION_DENIED = "access:permission:denied"
    ORGANISATION_CREATED = "admin:organisation:created"
    ORGANISATION_SSO_CONFIGURED = "admin:organisation:sso_configured"
    USER_CREATED = "admin:user:created"
    USER_DEACTIVATED = "admin:user:deactivated"
    USER_REACTIVATED = "admin:user:reactivated"
    PASSWORD_RESET = "admin:user:password_reset"
    SECOND_FACTOR_RESET = "admin:user:totp_reset"
    DEMO_SEEDED = "system:demo:seeded"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "occurred_at": event.occurred_at.isoformat(),
        "action": event.action,
        "outcome": event.outcome,
        "actor_user_id": event.actor_user_id,
        "actor_organisation_id": event.actor_organisation_id,
        "actor_label": event.actor_label,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "reason": event.reason,
        "detail": event.detail,
        "ip_address": event.ip_address,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record_event(
    session: Session,
    *,
    action: AuditAction,
    outcome: Outcome,
    actor: Actor | None = None,
    actor_label: str | None = None,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event to the trail, inside the caller's transaction."""
    # Take the chain head first: this serialises writers on both databases.
    session.execute(
        update(AuditChainHead).where(col(AuditChainHead.id) == 1).values(last_hash=AuditChainHead.last_hash)
    )
    head = session.get(AuditChainHead, 1, populate_existing=True)
    if head is None:
        head = AuditChainHead(id=1, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    event = AuditEvent(
        occurred_at=utcnow(),
        action=str(action),
        outcome=str(outcome),
        actor_user_id=actor.user_id if actor else None,
        actor_organisation_id=actor.organisation_id if actor else None,
        actor_label=actor_label or (actor.label if actor else None),
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        reason=reason,
        detail=detail or {},
        ip_address=ip_address or (actor.ip_address if actor else None),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = compute_hash(event)
    session.add(event)
    session.flush()
    head.last_hash = event.hash
    head.last_event_id = event.id
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_event_id: int | None = None
    problem: str | None = None


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole trail and check every link and every row's content."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.id, "a row is missing or out of order before this one")
        if compute_hash(event) != event.hash:
            return ChainReport(False, checked, event.id, "this row was changed after it was written")
        expected_prev = event.hash
        checked += 1
    head = session.get(AuditChainHead, 1)
    if head is not None and checked and head.last_hash != expected_prev:
        return ChainReport(False, checked, None, "the newest rows were removed")
    return ChainReport(True, checked)


def list_events(
    session: Session,
    *,
    actions: Sequence[str] | None = None,
    actor_user_id: int | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """Raw query used by the audit services and tests; callers check permission first."""
    query = select(AuditEvent)
    if actions:
        query = query.where(col(AuditEvent.action).in_(list(actions)))
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))


SIGN_IN_ACTIONS: tuple[AuditAction, ...] = (
    AuditAction.SIGNIN_SUCCEEDED,
    AuditAction.SIGNIN_FAILED,
    AuditAction.SIGNIN_SECOND_FACTOR_FAILED,
    AuditAction.ACCOUNT_LOCKED,
    AuditAction.SIGNOUT,
    AuditAction.SESSION_EXPIRED,
)


def list_my_sign_in_activity(*, session: Session, actor: Actor, limit: int = 8) -> list[AuditEvent]:
    """A person's own recent sign-ins, failures and sign-outs, so they can spot misuse."""
    if actor.user_id is None:
        return []
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == str(actor.user_id),
            col(AuditEvent.action).in_([str(a) for a in SIGN_IN_ACTIONS]),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def get_audit_trail(*, session: Session, actor: Actor, action_prefix: str = "", limit: int = 200) -> list[AuditEvent]:
    """The newest audit events, for information-sharing officers and administrators."""
    from sharing.access import require
    from sharing.permissions import Permission

    require(actor, Permission.AUDIT_EVENTS_READ, subject_type="audit_event")
    query = select(AuditEvent)
    if action_prefix:
        query = query.where(col(AuditEvent.action).startswith(action_prefix))
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))


def check_audit_chain(*, session: Session, actor: Actor) -> ChainReport:
    """Prove the trail is whole (for information-sharing officers and administrators)."""
    from sharing.access import require
    from sharing.permissions import Permission

    require(actor, Permission.AUDIT_EVENTS_READ, subject_type="audit_event")
    return verify_chain(session)
