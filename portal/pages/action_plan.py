"""A case's action plan (Welwyn 003 §8.5): what the agencies and the complainant will do, by
when; its agreement with the complainant and its reviews; contact with the victim.

The lead organisation sees and changes the whole plan.  A partner sees the whole plan only
when it was shared with them, and otherwise just the actions their organisation owns; they
update their own actions.  The services decide all of it."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx
from sqlmodel import Session

from panels.action_models import ActionParty
from panels.action_plans import (
    ActionInput,
    EvidenceFile,
    PlanRead,
    action_history,
    add_action,
    agree_action_plan,
    assign_action,
    get_action_plan,
    list_action_owners,
    record_victim_contact,
    review_action_plan,
    update_action,
)
from panels.panels import list_panels
from portal import routes
from portal.auth_state import AuthState
from portal.components.action_forms import (
    CONTACT_METHOD_OPTIONS,
    PARTY_OPTIONS,
    SOURCE_OPTIONS,
    STATUS_OPTIONS,
    action_row,
    evidence_upload,
    history_list,
    history_rows,
    owner_options,
    parse_local_datetime,
    parse_owner,
    status_badge,
)
from portal.components.forms import dynamic_select_input, reset_form, select_input, text_area, text_input
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import day_text
from sharing.config import get_settings
from sharing.errors import DomainError, InvalidInput
from sharing.models import Role
from sharing.permissions import Actor, Permission

UPLOAD_ID = "plan-evidence-upload"
DATE_MESSAGE = "Enter the date as day, month and year."


def parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def may_update(actor: Actor, plan: PlanRead, owner_organisation_id: int, owner_user_id: int | None) -> bool:
    """Whether to offer the update form (the service decides; this only spares a refusal)."""
    return (
        plan.can_manage
        or (actor.user_id is not None and actor.user_id == owner_user_id)
        or (Role.MANAGER in actor.roles and actor.organisation_id == owner_organisation_id)
    )


class ActionPlanState(AuthState):
    case_id: int = 0
    case_href: str = ""
    reference: str = ""
    refused: str = ""
    partial: bool = False
    can_manage: bool = False
    agreed: bool = False
    agreement: str = ""
    review: str = ""
    agency_actions: list[dict[str, str]] = []
    complainant_actions: list[dict[str, str]] = []
    histories: dict[str, list[dict[str, str]]] = {}
    owners: list[dict[str, str]] = []
    panels: list[dict[str, str]] = []
    add_errors: dict[str, str] = {}
    plan_errors: dict[str, str] = {}
    contact_errors: dict[str, str] = {}
    update_open: bool = False
    update_action_id: int = 0
    update_label: str = ""
    update_errors: dict[str, str] = {}
    assign_open: bool = False
    assign_action_id: int = 0
    assign_label: str = ""
    assign_errors: dict[str, str] = {}
    upload_name: str = ""
    _upload: tuple[str, str, bytes] | None = None

    def _reload(self, session: Session, actor: Actor) -> Actor:
        plan = get_action_plan(session=session, actor=actor, case_id=self.case_id)
        self.reference = plan.case_reference
        self.partial = plan.partial
        self.can_manage = plan.can_manage
        self.agreed = plan.agreed_on is not None
        if plan.agreed_on is not None:
            self.agreement = f"Agreed with the complainant on {day_text(plan.agreed_on)}."
        elif plan.due_to_agree_by is not None:
            self.agreement = (
                f"Not yet agreed with the complainant: due to be agreed by {day_text(plan.due_to_agree_by)}."
            )
        else:
            self.agreement = ""
        self.review = (
            (f"Last reviewed on {day_text(plan.last_reviewed_on)}. " if plan.last_reviewed_on else "Not yet reviewed. ")
            + f"Next review due by {day_text(plan.next_review_on)}."
            if plan.next_review_on is not None
            else ""
        )
        agency: list[dict[str, str]] = []
        complainant: list[dict[str, str]] = []
        histories: dict[str, list[dict[str, str]]] = {}
        for a in plan.actions:
            can = may_update(actor, plan, a.owner_organisation_id, a.owner_user_id)
            updates = action_history(session=session, actor=actor, action_id=a.id) if can else []
            latest = next((u for u in reversed(updates) if u.kind == "update"), None)
            row = action_row(a, can_update=can, latest=latest)
            histories[str(a.id)] = history_rows(updates)
            (complainant if a.party == ActionParty.COMPLAINANT else agency).append(row)
        self.agency_actions, self.complainant_actions, self.histories = agency, complainant, histories
        if plan.can_manage:
            self.owners = owner_options(list_action_owners(session=session, actor=actor, case_id=self.case_id))
            self.panels = (
                [{"value": str(p.id), "label": p.name} for p in list_panels(session=session, actor=actor)]
                if actor.can(Permission.PANELS_PANELS_READ)
                else []
            )
        else:
            self.owners, self.panels = [], []
        return actor

    @rx.event
    def load(self) -> Any:
        raw = self._route_arg("case_id")
        self.refused = ""
        self.agency_actions, self.complainant_actions, self.histories = [], [], {}
        self.add_errors, self.plan_errors, self.contact_errors = {}, {}, {}
        self.update_open = self.assign_open = False
        if not raw.isdigit():
            self.refused = "There is no such case."
            return self._show_signed_in()
        self.case_id = int(raw)
        self.case_href = routes.case(self.case_id)
        return self._load_in_page(self._reload, self._refuse)

    def _refuse(self, message: str) -> None:
        self.refused = message

    def _act(self, change: Any, errors_field: str) -> Any:
        """Run one change and reload the plan in the same transaction; field errors go to
        ``errors_field``.  Returns True when it went through."""

        def _do(session: Session, actor: Actor) -> None:
            change(session, actor)
            self._reload(session, actor)

        try:
            self._run(_do)
        except InvalidInput as error:
            setattr(self, errors_field, error.field_errors)
            return False
        except DomainError as error:
            return self._handle(error)
        setattr(self, errors_field, {})
        return True

    @rx.event
    def add(self, form_data: dict[str, Any]) -> Any:
        errors: dict[str, str] = {}
        due_on = parse_date(str(form_data.get("due_on", "")))
        if due_on is None:
            errors["due_on"] = "Give the day the action is due, as day, month and year."
        owner = parse_owner(str(form_data.get("owner", "")))
        if owner is None:
            errors["owner_organisation_id"] = "Choose who will do it."
        panel = str(form_data.get("source_panel_id", ""))
        if errors or due_on is None or owner is None:
            self.add_errors = errors
            return None
        data = ActionInput(
            description=str(form_data.get("description", "")),
            due_on=due_on,
            owner_organisation_id=owner[0],
            owner_user_id=owner[1],
            party=str(form_data.get("party", "")),
            source=str(form_data.get("source", "")),
            source_panel_id=int(panel) if panel.isdigit() else None,
        )
        done = self._act(
            lambda session, actor: add_action(session=session, actor=actor, case_id=self.case_id, data=data),
            "add_errors",
        )
        if done is not True:
            return done
        return [
            reset_form("add-action-form"),
            rx.toast.success("Action added. Its owner has been told."),
        ]

    @rx.event
    def agree(self, form_data: dict[str, Any]) -> Any:
        agreed_on = parse_date(str(form_data.get("agreed_on", "")))
        if agreed_on is None:
            self.plan_errors = {"agreed_on": DATE_MESSAGE}
            return None
        done = self._act(
            lambda session, actor: agree_action_plan(
                session=session, actor=actor, case_id=self.case_id, agreed_on=agreed_on
            ),
            "plan_errors",
        )
        return rx.toast.success("The plan's agreement is recorded.") if done is True else done

    @rx.event
    def record_review(self, form_data: dict[str, Any]) -> Any:
        reviewed_on = parse_date(str(form_data.get("reviewed_on", "")))
        if reviewed_on is None:
            self.plan_errors = {"reviewed_on": DATE_MESSAGE}
            return None
        done = self._act(
            lambda session, actor: review_action_plan(
                session=session, actor=actor, case_id=self.case_id, reviewed_on=reviewed_on
            ),
            "plan_errors",
        )
        return rx.toast.success("The plan's review is recorded.") if done is True else done

    @rx.event
    def record_contact(self, form_data: dict[str, Any]) -> Any:
        contacted_at = parse_local_datetime(str(form_data.get("contacted_at", "")), ZoneInfo(get_settings().timezone))
        if contacted_at is None:
            self.contact_errors = {"contacted_at": "Give the day and time of the contact."}
            return None
        method = str(form_data.get("method", ""))
        progress = form_data.get("progress_update") == "on"
        done = self._act(
            lambda session, actor: record_victim_contact(
                session=session, actor=actor, case_id=self.case_id, contacted_at=contacted_at, method=method,
                progress_update=progress,
            ),
            "contact_errors",
        )  # fmt: skip
        if done is not True:
            return done
        return [
            reset_form("contact-form"),
            rx.toast.success("Contact with the victim recorded."),
        ]

    @rx.event
    def open_update(self, action_id: str, number: str) -> None:
        self.update_action_id = int(action_id)
        self.update_label = f"Update action {number}"
        self.update_errors = {}
        self.upload_name = ""
        self._upload = None
        self.update_open = True

    @rx.event
    def set_update_open(self, value: bool) -> None:
        self.update_open = value

    @rx.event
    async def receive_evidence(self, files: list[rx.UploadFile]) -> None:
        if not files:
            return
        upload = files[0]
        content = await upload.read()
        self._upload = (upload.name or "evidence", upload.content_type or "", content)
        self.upload_name = upload.name or "evidence"

    @rx.event
    def save_update(self, form_data: dict[str, Any]) -> Any:
        status = str(form_data.get("status", ""))
        note = str(form_data.get("note", ""))
        upload = self._upload
        evidence = EvidenceFile(upload[0], upload[1], upload[2]) if upload is not None else None
        action_id = self.update_action_id
        done = self._act(
            lambda session, actor: update_action(
                session=session, actor=actor, action_id=action_id, status=status, note=note, evidence=evidence
            ),
            "update_errors",
        )
        if done is not True:
            return done
        self._upload = None
        self.upload_name = ""
        self.update_open = False
        return rx.toast.success("The action is updated.")

    @rx.event
    def open_assign(self, action_id: str, number: str) -> None:
        self.assign_action_id = int(action_id)
        self.assign_label = f"Reassign action {number}"
        self.assign_errors = {}
        self.assign_open = True

    @rx.event
    def set_assign_open(self, value: bool) -> None:
        self.assign_open = value

    @rx.event
    def save_assign(self, form_data: dict[str, Any]) -> Any:
        owner = parse_owner(str(form_data.get("owner", "")))
        raw_due = str(form_data.get("due_on", ""))
        due_on = parse_date(raw_due)
        if owner is None or (raw_due and due_on is None):
            self.assign_errors = {
                **({"owner_organisation_id": "Choose who will do it."} if owner is None else {}),
                **({"due_on": DATE_MESSAGE} if raw_due and due_on is None else {}),
            }
            return None
        action_id = self.assign_action_id
        done = self._act(
            lambda session, actor: assign_action(
                session=session, actor=actor, action_id=action_id, owner_organisation_id=owner[0],
                owner_user_id=owner[1], due_on=due_on,
            ),
            "assign_errors",
        )  # fmt: skip
        if done is not True:
            return done
        self.assign_open = False
        return rx.toast.success("The action has a new owner, who has been told.")


# --- The page -----------------------------------------------------------------------------------


def _action_card(a: Any) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Action ", a["number"], size="4", as_="h3"),
                status_badge(a),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            rx.text(a["description"], white_space="pre-wrap"),
            rx.text(
                rx.text.strong("Who: "),
                a["owner"],
                " · ",
                rx.text.strong("Due: "),
                a["due"],
                " · ",
                rx.text.strong("From: "),
                a["source"],
                size="2",
            ),
            rx.cond(
                a["latest"] != "",
                rx.box(
                    rx.text(rx.text.strong("Latest update: "), a["latest"], size="2", white_space="pre-wrap"),
                    rx.text(a["latest_by"], size="1", color_scheme="gray"),
                    class_name="latest-update",
                ),
            ),
            rx.cond(
                a["can_update"] == "yes",
                rx.hstack(
                    rx.button(
                        "Update",
                        size="2",
                        variant="soft",
                        on_click=ActionPlanState.open_update(a["id"], a["number"]),
                        aria_label="Update action " + a["number"],
                    ),
                    rx.cond(
                        ActionPlanState.can_manage & (a["open"] == "yes"),
                        rx.button(
                            "Reassign",
                            size="2",
                            variant="soft",
                            color_scheme="gray",
                            on_click=ActionPlanState.open_assign(a["id"], a["number"]),
                            aria_label="Reassign action " + a["number"],
                        ),
                    ),
                    rx.link("Open action " + a["number"], href=a["href"], size="2"),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
            ),
            rx.cond(
                a["can_update"] == "yes",
                rx.el.details(
                    rx.el.summary("History of action ", a["number"], class_name="details-summary"),
                    history_list(ActionPlanState.histories[a["id"]]),
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _actions_section(title: str, rows: Any, empty: str, section_id: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="5", as_="h2", id=section_id),
        rx.cond(
            rows.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(rx.foreach(rows, _action_card), spacing="3", width="100%"),
            empty_state(empty),
        ),
        width="100%",
        spacing="3",
    )


def _plan_summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Agreement and review", size="4", as_="h2"),
            rx.cond(ActionPlanState.agreement != "", rx.text(ActionPlanState.agreement, id="plan-agreement")),
            rx.cond(ActionPlanState.review != "", rx.text(ActionPlanState.review, id="plan-review")),
            rx.text(
                "The plan says what the agencies will do and what the complainant agrees to do, each by a date.",
                size="2",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _lead_forms() -> rx.Component:
    errors = ActionPlanState.plan_errors
    contact = ActionPlanState.contact_errors
    return rx.grid(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Agreement with the complainant", size="3", as_="h3"),
                    text_input("Agreed on", "agreed_on", type="date", error=errors.get("agreed_on", "")),
                    rx.button("Record agreement", type="submit"),
                    spacing="2",
                    align="start",
                    width="100%",
                ),
                on_submit=ActionPlanState.agree,
                no_validate=True,
            ),
        ),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Review of the plan", size="3", as_="h3"),
                    text_input("Reviewed on", "reviewed_on", type="date", error=errors.get("reviewed_on", "")),
                    rx.button("Record review", type="submit"),
                    spacing="2",
                    align="start",
                    width="100%",
                ),
                on_submit=ActionPlanState.record_review,
                no_validate=True,
            ),
        ),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Contact with the victim", size="3", as_="h3"),
                    text_input(
                        "When",
                        "contacted_at",
                        type="datetime-local",
                        error=contact.get("contacted_at", ""),
                        id="contacted-at",
                    ),
                    select_input("How", "method", CONTACT_METHOD_OPTIONS, error=contact.get("method", "")),
                    rx.el.label(
                        rx.el.input(type="checkbox", name="progress_update", id="progress-update"),
                        " Updated them on progress",
                        html_for="progress-update",
                        class_name="checkbox-label",
                    ),
                    rx.button("Record contact", type="submit"),
                    spacing="2",
                    align="start",
                    width="100%",
                ),
                on_submit=ActionPlanState.record_contact,
                no_validate=True,
                id="contact-form",
            ),
        ),
        columns=rx.breakpoints(initial="1", md="3"),
        spacing="4",
        width="100%",
    )


def _add_form() -> rx.Component:
    errors = ActionPlanState.add_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add an action", size="4", as_="h2"),
                rx.cond(
                    errors.get("case", "") != "",
                    rx.callout(errors.get("case", ""), icon="triangle-alert", color_scheme="red", high_contrast=True),
                ),
                text_area("What will be done", "description", error=errors.get("description", ""), rows="3"),
                rx.grid(
                    select_input("Who undertakes it", "party", PARTY_OPTIONS, error=errors.get("party", "")),
                    dynamic_select_input(
                        "Owner (organisation and person)",
                        "owner",
                        ActionPlanState.owners,
                        error=errors.get("owner_organisation_id", "") + errors.get("owner_user_id", ""),
                    ),
                    text_input("Due on", "due_on", type="date", error=errors.get("due_on", ""), id="add-due-on"),
                    select_input("Where it came from", "source", SOURCE_OPTIONS, error=errors.get("source", "")),
                    dynamic_select_input(
                        "Panel that agreed it (panel decisions only)",
                        "source_panel_id",
                        ActionPlanState.panels,
                        error=errors.get("source_panel_id", ""),
                        placeholder="Not from a panel",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Add action", type="submit"),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=ActionPlanState.add,
            no_validate=True,
            id="add-action-form",
        ),
        width="100%",
    )


def _update_dialog() -> rx.Component:
    errors = ActionPlanState.update_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ActionPlanState.update_label),
            rx.form(
                rx.vstack(
                    select_input("New status", "status", STATUS_OPTIONS, error=errors.get("status", "")),
                    text_area(
                        "What was done",
                        "note",
                        error=errors.get("note", ""),
                        hint="Say what happened, or why it could not be done.",
                    ),
                    evidence_upload(
                        UPLOAD_ID,
                        ActionPlanState.receive_evidence(rx.upload_files(upload_id=UPLOAD_ID)),  # type: ignore[call-arg]
                        ActionPlanState.upload_name,
                        errors.get("evidence", ""),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save update", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=ActionPlanState.save_update,
                no_validate=True,
            ),
            max_width="640px",
        ),
        open=ActionPlanState.update_open,
        on_open_change=ActionPlanState.set_update_open,
    )


def _assign_dialog() -> rx.Component:
    errors = ActionPlanState.assign_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ActionPlanState.assign_label),
            rx.form(
                rx.vstack(
                    rx.cond(
                        errors.get("status", "") != "",
                        rx.text(errors.get("status", ""), color_scheme="red", size="2", role="alert"),
                    ),
                    dynamic_select_input(
                        "New owner",
                        "owner",
                        ActionPlanState.owners,
                        error=errors.get("owner_organisation_id", "") + errors.get("owner_user_id", ""),
                    ),
                    text_input(
                        "New due date (optional)",
                        "due_on",
                        type="date",
                        error=errors.get("due_on", ""),
                        id="assign-due-on",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Reassign", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=ActionPlanState.save_assign,
                no_validate=True,
            ),
            max_width="560px",
        ),
        open=ActionPlanState.assign_open,
        on_open_change=ActionPlanState.set_assign_open,
    )


@rx.page(route=routes.CASE_PLAN, title=f"Action plan · {PRODUCT_NAME}", on_load=ActionPlanState.load)
def action_plan_page() -> rx.Component:
    return page_shell(
        "Action plan",
        rx.cond(
            ActionPlanState.refused != "",
            rx.callout(ActionPlanState.refused, icon="lock", color_scheme="red", high_contrast=True, role="alert"),
            rx.vstack(
                rx.hstack(
                    rx.heading("Case ", ActionPlanState.reference, size="5", as_="h2", id="plan-case"),
                    rx.cond(
                        ~ActionPlanState.partial,
                        rx.link("Open the case", href=ActionPlanState.case_href),
                    ),
                    spacing="4",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(
                    ActionPlanState.partial,
                    rx.callout(
                        "The rest of this plan has not been shared with your organisation: you see the actions "
                        "it owns.",
                        icon="info",
                        color_scheme="blue",
                        high_contrast=True,
                        width="100%",
                    ),
                    _plan_summary(),
                ),
                rx.cond(ActionPlanState.can_manage, _lead_forms()),
                _actions_section(
                    "What the agencies will do",
                    ActionPlanState.agency_actions,
                    "No actions for the agencies yet.",
                    "agency-actions",
                ),
                rx.cond(
                    ~ActionPlanState.partial,
                    _actions_section(
                        "What the complainant agrees to do",
                        ActionPlanState.complainant_actions,
                        "Nothing for the complainant yet.",
                        "complainant-actions",
                    ),
                ),
                rx.cond(ActionPlanState.can_manage, _add_form()),
                spacing="5",
                width="100%",
            ),
        ),
        _update_dialog(),
        _assign_dialog(),
        subtitle="What the agencies and the complainant will do, by when, and what became of it.",
    )
