"""Administration: the people who sign in, their roles, deactivation and password resets."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import checkbox_group, dialog_buttons, dynamic_select_input, reset_form, text_input
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.directory import (
    UserRead,
    create_user,
    list_organisations,
    list_users,
    reset_password,
    reset_second_factor,
    set_user_active,
)
from sharing.errors import DomainError, InvalidInput
from sharing.models import ROLE_LABELS
from sharing.permissions import Actor

ROLE_OPTIONS = [(str(r), label) for r, label in ROLE_LABELS.items()]
ROLE_PREFIX = "role_"


def _row(user: UserRead) -> dict[str, str]:
    locked = user.locked_until is not None and user.locked_until > utcnow()
    if not user.is_active:
        status = "Deactivated"
    elif locked:
        status = "Locked until " + local_time(user.locked_until)
    else:
        status = "Active"
    return {
        "id": str(user.id),
        "name": user.full_name,
        "email": user.email,
        "organisation": user.organisation_name,
        "roles": ", ".join(ROLE_LABELS[r] for r in user.roles),
        "status": status,
        "active": "yes" if user.is_active else "no",
        "second_factor": "On" if user.totp_enabled else "Off",
        "last_sign_in": local_time(user.last_sign_in_at),
    }


ACCOUNTS_SHOWN = 200


class UsersState(AuthState):
    users: list[dict[str, str]] = []
    organisation_options: list[dict[str, str]] = []
    create_errors: dict[str, str] = {}
    password_hint: str = ""
    reset_open: bool = False
    reset_user_id: int = 0
    reset_user_name: str = ""
    reset_error: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        self.password_hint = (
            f"At least {get_settings().password_min_length} characters. "
            "Leave blank for someone who only signs in with their organisation."
        )
        # The most recently added accounts first: a partnership has hundreds of accounts.
        self.users = [_row(u) for u in list_users(session=session, actor=actor, newest=ACCOUNTS_SHOWN)]
        self.organisation_options = [
            {"value": str(o.id), "label": o.name} for o in list_organisations(session=session, actor=actor)
        ]
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def create(self, form_data: dict[str, Any]) -> Any:
        self.create_errors = {}
        roles = [
            key.removeprefix(ROLE_PREFIX) for key, value in form_data.items() if key.startswith(ROLE_PREFIX) and value
        ]
        organisation = str(form_data.get("organisation_id", ""))

        def _act(session: Session, actor: Actor) -> str:
            user = create_user(
                session=session,
                actor=actor,
                email=str(form_data.get("email", "")),
                full_name=str(form_data.get("full_name", "")),
                job_title=str(form_data.get("job_title", "")),
                organisation_id=int(organisation) if organisation.isdigit() else None,
                roles=roles,
                password=str(form_data.get("password", "")),
            )
            self._reload(session, actor)
            return user.full_name

        try:
            name = self._run(_act)
        except InvalidInput as error:
            self.create_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        return [
            reset_form("create-user-form"),
            rx.toast.success(f"Account created for {name}. Give them their password in person or by phone."),
        ]

    @rx.event
    def set_active(self, user_id: str, active: bool) -> Any:
        def _act(session: Session, actor: Actor) -> str:
            user = set_user_active(session=session, actor=actor, user_id=int(user_id), active=active)
            self._reload(session, actor)
            return user.full_name

        try:
            name = self._run(_act)
        except DomainError as error:
            message = error.field_errors.get("user", error.message) if isinstance(error, InvalidInput) else None
            return rx.toast.error(message) if message else self._handle(error)
        verb = "reactivated" if active else "deactivated; any open sessions have ended"
        return rx.toast.success(f"{name} {verb}.")

    @rx.event
    def reset_authenticator(self, user_id: str) -> Any:
        def _act(session: Session, actor: Actor) -> str:
            user = reset_second_factor(session=session, actor=actor, user_id=int(user_id))
            self._reload(session, actor)
            return user.full_name

        try:
            name = self._run(_act)
        except InvalidInput as error:
            return rx.toast.error(error.field_errors.get("user", error.message))
        except DomainError as error:
            return self._handle(error)
        return rx.toast.success(f"{name} will set up a new authenticator at their next sign-in.")

    @rx.event
    def open_reset(self, user_id: str, name: str) -> None:
        self.reset_user_id = int(user_id)
        self.reset_user_name = name
        self.reset_error = ""
        self.reset_open = True

    @rx.event
    def set_reset_open(self, value: bool) -> None:
        self.reset_open = value

    @rx.event
    def save_reset(self, form_data: dict[str, Any]) -> Any:
        self.reset_error = ""
        password = str(form_data.get("new_password", ""))
        user_id = self.reset_user_id

        def _act(session: Session, actor: Actor) -> None:
            reset_password(session=session, actor=actor, user_id=user_id, new_password=password)
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.reset_error = error.field_errors.get("password", error.message)
            return None
        except DomainError as error:
            return self._handle(error)
        self.reset_open = False
        return rx.toast.success(f"New password set for {self.reset_user_name}. Their sessions have ended.")


def _create_form() -> rx.Component:
    errors = UsersState.create_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add a person", size="4", as_="h2"),
                rx.grid(
                    text_input("Full name", "full_name", error=errors.get("full_name", "")),
                    text_input("Email", "email", type="email", error=errors.get("email", "")),
                    text_input("Job title (optional)", "job_title"),
                    dynamic_select_input(
                        "Organisation",
                        "organisation_id",
                        UsersState.organisation_options,
                        error=errors.get("organisation_id", ""),
                    ),
                    text_input(
                        "First password",
                        "password",
                        type="password",
                        autocomplete="new-password",
                        error=errors.get("password", ""),
                        hint=UsersState.password_hint,
                    ),
                    checkbox_group("Roles", ROLE_PREFIX, ROLE_OPTIONS, error=errors.get("roles", "")),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.button("Add person", type="submit"),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=UsersState.create,
            no_validate=True,
            id="create-user-form",
        ),
        width="100%",
    )


def _reset_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Reset password for ", UsersState.reset_user_name),
            rx.dialog.description(
                "The new password replaces the old one, unlocks the account and signs the person out everywhere.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    text_input(
                        "New password",
                        "new_password",
                        type="password",
                        autocomplete="new-password",
                        error=UsersState.reset_error,
                    ),
                    dialog_buttons("Set password"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=UsersState.save_reset,
                no_validate=True,
            ),
        ),
        open=UsersState.reset_open,
        on_open_change=UsersState.set_reset_open,
    )


def _user_row(u: dict[str, str]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(rx.text(u["name"], weight="medium"), rx.text(u["email"], size="1"), spacing="0")
        ),
        rx.table.cell(u["organisation"]),
        rx.table.cell(u["roles"]),
        rx.table.cell(u["second_factor"]),
        rx.table.cell(u["last_sign_in"]),
        rx.table.cell(
            rx.badge(u["status"], high_contrast=True, color_scheme=rx.cond(u["status"] == "Active", "green", "orange"))
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Reset password",
                    size="1",
                    variant="soft",
                    on_click=UsersState.open_reset(u["id"], u["name"]),
                    aria_label="Reset password for " + u["name"],
                ),
                rx.cond(
                    u["second_factor"] == "On",
                    rx.button(
                        "Reset authenticator",
                        size="1",
                        variant="soft",
                        color_scheme="orange",
                        on_click=UsersState.reset_authenticator(u["id"]),
                        aria_label="Reset authenticator for " + u["name"],
                    ),
                ),
                rx.cond(
                    u["active"] == "yes",
                    rx.button(
                        "Deactivate",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=UsersState.set_active(u["id"], False),
                        aria_label="Deactivate " + u["name"],
                    ),
                    rx.button(
                        "Reactivate",
                        size="1",
                        variant="soft",
                        on_click=UsersState.set_active(u["id"], True),
                        aria_label="Reactivate " + u["name"],
                    ),
                ),
                spacing="2",
            )
        ),
    )


@rx.page(route=routes.ADMIN_USERS, title=f"Accounts · {PRODUCT_NAME}", on_load=UsersState.load)
def users_page() -> rx.Component:
    return page_shell(
        "Accounts",
        _create_form(),
        rx.cond(
            UsersState.users.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Person"),
                        rx.table.column_header_cell("Organisation"),
                        rx.table.column_header_cell("Roles"),
                        rx.table.column_header_cell("Authenticator"),
                        rx.table.column_header_cell("Last sign-in"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell(rx.el.span("Actions", class_name="visually-hidden")),
                    )
                ),
                rx.table.body(rx.foreach(UsersState.users, _user_row)),
                variant="surface",
                width="100%",
            ),
            empty_state("No accounts yet.", "Add the first person above."),
        ),
        _reset_dialog(),
        subtitle="Everyone who can sign in, by organisation.",
    )
