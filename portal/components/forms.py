"""Labelled form controls.  Every input has a visible label tied to it by id, and its error
message is announced and linked with aria-describedby."""

from __future__ import annotations

from typing import Any

import reflex as rx


def field_error(error: rx.Var[str] | str, field_id: str) -> rx.Component:
    """A field's error, announced at the field (``<field_id>-error``); when there is none, an
    empty hidden element with that id, so the field's ``aria-describedby`` always points at
    something."""
    return rx.cond(
        error != "",
        rx.text(error, color_scheme="red", size="2", id=f"{field_id}-error", role="alert"),
        rx.text("", id=f"{field_id}-error", class_name="visually-hidden"),
    )


def text_input(
    label: str,
    name: str,
    *,
    error: rx.Var[str] | str = "",
    type: str = "text",
    hint: str | rx.Var[str] = "",
    autocomplete: str = "off",
    default_value: str | rx.Var[str] | None = None,
    required: bool = False,
    **props: Any,
) -> rx.Component:
    field_id = props.pop("id", name.replace("_", "-"))
    input_props: dict[str, Any] = {}
    if default_value is not None:
        input_props["default_value"] = default_value
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        *(
            []
            if isinstance(hint, str) and not hint
            else [rx.text(hint, size="1", color_scheme="gray", id=f"{field_id}-hint")]
        ),
        rx.el.input(
            id=field_id,
            name=name,
            type=type,
            auto_complete=autocomplete,
            required=required,
            class_name="field-input",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-error"
            if isinstance(hint, str) and not hint
            else f"{field_id}-hint {field_id}-error",
            **input_props,
            **props,
        ),
        field_error(error, field_id),
        spacing="1",
        width="100%",
        align="stretch",
    )


def text_area(
    label: str, name: str, *, error: rx.Var[str] | str = "", hint: str = "", rows: int | str = 4
) -> rx.Component:
    """A labelled text area with its hint and its error (an empty, hidden error element when
    there is none, so ``aria-describedby`` always points at something)."""
    field_id = name.replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        *([rx.text(hint, size="1", color_scheme="gray", id=f"{field_id}-hint")] if hint else []),
        rx.el.textarea(
            id=field_id,
            name=name,
            rows=rows,
            class_name="field-input",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-hint {field_id}-error" if hint else f"{field_id}-error",
        ),
        field_error(error, field_id),
        spacing="1",
        width="100%",
        align="stretch",
    )


def select_input(
    label: str,
    name: str,
    options: list[tuple[str, str]],
    *,
    error: rx.Var[str] | str = "",
    placeholder: str = "Choose…",
    field_id: str = "",
    default_value: str | rx.Var[str] | None = None,
) -> rx.Component:
    field_id = field_id or name.replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(
            rx.el.option(placeholder, value=""),
            *[rx.el.option(text, value=value) for value, text in options],
            id=field_id,
            name=name,
            class_name="field-input",
            aria_describedby=f"{field_id}-error",
            **({} if default_value is None else {"default_value": default_value}),
        ),
        field_error(error, field_id),
        spacing="1",
        width="100%",
        align="stretch",
    )


def dynamic_select_input(
    label: str,
    name: str,
    options: rx.Var[list[dict[str, str]]] | list[dict[str, str]],
    *,
    error: rx.Var[str] | str = "",
    placeholder: str = "Choose…",
    field_id: str = "",
    default_value: str | rx.Var[str] | None = None,
) -> rx.Component:
    """A select whose options come from State (each option a dict with 'value' and 'label'),
    starting at ``default_value`` when given."""
    field_id = field_id or name.replace("_", "-")
    return rx.vstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(
            rx.el.option(placeholder, value=""),
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id=field_id,
            name=name,
            class_name="field-input",
            aria_describedby=f"{field_id}-error",
            **({} if default_value is None else {"default_value": default_value}),
        ),
        field_error(error, field_id),
        spacing="1",
        width="100%",
        align="stretch",
    )


def checkbox_group(
    legend: str, name_prefix: str, options: list[tuple[str, str]], *, error: rx.Var[str] | str = ""
) -> rx.Component:
    field_id = name_prefix.replace("_", "-")
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="field-label"),
        rx.vstack(
            *[
                rx.el.label(
                    rx.el.input(type="checkbox", name=f"{name_prefix}{value}", id=f"{field_id}-{value}", value="on"),
                    " " + text,
                    html_for=f"{field_id}-{value}",
                    class_name="checkbox-label",
                )
                for value, text in options
            ],
            spacing="1",
        ),
        rx.cond(
            error != "",
            rx.text(error, color_scheme="red", size="2", id=f"{field_id}-error", role="alert"),
        ),
        class_name="fieldset",
        aria_describedby=f"{field_id}-error",
    )


def dialog_buttons(submit_label: str) -> rx.Component:
    """The Cancel / submit row at the foot of every dialog form."""
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(submit_label, type="submit"),
        justify="end",
        width="100%",
    )


def ticked(value: object) -> bool:
    """Whether a submitted checkbox was ticked.  Browsers post "on"; Reflex sends the checked
    state (True/False) for a checkbox that has an id."""
    return value is True or (isinstance(value, str) and value.lower() in {"on", "true", "yes", "1"})


def reset_form(form_id: str) -> Any:
    """Clear a form after it was saved (if it is still on the page: the change may have
    taken it away)."""
    return rx.call_script(f"document.getElementById('{form_id}')?.reset()")
