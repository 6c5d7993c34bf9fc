"""For managers: every action their organisation owns, overdue first, and the list as CSV."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.action_plans import list_agency_actions
from portal import routes
from portal.auth_state import AuthState
from portal.components.action_forms import action_row, status_badge
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.permissions import Actor


class AgencyActionsState(AuthState):
    actions: list[dict[str, str]] = []
    include_closed: bool = False
    overdue: int = 0

    def _reload(self, session: Session, actor: Actor) -> Actor:
        reads = list_agency_actions(session=session, actor=actor, include_closed=self.include_closed)
        self.actions = [action_row(a, can_update=True) for a in reads]
        self.overdue = sum(1 for a in reads if a.overdue)
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def set_include_closed(self, value: bool) -> Any:
        self.include_closed = value
        return self._load(self._reload)

    @rx.var
    def csv_href(self) -> str:
        return routes.AGENCY_ACTIONS_CSV + ("?closed=1" if self.include_closed else "")


@rx.page(route=routes.ACTIONS_AGENCY, title=f"Agency actions · {PRODUCT_NAME}", on_load=AgencyActionsState.load)
def agency_actions_page() -> rx.Component:
    return page_shell(
        "Agency actions",
        rx.hstack(
            rx.text(
                AgencyActionsState.actions.length(),  # type: ignore[attr-defined]
                " actions, ",
                AgencyActionsState.overdue,
                " overdue.",
                id="agency-action-count",
            ),
            rx.spacer(),
            rx.el.label(
                rx.el.input(
                    type="checkbox",
                    id="include-closed",
                    checked=AgencyActionsState.include_closed,
                    on_change=AgencyActionsState.set_include_closed,
                ),
                " Include finished actions and closed cases",
                html_for="include-closed",
                class_name="checkbox-label",
            ),
            # A full-page download (not a Reflex page): the server checks the session cookie.
            rx.link(
                rx.hstack(rx.icon("download", size=16, aria_hidden="true"), rx.text("Download as CSV"), spacing="1"),
                href=AgencyActionsState.csv_href,
                reload_document=True,
                id="download-csv",
                weight="medium",
            ),
            spacing="4",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            AgencyActionsState.actions.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.el.caption("Actions your organisation owns, overdue first", class_name="visually-hidden"),
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Action", "Case", "Who", "Due", "Status", "From")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        AgencyActionsState.actions,
                        lambda a: rx.table.row(
                            rx.table.row_header_cell(
                                rx.vstack(
                                    rx.link("Action " + a["number"], href=a["href"], weight="medium"),
                                    rx.text(a["description"], size="2"),
                                    spacing="1",
                                )
                            ),
                            rx.table.cell(a["case_reference"]),
                            rx.table.cell(a["owner"]),
                            rx.table.cell(a["due"]),
                            rx.table.cell(status_badge(a)),
                            rx.table.cell(a["source"]),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("Your organisation owns no open actions."),
        ),
        subtitle="Every action your organisation owns on partners' and its own cases, overdue first.",
    )
