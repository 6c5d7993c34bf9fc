"""The register of information sharing agreements."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.config import get_settings
from sharing.console import list_agreements
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, SessionExpired
from sharing.permissions import Actor, Permission
from sharing.register import set_agreement_status
from sharing.vocabulary import AgreementStatus

STATUS_LABELS = {"draft": "Draft", "active": "Active", "suspended": "Suspended", "expired": "Expired"}


class AgreementsState(AuthState):
    agreements: list[dict[str, str]] = []
    can_manage: bool = False

    def _reload(self, session: Session, actor: Actor) -> Actor:
        rows = list_agreements(
            session=session, actor=actor, today=utcnow().date(), warning_days=get_settings().agreement_warning_days
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
        self.can_manage = actor.can(Permission.SHARING_AGREEMENTS_MANAGE)
        return actor

    @rx.event
    def load(self) -> Any:
        try:
            actor = self._run(self._reload)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            return self._handle(error)
        self._show(actor)
        return None

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


@rx.page(route=routes.AGREEMENTS, title=f"Agreements · {PRODUCT_NAME}", on_load=AgreementsState.load)
def agreements_page() -> rx.Component:
    return page_shell(
        "Information sharing agreements",
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
            empty_state("No agreements are in the register yet."),
        ),
        subtitle="Sharing happens only under an active agreement that covers both organisations, "
        "the purpose and every kind of information.",
    )
