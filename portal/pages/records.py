"""Subject access requests and retention, for information-sharing officers."""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dialog_buttons, dynamic_select_input, text_input
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.console import list_people_for_console
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor
from sharing.retention import dispose_of_record, list_retention_rules, records_past_retention, set_retention_period
from sharing.sar import build_sar_export, complete_sar, extend_sar, list_sars, log_sar


def _date(raw: object) -> date | None:
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


class RecordsState(AuthState):
    people: list[dict[str, str]] = []
    sars: list[dict[str, str]] = []
    sar_errors: dict[str, str] = {}
    rules: list[dict[str, str]] = []
    due: list[dict[str, str]] = []
    extend_open: bool = False
    extend_id: int = 0
    extend_error: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        today = utcnow().date()
        people = list_people_for_console(session=session, actor=actor)
        names = {i: name for i, name, _ in people}
        self.people = [{"value": str(i), "label": f"{name} ({controller})"} for i, name, controller in people]
        self.sars = [
            {
                "id": str(r.id),
                "person_id": str(r.person_id),
                "person": names.get(r.person_id, f"person {r.person_id}"),
                "received": f"{r.received_on:%-d %b %Y}",
                "deadline": f"{r.deadline:%-d %b %Y}",
                "state": (
                    "Completed" + (" late" if r.completed_late else "")
                    if r.completed
                    else ("Overdue" if r.overdue else f"{r.days_left} days left")
                ),
                "open": "" if r.completed else "yes",
            }
            for r in list_sars(session=session, actor=actor, today=today)
        ]
        self.rules = [
            {"category": r.category, "label": r.label[:1].upper() + r.label[1:], "years": str(r.years_after_closure)}
            for r in list_retention_rules(session=session, actor=actor)
        ]
        self.due = [
            {
                "id": str(d.item_id),
                "case": d.case_reference or "",
                "category": d.category_label,
                "owner": d.owner_organisation,
                "closed": f"{d.case_closed_on:%-d %b %Y}",
                "until": f"{d.retain_until:%-d %b %Y}",
            }
            for d in records_past_retention(session=session, actor=actor, today=today)
        ]
        return actor

    def _refresh(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def load(self) -> Any:
        return self._refresh()

    @rx.event
    def log_request(self, form_data: dict[str, Any]) -> Any:
        self.sar_errors = {}
        person = str(form_data.get("person_id", ""))
        received = _date(form_data.get("received_on"))
        checked = _date(form_data.get("identity_checked_on"))
        errors = {}
        if not person.isdigit():
            errors["person_id"] = "Choose whose request this is."
        if received is None:
            errors["received_on"] = "Enter the date the request arrived."
        if errors:
            self.sar_errors = errors
            return None

        def _act(session: Session, actor: Actor) -> None:
            log_sar(
                session=session,
                actor=actor,
                person_id=int(person),
                received_on=received,  # type: ignore[arg-type]
                identity_checked_on=checked,
            )
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.sar_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        return rx.toast.success("Request logged. The deadline is one calendar month from receipt.")

    @rx.event
    def complete(self, sar_id: str) -> Any:
        def _act(session: Session, actor: Actor) -> None:
            complete_sar(session=session, actor=actor, sar_id=int(sar_id), completed_on=utcnow().date())
            self._reload(session, actor)

        try:
            self._run(_act)
        except DomainError as error:
            return self._handle(error)
        return rx.toast.success("Request marked as answered.")

    @rx.event
    def open_extend(self, sar_id: str) -> None:
        self.extend_id = int(sar_id)
        self.extend_error = ""
        self.extend_open = True

    @rx.event
    def set_extend_open(self, value: bool) -> None:
        self.extend_open = value

    @rx.event
    def save_extension(self, form_data: dict[str, Any]) -> Any:
        months = str(form_data.get("months", ""))
        reason = str(form_data.get("reason", ""))
        sar_id = self.extend_id

        def _act(session: Session, actor: Actor) -> None:
            extend_sar(
                session=session,
                actor=actor,
                sar_id=sar_id,
                months=int(months) if months.isdigit() else 0,
                reason=reason,
                today=utcnow().date(),
            )
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.extend_error = " ".join(error.field_errors.values()) or error.message
            return None
        except DomainError as error:
            return self._handle(error)
        self.extend_open = False
        return rx.toast.success("Deadline extended; the reason is on record.")

    @rx.event
    def save_rules(self, form_data: dict[str, Any]) -> Any:
        wanted = {k.removeprefix("years_"): str(v) for k, v in form_data.items() if k.startswith("years_")}
        current = {r["category"]: r["years"] for r in self.rules}
        changed = {c: y for c, y in wanted.items() if current.get(c) != y}

        def _act(session: Session, actor: Actor) -> None:
            for category, years in changed.items():
                set_retention_period(
                    session=session, actor=actor, category=category, years=int(years) if years.isdigit() else 0
                )
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            return rx.toast.error(" ".join(error.field_errors.values()) or error.message)
        except DomainError as error:
            return self._handle(error)
        return rx.toast.success("Retention period saved.")

    @rx.event
    def export(self, person_id: str) -> Any:
        try:
            data = self._run(
                lambda session, actor: build_sar_export(session=session, actor=actor, person_id=int(person_id))
            )
        except DomainError as error:
            return self._handle(error)
        return rx.download(data=data, filename=f"subject-access-{person_id}.zip")

    @rx.event
    def dispose(self, item_id: str, action: str) -> Any:
        def _act(session: Session, actor: Actor) -> None:
            dispose_of_record(session=session, actor=actor, item_id=int(item_id), action=action, confirm=True)  # type: ignore[arg-type]
            self._reload(session, actor)

        try:
            self._run(_act)
        except DomainError as error:
            return self._handle(error)
        return rx.toast.success(
            "Record " + ("deleted" if action == "delete" else "anonymised") + "; a tombstone is in the audit trail."
        )


@rx.page(route=routes.RECORDS, title=f"Requests and retention · {PRODUCT_NAME}", on_load=RecordsState.load)
def records_page() -> rx.Component:
    errors = RecordsState.sar_errors
    return page_shell(
        "Requests and retention",
        rx.heading("Subject access requests", size="5", as_="h2"),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.grid(
                        dynamic_select_input(
                            "Whose request", "person_id", RecordsState.people, error=errors.get("person_id", "")
                        ),
                        text_input("Received on", "received_on", type="date", error=errors.get("received_on", "")),
                        text_input(
                            "Identity checked on (optional)",
                            "identity_checked_on",
                            type="date",
                            error=errors.get("identity_checked_on", ""),
                        ),
                        columns=rx.breakpoints(initial="1", md="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.button("Log request", type="submit"),
                    align="start",
                    width="100%",
                ),
                on_submit=RecordsState.log_request,
                no_validate=True,
            ),
            width="100%",
        ),
        rx.cond(
            RecordsState.sars.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Person", "Received", "Deadline", "State", "")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        RecordsState.sars,
                        lambda r: rx.table.row(
                            rx.table.row_header_cell(r["person"]),
                            rx.table.cell(r["received"]),
                            rx.table.cell(r["deadline"]),
                            rx.table.cell(r["state"]),
                            rx.table.cell(
                                rx.hstack(
                                    rx.button(
                                        "Download export",
                                        size="1",
                                        variant="soft",
                                        on_click=RecordsState.export(r["person_id"]),
                                        aria_label="Download export for " + r["person"],
                                    ),
                                    rx.cond(
                                        r["open"] == "yes",
                                        rx.button(
                                            "Mark answered",
                                            size="1",
                                            variant="soft",
                                            on_click=RecordsState.complete(r["id"]),
                                            aria_label="Mark answered request " + r["id"],
                                        ),
                                    ),
                                    rx.cond(
                                        r["open"] == "yes",
                                        rx.button(
                                            "Extend",
                                            size="1",
                                            variant="soft",
                                            on_click=RecordsState.open_extend(r["id"]),
                                            aria_label="Extend request " + r["id"],
                                        ),
                                    ),
                                )
                            ),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No subject access requests are open."),
        ),
        rx.heading("Records past their retention period", size="5", as_="h2"),
        rx.heading("Retention periods after a case closes", size="4", as_="h3"),
        rx.form(
            rx.vstack(
                rx.grid(
                    rx.foreach(
                        RecordsState.rules,
                        lambda r: rx.hstack(
                            rx.el.label(r["label"], html_for="years-" + r["category"], class_name="field-label"),
                            rx.el.input(
                                id="years-" + r["category"],
                                name="years_" + r["category"],
                                type="number",
                                min=1,
                                max=100,
                                default_value=r["years"],
                                class_name="field-input",
                                style={"width": "6em"},
                            ),
                            rx.text("years", size="2"),
                            align="center",
                            spacing="2",
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.button("Save retention periods", type="submit", variant="soft"),
                align="start",
                width="100%",
            ),
            on_submit=RecordsState.save_rules,
            no_validate=True,
        ),
        rx.cond(
            RecordsState.due.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Record", "Case", "Kind", "Held by", "Case closed", "Keep until", "")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        RecordsState.due,
                        lambda d: rx.table.row(
                            rx.table.row_header_cell(d["id"]),
                            rx.table.cell(d["case"]),
                            rx.table.cell(d["category"]),
                            rx.table.cell(d["owner"]),
                            rx.table.cell(d["closed"]),
                            rx.table.cell(d["until"]),
                            rx.table.cell(
                                rx.hstack(
                                    rx.button(
                                        "Anonymise",
                                        size="1",
                                        variant="soft",
                                        on_click=RecordsState.dispose(d["id"], "anonymise"),
                                        aria_label="Anonymise record " + d["id"],
                                    ),
                                    rx.button(
                                        "Delete",
                                        size="1",
                                        variant="soft",
                                        color_scheme="red",
                                        on_click=RecordsState.dispose(d["id"], "delete"),
                                        aria_label="Delete record " + d["id"],
                                    ),
                                )
                            ),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No records are past their retention period."),
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Extend the deadline of request ", RecordsState.extend_id),
                rx.dialog.description(
                    "Allowed within the first month when the request is complex; tell the person why.", size="2"
                ),
                rx.form(
                    rx.vstack(
                        text_input("Extra months", "months", type="number"),
                        rx.el.label("Reason", html_for="extend-reason", class_name="field-label"),
                        rx.el.textarea(id="extend-reason", name="reason", rows=3, class_name="field-input"),
                        rx.cond(
                            RecordsState.extend_error != "",
                            rx.text(RecordsState.extend_error, color_scheme="red", size="2", role="alert"),
                        ),
                        dialog_buttons("Extend"),
                        width="100%",
                    ),
                    on_submit=RecordsState.save_extension,
                    no_validate=True,
                ),
            ),
            open=RecordsState.extend_open,
            on_open_change=RecordsState.set_extend_open,
        ),
        subtitle="People's right to see what is held about them, and keeping records no longer than needed.",
    )
