"""Panels: which panels the partnership runs, who chairs them and which agencies sit on them;
administrators set up a new panel here (by configuration alone)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.meeting_pages import panel_form_options
from panels.panel_config import PanelInput, create_panel
from panels.panels import list_panels
from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.components.panel_form import NEW_PANEL_VALUES, PeopleFinder, panel_form, parse_panel_form, search_people
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor, Permission


class PanelsState(AuthState):
    panels: list[dict[str, str]] = []
    can_manage: bool = False
    form_open: bool = False
    organisations: list[dict[str, str]] = []
    people: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    new_panel: dict[str, str] = NEW_PANEL_VALUES
    no_decisions: list[str] = []
    everyone_listed: bool = True
    people_message: str = ""
    people_error: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        self.panels = [
            {
                "name": p.name,
                "href": routes.panel(p.id),
                "purpose": p.purpose,
                "chair": f"{p.chair_name} ({p.chair_organisation})" if p.chair_name else "No chair yet",
                "members": ", ".join(p.organisation_names),
                "yours": "You chair this panel"
                if p.actor_is_chair
                else ("Your organisation sits on this panel" if p.actor_sits_on else ""),
            }
            for p in list_panels(session=session, actor=actor)
        ]
        self.can_manage = actor.can(Permission.PANELS_PANELS_MANAGE)
        if self.can_manage:
            options = panel_form_options(session=session, actor=actor)
            self.organisations = [
                {"value": str(i), "label": n, "member": "", "required": ""} for i, n in options.organisations
            ]
            self.people = [{"value": str(i), "label": n, "member": ""} for i, n in options.people]
            self.everyone_listed = options.everyone_listed
        return actor

    @rx.event
    def load(self) -> Any:
        self.form_open = False
        self.errors = {}
        return self._load(self._reload)

    @rx.event
    def toggle_form(self) -> None:
        self.form_open = not self.form_open
        self.errors = {}
        self.people_message, self.people_error = "", ""

    @rx.event
    def find_people(self, form_data: dict[str, Any]) -> Any:
        try:
            self.people, self.people_message, self.people_error = search_people(self._run, self.people, form_data)
        except DomainError as error:
            return self._handle(error)
        return None

    @rx.event
    def add_panel(self, form_data: dict[str, Any]) -> Any:
        fields, errors = parse_panel_form(form_data)
        if errors:
            self.errors = errors
            return None
        data = PanelInput(**fields)

        def _act(session: Session, actor: Actor) -> str:
            panel = create_panel(session=session, actor=actor, data=data)
            self._reload(session, actor)
            return panel.name

        try:
            name = self._run(_act)
        except InvalidInput as error:
            self.errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self.errors = {}
        self.form_open = False
        return rx.toast.success(f"The {name} is set up. Open it to schedule its meetings.")


def new_panel_form() -> rx.Component:
    S = PanelsState
    return panel_form(
        heading="Set up a panel",
        submit_label="Add the panel",
        form_id="panel-form",
        errors=S.errors,
        values=S.new_panel,
        decisions=S.no_decisions,
        organisations=S.organisations,
        people=S.people,
        finder=PeopleFinder("panel-form", S.everyone_listed, S.people_message, S.people_error, S.find_people),
        on_submit=S.add_panel,
        on_cancel=S.toggle_form,
    )


@rx.page(route=routes.PANELS, title=f"Panels · {PRODUCT_NAME}", on_load=PanelsState.load)
def panels_page() -> rx.Component:
    return page_shell(
        "Panels",
        rx.cond(
            PanelsState.can_manage,
            rx.cond(
                PanelsState.form_open,
                new_panel_form(),
                rx.button("Set up a panel", on_click=PanelsState.toggle_form, width="fit-content"),
            ),
        ),
        rx.cond(
            PanelsState.panels.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Panel"),
                        rx.table.column_header_cell("Chair"),
                        rx.table.column_header_cell("Member organisations"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        PanelsState.panels,
                        lambda p: rx.table.row(
                            rx.table.row_header_cell(
                                rx.vstack(
                                    rx.link(p["name"], href=p["href"], weight="bold", underline="always"),
                                    rx.text(p["purpose"], size="2", color_scheme="gray"),
                                    rx.cond(p["yours"] != "", rx.badge(p["yours"], variant="soft", high_contrast=True)),
                                    spacing="1",
                                )
                            ),
                            rx.table.cell(p["chair"]),
                            rx.table.cell(p["members"]),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No panels are set up yet.", "Your portal administrator sets up panels."),
        ),
        subtitle="The multi-agency panels in this partnership.",
    )
