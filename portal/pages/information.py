"""Information: what the signed-in person's organisation holds or has been given, and one
item in full.  Every row and field comes through the need-to-know chokepoint."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.console import notices_for
from sharing.errors import DomainError, SessionExpired
from sharing.permissions import Actor
from sharing.reads import ItemView, read_item, read_items, visible_item_ids

ACCESS_LABELS = {"owner": "Held by your organisation", "disclosed": "Shared with you", "partial": "Partly shared"}


def _row(view: ItemView) -> dict[str, str]:
    return {
        "id": str(view.id),
        "href": routes.item(view.id),
        "case": view.case_reference or "",
        "title": view.title,
        "owner": view.owner_organisation,
        "category": view.category,
        "marking": view.marking,
        "access": ACCESS_LABELS.get(view.access, view.access),
    }


class InformationState(AuthState):
    items: list[dict[str, str]] = []
    notices: list[dict[str, str]] = []

    @rx.event
    def load(self) -> Any:
        def _read(session: Session, actor: Actor) -> Actor:
            ids = visible_item_ids(session=session, actor=actor)
            self.items = [
                _row(v) for v in read_items(session=session, actor=actor, item_ids=ids, via="information list")
            ]
            self.notices = [
                {"when": local_time(n.created_at), "message": n.message}
                for n in notices_for(session=session, actor=actor)
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


class ItemState(AuthState):
    title: str = ""
    owner: str = ""
    case: str = ""
    marking: str = ""
    access: str = ""
    fields: list[dict[str, str]] = []
    refused: str = ""

    @rx.event
    def load(self) -> Any:
        raw = self._route_arg("item_id")
        self.refused = ""
        self.fields = []
        if not raw.isdigit():
            self.refused = "There is no such record."
            return None

        def _read(session: Session, actor: Actor) -> Actor:
            view = read_item(session=session, actor=actor, item_id=int(raw), via="information detail")
            self.title, self.owner, self.case, self.marking = (
                view.title,
                view.owner_organisation,
                view.case_reference or "",
                view.marking,
            )
            self.access = ACCESS_LABELS.get(view.access, view.access)
            self.fields = [
                {"label": f.label, "value": f.value, "withheld": "yes" if f.withheld else ""} for f in view.fields
            ]
            return actor

        def _refused(message: str) -> None:
            self.refused = message
            self.title = ""

        return self._load_in_page(_read, _refused)


@rx.page(route=routes.INFORMATION, title=f"Information · {PRODUCT_NAME}", on_load=InformationState.load)
def information_page() -> rx.Component:
    return page_shell(
        "Information",
        rx.cond(
            InformationState.notices.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(
                    InformationState.notices,
                    lambda n: rx.callout(
                        n["message"], icon="triangle-alert", color_scheme="orange", high_contrast=True, width="100%"
                    ),
                ),
                width="100%",
            ),
        ),
        rx.cond(
            InformationState.items.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Case", "Information", "Held by", "Kind", "Marking", "Your access")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        InformationState.items,
                        lambda i: rx.table.row(
                            rx.table.cell(i["case"]),
                            rx.table.row_header_cell(rx.link(i["title"], href=i["href"])),
                            rx.table.cell(i["owner"]),
                            rx.table.cell(i["category"]),
                            rx.table.cell(i["marking"]),
                            rx.table.cell(i["access"]),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state(
                "Nothing has been recorded or shared with your organisation yet.",
                "When a partner shares information with you, it appears here.",
            ),
        ),
        subtitle="What your organisation holds, and what partners have shared with it.",
    )


@rx.page(route=routes.ITEM, title=f"Information · {PRODUCT_NAME}", on_load=ItemState.load)
def item_page() -> rx.Component:
    return page_shell(
        "Information",
        rx.cond(
            ItemState.refused != "",
            rx.callout(ItemState.refused, icon="lock", color_scheme="red", high_contrast=True, role="alert"),
            rx.card(
                rx.vstack(
                    rx.heading(ItemState.title, size="5", as_="h2", id="item-title"),
                    rx.hstack(
                        rx.badge(ItemState.marking, variant="surface", high_contrast=True),
                        rx.badge(ItemState.access, variant="surface"),
                        rx.text("Held by ", ItemState.owner, size="2"),
                        rx.cond(ItemState.case != "", rx.text("Case ", ItemState.case, size="2")),
                        spacing="3",
                        align="center",
                        wrap="wrap",
                    ),
                    rx.data_list.root(
                        rx.foreach(
                            ItemState.fields,
                            lambda f: rx.data_list.item(
                                rx.data_list.label(f["label"]),
                                rx.data_list.value(
                                    rx.cond(
                                        f["withheld"] == "yes",
                                        rx.text(f["value"], color_scheme="gray", style={"font_style": "italic"}),
                                        rx.text(f["value"]),
                                    )
                                ),
                            ),
                        ),
                        orientation=rx.breakpoints(initial="vertical", md="horizontal"),
                    ),
                    spacing="4",
                ),
                width="100%",
            ),
        ),
        rx.link("Back to information", href=routes.INFORMATION),
    )
