"""Share information with a partner: the lead officer chooses what, with whom, why and on
what basis; the sharing rules decide, and a refusal says exactly why."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.panels import list_panels
from panels.sharing import share_with_panel
from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import dynamic_select_input, reset_form, select_input, ticked
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.console import STATUS_LABELS, list_partner_organisations, owned_item_ids
from sharing.disclosures import DisclosureRefused, DisclosureRequest, request_disclosure
from sharing.errors import DomainError, InvalidInput, SessionExpired
from sharing.permissions import Actor
from sharing.reads import read_items
from sharing.vocabulary import BASIS_LABELS, PURPOSE_LABELS, DisclosureStatus, LawfulBasis, Purpose

PURPOSE_OPTIONS = [(str(p), label) for p, label in PURPOSE_LABELS.items()]
BASIS_OPTIONS = [(str(b), label[:1].upper() + label[1:]) for b, label in BASIS_LABELS.items()]
ITEM_PREFIX = "item_"


class ShareState(AuthState):
    items: list[dict[str, str]] = []
    recipients: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    refusal: str = ""
    outcome: str = ""

    @rx.event
    def load(self) -> Any:
        def _read(session: Session, actor: Actor) -> Actor:
            views = read_items(
                session=session, actor=actor, item_ids=owned_item_ids(session=session, actor=actor), via="share form"
            )
            self.items = [
                {"id": str(v.id), "label": (f"{v.case_reference}: " if v.case_reference else "") + v.title}
                for v in views
            ]
            self.recipients = [
                {"value": str(i), "label": name} for i, name in list_partner_organisations(session=session, actor=actor)
            ] + [
                {"value": f"panel:{p.id}", "label": f"Everyone on the {p.name}"}
                for p in list_panels(session=session, actor=actor)
            ]
            return actor

        try:
            actor = self._run(_read)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            return self._handle(error)
        self._show(actor)
        return None

    @rx.event
    def submit(self, form_data: dict[str, Any]) -> Any:
        self.errors, self.refusal, self.outcome = {}, "", ""
        item_ids = [int(k.removeprefix(ITEM_PREFIX)) for k, v in form_data.items() if k.startswith(ITEM_PREFIX) and v]
        errors: dict[str, str] = {}
        recipient = str(form_data.get("recipient", ""))
        purpose = str(form_data.get("purpose", ""))
        basis = str(form_data.get("basis", ""))
        if not item_ids:
            errors["items"] = "Tick the information you want to share."
        panel_id = int(recipient.removeprefix("panel:")) if recipient.startswith("panel:") else None
        if panel_id is None and not recipient.isdigit():
            errors["recipient"] = "Choose who to share with."
        if purpose not in {p for p, _ in PURPOSE_OPTIONS}:
            errors["purpose"] = "Choose what the information will be used for."
        if basis not in {b for b, _ in BASIS_OPTIONS}:
            errors["basis"] = "Choose the lawful basis for sharing."
        if errors:
            self.errors = errors
            return None
        request = DisclosureRequest(
            item_ids=item_ids,
            recipient_organisation_id=int(recipient) if recipient.isdigit() else 0,
            purpose=Purpose(purpose),
            basis=LawfulBasis(basis),
            justification=str(form_data.get("justification", "")),
            emergency=ticked(form_data.get("emergency")),
        )
        if panel_id is not None:
            try:
                outcomes = self._run(
                    lambda session, actor: share_with_panel(
                        session=session, actor=actor, panel_id=panel_id, request=request
                    )
                )
            except InvalidInput as error:
                self.errors = error.field_errors
                return None
            except DomainError as error:
                return self._handle(error)
            went = [o for o in outcomes if o.status != "refused"]
            refused = [o for o in outcomes if o.status == "refused"]
            self.outcome = f"{len(went)} of {len(outcomes)} member organisations: " + "; ".join(
                f"{o.organisation}: {STATUS_LABELS[DisclosureStatus(o.status)]}" for o in went
            )
            self.refusal = " ".join(f"{o.organisation}: {o.refusal}" for o in refused)
            return reset_form("share-form")
        try:
            disclosure = self._run(
                lambda session, actor: request_disclosure(session=session, actor=actor, request=request)
            )
        except DisclosureRefused as error:
            self.refusal = error.message
            return None
        except InvalidInput as error:
            self.errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        status = DisclosureStatus(disclosure.status)
        if status == DisclosureStatus.AWAITING_APPROVAL:
            self.outcome = (
                f"Request {disclosure.id} recorded. It waits for an information-sharing officer's approval "
                "before the partner can see anything."
            )
        elif status == DisclosureStatus.EMERGENCY:
            self.outcome = (
                f"Emergency share {disclosure.id} is live now. An information-sharing officer must review it "
                "within the review deadline."
            )
        else:
            self.outcome = f"Shared (disclosure {disclosure.id}): {STATUS_LABELS[status]}."
        return reset_form("share-form")


def _error(key: str) -> rx.Component:
    return rx.cond(
        ShareState.errors.get(key, "") != "",
        rx.text(ShareState.errors.get(key, ""), color_scheme="red", size="2", role="alert"),
    )


@rx.page(route=routes.SHARE, title=f"Share information · {PRODUCT_NAME}", on_load=ShareState.load)
def share_page() -> rx.Component:
    return page_shell(
        "Share information",
        rx.cond(
            ShareState.refusal != "",
            rx.callout(
                ShareState.refusal,
                icon="ban",
                color_scheme="red",
                high_contrast=True,
                role="alert",
                id="share-refusal",
                width="100%",
            ),
        ),
        rx.cond(
            ShareState.outcome != "",
            rx.callout(
                ShareState.outcome,
                icon="check",
                color_scheme="green",
                high_contrast=True,
                role="status",
                id="share-outcome",
                width="100%",
            ),
        ),
        rx.cond(
            ShareState.items.length() > 0,  # type: ignore[attr-defined]
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.el.fieldset(
                            rx.el.legend("What to share", class_name="field-label"),
                            rx.vstack(
                                rx.foreach(
                                    ShareState.items,
                                    lambda i: rx.el.label(
                                        rx.el.input(
                                            type="checkbox", name=ITEM_PREFIX + i["id"], id="share-item-" + i["id"]
                                        ),
                                        " ",
                                        i["label"],
                                        html_for="share-item-" + i["id"],
                                        class_name="checkbox-label",
                                    ),
                                ),
                                spacing="1",
                            ),
                            _error("items"),
                            class_name="fieldset",
                        ),
                        rx.grid(
                            dynamic_select_input(
                                "Share with",
                                "recipient",
                                ShareState.recipients,
                                error=ShareState.errors.get("recipient", ""),
                            ),
                            select_input(
                                "Purpose", "purpose", PURPOSE_OPTIONS, error=ShareState.errors.get("purpose", "")
                            ),
                            select_input(
                                "Lawful basis", "basis", BASIS_OPTIONS, error=ShareState.errors.get("basis", "")
                            ),
                            columns=rx.breakpoints(initial="1", md="3"),
                            spacing="4",
                            width="100%",
                        ),
                        rx.vstack(
                            rx.el.label(
                                "Why sharing is necessary and proportionate",
                                html_for="justification",
                                class_name="field-label",
                            ),
                            rx.text(
                                "Needed when sharing without consent. A second person, an information-sharing "
                                "officer, approves it before the partner sees anything.",
                                size="1",
                                color_scheme="gray",
                                id="justification-hint",
                            ),
                            rx.el.textarea(
                                id="justification",
                                name="justification",
                                rows=4,
                                class_name="field-input",
                                aria_describedby="justification-hint",
                            ),
                            _error("justification"),
                            width="100%",
                            spacing="1",
                        ),
                        rx.el.label(
                            rx.el.input(type="checkbox", name="emergency", id="emergency"),
                            " Emergency: share now and have it reviewed afterwards (risk to someone's safety)",
                            html_for="emergency",
                            class_name="checkbox-label",
                        ),
                        _error("emergency"),
                        rx.button("Share", type="submit"),
                        spacing="4",
                        align="start",
                        width="100%",
                    ),
                    on_submit=ShareState.submit,
                    no_validate=True,
                    id="share-form",
                ),
                width="100%",
            ),
            empty_state("Your organisation holds no information to share yet."),
        ),
        subtitle="Every decision is recorded, refusals too, with who asked, why and on what basis.",
    )
