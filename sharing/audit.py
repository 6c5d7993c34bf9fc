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
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select as sa_select
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
    PERSON_CREATED = "sharing:person:created"
    ITEM_CREATED = "sharing:item:created"
    AGREEMENT_CREATED = "sharing:agreement:created"
    AGREEMENT_STATUS_CHANGED = "sharing:agreement:status_changed"
    CONSENT_RECORDED = "sharing:consent:recorded"
    CONSENT_WITHDRAWN = "sharing:consent:withdrawn"
    DISCLOSURE_REFUSED = "sharing:disclosure:refused"
    DISCLOSURE_REQUESTED = "sharing:disclosure:requested"
    DISCLOSURE_APPROVED = "sharing:disclosure:approved"
    DISCLOSURE_REJECTED = "sharing:disclosure:rejected"
    DISCLOSURE_EMERGENCY = "sharing:disclosure:emergency"
    DISCLOSURE_REVIEWED = "sharing:disclosure:reviewed"
    DISCLOSURE_CONSENT_WITHDRAWN = "sharing:disclosure:consent_withdrawn"
    ITEM_READ_DENIED = "sharing:item:read_denied"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


# The canonical form an event's hash covers.  Stored hashes depend on it byte for byte:
# never change the keys, the separators, the key order or how values are rendered.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_form(
    occurred_at: datetime,
    action: str,
    outcome: str,
    actor_user_id: int | None,
    actor_organisation_id: int | None,
    actor_label: str | None,
    subject_type: str | None,
    subject_id: str | None,
    reason: str | None,
    detail: dict[str, Any],
    ip_address: str | None,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash covers, from its stored values (``occurred_at`` timezone-aware UTC)."""
    body = {
        "occurred_at": occurred_at.isoformat(),
        "action": action,
        "outcome": outcome,
        "actor_user_id": actor_user_id,
        "actor_organisation_id": actor_organisation_id,
        "actor_label": actor_label,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "reason": reason,
        "detail": detail,
        "ip_address": ip_address,
        "prev_hash": prev_hash,
    }
    return _CANONICAL_JSON.encode(body).encode("utf-8")


def _canonical(event: AuditEvent) -> bytes:
    return canonical_form(
        event.occurred_at,
        event.action,
        event.outcome,
        event.actor_user_id,
        event.actor_organisation_id,
        event.actor_label,
        event.subject_type,
        event.subject_id,
        event.reason,
        event.detail,
        event.ip_address,
        event.prev_hash,
    )


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


# What verify_chain reads: the id, then canonical_form's arguments in order, then the hash.
_CHAIN_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.action,
    AuditEvent.outcome,
    AuditEvent.actor_user_id,
    AuditEvent.actor_organisation_id,
    AuditEvent.actor_label,
    AuditEvent.subject_type,
    AuditEvent.subject_id,
    AuditEvent.reason,
    AuditEvent.detail,
    AuditEvent.ip_address,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)
_VERIFY_BATCH = 10_000


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole trail and check every link and every row's content.

    Rows are streamed as plain tuples in id order (a server-side cursor on PostgreSQL), so
    memory stays flat however long the trail is.  The chain head is read *before* the rows:
    every event up to the one it names must then be present, and events appended while the
    walk runs are checked like the rest instead of looking like a mismatch at the end.
    """
    head = session.exec(
        select(AuditChainHead.last_event_id, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    ).first()
    head_event_id, head_hash = head if head is not None else (None, None)
    reached_head = False
    expected_prev = GENESIS_HASH
    checked = 0
    sha256 = hashlib.sha256
    query = sa_select(*[col(column) for column in _CHAIN_COLUMNS]).order_by(col(AuditEvent.id))
    with session.connection().execute(query.execution_options(yield_per=_VERIFY_BATCH)) as result:
        for rows in result.partitions():
            for row in rows:
                event_id, row_hash = row[0], row[13]
                if row[12] != expected_prev:
                    return ChainReport(False, checked, event_id, "a row is missing or out of order before this one")
                if sha256(canonical_form(*row[1:13])).hexdigest() != row_hash:
                    return ChainReport(False, checked, event_id, "this row was changed after it was written")
                if event_id == head_event_id:
                    if row_hash != head_hash:
                        return ChainReport(False, checked, event_id, "the newest row or the chain head was changed")
                    reached_head = True
                expected_prev = row_hash
                checked += 1
    if head is not None and not reached_head and not (head_event_id is None and head_hash == expected_prev):
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
