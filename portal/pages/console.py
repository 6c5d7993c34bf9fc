"""The information-sharing officer's console: approvals, emergency reviews, every disclosure
(filterable, exportable as CSV) and the access log of a person."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dialog_buttons
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.console import (
    STATUS_LABELS,
    DisclosureFilter,
    DisclosureRow,
    access_log_csv,
    access_log_for_person,
    disclosures_csv,
    list_disclosures,
    list_organisation_names,
    list_people_for_console,
)
from sharing.db import utcnow
from sharing.disclosures import decide_disclosure, review_emergency_disclosure
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor
from sharing.register import flag_expired_consent
from sharing.vocabulary import BASIS_LABELS, DisclosureStatus

STATUS_OPTIONS = [(str(s), label) for s, label in STATUS_LABELS.items()]
BASIS_OPTIONS = [(str(b), label) for b, label in BASIS_LABELS.items()]


def _row(r: DisclosureRow) -> dict[str, str]:
    return {
        "id": str(r.id),
        "status": r.status,
        "status_label": r.status_label,
        "from": r.discloser,
        "to": r.recipient,
        "purpose": r.purpose,
        "basis": r.basis,
        "what": r.what,
        "why": r.justification or r.refusal_reason,
        "requested_by": r.requested_by,
        "when": local_time(r.requested_at),
        "decided_by": r.decided_by,
        "due": local_time(r.review_due_at, empty=""),
    }


class ConsoleState(AuthState):
    awaiting: list[dict[str, str]] = []
    emergencies: list[dict[str, str]] = []
    disclosures: list[dict[str, str]] = []
    people: list[dict[str, str]] = []
    access_rows: list[dict[str, str]] = []
    filter_status: str = ""
    filter_basis: str = ""
    filter_organisation: str = ""
    filter_person: str = ""
    organisations: list[dict[str, str]] = []
    access_person: str = ""
    decision_open: bool = False
    decision_id: int = 0
    decision_kind: str = ""
    decision_error: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        flag_expired_consent(session=session, actor=actor, today=utcnow().date())
        everything = list_disclosures(session=session, actor=actor)
        self.awaiting = [_row(r) for r in everything if r.status == DisclosureStatus.AWAITING_APPROVAL]
        self.emergencies = [_row(r) for r in everything if r.status == DisclosureStatus.EMERGENCY]
        filtered = list_disclosures(session=session, actor=actor, filters=self._filters())
        self.disclosures = [_row(r) for r in filtered]
        self.organisations = [{"value": str(i), "label": name} for i, name in list_organisation_names(session=session)]
        self.people = [
            {"value": str(i), "label": f"{name} ({controller})"}
            for i, name, controller in list_people_for_console(session=session, actor=actor)
        ]
        if self.access_person.isdigit():
            self.access_rows = [
                {
                    "when": local_time(a.when),
                    "who": a.who,
                    "organisation": a.organisation,
                    "item": a.item,
                    "via": a.via,
                    "outcome": a.outcome,
                    "disclosure": str(a.disclosure_id or ""),
                    "withheld": a.withheld,
                }
                for a in access_log_for_person(session=session, actor=actor, person_id=int(self.access_person))
            ]
        else:
            self.access_rows = []
        return actor

    def _filters(self) -> DisclosureFilter:
        return DisclosureFilter(
            status=self.filter_status,
            basis=self.filter_basis,
            organisation_id=int(self.filter_organisation) if self.filter_organisation.isdigit() else None,
            person_id=int(self.filter_person) if self.filter_person.isdigit() else None,
        )

    def _refresh(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def load(self) -> Any:
        return self._refresh()

    @rx.event
    def set_filter_status(self, value: str) -> Any:
        self.filter_status = value
        return self._refresh()

    @rx.event
    def set_filter_basis(self, value: str) -> Any:
        self.filter_basis = value
        return self._refresh()

    @rx.event
    def set_filter_organisation(self, value: str) -> Any:
        self.filter_organisation = value
        return self._refresh()

    @rx.event
    def set_filter_person(self, value: str) -> Any:
        self.filter_person = value
        return self._refresh()

    @rx.event
    def show_access_log(self, value: str) -> Any:
        self.access_person = value
        return self._refresh()

    @rx.event
    def export_csv(self) -> Any:
        filters = self._filters()
        try:
            text = self._run(
                lambda session, actor: disclosures_csv(list_disclosures(session=session, actor=actor, filters=filters))
            )
        except DomainError as error:
            return self._handle(error)
        return rx.download(data=text, filename="disclosures.csv")

    @rx.event
    def export_access_csv(self) -> Any:
        if not self.access_person.isdigit():
            return rx.toast.error("Choose a person first.")
        person_id = int(self.access_person)
        try:
            text = self._run(
                lambda session, actor: access_log_csv(
                    access_log_for_person(session=session, actor=actor, person_id=person_id)
                )
            )
        except DomainError as error:
            return self._handle(error)
        return rx.download(data=text, filename=f"access-log-person-{person_id}.csv")

    @rx.event
    def approve(self, disclosure_id: str) -> Any:
        try:
            self._run(
                lambda session, actor: decide_disclosure(
                    session=session, actor=actor, disclosure_id=int(disclosure_id), approve=True
                )
            )
        except DomainError as error:
            return self._handle(error)
        self._refresh()
        return rx.toast.success(f"Disclosure {disclosure_id} approved; the partner can now see it.")

    @rx.event
    def open_decision(self, disclosure_id: str, kind: str) -> None:
        self.decision_id = int(disclosure_id)
        self.decision_kind = kind
        self.decision_error = ""
        self.decision_open = True

    @rx.event
    def set_decision_open(self, value: bool) -> None:
        self.decision_open = value

    @rx.event
    def save_decision(self, form_data: dict[str, Any]) -> Any:
        note = str(form_data.get("note", ""))
        disclosure_id, kind = self.decision_id, self.decision_kind

        def _act(session: Session, actor: Actor) -> None:
            if kind == "reject":
                decide_disclosure(session=session, actor=actor, disclosure_id=disclosure_id, approve=False, note=note)
            else:
                review_emergency_disclosure(
                    session=session, actor=actor, disclosure_id=disclosure_id, upheld=kind == "uphold", note=note
                )

        try:
            self._run(_act)
        except InvalidInput as error:
            self.decision_error = next(iter(error.field_errors.values()), error.message)
            return None
        except DomainError as error:
            return self._handle(error)
        self.decision_open = False
        self._refresh()
        return rx.toast.success(f"Decision on disclosure {disclosure_id} recorded.")


def _disclosure_table(rows: Any, actions: Any = None) -> rx.Component:
    headers = ["No.", "Status", "From", "To", "What", "Purpose and basis", "Why", "Asked by", "When"]
    if actions is not None:
        headers.append("Decision")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.cell(r["id"]),
                    rx.table.cell(r["status_label"]),
                    rx.table.cell(r["from"]),
                    rx.table.cell(r["to"]),
                    rx.table.cell(r["what"]),
                    rx.table.cell(rx.vstack(rx.text(r["purpose"]), rx.text(r["basis"], size="1"), spacing="0")),
                    rx.table.cell(rx.text(r["why"], size="1")),
                    rx.table.cell(r["requested_by"]),
                    rx.table.cell(rx.vstack(rx.text(r["when"]), rx.text(r["due"], size="1"), spacing="0")),
                    *([rx.table.cell(actions(r))] if actions is not None else []),
                ),
            )
        ),
        variant="surface",
        size="1",
        width="100%",
    )


def _approval_actions(r: Any) -> rx.Component:
    return rx.hstack(
        rx.button(
            "Approve", size="1", on_click=ConsoleState.approve(r["id"]), aria_label="Approve disclosure " + r["id"]
        ),
        rx.button(
            "Do not approve",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=ConsoleState.open_decision(r["id"], "reject"),
            aria_label="Do not approve disclosure " + r["id"],
        ),
    )


def _review_actions(r: Any) -> rx.Component:
    return rx.hstack(
        rx.button(
            "Uphold",
            size="1",
            on_click=ConsoleState.open_decision(r["id"], "uphold"),
            aria_label="Uphold emergency disclosure " + r["id"],
        ),
        rx.button(
            "Revoke",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=ConsoleState.open_decision(r["id"], "revoke"),
            aria_label="Revoke emergency disclosure " + r["id"],
        ),
    )


def _decision_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Record your decision on disclosure ", ConsoleState.decision_id),
            rx.form(
                rx.vstack(
                    rx.el.label("Your reasons", html_for="decision-note", class_name="field-label"),
                    rx.el.textarea(id="decision-note", name="note", rows=4, class_name="field-input"),
                    rx.cond(
                        ConsoleState.decision_error != "",
                        rx.text(ConsoleState.decision_error, color_scheme="red", size="2", role="alert"),
                    ),
                    dialog_buttons("Record decision"),
                    width="100%",
                ),
                on_submit=ConsoleState.save_decision,
                no_validate=True,
            ),
        ),
        open=ConsoleState.decision_open,
        on_open_change=ConsoleState.set_decision_open,
    )


def _dynamic_select(label: str, field_id: str, options: Any, value: Any, on_change: Any) -> rx.Component:
    return rx.hstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(
            rx.el.option("Any", value=""),
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id=field_id,
            value=value,
            on_change=on_change,
            class_name="field-input",
        ),
        align="center",
        spacing="2",
    )


def _select(label: str, field_id: str, options: list[tuple[str, str]], value: Any, on_change: Any) -> rx.Component:
    return rx.hstack(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(
            rx.el.option("Any", value=""),
            *[rx.el.option(text, value=v) for v, text in options],
            id=field_id,
            value=value,
            on_change=on_change,
            class_name="field-input",
        ),
        align="center",
        spacing="2",
    )


@rx.page(route=routes.CONSOLE, title=f"Sharing console · {PRODUCT_NAME}", on_load=ConsoleState.load)
def console_page() -> rx.Component:
    return page_shell(
        "Sharing console",
        rx.heading("Waiting for approval", size="5", as_="h2"),
        rx.cond(
            ConsoleState.awaiting.length() > 0,  # type: ignore[attr-defined]
            _disclosure_table(ConsoleState.awaiting, _approval_actions),
            empty_state("Nothing is waiting for approval."),
        ),
        rx.heading("Emergency shares to review", size="5", as_="h2"),
        rx.cond(
            ConsoleState.emergencies.length() > 0,  # type: ignore[attr-defined]
            _disclosure_table(ConsoleState.emergencies, _review_actions),
            empty_state("No emergency shares are waiting for review."),
        ),
        rx.heading("All disclosures", size="5", as_="h2"),
        rx.hstack(
            _select(
                "Status", "filter-status", STATUS_OPTIONS, ConsoleState.filter_status, ConsoleState.set_filter_status
            ),
            _select("Basis", "filter-basis", BASIS_OPTIONS, ConsoleState.filter_basis, ConsoleState.set_filter_basis),
            _dynamic_select(
                "Organisation",
                "filter-organisation",
                ConsoleState.organisations,
                ConsoleState.filter_organisation,
                ConsoleState.set_filter_organisation,
            ),
            _dynamic_select(
                "About",
                "filter-person",
                ConsoleState.people,
                ConsoleState.filter_person,
                ConsoleState.set_filter_person,
            ),
            rx.button("Download CSV", variant="soft", on_click=ConsoleState.export_csv),
            spacing="4",
            wrap="wrap",
            align="center",
        ),
        rx.cond(
            ConsoleState.disclosures.length() > 0,  # type: ignore[attr-defined]
            _disclosure_table(ConsoleState.disclosures),
            empty_state("No disclosures match."),
        ),
        rx.heading("Access log of a person", size="5", as_="h2"),
        rx.hstack(
            rx.el.label("Person", html_for="access-person", class_name="field-label"),
            rx.el.select(
                rx.el.option("Choose a person…", value=""),
                rx.foreach(ConsoleState.people, lambda p: rx.el.option(p["label"], value=p["value"])),
                id="access-person",
                value=ConsoleState.access_person,
                on_change=ConsoleState.show_access_log,
                class_name="field-input",
            ),
            rx.button(
                "Download CSV",
                variant="soft",
                on_click=ConsoleState.export_access_csv,
                aria_label="Download CSV of the access log",
            ),
            align="center",
            spacing="2",
        ),
        rx.cond(
            ConsoleState.access_rows.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in (
                                "When",
                                "Who",
                                "Organisation",
                                "Information",
                                "From",
                                "Outcome",
                                "Disclosure",
                                "Withheld",
                            )
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        ConsoleState.access_rows,
                        lambda a: rx.table.row(
                            rx.table.cell(a["when"]),
                            rx.table.cell(a["who"]),
                            rx.table.cell(a["organisation"]),
                            rx.table.cell(a["item"]),
                            rx.table.cell(a["via"]),
                            rx.table.cell(a["outcome"]),
                            rx.table.cell(a["disclosure"]),
                            rx.table.cell(a["withheld"]),
                        ),
                    ),
                ),
                variant="surface",
                size="1",
                width="100%",
                id="access-log",
            ),
            empty_state("Choose a person to see who has looked at their information."),
        ),
        _decision_dialog(),
        subtitle="What was shared, with whom, why and on what basis, and who looked at it.",
    )
