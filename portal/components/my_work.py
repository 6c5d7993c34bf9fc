"""The action and deadline part of "My work": actions overdue or due soon, and the deadlines
on the cases the person leads (reviews, first contacts, notices about to run out), each
linking to the place to act.  Loads itself when it appears on the home page."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.action_plans import list_my_actions
from panels.work_list import list_case_deadlines
from portal import routes
from portal.auth_state import AuthState
from portal.components.action_forms import action_row, status_badge
from portal.formatting import day_text
from sharing.errors import DomainError
from sharing.permissions import Actor, Permission


class MyWorkState(AuthState):
    actions: list[dict[str, str]] = []
    other_actions: int = 0
    deadlines: list[dict[str, str]] = []
    loaded: bool = False

    @rx.event
    def load(self) -> Any:
        def _read(session: Session, actor: Actor) -> None:
            actions = (
                list_my_actions(session=session, actor=actor) if actor.can(Permission.ACTIONS_ACTIONS_READ) else []
            )
            pressing = [a for a in actions if a.overdue or a.due_soon]
            self.actions = [action_row(a, can_update=True) for a in pressing]
            self.other_actions = len(actions) - len(pressing)
            deadlines = (
                list_case_deadlines(session=session, actor=actor) if actor.can(Permission.CASES_CASES_MANAGE) else []
            )
            self.deadlines = [
                {
                    "case_reference": d.case_reference,
                    "what": d.label,
                    "due": ("Was due " if d.overdue else "Due ") + day_text(d.due_on),
                    "overdue": "yes" if d.overdue else "",
                    "href": d.link_path,
                }
                for d in deadlines
            ]

        try:
            self._run(_read)
        except DomainError as error:  # the page's own sign-in check deals with a lost session
            return self._handle(error)
        self.loaded = True
        return None


def _action_item(a: Any) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.link(
                    "Action " + a["number"] + " on case " + a["case_reference"],
                    href=a["href"],
                    weight="bold",
                    high_contrast=True,
                ),
                rx.text(a["description"], size="2"),
                rx.text("Due ", a["due"], " · ", a["owner"], size="1", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            status_badge(a),
            width="100%",
            align="start",
            wrap="wrap",
        ),
        width="100%",
    )


def _deadline_item(d: Any) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.link(
                    d["what"] + " · case " + d["case_reference"], href=d["href"], weight="bold", high_contrast=True
                ),
                rx.text(d["due"], size="2"),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(
                d["overdue"] == "yes",
                rx.badge("Overdue", color_scheme="red", variant="soft", high_contrast=True),
                rx.badge("Due soon", color_scheme="orange", variant="soft", high_contrast=True),
            ),
            width="100%",
            align="start",
        ),
        width="100%",
    )


def my_work_section() -> rx.Component:
    """Actions and case deadlines for the signed-in person."""
    return rx.vstack(
        rx.heading("Actions due", size="5", as_="h2", id="actions-due"),
        rx.cond(
            MyWorkState.actions.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(rx.foreach(MyWorkState.actions, _action_item), spacing="2", width="100%"),
            rx.cond(
                MyWorkState.loaded,
                rx.text("None of your actions is overdue or due soon.", size="2"),
                rx.text("Looking for your actions…", size="2"),
            ),
        ),
        rx.cond(
            MyWorkState.other_actions > 0,
            rx.link(
                "See all your open actions (", MyWorkState.other_actions, " more not yet due)", href=routes.MY_ACTIONS
            ),
        ),
        rx.cond(
            MyWorkState.deadlines.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.heading("Deadlines on your cases", size="5", as_="h2", id="case-deadlines"),
                rx.foreach(MyWorkState.deadlines, _deadline_item),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
        on_mount=MyWorkState.load,
    )
