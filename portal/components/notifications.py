"""The notification bell in the header: how many of the person's notifications are unread."""

from __future__ import annotations

import reflex as rx

from panels.notifications import unread_count
from portal import routes
from portal.auth_state import AuthState
from sharing.errors import DomainError
from sharing.permissions import Permission


class NotificationsState(AuthState):
    unread: int = 0

    def _count_unread(self) -> None:
        try:
            self.unread = self._run(
                lambda session, actor: (
                    unread_count(session=session, actor=actor) if actor.can(Permission.NOTIFICATIONS_OWN_READ) else 0
                )
            )
        except DomainError:  # signed out meanwhile: the page's own check says so
            self.unread = 0

    @rx.event
    def refresh_count(self) -> None:
        self._count_unread()

    @rx.var
    def bell_label(self) -> str:
        if self.unread == 0:
            return "Notifications, none unread"
        return f"Notifications, {self.unread} unread"


def notification_bell() -> rx.Component:
    """A link to the notifications page showing the unread count (counted when it appears)."""
    return rx.cond(
        AuthState.has_notifications,
        rx.link(
            rx.hstack(
                rx.icon("bell", size=20, aria_hidden="true"),
                rx.cond(
                    NotificationsState.unread > 0,
                    rx.badge(NotificationsState.unread, color_scheme="red", variant="solid", high_contrast=True),
                ),
                spacing="1",
                align="center",
            ),
            href=routes.NOTIFICATIONS,
            aria_label=NotificationsState.bell_label,
            title=NotificationsState.bell_label,
            id="notification-bell",
            class_name="nav-link",
            underline="none",
            on_mount=NotificationsState.refresh_count,
        ),
    )
