"""Administration: the partner organisations and their single sign-on."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dialog_buttons, select_input, text_input, ticked
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.directory import OrganisationRead, configure_sso, create_organisation, list_organisations
from sharing.errors import DomainError, InvalidInput
from sharing.models import ORGANISATION_TYPE_LABELS
from sharing.permissions import Actor

TYPE_OPTIONS = [(str(t), label) for t, label in ORGANISATION_TYPE_LABELS.items()]


def _row(org: OrganisationRead) -> dict[str, str]:
    data = {k: str(v) for k, v in asdict(org).items()}
    data["sso_label"] = "Set up" if org.sso_enabled else "Not set up"
    return data


class OrganisationsState(AuthState):
    organisations: list[dict[str, str]] = []
    create_errors: dict[str, str] = {}
    sso_open: bool = False
    sso_org_id: int = 0
    sso_org_name: str = ""
    sso_enabled: bool = False
    sso_discovery_url: str = ""
    sso_client_id: str = ""
    sso_has_secret: bool = False
    sso_allow_provisioning: bool = False
    sso_errors: dict[str, str] = {}

    def _reload(self, session: Session, actor: Actor) -> Actor:
        self.organisations = [_row(o) for o in list_organisations(session=session, actor=actor)]
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def create(self, form_data: dict[str, Any]) -> Any:
        self.create_errors = {}
        name = str(form_data.get("name", ""))
        org_type = str(form_data.get("type", ""))

        def _act(session: Session, actor: Actor) -> str:
            org = create_organisation(session=session, actor=actor, name=name, type=org_type)
            self._reload(session, actor)
            return org.name

        try:
            created = self._run(_act)
        except InvalidInput as error:
            self.create_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        return [
            rx.set_value("name", ""),
            rx.set_value("type", ""),
            rx.toast.success(f"{created} added. Next, add the people who work there."),
        ]

    @rx.event
    def open_sso(self, org_id: str) -> None:
        org = next((o for o in self.organisations if o["id"] == org_id), None)
        if org is None:
            return
        self.sso_org_id = int(org_id)
        self.sso_org_name = org["name"]
        self.sso_enabled = org["sso_enabled"] == "True"
        self.sso_discovery_url = org["sso_discovery_url"]
        self.sso_client_id = org["sso_client_id"]
        self.sso_has_secret = org["sso_has_secret"] == "True"
        self.sso_allow_provisioning = org["sso_allow_provisioning"] == "True"
        self.sso_errors = {}
        self.sso_open = True

    @rx.event
    def set_sso_open(self, value: bool) -> None:
        self.sso_open = value

    @rx.event
    def save_sso(self, form_data: dict[str, Any]) -> Any:
        self.sso_errors = {}
        self.sso_discovery_url = str(form_data.get("discovery_url", ""))
        self.sso_client_id = str(form_data.get("client_id", ""))
        self.sso_enabled = ticked(form_data.get("enabled"))
        self.sso_allow_provisioning = ticked(form_data.get("allow_provisioning"))
        secret = str(form_data.get("client_secret", "")) or None
        org_id = self.sso_org_id

        def _act(session: Session, actor: Actor) -> None:
            configure_sso(
                session=session,
                actor=actor,
                organisation_id=org_id,
                enabled=self.sso_enabled,
                discovery_url=self.sso_discovery_url,
                client_id=self.sso_client_id,
                client_secret=secret,
                allow_provisioning=self.sso_allow_provisioning,
            )
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.sso_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self.sso_open = False
        return rx.toast.success(f"Single sign-on saved for {self.sso_org_name}.")


def _create_form() -> rx.Component:
    errors = OrganisationsState.create_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add an organisation", size="4", as_="h2"),
                rx.grid(
                    text_input("Organisation name", "name", error=errors.get("name", "")),
                    select_input("Type of agency", "type", TYPE_OPTIONS, error=errors.get("type", "")),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.button("Add organisation", type="submit"),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=OrganisationsState.create,
            no_validate=True,
        ),
        width="100%",
    )


def _sso_dialog() -> rx.Component:
    errors = OrganisationsState.sso_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Single sign-on for ", OrganisationsState.sso_org_name),
            rx.dialog.description(
                "People at this organisation can sign in with their own identity provider (OpenID Connect). "
                "Register the portal with the provider using the callback address shown below.",
                size="2",
            ),
            rx.text(
                "Callback address: ",
                rx.code("/auth/sso/callback/<organisation>"),
                size="1",
                color_scheme="gray",
            ),
            rx.form(
                rx.vstack(
                    text_input(
                        "Discovery address",
                        "discovery_url",
                        error=errors.get("discovery_url", ""),
                        default_value=OrganisationsState.sso_discovery_url,
                        hint="Usually ends in /.well-known/openid-configuration",
                    ),
                    text_input(
                        "Client ID",
                        "client_id",
                        error=errors.get("client_id", ""),
                        default_value=OrganisationsState.sso_client_id,
                    ),
                    text_input(
                        "Client secret",
                        "client_secret",
                        type="password",
                        error=errors.get("client_secret", ""),
                        hint="If a secret is already stored, leave this blank to keep it.",
                        autocomplete="new-password",
                    ),
                    rx.el.label(
                        rx.el.input(
                            type="checkbox",
                            name="allow_provisioning",
                            id="allow-provisioning",
                            default_checked=OrganisationsState.sso_allow_provisioning,
                        ),
                        " Create an account (as panel member) for people the provider vouches for",
                        html_for="allow-provisioning",
                        class_name="checkbox-label",
                    ),
                    rx.el.label(
                        rx.el.input(
                            type="checkbox",
                            name="enabled",
                            id="sso-enabled",
                            default_checked=OrganisationsState.sso_enabled,
                        ),
                        ' Show "Sign in with this organisation" on the sign-in page',
                        html_for="sso-enabled",
                        class_name="checkbox-label",
                    ),
                    dialog_buttons("Save"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=OrganisationsState.save_sso,
                no_validate=True,
            ),
        ),
        open=OrganisationsState.sso_open,
        on_open_change=OrganisationsState.set_sso_open,
    )


@rx.page(route=routes.ADMIN_ORGANISATIONS, title=f"Organisations · {PRODUCT_NAME}", on_load=OrganisationsState.load)
def organisations_page() -> rx.Component:
    return page_shell(
        "Organisations",
        _create_form(),
        rx.cond(
            OrganisationsState.organisations.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Organisation"),
                        rx.table.column_header_cell("Type"),
                        rx.table.column_header_cell("Accounts"),
                        rx.table.column_header_cell("Single sign-on"),
                        rx.table.column_header_cell(rx.el.span("Actions", class_name="visually-hidden")),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        OrganisationsState.organisations,
                        lambda o: rx.table.row(
                            rx.table.row_header_cell(o["name"]),
                            rx.table.cell(o["type_label"]),
                            rx.table.cell(o["user_count"]),
                            rx.table.cell(
                                rx.badge(
                                    o["sso_label"],
                                    high_contrast=True,
                                    color_scheme=rx.cond(o["sso_enabled"] == "True", "green", "gray"),
                                )
                            ),
                            rx.table.cell(
                                rx.button(
                                    "Set up sign-in",
                                    size="1",
                                    variant="soft",
                                    on_click=OrganisationsState.open_sso(o["id"]),
                                    aria_label="Set up sign-in for " + o["name"],
                                )
                            ),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No organisations yet.", "Add the first partner agency above."),
        ),
        _sso_dialog(),
        subtitle="Partner agencies in this partnership, and how their people sign in.",
    )
