"""A person's notifications: read them, open what they point to, mark them read, and choose
how they come by email (each at once, or one daily digest)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.action_models import EmailMode
from panels.notifications import (
    get_email_mode,
    list_notifications,
    mark_all_read,
    mark_read,
    set_email_mode,
    unread_count,
)
from portal import routes
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.components.notifications import NotificationsState
from portal.formatting import local_time
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor

MODE_OPTIONS = [(str(m), m.label) for m in EmailMode]


class NotificationsPageState(NotificationsState):
    notifications: list[dict[str, str]] = []
    email_mode: str = ""
    errors: dict[str, str] = {}

    def _reload(self, session: Session, actor: Actor) -> Actor:
        self.notifications = [
            {
                "id": str(n.id),
                "title": n.title,
                "body": n.body,
                "when": local_time(n.created_at),
                "href": n.link_path,
                "unread": "yes" if n.unread else "",
            }
            for n in list_notifications(session=session, actor=actor)
        ]
        self.unread = unread_count(session=session, actor=actor)
        self.email_mode = str(get_email_mode(session=session, actor=actor))
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.var
    def unread_summary(self) -> str:
        if self.unread == 0:
            return "Nothing unread."
        return f"{self.unread} unread."

    @rx.event
    def choose_mode(self, value: str) -> None:
        self.email_mode = value

    def _change(self, change: Any) -> Any:
        def _do(session: Session, actor: Actor) -> None:
            change(session, actor)
            self._reload(session, actor)

        try:
            self._run(_do)
        except DomainError as error:
            return self._handle(error)
        return None

    @rx.event
    def read_one(self, notification_id: str) -> Any:
        return self._change(
            lambda session, actor: mark_read(session=session, actor=actor, notification_id=int(notification_id))
        )

    @rx.event
    def open_one(self, notification_id: str, href: str) -> Any:
        """Mark it read and go where it points."""
        failed = self.read_one(notification_id)
        if failed is not None:
            return failed
        return rx.redirect(href if href.startswith("/") else routes.HOME)

    @rx.event
    def read_all(self) -> Any:
        failed = self._change(lambda session, actor: mark_all_read(session=session, actor=actor))
        return failed if failed is not None else rx.toast.success("All notifications marked read.")

    @rx.event
    def save_mode(self, form_data: dict[str, Any]) -> Any:
        mode = str(form_data.get("email_mode", ""))

        def _do(session: Session, actor: Actor) -> None:
            set_email_mode(session=session, actor=actor, email_mode=mode)
            self._reload(session, actor)

        try:
            self._run(_do)
        except InvalidInput as error:
            self.errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self.errors = {}
        return rx.toast.success("Your email preference is saved.")


def _notification(n: Any) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.cond(
                        n["unread"] == "yes",
                        rx.badge("Unread", color_scheme="blue", variant="solid", high_contrast=True),
                    ),
                    rx.text(n["title"], weight="bold"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(n["body"], size="2"),
                rx.text(n["when"], size="1", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.hstack(
                rx.cond(
                    n["href"] != "",
                    rx.button(
                        "Open",
                        size="1",
                        on_click=NotificationsPageState.open_one(n["id"], n["href"]),
                        aria_label="Open: " + n["title"],
                    ),
                ),
                rx.cond(
                    n["unread"] == "yes",
                    rx.button(
                        "Mark read",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=NotificationsPageState.read_one(n["id"]),
                        aria_label="Mark read: " + n["title"],
                    ),
                ),
                spacing="2",
            ),
            width="100%",
            align="start",
        ),
        width="100%",
    )


def _preference() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.el.fieldset(
                    rx.el.legend("Email me", class_name="field-label"),
                    rx.vstack(
                        *[
                            rx.el.label(
                                rx.el.input(
                                    type="radio",
                                    name="email_mode",
                                    value=value,
                                    id=f"email-mode-{value}",
                                    checked=NotificationsPageState.email_mode == value,
                                    on_change=NotificationsPageState.choose_mode(value),
                                ),
                                " " + label,
                                html_for=f"email-mode-{value}",
                                class_name="checkbox-label",
                            )
                            for value, label in MODE_OPTIONS
                        ],
                        spacing="1",
                    ),
                    class_name="fieldset",
                ),
                rx.cond(
                    NotificationsPageState.errors.get("email_mode", "") != "",
                    rx.text(
                        NotificationsPageState.errors.get("email_mode", ""), color_scheme="red", size="2", role="alert"
                    ),
                ),
                rx.text(
                    "Emails say only what happened and link here: case details stay in the portal.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.button("Save email preference", type="submit"),
                spacing="3",
                align="start",
            ),
            on_submit=NotificationsPageState.save_mode,
            no_validate=True,
        ),
        width="100%",
    )


@rx.page(route=routes.NOTIFICATIONS, title=f"Notifications · {PRODUCT_NAME}", on_load=NotificationsPageState.load)
def notifications_page() -> rx.Component:
    return page_shell(
        "Notifications",
        rx.hstack(
            rx.text(NotificationsPageState.unread_summary, id="unread-summary"),
            rx.spacer(),
            rx.button(
                "Mark all read",
                variant="soft",
                on_click=NotificationsPageState.read_all,
                disabled=NotificationsPageState.unread == 0,
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            NotificationsPageState.notifications.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(rx.foreach(NotificationsPageState.notifications, _notification), spacing="2", width="100%"),
            empty_state("You have no notifications."),
        ),
        rx.heading("Email", size="5", as_="h2"),
        _preference(),
        subtitle="Reminders and news about your actions and cases, newest first.",
    )
