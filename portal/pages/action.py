"""One action, for its owner: what is asked, by when, its history, and the form to update it
(also for owners in partner agencies who see nothing else of the case).  And "My actions":
every open action assigned to the signed-in person."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.action_plans import EvidenceFile, action_history, get_action, list_my_actions, update_action
from portal import routes
from portal.auth_state import AuthState
from portal.components.action_forms import (
    STATUS_OPTIONS,
    action_row,
    evidence_upload,
    history_list,
    history_rows,
    status_badge,
)
from portal.components.forms import reset_form, select_input, text_area
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from sharing.errors import DomainError, InvalidInput
from sharing.permissions import Actor

UPLOAD_ID = "action-evidence-upload"


class ActionState(AuthState):
    action_id: int = 0
    action: dict[str, str] = {}
    history: list[dict[str, str]] = []
    refused: str = ""
    errors: dict[str, str] = {}
    upload_name: str = ""
    _upload: tuple[str, str, bytes] | None = None

    def _reload(self, session: Session, actor: Actor) -> Actor:
        read = get_action(session=session, actor=actor, action_id=self.action_id)
        updates = action_history(session=session, actor=actor, action_id=self.action_id)
        latest = next((u for u in reversed(updates) if u.kind == "update"), None)
        self.action = action_row(read, can_update=True, latest=latest)
        self.history = history_rows(updates)
        return actor

    @rx.event
    def load(self) -> Any:
        raw = self._route_arg("action_id")
        self.refused, self.errors, self.upload_name, self._upload = "", {}, "", None
        self.action, self.history = {}, []
        if not raw.isdigit():
            self.refused = "There is no such action."
            return self._show_signed_in()
        self.action_id = int(raw)
        return self._load_in_page(self._reload, self._refuse)

    def _refuse(self, message: str) -> None:
        self.refused = message

    @rx.event
    async def receive_evidence(self, files: list[rx.UploadFile]) -> None:
        if not files:
            return
        upload = files[0]
        content = await upload.read()
        self._upload = (upload.name or "evidence", upload.content_type or "", content)
        self.upload_name = upload.name or "evidence"

    @rx.event
    def save_update(self, form_data: dict[str, Any]) -> Any:
        status = str(form_data.get("status", ""))
        note = str(form_data.get("note", ""))
        upload = self._upload
        evidence = EvidenceFile(upload[0], upload[1], upload[2]) if upload is not None else None

        def _act(session: Session, actor: Actor) -> None:
            update_action(
                session=session, actor=actor, action_id=self.action_id, status=status, note=note, evidence=evidence
            )
            self._reload(session, actor)

        try:
            self._run(_act)
        except InvalidInput as error:
            self.errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self.errors, self._upload, self.upload_name = {}, None, ""
        return [
            reset_form("action-update-form"),
            rx.toast.success("The action is updated. The case officer has been told."),
        ]


def _update_form() -> rx.Component:
    errors = ActionState.errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Update this action", size="4", as_="h2"),
                select_input("New status", "status", STATUS_OPTIONS, error=errors.get("status", "")),
                text_area(
                    "What was done",
                    "note",
                    error=errors.get("note", ""),
                    hint="Say what happened, or why it could not be done.",
                ),
                evidence_upload(
                    UPLOAD_ID,
                    ActionState.receive_evidence(rx.upload_files(upload_id=UPLOAD_ID)),  # type: ignore[call-arg]
                    ActionState.upload_name,
                    errors.get("evidence", ""),
                ),
                rx.button("Save update", type="submit"),
                spacing="3",
                align="start",
                width="100%",
            ),
            on_submit=ActionState.save_update,
            no_validate=True,
            id="action-update-form",
        ),
        width="100%",
    )


@rx.page(route=routes.ACTION, title=f"Action · {PRODUCT_NAME}", on_load=ActionState.load)
def action_page() -> rx.Component:
    a = ActionState.action
    return page_shell(
        "Action",
        rx.cond(
            ActionState.refused != "",
            rx.callout(ActionState.refused, icon="lock", color_scheme="red", high_contrast=True, role="alert"),
            rx.vstack(
                rx.card(
                    rx.vstack(
                        rx.hstack(
                            rx.heading(
                                "Action ",
                                a["number"],
                                " on case ",
                                a["case_reference"],
                                size="5",
                                as_="h2",
                                id="action-title",
                            ),
                            status_badge(a),
                            spacing="3",
                            align="center",
                            wrap="wrap",
                        ),
                        rx.text(a["description"], white_space="pre-wrap", id="action-description"),
                        rx.data_list.root(
                            rx.data_list.item(rx.data_list.label("Who"), rx.data_list.value(a["owner"])),
                            rx.data_list.item(rx.data_list.label("Due"), rx.data_list.value(a["due"])),
                            rx.data_list.item(rx.data_list.label("Undertaken by"), rx.data_list.value(a["party"])),
                            rx.data_list.item(
                                rx.data_list.label("Where it came from"), rx.data_list.value(a["source"])
                            ),
                            rx.data_list.item(rx.data_list.label("Last changed"), rx.data_list.value(a["updated"])),
                        ),
                        rx.link("Open the case's action plan", href=a["plan_href"]),
                        spacing="3",
                        width="100%",
                    ),
                    width="100%",
                ),
                _update_form(),
                rx.heading("History", size="5", as_="h2"),
                history_list(ActionState.history),
                spacing="5",
                width="100%",
            ),
        ),
        rx.link("Back to my work", href=routes.HOME),
        subtitle="Something agreed on a case's action plan, and what has become of it.",
    )


# --- My actions -------------------------------------------------------------------------------


class MyActionsState(AuthState):
    actions: list[dict[str, str]] = []

    def _reload(self, session: Session, actor: Actor) -> Actor:
        self.actions = [action_row(a, can_update=True) for a in list_my_actions(session=session, actor=actor)]
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)


def actions_table(rows: Any, caption: str) -> rx.Component:
    """Actions in a table, each linking to the place to update it."""
    return rx.table.root(
        rx.el.caption(caption, class_name="visually-hidden"),
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(h) for h in ("Action", "Case", "Who", "Due", "Status")])
        ),
        rx.table.body(
            rx.foreach(
                rows,
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
                ),
            )
        ),
        variant="surface",
        width="100%",
    )


@rx.page(route=routes.MY_ACTIONS, title=f"My actions · {PRODUCT_NAME}", on_load=MyActionsState.load)
def my_actions_page() -> rx.Component:
    return page_shell(
        "My actions",
        rx.cond(
            MyActionsState.actions.length() > 0,  # type: ignore[attr-defined]
            actions_table(MyActionsState.actions, "Open actions assigned to you"),
            empty_state("No open actions are assigned to you."),
        ),
        subtitle="Every open action assigned to you, overdue first.",
    )
