"""Reports of anti-social behaviour: record one as received, then triage the queue (not ASB
with advice, log only, open a case, or add to an existing case)."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.case_list import CaseFilters, StatusFilter, list_cases
from panels.cases import CaseInput
from panels.triage import (
    ReportInput,
    TriageDecision,
    VictimConsentNeeded,
    list_recently_triaged,
    list_reports_awaiting_triage,
    record_report,
    triage_report,
)
from panels.vocabulary import CaseCategory, CaseType, NotAsbReason, ReportChannel, TriageOutcome
from portal import routes
from portal.auth_state import AuthState
from portal.case_params import local_input_value, parse_local_datetime
from portal.components.forms import (
    checkbox_group,
    dialog_buttons,
    dynamic_select_input,
    field_error,
    reset_form,
    select_input,
    text_area,
    text_input,
)
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor, Permission
from sharing.reads import read_items
from sharing.register import controlled_person_ids, person_details_item

CHANNEL_OPTIONS = [(c.value, c.label) for c in ReportChannel if c != ReportChannel.ANONYMOUS]
CATEGORY_OPTIONS = [(c.value, c.label) for c in CaseCategory]
TYPE_OPTIONS = [(t.value, t.label) for t in CaseType]
REASON_OPTIONS = [(r.value, r.label) for r in NotAsbReason]
TYPE_PREFIX = "type_"
EXCERPT = 160
BAD_TIME = "Enter the date and time, for example 10/06/2026 14:05."

# The service's field names where the dialog names them differently.
TRIAGE_FIELDS = {"case_id": "case_reference", "case": "types"}


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _person_label(name: str, address: str) -> str:
    return f"{name}, {address}" if address and address != "Not known" else name


class ReportsState(AuthState):
    people: list[dict[str, str]] = []
    awaiting: list[dict[str, str]] = []
    triaged: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    received_default: str = ""
    # The triage dialog.
    triage_open: bool = False
    triage_report_id: str = ""
    triage_title: str = ""
    triage_anonymous: bool = False
    triage_location: str = ""
    outcome: str = ""
    triage_errors: dict[str, str] = {}
    triage_refusal: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        if actor.can(Permission.SHARING_CONSENT_RECORD):
            ids = controlled_person_ids(session=session, actor=actor)
            item_ids = [i for i in (person_details_item(session, p).id for p in ids) if i is not None]
            views = read_items(session=session, actor=actor, item_ids=item_ids, via="report form")
            people = []
            for view in views:
                shown = {f.key: f.value for f in view.fields}
                people.append(
                    {
                        "value": str(view.person_id),
                        "label": _person_label(shown.get("name", ""), shown.get("address", "")),
                    }
                )
            self.people = sorted(people, key=lambda p: p["label"].lower())
        if actor.can(Permission.CASES_CASES_MANAGE):
            self.awaiting = [
                {
                    "id": str(r.report_id),
                    "received": local_time(r.received_at),
                    "channel": r.channel,
                    "reporter": r.reporter or "Anonymous",
                    "what": _excerpt(r.what_happened),
                    "where": r.location,
                    "anonymous": "1" if r.anonymous else "",
                }
                for r in list_reports_awaiting_triage(session=session, actor=actor, newest_first=True)
            ]
            self.triaged = [
                {
                    "id": str(r.report_id),
                    "received": local_time(r.received_at),
                    "triaged": local_time(r.triaged_at, empty=""),
                    "reporter": r.reporter or "Anonymous",
                    "what": _excerpt(r.what_happened),
                    "outcome": r.outcome,
                    "case_reference": r.case_reference,
                    "case_href": routes.case(r.case_id) if r.case_id is not None else "",
                }
                for r in list_recently_triaged(session=session, actor=actor)
            ]
        self.received_default = local_input_value(utcnow(), get_settings().timezone)
        return actor

    @rx.event
    def load(self) -> Any:
        self.errors = {}
        self.triage_open = False
        return self._load(self._reload)

    # --- Recording a report ------------------------------------------------------------------

    @rx.event
    def record(self, form_data: dict[str, Any]) -> Any:
        self.errors = {}
        errors: dict[str, str] = {}
        timezone = get_settings().timezone
        anonymous = form_data.get("anonymous") in (True, "on")
        channel = str(form_data.get("channel", ""))
        person_raw = str(form_data.get("reporter_person_id", ""))
        name = str(form_data.get("reporter_name", "")).strip()
        victim_raw = str(form_data.get("victim_person_id", ""))
        if anonymous:
            if channel == ReportChannel.THIRD_PARTY:
                errors["channel"] = "A report made on the victim's behalf says who made it: untick Anonymous."
            elif person_raw or name:
                errors["reporter_name"] = "Leave the name empty for an anonymous report, or untick Anonymous."
            channel = ReportChannel.ANONYMOUS
        elif person_raw and name:
            errors["reporter_name"] = "Choose a person on record or type a name, not both."
        if channel == "":
            errors["channel"] = "Choose how the report was made."
        times = {}
        for key in ("received_at", "occurred_at"):
            try:
                times[key] = parse_local_datetime(str(form_data.get(key, "")), timezone)
            except ValueError:
                errors[key] = BAD_TIME
        if errors:
            self.errors = errors
            return None
        data = ReportInput(
            channel=channel,
            what_happened=str(form_data.get("what_happened", "")),
            received_at=times["received_at"],
            occurred_at=times["occurred_at"],
            location=str(form_data.get("location", "")),
            reporter_person_id=int(person_raw) if person_raw.isdigit() else None,
            reporter_name=name,
            victim_person_id=int(victim_raw) if victim_raw.isdigit() else None,
        )

        def _act(session: Session, actor: Actor) -> None:
            record_report(session=session, actor=actor, data=data)
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        return [
            reset_form("report-form"),
            rx.toast.success("Report recorded. It is waiting for triage below."),
        ]

    # --- Triage ------------------------------------------------------------------------------

    @rx.event
    def open_triage(self, report_id: str) -> None:
        report = next((r for r in self.awaiting if r["id"] == report_id), None)
        if report is None:
            return
        self.triage_report_id = report_id
        self.triage_title = f"Report from {report['reporter']}, received {report['received']}"
        self.triage_anonymous = report["anonymous"] == "1"
        self.triage_location = report["where"] if report["where"] != "Not recorded" else ""
        self.outcome = ""
        self.triage_errors = {}
        self.triage_refusal = ""
        self.triage_open = True

    @rx.event
    def set_triage_open(self, value: bool) -> None:
        self.triage_open = value

    @rx.event
    def choose_outcome(self, value: str) -> None:
        self.outcome = value

    @rx.event
    def choose_reason(self, value: str) -> Any:
        """Put the policy's advice for the reason in the advice box, for the officer to edit."""
        try:
            advice = NotAsbReason(value).advice
        except ValueError:
            advice = ""
        return rx.call_script(f"document.getElementById('advice').value = {json.dumps(advice)}")

    @rx.event
    def triage(self, form_data: dict[str, Any]) -> Any:
        self.triage_errors, self.triage_refusal = {}, ""
        if not self.triage_report_id.isdigit():
            return None
        report_id = int(self.triage_report_id)
        outcome = str(form_data.get("outcome", ""))
        decision = TriageDecision(outcome=outcome)
        reference = ""
        if outcome == TriageOutcome.NOT_ASB:
            decision.not_asb_reason = str(form_data.get("not_asb_reason", "")) or None
            decision.advice = str(form_data.get("advice", ""))
        elif outcome == TriageOutcome.CASE_OPENED:
            decision.case = CaseInput(
                category=str(form_data.get("category", "")),
                types=[k.removeprefix(TYPE_PREFIX) for k, v in form_data.items() if k.startswith(TYPE_PREFIX) and v],
                location=str(form_data.get("location", "")),
                area=str(form_data.get("area", "")),
            )
        elif outcome == TriageOutcome.ADDED_TO_CASE:
            reference = str(form_data.get("case_reference", "")).strip()
            if not reference:
                self.triage_errors = {"case_reference": "Give the reference of the case to add the report to."}
                return None

        def _act(session: Session, actor: Actor) -> int | None:
            if reference:
                found = list_cases(
                    session=session,
                    actor=actor,
                    filters=CaseFilters(status=StatusFilter.ALL, search=reference),
                    page_size=100,
                )
                match = next((r for r in found.rows if r.reference.lower() == reference.lower()), None)
                if match is None:
                    raise InvalidInput({"case_reference": f"No case you can see has the reference {reference}."})
                decision.case_id = match.case_id
            report = triage_report(session=session, actor=actor, report_id=report_id, decision=decision)
            self._reload(session, actor)
            return report.case_id

        try:
            case_id = self._run(_act)
        except VictimConsentNeeded as error:
            self.triage_refusal = error.message
            return None
        except InvalidInput as error:
            self.triage_errors = {TRIAGE_FIELDS.get(k, k): v for k, v in error.field_errors.items()}
            return None
        except DomainError as error:
            return self._handle(error)
        if outcome == TriageOutcome.CASE_OPENED and case_id is not None:
            return rx.redirect(routes.case(case_id))
        self.triage_open = False
        label = TriageOutcome(outcome).label
        return rx.toast.success(f"Report triaged: {label[:1].lower() + label[1:]}.")


# --- The page --------------------------------------------------------------------------------


def _report_form() -> rx.Component:
    errors = ReportsState.errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Record a report", size="4", as_="h2"),
                rx.el.fieldset(
                    rx.el.legend("Who reported", class_name="field-label"),
                    rx.grid(
                        dynamic_select_input(
                            "A person on record",
                            "reporter_person_id",
                            ReportsState.people,
                            error=errors.get("reporter_person_id", ""),
                            placeholder="Not on record",
                        ),
                        text_input(
                            "Or their name",
                            "reporter_name",
                            error=errors.get("reporter_name", ""),
                            autocomplete="off",
                        ),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.el.label(
                        rx.el.input(type="checkbox", name="anonymous", id="report-anonymous"),
                        " Anonymous: the person did not give their name",
                        html_for="report-anonymous",
                        class_name="checkbox-label",
                    ),
                    class_name="fieldset",
                ),
                rx.grid(
                    select_input("How it was reported", "channel", CHANNEL_OPTIONS, error=errors.get("channel", "")),
                    text_input(
                        "When it was received",
                        "received_at",
                        type="datetime-local",
                        default_value=ReportsState.received_default,
                        error=errors.get("received_at", ""),
                    ),
                    text_input(
                        "When it happened (optional)",
                        "occurred_at",
                        type="datetime-local",
                        error=errors.get("occurred_at", ""),
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                text_area("What happened", "what_happened", error=errors.get("what_happened", "")),
                rx.grid(
                    text_input("Where", "location", error=errors.get("location", ""), hint="A street or an address"),
                    dynamic_select_input(
                        "Victim, for a report made on their behalf",
                        "victim_person_id",
                        ReportsState.people,
                        error=errors.get("victim_person_id", ""),
                        placeholder="Not a third-party report",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Record report", type="submit"),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=ReportsState.record,
            no_validate=True,
            id="report-form",
        ),
        width="100%",
    )


def _outcome_option(value: str, label: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="radio",
            name="outcome",
            value=value,
            id=f"outcome-{value}",
            on_change=ReportsState.choose_outcome(value),
        ),
        " " + label,
        html_for=f"outcome-{value}",
        class_name="checkbox-label",
    )


def _section(outcome: TriageOutcome, *children: rx.Component) -> rx.Component:
    """The fields of one outcome, kept in the form (and what was typed in them) while hidden."""
    return rx.box(
        rx.vstack(*children, spacing="3", width="100%"),
        display=rx.cond(ReportsState.outcome == outcome.value, "block", "none"),
        width="100%",
    )


def _triage_dialog() -> rx.Component:
    errors = ReportsState.triage_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Triage"),
            rx.dialog.description(ReportsState.triage_title, size="2"),
            rx.cond(
                ReportsState.triage_refusal != "",
                rx.callout(
                    rx.vstack(
                        rx.text(ReportsState.triage_refusal, weight="medium"),
                        rx.link("Record the victim's consent on the People page", href=routes.PEOPLE),
                        spacing="1",
                    ),
                    icon="ban",
                    color_scheme="red",
                    high_contrast=True,
                    role="alert",
                    id="triage-refusal",
                    width="100%",
                    margin_top="1em",
                ),
            ),
            rx.form(
                rx.vstack(
                    rx.el.fieldset(
                        rx.el.legend("What becomes of the report", class_name="field-label"),
                        rx.vstack(
                            rx.cond(
                                ReportsState.triage_anonymous,
                                _outcome_option(TriageOutcome.LOG_ONLY, "Log only (anonymous, no feedback)"),
                                _outcome_option(TriageOutcome.NOT_ASB, TriageOutcome.NOT_ASB.label),
                            ),
                            _outcome_option(TriageOutcome.CASE_OPENED, "Open a case"),
                            _outcome_option(TriageOutcome.ADDED_TO_CASE, "Add to an existing case"),
                            spacing="1",
                        ),
                        field_error(errors.get("outcome", ""), "outcome"),
                        class_name="fieldset",
                    ),
                    _section(
                        TriageOutcome.NOT_ASB,
                        rx.vstack(
                            rx.el.label(
                                "Why it is not anti-social behaviour",
                                html_for="not-asb-reason",
                                class_name="field-label",
                            ),
                            rx.el.select(
                                rx.el.option("Choose…", value=""),
                                *[rx.el.option(text, value=value) for value, text in REASON_OPTIONS],
                                id="not-asb-reason",
                                name="not_asb_reason",
                                class_name="field-input",
                                aria_describedby="not-asb-reason-error",
                                on_change=ReportsState.choose_reason,
                            ),
                            field_error(errors.get("not_asb_reason", ""), "not-asb-reason"),
                            spacing="1",
                            width="100%",
                            align="stretch",
                        ),
                        text_area(
                            "Advice given",
                            "advice",
                            error=errors.get("advice", ""),
                            hint="The policy's words for the reason; change them to what you told the person.",
                        ),
                    ),
                    _section(
                        TriageOutcome.CASE_OPENED,
                        select_input("Category", "category", CATEGORY_OPTIONS, error=errors.get("category", "")),
                        checkbox_group("Types of behaviour", TYPE_PREFIX, TYPE_OPTIONS, error=errors.get("types", "")),
                        rx.grid(
                            text_input(
                                "Location",
                                "location",
                                id="case-location",
                                default_value=ReportsState.triage_location,
                                error=errors.get("location", ""),
                            ),
                            text_input("Area (optional)", "area", id="case-area", error=errors.get("area", "")),
                            columns="2",
                            spacing="3",
                            width="100%",
                        ),
                    ),
                    _section(
                        TriageOutcome.ADDED_TO_CASE,
                        text_input(
                            "Case reference",
                            "case_reference",
                            hint="For example ASB-2026-0001. A closed case is re-opened.",
                            error=errors.get("case_reference", ""),
                        ),
                    ),
                    dialog_buttons("Save triage"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ReportsState.triage,
                no_validate=True,
                id="triage-form",
            ),
            max_width="720px",
        ),
        open=ReportsState.triage_open,
        on_open_change=ReportsState.set_triage_open,
    )


def _awaiting() -> rx.Component:
    return rx.vstack(
        rx.heading("Awaiting triage", size="5", as_="h2"),
        rx.cond(
            ReportsState.awaiting.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Received", "How", "Reported by", "What happened", "Where", "")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        ReportsState.awaiting,
                        lambda r: rx.table.row(
                            rx.table.row_header_cell(r["received"]),
                            rx.table.cell(r["channel"]),
                            rx.table.cell(r["reporter"]),
                            rx.table.cell(r["what"]),
                            rx.table.cell(r["where"]),
                            rx.table.cell(
                                rx.button(
                                    "Triage",
                                    size="1",
                                    on_click=ReportsState.open_triage(r["id"]),
                                    aria_label="Triage the report from "
                                    + r["reporter"]
                                    + ", received "
                                    + r["received"],
                                )
                            ),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No reports are waiting for triage."),
        ),
        width="100%",
        spacing="3",
    )


def _recently_triaged() -> rx.Component:
    return rx.vstack(
        rx.heading("Recently triaged", size="5", as_="h2"),
        rx.cond(
            ReportsState.triaged.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Triaged", "Received", "Reported by", "What happened", "Outcome", "Case")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        ReportsState.triaged,
                        lambda r: rx.table.row(
                            rx.table.row_header_cell(r["triaged"]),
                            rx.table.cell(r["received"]),
                            rx.table.cell(r["reporter"]),
                            rx.table.cell(r["what"]),
                            rx.table.cell(r["outcome"]),
                            rx.table.cell(
                                rx.cond(
                                    r["case_href"] != "",
                                    rx.link(
                                        rx.cond(r["case_reference"] != "", r["case_reference"], "Case"),
                                        href=r["case_href"],
                                    ),
                                    rx.text("None", color_scheme="gray"),
                                )
                            ),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No reports have been triaged yet."),
        ),
        width="100%",
        spacing="3",
    )


@rx.page(route=routes.REPORTS, title=f"Reports · {PRODUCT_NAME}", on_load=ReportsState.load)
def reports_page() -> rx.Component:
    return page_shell(
        "Reports",
        rx.cond(
            AuthState.can_record_reports,
            _report_form(),
            empty_state("Your role does not record reports.", "Reports are recorded by the teams that lead cases."),
        ),
        rx.cond(AuthState.can_manage_cases, rx.fragment(_awaiting(), _recently_triaged())),
        _triage_dialog(),
        subtitle="Record every report as it comes in, then decide what becomes of it.",
    )
