"""My meetings: the signed-in person's next meetings across their panels, for the home page.
The block loads itself when it appears, so the page it sits on needs no change but the call."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.meeting_pages import list_my_meetings
from portal import routes
from portal.auth_state import AuthState
from sharing.errors import DomainError
from sharing.permissions import Actor, Permission

STATUS_WORDS = {"scheduled": "", "open": "In progress now", "closed": "Held"}


class MyMeetingsState(AuthState):
    meetings: list[dict[str, str]] = []
    shown: bool = False

    @rx.event
    def load_meetings(self) -> Any:
        def _read(session: Session, actor: Actor) -> list[dict[str, str]]:
            if not actor.can(Permission.PANELS_PANELS_READ):
                return []
            return [
                {
                    "href": routes.meeting(m.meeting_id),
                    "panel": m.panel_name,
                    "panel_href": routes.panel(m.panel_id),
                    "when": m.when,
                    "where": m.where,
                    "status": STATUS_WORDS.get(m.status, ""),
                    "agenda": "Agenda and pack published" if m.agenda_published else "Agenda not published yet",
                }
                for m in list_my_meetings(session=session, actor=actor)
            ]

        try:
            self.meetings = self._run(_read)
        except DomainError:
            self.meetings = []  # the page itself says why (sign-in, refusal)
        self.shown = True


def my_meetings() -> rx.Component:
    return rx.vstack(
        rx.heading("My meetings", size="5", as_="h2"),
        rx.cond(
            MyMeetingsState.meetings.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(
                    MyMeetingsState.meetings,
                    lambda m: rx.el.li(
                        rx.hstack(
                            rx.link(m["when"], href=m["href"], underline="always", weight="medium"),
                            rx.text(m["panel"]),
                            rx.text(m["where"], size="2", color_scheme="gray"),
                            rx.badge(m["agenda"], variant="soft", high_contrast=True),
                            rx.cond(m["status"] != "", rx.badge(m["status"], color_scheme="green", high_contrast=True)),
                            spacing="3",
                            align="center",
                            wrap="wrap",
                        ),
                    ),
                ),
                id="my-meetings",
            ),
            rx.text(
                rx.cond(MyMeetingsState.shown, "You have no meetings coming up.", "Looking for your meetings…"),
                size="2",
            ),
        ),
        on_mount=MyMeetingsState.load_meetings,
        width="100%",
        spacing="2",
    )
