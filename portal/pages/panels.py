"""Panels: which panels the partnership runs, who chairs them and which agencies sit on them."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.panels import list_panels
from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.errors import DomainError, SessionExpired
from sharing.permissions import Actor


class PanelsState(AuthState):
    panels: list[dict[str, str]] = []

    @rx.event
    def load(self) -> Any:
        def _read(session: Session, actor: Actor) -> tuple[Actor, list[dict[str, str]]]:
            rows = [
                {
                    "name": p.name,
                    "purpose": p.purpose,
                    "chair": f"{p.chair_name} ({p.chair_organisation})" if p.chair_name else "No chair yet",
                    "members": ", ".join(p.organisation_names),
                    "yours": "You chair this panel"
                    if p.actor_is_chair
                    else ("Your organisation sits on this panel" if p.actor_sits_on else ""),
                }
                for p in list_panels(session=session, actor=actor)
            ]
            return actor, rows

        try:
            actor, self.panels = self._run(_read)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            return self._handle(error)
        self._show(actor)
        return None


@rx.page(route=routes.PANELS, title=f"Panels · {PRODUCT_NAME}", on_load=PanelsState.load)
def panels_page() -> rx.Component:
    return page_shell(
        "Panels",
        rx.cond(
            PanelsState.panels.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Panel"),
                        rx.table.column_header_cell("Chair"),
                        rx.table.column_header_cell("Member organisations"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        PanelsState.panels,
                        lambda p: rx.table.row(
                            rx.table.row_header_cell(
                                rx.vstack(
                                    rx.text(p["name"], weight="bold"),
                                    rx.text(p["purpose"], size="2", color_scheme="gray"),
                                    rx.cond(p["yours"] != "", rx.badge(p["yours"], variant="soft")),
                                    spacing="1",
                                )
                            ),
                            rx.table.cell(p["chair"]),
                            rx.table.cell(p["members"]),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No panels are set up yet.", "Your portal administrator sets up panels."),
        ),
        subtitle="The multi-agency panels in this partnership.",
    )
