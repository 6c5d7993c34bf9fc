"""The panel set-up form, shared by setting up a new panel (the Panels page) and changing one
(its own page): the same fields, labels and messages, prefilled from State when changing.

The form's inputs are uncontrolled: when the service refuses, only the messages change, so
everything the administrator typed or ticked stays as it was.

A partnership with more active people than the form lists finds the others by name or email:
the search box belongs to a small form of its own (the HTML ``form`` attribute), so pressing
Enter in it searches instead of saving, and the people found are added at the end of the list,
leaving what was already ticked or chosen where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx

from panels.meeting_pages import cadence_presets, decision_type_groups, find_panel_people
from panels.panel_config import DECISION_TYPES
from portal.components.forms import dynamic_select_input, field_error, select_input, text_input
from sharing.errors import InvalidInput
from sharing.vocabulary import PURPOSE_LABELS

PURPOSE_OPTIONS = [(str(p), label[:1].upper() + label[1:]) for p, label in PURPOSE_LABELS.items()]
PRESET_OPTIONS = cadence_presets()
ORG_PREFIX = "org_"
REQUIRED_PREFIX = "required_"
MEMBER_PREFIX = "member_"
DECISION_PREFIX = "decision_"

# What a new panel's form starts with.
NEW_PANEL_VALUES = {"start_time": "10:00", "duration_minutes": "120", "quorum_min_organisations": "2"}


# --- Reading the submitted form ------------------------------------------------------------------


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


def parse_panel_form(form_data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The set-up fields the form holds (keyword arguments of ``PanelInput``), and the
    problems found before the service is asked (numbers, dates, a missing pattern)."""
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
    fields: dict[str, Any] = {
        "name": str(form_data.get("name", "")),
        "purpose": str(form_data.get("purpose", "")),
        "organisation_ids": _ids(form_data, ORG_PREFIX),
        "member_user_ids": _ids(form_data, MEMBER_PREFIX),
        "chair_user_id": int(chair) if chair.isdigit() else None,
        "deputy_chair_user_id": int(deputy) if deputy.isdigit() else None,
        "cadence_rrule": rule,
        "cadence_starts_on": starts_on,
        "start_time": str(form_data.get("start_time", "")) or "10:00",
        "duration_minutes": duration,
        "venue": str(form_data.get("venue", "")),
        "video_link": str(form_data.get("video_link", "")),
        "quorum_min_organisations": quorum,
        "quorum_required_organisation_ids": _ids(form_data, REQUIRED_PREFIX),
        "sharing_purpose": str(form_data.get("sharing_purpose", "")),
        "decision_types": [
            k.removeprefix(DECISION_PREFIX)
            for k, v in form_data.items()
            if k.startswith(DECISION_PREFIX) and v and k.removeprefix(DECISION_PREFIX) in DECISION_TYPES
        ],
    }
    return fields, errors


def search_people(
    run: Callable[[Callable[..., Any]], Any], listed: list[dict[str, str]], form_data: dict[str, Any]
) -> tuple[list[dict[str, str]], str, str]:
    """Find people by the search box's words (through ``run``, a State's ``_run``): the list
    with those found added at its end, what to say, and the problem with the words, if any."""
    query = " ".join(str(form_data.get("people_query", "")).split())
    try:
        found = run(lambda session, actor: find_panel_people(session=session, actor=actor, query=query))
    except InvalidInput as error:
        return listed, "", error.field_errors.get("people_query", error.message)
    have = {p["value"] for p in listed}
    new = [{"value": str(i), "label": label, "member": ""} for i, label in found if str(i) not in have]
    if not found:
        message = f"Nobody active matches “{query}”."
    elif not new:
        message = f"Everyone matching “{query}” is already in the list."
    else:
        message = "Added at the end of the list: " + "; ".join(p["label"] for p in new) + "."
    return [*listed, *new], message, ""


# --- The form -----------------------------------------------------------------------------------


def _error(errors: Any, key: str) -> rx.Component:
    return rx.cond(
        errors.get(key, "") != "",
        rx.text(errors.get(key, ""), color_scheme="red", size="2", role="alert", id=f"{key}-error"),
    )


def _checkbox(name: Any, label: Any, checked: Any) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=name, default_checked=checked),
        " ",
        label,
        html_for=name,
        class_name="checkbox-label",
    )


def _org_checkboxes(
    legend: str, prefix: str, flag: str, organisations: Any, errors: Any, error_key: str
) -> rx.Component:
    """One checkbox per organisation, ticked where ``flag`` is "yes"."""
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="field-label"),
        rx.grid(
            rx.foreach(organisations, lambda o: _checkbox(prefix + o["value"], o["label"], o[flag] == "yes")),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="1",
        ),
        _error(errors, error_key),
        class_name="fieldset",
    )


@dataclass(frozen=True)
class PeopleFinder:
    """The State behind the search for people not listed: whether everyone is listed, what
    the last search found or what was wrong with it, and the handler that searches."""

    form_id: str
    everyone_listed: Any
    message: Any
    error: Any
    on_find: Any

    @property
    def search_form_id(self) -> str:
        return f"{self.form_id}-find-people"


def _people_search(finder: PeopleFinder) -> rx.Component:
    """Find someone not listed: the box and its button belong to the search form."""
    field_id = f"{finder.form_id}-people-query"
    return rx.vstack(
        rx.el.label("Find someone else by name or email", html_for=field_id, class_name="field-label"),
        rx.text(
            "Not everyone is listed. Those found are added here and to the chair's list; they must "
            "work for an organisation ticked above.",
            size="1",
            color_scheme="gray",
            id=f"{field_id}-hint",
        ),
        rx.hstack(
            rx.el.input(
                id=field_id,
                name="people_query",
                type="search",
                form=finder.search_form_id,
                auto_complete="off",
                class_name="field-input",
                aria_invalid=rx.cond(finder.error != "", "true", "false"),
                aria_describedby=f"{field_id}-hint {field_id}-error",
            ),
            rx.button("Find", type="submit", variant="soft", custom_attrs={"form": finder.search_form_id}),
            spacing="2",
            width="100%",
        ),
        field_error(finder.error, field_id),
        rx.text(finder.message, size="2", role="status", id=f"{field_id}-found"),
        spacing="1",
        width="100%",
        padding_top="2",
    )


def _member_checkboxes(people: Any, errors: Any, finder: PeopleFinder) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Named members (besides the organisations)", class_name="field-label"),
        rx.box(
            rx.grid(
                rx.foreach(people, lambda p: _checkbox(MEMBER_PREFIX + p["value"], p["label"], p["member"] == "yes")),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="1",
            ),
            max_height="16em",
            overflow_y="auto",
        ),
        _error(errors, "member_user_ids"),
        rx.cond(finder.everyone_listed, rx.fragment(), _people_search(finder)),
        class_name="fieldset",
    )


def _decision_checkboxes(decisions: Any, errors: Any) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Decisions the panel may make", class_name="field-label"),
        *[
            rx.vstack(
                rx.text(heading, weight="medium", size="2"),
                *[_checkbox(DECISION_PREFIX + key, label, decisions.contains(key)) for key, label in group],
                spacing="1",
                padding_bottom="2",
            )
            for heading, group in decision_type_groups()
        ],
        _error(errors, "decision_types"),
        class_name="fieldset",
    )


def _textarea(label: str, name: str, errors: Any, default_value: Any) -> rx.Component:
    field_id = name.replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.textarea(id=field_id, name=name, rows=3, class_name="field-input", default_value=default_value),
        _error(errors, name),
        spacing="1",
        width="100%",
    )


def panel_form(
    *,
    heading: str,
    submit_label: str,
    form_id: str,
    errors: Any,
    values: Any,
    decisions: Any,
    organisations: Any,
    people: Any,
    finder: PeopleFinder,
    on_submit: Any,
    on_cancel: Any,
) -> rx.Component:
    """The set-up form.  ``values`` is a State dict of the text fields' starting values,
    ``decisions`` the decision types ticked, ``organisations`` rows with ``member`` and
    ``required`` flags, ``people`` rows with a ``member`` flag ("yes" when ticked)."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading(heading, size="5", as_="h2"),
                text_input("Name", "name", error=errors.get("name", ""), id="panel-name", default_value=values["name"]),
                _textarea("Purpose (terms of reference)", "purpose", errors, values["purpose"]),
                _org_checkboxes(
                    "Member organisations", ORG_PREFIX, "member", organisations, errors, "organisation_ids"
                ),
                _member_checkboxes(people, errors, finder),
                rx.grid(
                    dynamic_select_input(
                        "Chair",
                        "chair_user_id",
                        people,
                        error=errors.get("chair_user_id", ""),
                        default_value=values["chair_user_id"],
                    ),
                    dynamic_select_input(
                        "Deputy chair",
                        "deputy_chair_user_id",
                        people,
                        error=errors.get("deputy_chair_user_id", ""),
                        placeholder="No deputy",
                        default_value=values["deputy_chair_user_id"],
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
                        default_value=values["cadence_rrule"],
                    ),
                    text_input(
                        "First meeting on or after",
                        "cadence_starts_on",
                        type="date",
                        error=errors.get("cadence_starts_on", ""),
                        default_value=values["cadence_starts_on"],
                    ),
                    text_input(
                        "Start time",
                        "start_time",
                        type="time",
                        default_value=values["start_time"],
                        error=errors.get("start_time", ""),
                    ),
                    text_input(
                        "Length in minutes",
                        "duration_minutes",
                        type="number",
                        default_value=values["duration_minutes"],
                        error=errors.get("duration_minutes", ""),
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                rx.grid(
                    text_input("Venue", "venue", error=errors.get("venue", ""), default_value=values["venue"]),
                    text_input(
                        "Video link",
                        "video_link",
                        type="url",
                        error=errors.get("video_link", ""),
                        hint="https://…",
                        default_value=values["video_link"],
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                text_input(
                    "Quorum: organisations that must be present",
                    "quorum_min_organisations",
                    type="number",
                    default_value=values["quorum_min_organisations"],
                    error=errors.get("quorum_min_organisations", ""),
                ),
                _org_checkboxes(
                    "Organisations that must be present for a quorum",
                    REQUIRED_PREFIX,
                    "required",
                    organisations,
                    errors,
                    "quorum_required_organisation_ids",
                ),
                select_input(
                    "Purpose the panel's papers are shared for",
                    "sharing_purpose",
                    PURPOSE_OPTIONS,
                    error=errors.get("sharing_purpose", ""),
                    default_value=values["sharing_purpose"],
                ),
                _decision_checkboxes(decisions, errors),
                rx.hstack(
                    rx.button(submit_label, type="submit"),
                    rx.button("Cancel", type="button", variant="soft", color_scheme="gray", on_click=on_cancel),
                    spacing="3",
                ),
                spacing="4",
                width="100%",
                align="stretch",
            ),
            on_submit=on_submit,
            no_validate=True,
            id=form_id,
        ),
        # The search for people not listed: its box and button sit in the form above.
        rx.form(on_submit=finder.on_find, id=finder.search_form_id, no_validate=True),
        width="100%",
    )
