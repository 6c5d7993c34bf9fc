"""Panels: which panels the partnership runs, who chairs them and which agencies sit on them;
administrators set up a new panel here (by configuration alone)."""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.meeting_pages import cadence_presets, decision_type_groups, panel_form_options
from panels.panel_config import DECISION_TYPES, PanelInput, create_panel
from panels.panels import list_panels
from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dynamic_select_input, select_input, text_input
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor, Permission
from sharing.vocabulary import PURPOSE_LABELS

PURPOSE_OPTIONS = [(str(p), label[:1].upper() + label[1:]) for p, label in PURPOSE_LABELS.items()]
PRESET_OPTIONS = cadence_presets()
ORG_PREFIX = "org_"
REQUIRED_PREFIX = "required_"
DECISION_PREFIX = "decision_"


def _whole_number(raw: Any, field: str, errors: dict[str, str], default: int) -> int:
    text = str(raw or "").strip()
    if not text:
        return default
    if not text.isdigit():
        errors[field] = "Enter a whole number."
        return default
    return int(text)


def _ids(form_data: dict[str, Any], prefix: str) -> list[int]:
    return [
        int(k.removeprefix(prefix))
        for k, v in form_data.items()
        if k.startswith(prefix) and v and k[len(prefix) :].isdigit()
    ]


class PanelsState(AuthState):
    panels: list[dict[str, str]] = []
    can_manage: bool = False
    form_open: bool = False
    organisations: list[dict[str, str]] = []
    people: list[dict[str, str]] = []
    errors: dict[str, str] = {}

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
            self.organisations = [{"value": str(i), "label": n} for i, n in options.organisations]
            self.people = [{"value": str(i), "label": n} for i, n in options.people]
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

    @rx.event
    def add_panel(self, form_data: dict[str, Any]) -> Any:
        errors: dict[str, str] = {}
        duration = _whole_number(form_data.get("duration_minutes"), "duration_minutes", errors, 120)
        quorum = _whole_number(form_data.get("quorum_min_organisations"), "quorum_min_organisations", errors, 2)
        starts_raw = str(form_data.get("cadence_starts_on", "")).strip()
        starts_on: date | None = None
        if starts_raw:
            try:
                starts_on = date.fromisoformat(starts_raw)
            except ValueError:
                errors["cadence_starts_on"] = "Enter the date as day, month and year."
        chair = str(form_data.get("chair_user_id", ""))
        deputy = str(form_data.get("deputy_chair_user_id", ""))
        rule = str(form_data.get("cadence_rrule", "")).strip() or str(form_data.get("cadence_preset", "")).strip()
        if not rule:
            errors["cadence_rrule"] = "Choose how often the panel meets, or write the pattern."
        if errors:
            self.errors = errors
            return None
        data = PanelInput(
            name=str(form_data.get("name", "")),
            purpose=str(form_data.get("purpose", "")),
            organisation_ids=_ids(form_data, ORG_PREFIX),
            chair_user_id=int(chair) if chair.isdigit() else None,
            deputy_chair_user_id=int(deputy) if deputy.isdigit() else None,
            cadence_rrule=rule,
            cadence_starts_on=starts_on,
            start_time=str(form_data.get("start_time", "")) or "10:00",
            duration_minutes=duration,
            venue=str(form_data.get("venue", "")),
            video_link=str(form_data.get("video_link", "")),
            quorum_min_organisations=quorum,
            quorum_required_organisation_ids=_ids(form_data, REQUIRED_PREFIX),
            sharing_purpose=str(form_data.get("sharing_purpose", "")),
            decision_types=[
                k.removeprefix(DECISION_PREFIX)
                for k, v in form_data.items()
                if k.startswith(DECISION_PREFIX) and v and k.removeprefix(DECISION_PREFIX) in DECISION_TYPES
            ],
        )

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


def _error(key: str) -> rx.Component:
    return rx.cond(
        PanelsState.errors.get(key, "") != "",
        rx.text(PanelsState.errors.get(key, ""), color_scheme="red", size="2", role="alert", id=f"{key}-error"),
    )


def _org_checkboxes(legend: str, prefix: str, error_key: str) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="field-label"),
        rx.grid(
            rx.foreach(
                PanelsState.organisations,
                lambda o: rx.el.label(
                    rx.el.input(type="checkbox", name=prefix + o["value"], id=prefix + o["value"]),
                    " ",
                    o["label"],
                    html_for=prefix + o["value"],
                    class_name="checkbox-label",
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="1",
        ),
        _error(error_key),
        class_name="fieldset",
    )


def _decision_checkboxes() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Decisions the panel may make", class_name="field-label"),
        *[
            rx.vstack(
                rx.text(heading, weight="medium", size="2"),
                *[
                    rx.el.label(
                        rx.el.input(type="checkbox", name=DECISION_PREFIX + key, id=DECISION_PREFIX + key),
                        " " + label,
                        html_for=DECISION_PREFIX + key,
                        class_name="checkbox-label",
                    )
                    for key, label in group
                ],
                spacing="1",
                padding_bottom="2",
            )
            for heading, group in decision_type_groups()
        ],
        _error("decision_types"),
        class_name="fieldset",
    )


def _textarea(label: str, name: str, hint: str = "") -> rx.Component:
    field_id = name.replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        *([rx.text(hint, size="1", color_scheme="gray", id=f"{field_id}-hint")] if hint else []),
        rx.el.textarea(id=field_id, name=name, rows=3, class_name="field-input"),
        _error(name),
        spacing="1",
        width="100%",
    )


def panel_form() -> rx.Component:
    errors = PanelsState.errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Set up a panel", size="5", as_="h2"),
                text_input("Name", "name", error=errors.get("name", ""), id="panel-name"),
                _textarea("Purpose (terms of reference)", "purpose"),
                _org_checkboxes("Member organisations", ORG_PREFIX, "organisation_ids"),
                rx.grid(
                    dynamic_select_input(
                        "Chair", "chair_user_id", PanelsState.people, error=errors.get("chair_user_id", "")
                    ),
                    dynamic_select_input(
                        "Deputy chair",
                        "deputy_chair_user_id",
                        PanelsState.people,
                        error=errors.get("deputy_chair_user_id", ""),
                        placeholder="No deputy",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.grid(
                    select_input(
                        "How often it meets", "cadence_preset", PRESET_OPTIONS, placeholder="Choose a pattern…"
                    ),
                    text_input(
                        "Or write the pattern (RRULE)",
                        "cadence_rrule",
                        error=errors.get("cadence_rrule", ""),
                        hint="For example FREQ=MONTHLY;BYDAY=2TU. Leave blank to use the pattern chosen.",
                    ),
                    text_input(
                        "First meeting on or after",
                        "cadence_starts_on",
                        type="date",
                        error=errors.get("cadence_starts_on", ""),
                    ),
                    text_input(
                        "Start time",
                        "start_time",
                        type="time",
                        default_value="10:00",
                        error=errors.get("start_time", ""),
                    ),
                    text_input(
                        "Length in minutes",
                        "duration_minutes",
                        type="number",
                        default_value="120",
                        error=errors.get("duration_minutes", ""),
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.grid(
                    text_input("Venue", "venue", error=errors.get("venue", "")),
                    text_input(
                        "Video link", "video_link", type="url", error=errors.get("video_link", ""), hint="https://…"
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                text_input(
                    "Quorum: organisations that must be present",
                    "quorum_min_organisations",
                    type="number",
                    default_value="2",
                    error=errors.get("quorum_min_organisations", ""),
                ),
                _org_checkboxes(
                    "Organisations that must be present for a quorum",
                    REQUIRED_PREFIX,
                    "quorum_required_organisation_ids",
                ),
                select_input(
                    "Purpose the panel's papers are shared for",
                    "sharing_purpose",
                    PURPOSE_OPTIONS,
                    error=errors.get("sharing_purpose", ""),
                ),
                _decision_checkboxes(),
                rx.hstack(
                    rx.button("Add the panel", type="submit"),
                    rx.button(
                        "Cancel", type="button", variant="soft", color_scheme="gray", on_click=PanelsState.toggle_form
                    ),
                    spacing="3",
                ),
                spacing="4",
                width="100%",
                align="stretch",
            ),
            on_submit=PanelsState.add_panel,
            no_validate=True,
            id="panel-form",
        ),
        width="100%",
    )


@rx.page(route=routes.PANELS, title=f"Panels · {PRODUCT_NAME}", on_load=PanelsState.load)
def panels_page() -> rx.Component:
    return page_shell(
        "Panels",
        rx.cond(
            PanelsState.can_manage,
            rx.cond(
                PanelsState.form_open,
                panel_form(),
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
