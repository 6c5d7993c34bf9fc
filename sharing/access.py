"""The access chokepoint: every service asks here before it reads or changes anything.

A refusal raises :class:`PermissionDenied` carrying its own audit row, which
``transaction()`` writes after rolling the action back, so denials are always recorded.
"""

from __future__ import annotations

from sqlmodel import Session

from sharing.audit import AuditAction, Outcome, record_event
from sharing.errors import PermissionDenied
from sharing.permissions import Actor, Permission

DENIED_MESSAGE = "You do not have permission to do that. Ask your portal administrator if you need it."


def require(
    actor: Actor,
    permission: Permission,
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
) -> None:
    """Raise :class:`PermissionDenied` (audited) unless ``actor`` holds ``permission``."""
    if actor.can(permission):
        return

    def _audit(session: Session) -> None:
        record_event(
            session,
            action=AuditAction.PERMISSION_DENIED,
            outcome=Outcome.DENIED,
            actor=actor,
            subject_type=subject_type,
            subject_id=subject_id,
            reason=f"lacks {permission}",
            detail={"permission": str(permission), "roles": sorted(actor.roles)},
        )

    raise PermissionDenied(DENIED_MESSAGE, durable_effects=[_audit])


def denied(
    actor: Actor,
    message: str,
    *,
    reason: str,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
) -> PermissionDenied:
    """A :class:`PermissionDenied` for a refusal ``require`` cannot express (e.g. another
    organisation's record), carrying its audit row like ``require``'s does.  Raise it."""

    def _audit(session: Session) -> None:
        record_event(
            session,
            action=AuditAction.PERMISSION_DENIED,
            outcome=Outcome.DENIED,
            actor=actor,
            subject_type=subject_type,
            subject_id=subject_id,
            reason=reason,
            detail={"roles": sorted(actor.roles)},
        )

    return PermissionDenied(message, durable_effects=[_audit])
