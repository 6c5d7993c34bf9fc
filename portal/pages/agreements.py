"""The register of information sharing agreements."""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import checkbox_group, reset_form, select_input, text_input
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.config import get_settings
from sharing.console import list_agreements
from sharing.db import utcnow
from sharing.directory import list_partner_names
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor, Permission
from sharing.register import AgreementInput, create_agreement, set_agreement_status
from sharing.vocabulary import (
    BASIS_LABELS,
    CATEGORY_LABELS,
    PURPOSE_LABELS,
    AgreementStatus,
    DataCategory,
    LawfulBasis,
    Purpose,
)

STATUS_LABELS = {"draft": "Draft", "active": "Active", "suspended": "Suspended", "expired": "Expired"}


def _date(raw: object) -> date | None:
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


class AgreementsState(AuthState):
    agreements: list[dict[str, str]] = []
    can_manage: bool = False
    organisations: list[dict[str, str]] = []
    create_errors: dict[str, str] = {}
    # The register's filter: kept while the officer adds or changes agreements.
    status_filter: str = ""
    words_filter: str = ""
    filter_error: str = ""
    match_text: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        rows = list_agreements(
            session=session,
            actor=actor,
            today=utcnow().date(),
            warning_days=get_settings().agreement_warning_days,
            status=self.status_filter,
            words=self.words_filter,
        )
        self.agreements = [
            {
                "id": str(a.id),
                "title": a.title,
                "reference": a.reference,
                "status": a.status,
                "status_label": STATUS_LABELS.get(a.status, a.status),
                "parties": a.parties,
                "purposes": a.purposes,
                "dates": f"{a.starts_on:%-d %b %Y} to {a.ends_on:%-d %b %Y}",
                "review": f"{a.review_on:%-d %b %Y}",
                "attention": a.attention,
            }
            for a in rows
        ]
        count = len(rows)
        self.match_text = f"{count} agreement{'' if count == 1 else 's'} match{'es' if count == 1 else ''}."
        self.can_manage = actor.can(Permission.SHARING_AGREEMENTS_MANAGE)
        if self.can_manage:
            self.organisations = [
                {"id": str(i), "name": name} for i, name in list_partner_names(session=session, actor=actor)
            ]
        return actor

    @rx.event
    def create(self, form_data: dict[str, Any]) -> Any:
        self.create_errors = {}
        dates = {k: _date(form_data.get(k)) for k in ("starts_on", "ends_on", "review_on")}
        missing = {k: "Enter a date." for k, v in dates.items() if v is None}
        if missing:
            self.create_errors = missing
            return None
        party_ids = [int(k.removeprefix("party_")) for k, v in form_data.items() if k.startswith("party_") and v]
        data = AgreementInput(
            title=str(form_data.get("title", "")),
            reference=str(form_data.get("reference", "")),
            party_ids=party_ids,
            purposes=[
                Purpose(k.removeprefix("purpose_")) for k, v in form_data.items() if k.startswith("purpose_") and v
            ],
            categories=[
                DataCategory(k.removeprefix("category_"))
                for k, v in form_data.items()
                if k.startswith("category_") and v
            ],
            lawful_bases=[
                LawfulBasis(k.removeprefix("basis_")) for k, v in form_data.items() if k.startswith("basis_") and v
            ],
            starts_on=dates["starts_on"],  # type: ignore[arg-type]
            ends_on=dates["ends_on"],  # type: ignore[arg-type]
            review_on=dates["review_on"],  # type: ignore[arg-type]
            signatories={
                i: (str(form_data.get(f"signatory_{i}", "")).strip(), str(form_data.get(f"role_{i}", "")).strip())
                for i in party_ids
            },
        )

        def _act(session: Session, actor: Actor) -> str:
            agreement = create_agreement(session=session, actor=actor, data=data)
            self._reload(session, actor)
            return agreement.reference

        try:
            reference = self._run(_act)
        except InvalidInput as error:
            self.create_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        return [
            reset_form("agreement-form"),
            rx.toast.success(f"Agreement {reference} added as a draft. Activate it once every party has signed."),
        ]

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def apply_filter(self, form_data: dict[str, Any]) -> Any:
        """Show only the agreements in a status, or with the words given."""
        status, words = str(form_data.get("status", "")), " ".join(str(form_data.get("words", "")).split())
        if status and status not in set(AgreementStatus):
            self.filter_error = "Choose a status from the list."
            return None
        self.status_filter, self.words_filter, self.filter_error = status, words, ""
        return self._load(self._reload)

    @rx.event
    def clear_filter(self) -> Any:
        self.status_filter, self.words_filter, self.filter_error = "", "", ""
        return self._load(self._reload) or reset_form("agreement-filter")

    @rx.var
    def filtered(self) -> bool:
        return self.status_filter != "" or self.words_filter != ""

    @rx.event
    def change_status(self, agreement_id: str, status: str) -> Any:
        def _act(session: Session, actor: Actor) -> None:
            set_agreement_status(
                session=session, actor=actor, agreement_id=int(agreement_id), status=AgreementStatus(status)
            )
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            return rx.toast.error(next(iter(error.field_errors.values()), error.message))
        except DomainError as error:
            return self._handle(error)
        return rx.toast.success(
            "Agreement " + ("activated." if status == "active" else "suspended: no new sharing under it.")
        )


def _actions(a: Any) -> rx.Component:
    return rx.cond(
        AgreementsState.can_manage,
        rx.cond(
            a["status"] == "active",
            rx.button(
                "Suspend",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=AgreementsState.change_status(a["id"], "suspended"),
                aria_label="Suspend " + a["reference"],
            ),
            rx.button(
                "Activate",
                size="1",
                variant="soft",
                on_click=AgreementsState.change_status(a["id"], "active"),
                aria_label="Activate " + a["reference"],
            ),
        ),
    )


def _create_form() -> rx.Component:
    errors = AgreementsState.create_errors
    return rx.cond(
        AgreementsState.can_manage,
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Add an agreement", size="4", as_="h2"),
                    rx.grid(
                        text_input("Title", "title", error=errors.get("title", "")),
                        text_input("Reference", "reference", error=errors.get("reference", "")),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.el.fieldset(
                        rx.el.legend("Parties and their signatories", class_name="field-label"),
                        rx.foreach(
                            AgreementsState.organisations,
                            lambda o: rx.grid(
                                rx.el.label(
                                    rx.el.input(type="checkbox", name="party_" + o["id"], id="party-" + o["id"]),
                                    " ",
                                    o["name"],
                                    html_for="party-" + o["id"],
                                    class_name="checkbox-label",
                                ),
                                rx.el.input(
                                    name="signatory_" + o["id"],
                                    aria_label="Signatory for " + o["name"],
                                    placeholder="Signatory's name",
                                    class_name="field-input",
                                ),
                                rx.el.input(
                                    name="role_" + o["id"],
                                    aria_label="Signatory's role at " + o["name"],
                                    placeholder="Their role",
                                    class_name="field-input",
                                ),
                                columns="3",
                                spacing="2",
                                width="100%",
                            ),
                        ),
                        rx.cond(
                            errors.get("party_ids", "") != "",
                            rx.text(errors.get("party_ids", ""), color_scheme="red", size="2", role="alert"),
                        ),
                        class_name="fieldset",
                    ),
                    rx.grid(
                        checkbox_group(
                            "Purposes",
                            "purpose_",
                            [(str(p), label) for p, label in PURPOSE_LABELS.items()],
                            error=errors.get("purposes", ""),
                        ),
                        checkbox_group(
                            "Kinds of information",
                            "category_",
                            [(str(c), label) for c, label in CATEGORY_LABELS.items()],
                            error=errors.get("categories", ""),
                        ),
                        checkbox_group(
                            "Lawful bases allowed",
                            "basis_",
                            [(str(b), label) for b, label in BASIS_LABELS.items()],
                            error=errors.get("lawful_bases", ""),
                        ),
                        columns=rx.breakpoints(initial="1", md="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.grid(
                        text_input("Starts on", "starts_on", type="date", error=errors.get("starts_on", "")),
                        text_input("Ends on", "ends_on", type="date", error=errors.get("ends_on", "")),
                        text_input("Review by", "review_on", type="date", error=errors.get("review_on", "")),
                        columns=rx.breakpoints(initial="1", md="3"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.button("Add agreement", type="submit"),
                    spacing="3",
                    align="start",
                    width="100%",
                ),
                on_submit=AgreementsState.create,
                no_validate=True,
                id="agreement-form",
            ),
            width="100%",
        ),
    )


def _filter_form() -> rx.Component:
    S = AgreementsState
    return rx.form(
        rx.hstack(
            rx.box(
                select_input(
                    "Status",
                    "status",
                    [(str(s), STATUS_LABELS[str(s)]) for s in AgreementStatus],
                    placeholder="Any status",
                    field_id="filter-status",
                    error=S.filter_error,
                ),
                min_width="12em",
            ),
            rx.box(
                text_input(
                    "Search the register",
                    "words",
                    id="filter-words",
                    hint="Words from the title, the reference or a party's name.",
                ),
                flex_grow="1",
            ),
            rx.button("Show", type="submit", variant="soft"),
            rx.cond(S.filtered, rx.button("Show all", type="button", variant="ghost", on_click=S.clear_filter)),
            align="end",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.apply_filter,
        no_validate=True,
        id="agreement-filter",
        aria_label="Filter the register",
        width="100%",
    )


@rx.page(route=routes.AGREEMENTS, title=f"Agreements · {PRODUCT_NAME}", on_load=AgreementsState.load)
def agreements_page() -> rx.Component:
    return page_shell(
        "Information sharing agreements",
        _filter_form(),
        rx.cond(
            AgreementsState.filtered,
            rx.text(
                AgreementsState.match_text,
                size="2",
                role="status",
                id="filter-count",
            ),
        ),
        rx.cond(
            AgreementsState.agreements.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Agreement", "Status", "Parties", "Purposes", "In force", "Review", "")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        AgreementsState.agreements,
                        lambda a: rx.table.row(
                            rx.table.row_header_cell(
                                rx.vstack(
                                    rx.text(a["title"], weight="medium"), rx.text(a["reference"], size="1"), spacing="0"
                                )
                            ),
                            rx.table.cell(
                                rx.vstack(
                                    rx.badge(
                                        a["status_label"],
                                        high_contrast=True,
                                        color_scheme=rx.cond(a["status"] == "active", "green", "gray"),
                                    ),
                                    rx.cond(
                                        a["attention"] != "",
                                        rx.badge(a["attention"], color_scheme="orange", high_contrast=True),
                                    ),
                                    spacing="1",
                                )
                            ),
                            rx.table.cell(rx.text(a["parties"], size="1")),
                            rx.table.cell(rx.text(a["purposes"], size="1")),
                            rx.table.cell(a["dates"]),
                            rx.table.cell(a["review"]),
                            rx.table.cell(_actions(a)),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            rx.cond(
                AgreementsState.filtered,
                empty_state("No agreements match.", "Change the status or the words, or show all."),
                empty_state("No agreements are in the register yet."),
            ),
        ),
        _create_form(),
        subtitle="Sharing happens only under an active agreement that covers both organisations, "
        "the purpose and every kind of information.",
    )
