"""Pieces the action pages share: choices, the update fields, the evidence upload, and the
way an action and its history read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from panels.action_models import ActionParty, ActionSource, ActionStatus, ContactMethod
from panels.action_plans import ActionRead, ActionUpdateRead, OwnerChoice
from portal import routes
from portal.formatting import day_text, local_time

STATUS_OPTIONS = [(str(s), s.label) for s in ActionStatus]
PARTY_OPTIONS = [
    (str(ActionParty.AGENCY), "An agency"),
    (str(ActionParty.COMPLAINANT), "The complainant"),
]
SOURCE_OPTIONS = [(str(s), s.label) for s in ActionSource]
CONTACT_METHOD_OPTIONS = [(str(m), m.label) for m in ContactMethod]
EVIDENCE_ACCEPT = {"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]}
UPDATE_KIND_LABELS = {"added": "Added", "assigned": "Reassigned", "update": "Updated"}


def action_row(a: ActionRead, *, can_update: bool, latest: ActionUpdateRead | None = None) -> dict[str, str]:
    """An action as the pages show it (plain strings for State)."""
    owner = a.owner_organisation + (f": {a.owner_name}" if a.owner_name else "")
    if a.party == ActionParty.COMPLAINANT:
        owner = f"The complainant (followed up by {a.owner_organisation})"
    timing = (
        f"Overdue by {a.days_overdue} day{'' if a.days_overdue == 1 else 's'}"
        if a.overdue
        else "Due soon"
        if a.due_soon
        else ""
    )
    return {
        "id": str(a.id),
        "number": str(a.number),
        "case_id": str(a.case_id),
        "case_reference": a.case_reference,
        "description": a.description,
        "party": a.party_label,
        "owner": owner,
        "due": day_text(a.due_on),
        "status": a.status,
        "status_label": a.status_label,
        "open": "yes" if a.is_open else "",
        "timing": timing,
        "overdue": "yes" if a.overdue else "",
        "source": a.source_label,
        "href": routes.action(a.id),
        "plan_href": routes.case_plan(a.case_id),
        "can_update": "yes" if can_update else "",
        "latest": latest.note if latest is not None and latest.note else "",
        "latest_by": f"{latest.by_name}, {latest.by_organisation}, {local_time(latest.at)}"
        if latest is not None and latest.note
        else "",
        "updated": local_time(a.updated_at),
    }


def history_rows(updates: list[ActionUpdateRead]) -> list[dict[str, str]]:
    rows = []
    for u in updates:
        what = UPDATE_KIND_LABELS.get(u.kind, u.kind.capitalize())
        if u.kind == "update" and u.status_from != u.status_to and u.status_label:
            what = f"Marked {u.status_label.lower()}"
        rows.append(
            {
                "id": str(u.id),
                "when": local_time(u.at),
                "what": what,
                "status": u.status_label,
                "note": u.note,
                "by": ", ".join(p for p in (u.by_name, u.by_organisation) if p),
                "evidence": "Evidence attached" if u.document_id else "",
            }
        )
    return rows


def owner_options(choices: list[OwnerChoice]) -> list[dict[str, str]]:
    """One choice per organisation (its managers decide who) and per person, as ``org`` or ``org:user``."""
    options = []
    for choice in choices:
        options.append(
            {"value": str(choice.organisation_id), "label": f"{choice.organisation}: its managers choose who"}
        )
        options += [
            {"value": f"{choice.organisation_id}:{user_id}", "label": f"{choice.organisation}: {name}"}
            for user_id, name in choice.people
        ]
    return options


def parse_owner(raw: str) -> tuple[int, int | None] | None:
    """``org`` or ``org:user`` from an owner choice; ``None`` when nothing valid was chosen."""
    org, _, user = raw.partition(":")
    if not org.isdigit() or (user and not user.isdigit()):
        return None
    return int(org), int(user) if user else None


def parse_local_datetime(raw: str, zone: Any) -> datetime | None:
    """A ``datetime-local`` input's value, in the portal's time zone."""
    try:
        moment = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment is not None and moment.tzinfo is None else moment


def evidence_upload(upload_id: str, on_drop: Any, upload_name: Any, error: Any) -> rx.Component:
    # The label wraps the drop zone so its hidden file input is labelled; a click on it opens
    # the file chooser through the label (the zone's own click handler is off, or it would twice).
    return rx.vstack(
        rx.el.label(
            rx.upload(
                rx.vstack(
                    rx.text("Evidence (optional; PDF, PNG or JPEG): drop a file here or click to choose", size="2"),
                    rx.cond(upload_name != "", rx.text("Attached: ", upload_name, size="2", weight="medium")),
                    align="center",
                ),
                id=upload_id,
                max_files=1,
                accept=EVIDENCE_ACCEPT,
                on_drop=on_drop,
                no_click=True,
                border="1px dashed var(--gray-8)",
                padding="1em",
                width="100%",
            ),
            width="100%",
            display="block",
        ),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert")),
        width="100%",
    )


def status_badge(a: Any) -> rx.Component:
    return rx.hstack(
        rx.badge(a["status_label"], variant="surface", high_contrast=True),
        rx.cond(
            a["timing"] != "",
            rx.badge(
                a["timing"],
                color_scheme=rx.cond(a["overdue"] == "yes", "red", "orange"),
                variant="soft",
                high_contrast=True,
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


def history_list(rows: Any) -> rx.Component:
    return rx.vstack(
        rx.foreach(
            rows,
            lambda h: rx.box(
                rx.text(rx.text.strong(h["what"]), " · ", h["when"], " · ", h["by"], size="2"),
                rx.cond(h["note"] != "", rx.text(h["note"], size="2", white_space="pre-wrap")),
                rx.cond(h["evidence"] != "", rx.badge(h["evidence"], variant="soft", high_contrast=True)),
                border_left="3px solid var(--gray-6)",
                padding_left="0.75em",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )
