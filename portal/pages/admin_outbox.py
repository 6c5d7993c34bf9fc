"""For administrators: the email outbox: what waits to be sent, what went, what failed."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.action_models import OutboxStatus
from panels.notifications import list_outbox
from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.permissions import Actor

STATUS_OPTIONS = [("", "Every email")] + [(str(s), s.label) for s in OutboxStatus]
STATUS_COLOURS = {
    OutboxStatus.PENDING: "blue",
    OutboxStatus.SENDING: "orange",
    OutboxStatus.SENT: "green",
    OutboxStatus.FAILED: "red",
}


class OutboxState(AuthState):
    emails: list[dict[str, str]] = []
    status: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        self.emails = [
            {
                "id": str(e.id),
                "created": local_time(e.created_at),
                "to": e.to_address,
                "subject": e.subject,
                "status": OutboxStatus(e.status).label,
                "colour": STATUS_COLOURS.get(OutboxStatus(e.status), "gray"),
                "attempts": str(e.attempts),
                "sent": local_time(e.sent_at, "Not sent")
                if e.status == OutboxStatus.SENT
                else f"Next try {local_time(e.next_attempt_at)}"
                if e.status == OutboxStatus.PENDING
                else "Not sent",
                "error": e.last_error,
            }
            for e in list_outbox(session=session, actor=actor, status=self.status or None)
        ]
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def filter_status(self, value: str) -> Any:
        self.status = value
        return self._load(self._reload)


@rx.page(route=routes.ADMIN_OUTBOX, title=f"Email outbox · {PRODUCT_NAME}", on_load=OutboxState.load)
def outbox_page() -> rx.Component:
    return page_shell(
        "Email outbox",
        rx.vstack(
            rx.el.label("Show", html_for="outbox-status", class_name="field-label"),
            rx.el.select(
                *[rx.el.option(label, value=value) for value, label in STATUS_OPTIONS],
                id="outbox-status",
                value=OutboxState.status,
                on_change=OutboxState.filter_status,
                class_name="field-input",
            ),
            spacing="1",
            width="20em",
        ),
        rx.cond(
            OutboxState.emails.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.el.caption("Emails, newest first", class_name="visually-hidden"),
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Queued", "To", "Subject", "Status", "Tries", "Sent", "Last error")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        OutboxState.emails,
                        lambda e: rx.table.row(
                            rx.table.cell(e["created"]),
                            rx.table.cell(e["to"]),
                            rx.table.row_header_cell(e["subject"]),
                            rx.table.cell(
                                rx.badge(e["status"], color_scheme=e["colour"], variant="soft", high_contrast=True)
                            ),
                            rx.table.cell(e["attempts"]),
                            rx.table.cell(e["sent"]),
                            rx.table.cell(rx.text(e["error"], size="1")),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
            ),
            empty_state("No emails here.", "Notifications are emailed through this outbox as they happen."),
        ),
        subtitle="Every email the portal sends waits here until the mail server takes it.",
    )
