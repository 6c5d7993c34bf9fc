"""My work: the page a person lands on after signing in."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.panels import list_panels
from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.components.my_meetings import my_meetings
from portal.formatting import action_label, local_time
from sharing.audit import list_my_sign_in_activity
from sharing.config import get_settings
from sharing.console import list_agreements, list_disclosures, notices_for
from sharing.db import utcnow
from sharing.errors import DomainError, SessionExpired
from sharing.permissions import Actor, Permission
from sharing.vocabulary import DisclosureStatus


class HomeState(AuthState):
    panels: list[dict[str, str]] = []
    activity: list[dict[str, str]] = []
    attention: list[dict[str, str]] = []

    @rx.event
    def load(self) -> Any:
        def _read(session: Session, actor: Actor) -> tuple[Actor, list[dict[str, str]], list[dict[str, str]]]:
            panels = (
                [
                    {
                        "name": p.name,
                        "role": "You chair this panel" if p.actor_is_chair else "Your organisation sits on this panel",
                        "chair": p.chair_name,
                        "members": ", ".join(p.organisation_names),
                    }
                    for p in list_panels(session=session, actor=actor)
                    if p.actor_is_chair or p.actor_sits_on
                ]
                if actor.can(Permission.PANELS_PANELS_READ)
                else []
            )
            activity = [
                {
                    "when": local_time(e.occurred_at),
                    "what": action_label(e.action),
                    "where": e.ip_address or "",
                    "outcome": e.outcome,
                }
                for e in list_my_sign_in_activity(session=session, actor=actor)
            ]
            self.attention = _attention(session, actor)
            return actor, panels, activity

        try:
            actor, self.panels, self.activity = self._run(_read)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            return self._handle(error)
        self._show(actor)
        return None


def _attention(session: Session, actor: Actor) -> list[dict[str, str]]:
    """What needs this person now, each with the place to act."""
    items: list[dict[str, str]] = []
    for notice in notices_for(session=session, actor=actor, limit=5):
        items.append({"text": notice.message, "href": routes.INFORMATION, "action": "Open information"})
    if actor.can(Permission.SHARING_CONSOLE_READ):
        rows = list_disclosures(session=session, actor=actor, limit=200)
        waiting = [r for r in rows if r.status == DisclosureStatus.AWAITING_APPROVAL]
        emergencies = [r for r in rows if r.status == DisclosureStatus.EMERGENCY]
        if waiting:
            items.append(
                {
                    "text": f"{len(waiting)} request(s) to share without consent wait for your approval.",
                    "href": routes.CONSOLE,
                    "action": "Open the sharing console",
                }
            )
        if emergencies:
            items.append(
                {
                    "text": f"{len(emergencies)} emergency share(s) need your retrospective review.",
                    "href": routes.CONSOLE,
                    "action": "Open the sharing console",
                }
            )
    if actor.can(Permission.SHARING_AGREEMENTS_MANAGE):
        settings = get_settings()
        for agreement in list_agreements(
            session=session, actor=actor, today=utcnow().date(), warning_days=settings.agreement_warning_days
        ):
            if agreement.attention:
                items.append(
                    {
                        "text": f"{agreement.reference}: {agreement.attention}.",
                        "href": routes.AGREEMENTS,
                        "action": "Open the agreements",
                    }
                )
    return items


def _panel_card(panel: dict[str, str]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(panel["name"], size="4", as_="h3"),
            rx.badge(panel["role"], variant="soft"),
            rx.text("Chair: ", panel["chair"], size="2"),
            rx.text("Members: ", panel["members"], size="2", color_scheme="gray"),
            spacing="2",
        ),
        width="100%",
    )


@rx.page(route=routes.HOME, title=f"My work · {PRODUCT_NAME}", on_load=HomeState.load)
def home_page() -> rx.Component:
    return page_shell(
        "My work",
        rx.card(
            rx.hstack(
                rx.avatar(fallback=HomeState.user_name[:1], size="5", radius="full"),
                rx.vstack(
                    rx.heading(HomeState.user_name, size="5", as_="h2", id="my-name"),
                    rx.text(HomeState.organisation_name, id="my-organisation"),
                    rx.hstack(
                        rx.foreach(HomeState.role_labels, lambda r: rx.badge(r, variant="surface", size="2")),
                        id="my-roles",
                        spacing="2",
                    ),
                    spacing="1",
                ),
                spacing="4",
                align="center",
            ),
            width="100%",
        ),
        rx.cond(
            HomeState.attention.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.heading("Needs your attention", size="5", as_="h2"),
                rx.foreach(
                    HomeState.attention,
                    lambda a: rx.callout(
                        rx.hstack(
                            rx.text(a["text"]),
                            rx.link(a["action"], href=a["href"], high_contrast=True, underline="always", weight="bold"),
                            spacing="3",
                            wrap="wrap",
                        ),
                        icon="bell",
                        color_scheme="orange",
                        high_contrast=True,
                        width="100%",
                    ),
                ),
                width="100%",
            ),
        ),
        my_meetings(),
        rx.heading("Your panels", size="5", as_="h2"),
        rx.cond(
            HomeState.panels.length() > 0,  # type: ignore[attr-defined]
            rx.grid(
                rx.foreach(HomeState.panels, _panel_card),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="4",
                width="100%",
            ),
            empty_state(
                "You are not on any panel yet.",
                "A panel chair or your portal administrator can add your organisation to a panel.",
            ),
        ),
        rx.heading("Your recent sign-in activity", size="5", as_="h2"),
        rx.cond(
            HomeState.activity.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("When"),
                        rx.table.column_header_cell("What"),
                        rx.table.column_header_cell("From address"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        HomeState.activity,
                        lambda a: rx.table.row(
                            rx.table.cell(a["when"]), rx.table.cell(a["what"]), rx.table.cell(a["where"])
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No sign-in activity recorded yet."),
        ),
        rx.text(
            "If you see a sign-in you do not recognise, tell your portal administrator straight away.",
            size="2",
            color_scheme="gray",
        ),
        subtitle="What needs you, your panels and your account at a glance.",
    )
