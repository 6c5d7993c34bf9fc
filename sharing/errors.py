"""Domain errors.  Each carries a reason a housing officer can read; the UI shows it as is."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``durable_effects`` are writes that must survive even though the action failed and its
    transaction rolls back: the audit row of a denial, a failed sign-in counted towards
    lockout.  ``transaction()`` runs them in a fresh transaction after the rollback.
    """

    def __init__(self, message: str, *, durable_effects: Iterable[Callable[[Session], None]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.durable_effects: list[Callable[[Session], None]] = list(durable_effects)


class PermissionDenied(DomainError):
    """The actor may not do this.  The denial has already been written to the audit trail."""


class NotFound(DomainError):
    """The thing asked for does not exist (or the actor may not know it exists)."""


class InvalidInput(DomainError):
    """Bad input; ``field_errors`` maps a form field name to a message shown at that field."""

    def __init__(self, field_errors: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or "Please correct the fields marked below.")
        self.field_errors = field_errors


class SignInFailed(DomainError):
    """Sign-in refused.  The message never says whether the email or the password was wrong."""


class AccountLocked(SignInFailed):
    """Too many failed attempts; the account is locked for a while."""


class SessionExpired(DomainError):
    """The session ended (idle timeout, signed out, or account deactivated)."""
