"""Who is signed in, for every page.  Page states subclass :class:`AuthState` and call
``self._actor()`` / ``self._run(...)`` so each action re-checks the session on the server."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.services import run_as
from sharing.errors import DomainError, PermissionDenied, SessionExpired
from sharing.permissions import Actor, Permission

T = TypeVar("T")


class AuthState(rx.State):
    """Display data about the signed-in person.  Never trusted for decisions: services get the
    actor from the session cookie on every call."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    organisation_name: str = ""
    role_labels: list[str] = []
    can_admin: bool = False
    can_see_panels: bool = False
    can_read_audit: bool = False
    can_read_items: bool = False
    can_share: bool = False
    can_use_console: bool = False
    can_read_agreements: bool = False
    can_record_consent: bool = False
    can_manage_records: bool = False
    can_read_cases: bool = False
    can_record_reports: bool = False
    can_manage_cases: bool = False
    can_read_actions: bool = False
    can_manage_plans: bool = False
    can_read_agency_actions: bool = False
    has_notifications: bool = False
    can_read_scheduler: bool = False
    can_read_outbox: bool = False

    def _client_ip(self) -> str | None:
        return self.router.session.client_ip or None

    def _run(self, action: Callable[[Session, Actor], T]) -> T:
        """Run one service call as the signed-in person, in one transaction."""
        return run_as(self.router.headers.cookie, self._client_ip(), action)

    def _actor(self) -> Actor:
        return self._run(lambda _session, actor: actor)

    def _show(self, actor: Actor) -> None:
        from sharing.models import ROLE_LABELS

        self.signed_in = True
        self.user_name = actor.full_name
        self.user_email = actor.email
        self.organisation_name = actor.organisation_name
        self.role_labels = [ROLE_LABELS[r] for r in sorted(actor.roles)]
        self.can_admin = actor.can(Permission.ADMIN_USERS_READ)
        self.can_see_panels = actor.can(Permission.PANELS_PANELS_READ)
        self.can_read_audit = actor.can(Permission.AUDIT_EVENTS_READ)
        self.can_read_items = actor.can(Permission.SHARING_ITEMS_READ)
        self.can_share = actor.can(Permission.SHARING_DISCLOSURES_REQUEST)
        self.can_use_console = actor.can(Permission.SHARING_CONSOLE_READ)
        self.can_read_agreements = actor.can(Permission.SHARING_AGREEMENTS_READ)
        self.can_record_consent = actor.can(Permission.SHARING_CONSENT_RECORD)
        self.can_manage_records = actor.can(Permission.SHARING_SAR_MANAGE)
        self.can_read_cases = actor.can(Permission.CASES_CASES_READ)
        self.can_record_reports = actor.can(Permission.CASES_REPORTS_RECORD)
        self.can_manage_cases = actor.can(Permission.CASES_CASES_MANAGE)
        self.can_read_actions = actor.can(Permission.ACTIONS_ACTIONS_READ)
        self.can_manage_plans = actor.can(Permission.ACTIONS_PLANS_MANAGE)
        self.can_read_agency_actions = actor.can(Permission.ACTIONS_AGENCY_READ)
        self.has_notifications = actor.can(Permission.NOTIFICATIONS_OWN_READ)
        self.can_read_scheduler = actor.can(Permission.ADMIN_SCHEDULER_READ)
        self.can_read_outbox = actor.can(Permission.ADMIN_OUTBOX_READ)

    def _forget(self) -> None:
        self.signed_in = False
        self.user_name = self.user_email = self.organisation_name = ""
        self.role_labels = []
        self.can_admin = self.can_see_panels = self.can_read_audit = False
        self.can_read_items = self.can_share = self.can_use_console = self.can_read_agreements = False
        self.can_record_consent = self.can_manage_records = False
        self.can_read_cases = self.can_record_reports = self.can_manage_cases = False
        self.can_read_actions = self.can_manage_plans = self.can_read_agency_actions = False
        self.has_notifications = self.can_read_scheduler = self.can_read_outbox = False

    def _to_sign_in(self, message: str) -> Any:
        self._forget()
        return rx.redirect(f"{routes.SIGN_IN}?notice={quote(message)}", replace=True)

    def _handle(self, error: DomainError) -> Any:
        """Turn a domain error into what the person sees."""
        if isinstance(error, SessionExpired):
            return self._to_sign_in(error.message)
        if isinstance(error, PermissionDenied):
            return rx.toast.error(error.message, duration=8000)
        return rx.toast.error(error.message, duration=8000)

    def _load(self, reload: Callable[[Session, Actor], Actor]) -> Any:
        """A page's read in one transaction; then show the signed-in person, or send them to
        sign in.  On a refusal the shell stays and the refusal is said."""
        try:
            actor = self._run(reload)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            with contextlib.suppress(DomainError):
                self._show(self._actor())
            return self._handle(error)
        self._show(actor)
        return None

    def _route_arg(self, name: str) -> str:
        """The value of the page address's ``[name]`` part (``/cases/[case_id]`` at
        ``/cases/12`` gives ``"12"``), or "" when the page has none."""
        pattern = self.router.route_id.strip("/").split("/")
        actual = self.router.url.path.strip("/").split("/")
        return next((value for part, value in zip(pattern, actual, strict=False) if part == f"[{name}]"), "")

    def _load_in_page(self, reload: Callable[[Session, Actor], Actor], refused: Callable[[str], None]) -> Any:
        """Like :meth:`_load`, for a page about one record: a refusal is said inside the page
        (``refused(message)``) with the signed-in shell kept, instead of in a toast."""
        try:
            actor = self._run(reload)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            refused(error.message)
            return self._show_signed_in()
        self._show(actor)
        return None

    def _show_signed_in(self) -> Any:
        """Show the shell for whoever is signed in (or send them to sign in)."""
        try:
            self._show(self._actor())
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        return None

    @rx.event
    def require_sign_in(self) -> Any:
        """on_load of every signed-in page."""
        try:
            actor = self._actor()
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        self._show(actor)
        return None
