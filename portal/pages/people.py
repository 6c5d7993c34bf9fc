"""People (data subjects) whose records the organisation holds: add a person, record their
consent (with the signed form), withdraw it."""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import checkbox_group, reset_form, select_input, text_input, ticked
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput
from sharing.models import ORGANISATION_TYPE_LABELS, OrganisationType
from sharing.permissions import Actor
from sharing.reads import read_items
from sharing.register import (
    ConsentInput,
    PersonInput,
    controlled_person_ids,
    create_person,
    list_consents,
    person_details_item,
    record_consent,
    store_document,
    withdraw_consent,
)
from sharing.vocabulary import CATEGORY_LABELS, PURPOSE_LABELS, ConsentMethod, DataCategory, Purpose

METHOD_OPTIONS = [
    (str(ConsentMethod.SIGNED_FORM), "Signed form"),
    (str(ConsentMethod.VERBAL), "Verbal, recorded by an officer"),
    (str(ConsentMethod.ELECTRONIC), "Electronic"),
]
TYPE_OPTIONS = [(str(t), label) for t, label in ORGANISATION_TYPE_LABELS.items()]
PURPOSE_OPTIONS = [(str(p), label[:1].upper() + label[1:]) for p, label in PURPOSE_LABELS.items()]
CATEGORY_OPTIONS = [(str(c), label[:1].upper() + label[1:]) for c, label in CATEGORY_LABELS.items()]
UPLOAD_ID = "consent-form-upload"


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class PeopleState(AuthState):
    people: list[dict[str, str]] = []
    person_errors: dict[str, str] = {}
    consent_open: bool = False
    consent_person_id: int = 0
    consent_person_name: str = ""
    consents: list[dict[str, str]] = []
    consent_errors: dict[str, str] = {}
    upload_name: str = ""
    _upload: tuple[str, str, bytes] | None = None

    def _reload(self, session: Session, actor: Actor) -> Actor:
        ids = controlled_person_ids(session=session, actor=actor)
        item_ids = [person_details_item(session, i).id for i in ids]
        views = read_items(session=session, actor=actor, item_ids=[i for i in item_ids if i], via="people list")
        self.people = [
            {
                "id": str(v.person_id),
                "name": next((f.value for f in v.fields if f.key == "name"), ""),
                "born": next((f.value for f in v.fields if f.key == "date_of_birth"), ""),
                "address": next((f.value for f in v.fields if f.key == "address"), ""),
            }
            for v in views
        ]
        if self.consent_person_id:
            self.consents = [
                {
                    "id": str(c.id),
                    "summary": c.summary,
                    "given": f"{c.given_on:%-d %b %Y}",
                    "expires": f"{c.expires_on:%-d %b %Y}" if c.expires_on else "No end date",
                    "withdrawn": f"Withdrawn {c.withdrawn_on:%-d %b %Y}" if c.withdrawn_on else "",
                    "by": c.representative or "The person",
                }
                for c in list_consents(session=session, actor=actor, person_id=self.consent_person_id)
            ]
        return actor

    def _refresh(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def load(self) -> Any:
        self.consent_person_id = 0
        return self._refresh()

    @rx.event
    def add_person(self, form_data: dict[str, Any]) -> Any:
        self.person_errors = {}
        born_raw = str(form_data.get("date_of_birth", ""))
        born = _parse_date(born_raw)
        if born_raw and born is None:
            self.person_errors = {"date_of_birth": "Enter the date as day, month and year."}
            return None
        data = PersonInput(
            given_name=str(form_data.get("given_name", "")),
            family_name=str(form_data.get("family_name", "")),
            date_of_birth=born,
            address=str(form_data.get("address", "")),
            postcode=str(form_data.get("postcode", "")),
            phone=str(form_data.get("phone", "")),
            is_vulnerable_adult=ticked(form_data.get("vulnerable")),
            is_child=ticked(form_data.get("child")),
            is_confidential_complainant=ticked(form_data.get("confidential")),
        )

        def _act(session: Session, actor: Actor) -> str:
            person = create_person(session=session, actor=actor, data=data)
            self._reload(session, actor)
            return person.display_name

        try:
            name = self._run(_act)
        except InvalidInput as error:
            self.person_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        return [
            reset_form("person-form"),
            rx.toast.success(f"{name} added. Record their consent before sharing anything about them."),
        ]

    @rx.event
    def open_consent(self, person_id: str, name: str) -> Any:
        self.consent_person_id = int(person_id)
        self.consent_person_name = name
        self.consent_errors = {}
        self.upload_name = ""
        self._upload = None
        self.consent_open = True
        return self._refresh()

    @rx.event
    def set_consent_open(self, value: bool) -> None:
        self.consent_open = value

    @rx.event
    async def receive_form(self, files: list[rx.UploadFile]) -> None:
        if not files:
            return
        upload = files[0]
        content = await upload.read()
        self._upload = (upload.name or "consent-form", upload.content_type or "", content)
        self.upload_name = upload.name or "consent-form"

    @rx.event
    def save_consent(self, form_data: dict[str, Any]) -> Any:
        self.consent_errors = {}
        given = _parse_date(str(form_data.get("given_on", ""))) or utcnow().date()
        expires_raw = str(form_data.get("expires_on", ""))
        expires = _parse_date(expires_raw)
        if expires_raw and expires is None:
            self.consent_errors = {"expires_on": "Enter the date as day, month and year."}
            return None
        method = str(form_data.get("method", ""))
        if method not in {m for m, _ in METHOD_OPTIONS}:
            self.consent_errors = {"method": "Say how consent was given."}
            return None
        data = ConsentInput(
            person_id=self.consent_person_id,
            method=ConsentMethod(method),
            purposes=[
                Purpose(k.removeprefix("purpose_")) for k, v in form_data.items() if k.startswith("purpose_") and v
            ],
            categories=[
                DataCategory(k.removeprefix("category_"))
                for k, v in form_data.items()
                if k.startswith("category_") and v
            ],
            organisation_types=[
                OrganisationType(k.removeprefix("orgtype_"))
                for k, v in form_data.items()
                if k.startswith("orgtype_") and v
            ],
            given_on=given,
            expires_on=expires,
            representative_name=str(form_data.get("representative_name", "")),
            representative_relationship=str(form_data.get("representative_relationship", "")),
        )
        upload = self._upload

        def _act(session: Session, actor: Actor) -> None:
            form = None
            if data.method == ConsentMethod.SIGNED_FORM and upload is not None:
                form = store_document(
                    session=session, actor=actor, filename=upload[0], content_type=upload[1], content=upload[2]
                )
            record_consent(session=session, actor=actor, data=data, form=form)
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.consent_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self._upload = None
        self.upload_name = ""
        return [
            reset_form("consent-form"),
            rx.toast.success(f"Consent recorded for {self.consent_person_name}."),
        ]

    @rx.event
    def withdraw(self, consent_id: str) -> Any:
        def _act(session: Session, actor: Actor) -> list[int]:
            flagged = withdraw_consent(
                session=session,
                actor=actor,
                consent_id=int(consent_id),
                withdrawn_on=utcnow().date(),
                how="Recorded in the portal by the officer",
            )
            self._reload(session, actor)
            return flagged

        try:
            flagged = self._run(_act)
        except InvalidInput as error:
            return rx.toast.error(next(iter(error.field_errors.values()), error.message))
        except DomainError as error:
            return self._handle(error)
        extra = (
            f" {len(flagged)} disclosure(s) that rested on it were stopped and flagged for review." if flagged else ""
        )
        return rx.toast.success("Consent withdrawn." + extra)


def _consent_dialog() -> rx.Component:
    errors = PeopleState.consent_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Consent of ", PeopleState.consent_person_name),
            rx.vstack(
                rx.foreach(
                    PeopleState.consents,
                    lambda c: rx.card(
                        rx.hstack(
                            rx.vstack(
                                rx.text(c["summary"], size="2"),
                                rx.text("Given ", c["given"], " by ", c["by"], " · ", c["expires"], size="1"),
                                rx.cond(
                                    c["withdrawn"] != "",
                                    rx.badge(c["withdrawn"], color_scheme="red", high_contrast=True),
                                ),
                                spacing="1",
                            ),
                            rx.spacer(),
                            rx.cond(
                                c["withdrawn"] == "",
                                rx.button(
                                    "Withdraw",
                                    size="1",
                                    variant="soft",
                                    color_scheme="red",
                                    on_click=PeopleState.withdraw(c["id"]),
                                    aria_label="Withdraw consent " + c["id"],
                                ),
                            ),
                            width="100%",
                        ),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            rx.form(
                rx.vstack(
                    rx.heading("Record new consent", size="3", as_="h3"),
                    select_input("How consent was given", "method", METHOD_OPTIONS, error=errors.get("method", "")),
                    rx.upload(
                        rx.vstack(
                            rx.text("Signed form (PDF, PNG or JPEG): drop it here or click to choose", size="2"),
                            rx.cond(
                                PeopleState.upload_name != "",
                                rx.text("Attached: ", PeopleState.upload_name, size="2", weight="medium"),
                            ),
                            align="center",
                        ),
                        id=UPLOAD_ID,
                        max_files=1,
                        accept={"application/pdf": [".pdf"], "image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                        on_drop=PeopleState.receive_form(rx.upload_files(upload_id=UPLOAD_ID)),
                        border="1px dashed var(--gray-8)",
                        padding="1em",
                        width="100%",
                    ),
                    rx.cond(
                        errors.get("document", "") != "",
                        rx.text(errors.get("document", ""), color_scheme="red", size="2", role="alert"),
                    ),
                    checkbox_group(
                        "Share with these kinds of organisation",
                        "orgtype_",
                        TYPE_OPTIONS,
                        error=errors.get("organisations", ""),
                    ),
                    checkbox_group("For these purposes", "purpose_", PURPOSE_OPTIONS, error=errors.get("purposes", "")),
                    checkbox_group(
                        "These kinds of information", "category_", CATEGORY_OPTIONS, error=errors.get("categories", "")
                    ),
                    rx.grid(
                        text_input("Given on", "given_on", type="date", error=errors.get("given_on", "")),
                        text_input("Ends on (optional)", "expires_on", type="date", error=errors.get("expires_on", "")),
                        text_input("Given by a representative (name)", "representative_name"),
                        text_input(
                            "Their relationship",
                            "representative_relationship",
                            error=errors.get("representative_relationship", ""),
                        ),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Record consent", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=PeopleState.save_consent,
                no_validate=True,
                id="consent-form",
            ),
            max_width="760px",
        ),
        open=PeopleState.consent_open,
        on_open_change=PeopleState.set_consent_open,
    )


def _person_form() -> rx.Component:
    errors = PeopleState.person_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add a person", size="4", as_="h2"),
                rx.grid(
                    text_input("First name", "given_name", error=errors.get("given_name", "")),
                    text_input("Last name", "family_name", error=errors.get("family_name", "")),
                    text_input(
                        "Date of birth (optional)", "date_of_birth", type="date", error=errors.get("date_of_birth", "")
                    ),
                    text_input("Address", "address"),
                    text_input("Postcode", "postcode"),
                    text_input("Phone", "phone"),
                    columns=rx.breakpoints(initial="1", md="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.hstack(
                    *[
                        rx.el.label(
                            rx.el.input(type="checkbox", name=name, id=f"flag-{name}"),
                            " " + text,
                            html_for=f"flag-{name}",
                            class_name="checkbox-label",
                        )
                        for name, text in (
                            ("vulnerable", "Vulnerable adult"),
                            ("child", "Child"),
                            ("confidential", "Confidential complainant (keep identity from the other side)"),
                        )
                    ],
                    spacing="4",
                    wrap="wrap",
                ),
                rx.button("Add person", type="submit"),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=PeopleState.add_person,
            no_validate=True,
            id="person-form",
        ),
        width="100%",
    )


@rx.page(route=routes.PEOPLE, title=f"People · {PRODUCT_NAME}", on_load=PeopleState.load)
def people_page() -> rx.Component:
    return page_shell(
        "People",
        _person_form(),
        rx.cond(
            PeopleState.people.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("Name", "Date of birth", "Address", "")])
                ),
                rx.table.body(
                    rx.foreach(
                        PeopleState.people,
                        lambda p: rx.table.row(
                            rx.table.row_header_cell(p["name"]),
                            rx.table.cell(p["born"]),
                            rx.table.cell(p["address"]),
                            rx.table.cell(
                                rx.button(
                                    "Consent",
                                    size="1",
                                    variant="soft",
                                    on_click=PeopleState.open_consent(p["id"], p["name"]),
                                    aria_label="Consent of " + p["name"],
                                )
                            ),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("Your organisation holds no one's record yet.", "Add the first person above."),
        ),
        _consent_dialog(),
        subtitle="Victims, witnesses and others whose records your organisation holds. They never sign in.",
    )
