"""The audit trail: every sign-in, failure, lockout, sign-out, change and denial."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import action_label, local_time
from sharing.audit import check_audit_chain, get_audit_trail
from sharing.permissions import Actor

FILTERS = [
    ("", "Everything"),
    ("auth:", "Sign-in and sign-out"),
    ("admin:", "Administration"),
    ("access:", "Denied access"),
]


class AuditState(AuthState):
    events: list[dict[str, str]] = []
    chain_ok: bool = True
    chain_summary: str = ""
    action_filter: str = ""

    def _reload(self, session: Session, actor: Actor) -> Actor:
        report = check_audit_chain(session=session, actor=actor)
        self.chain_ok = report.ok
        self.chain_summary = (
            f"The trail is complete and unaltered: {report.checked} events checked."
            if report.ok
            else f"The trail has been tampered with at event {report.first_bad_event_id}: {report.problem}."
        )
        self.events = [
            {
                "when": local_time(e.occurred_at),
                "what": action_label(e.action),
                "code": e.action,
                "who": e.actor_label or "",
                "subject": f"{e.subject_type} {e.subject_id}" if e.subject_type else "",
                "outcome": e.outcome,
                "reason": e.reason or "",
                "ip": e.ip_address or "",
            }
            for e in get_audit_trail(session=session, actor=actor, action_prefix=self.action_filter)
        ]
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def filter_by(self, prefix: str) -> Any:
        self.action_filter = prefix
        return AuditState.load


@rx.page(route=routes.AUDIT, title=f"Audit trail · {PRODUCT_NAME}", on_load=AuditState.load)
def audit_page() -> rx.Component:
    return page_shell(
        "Audit trail",
        rx.callout(
            AuditState.chain_summary,
            icon=rx.cond(AuditState.chain_ok, "shield-check", "shield-alert"),  # type: ignore[arg-type]
            color_scheme=rx.cond(AuditState.chain_ok, "green", "red"),
            high_contrast=True,
            width="100%",
        ),
        rx.hstack(
            rx.el.label("Show", html_for="audit-filter", class_name="field-label"),
            rx.el.select(
                *[rx.el.option(label, value=value) for value, label in FILTERS],
                id="audit-filter",
                value=AuditState.action_filter,
                on_change=AuditState.filter_by,
                class_name="field-input",
            ),
            align="center",
            spacing="3",
        ),
        rx.cond(
            AuditState.events.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("When", "What", "Who", "About", "Outcome", "Reason", "From address")
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        AuditState.events,
                        lambda e: rx.table.row(
                            rx.table.cell(e["when"]),
                            rx.table.cell(rx.tooltip(rx.text(e["what"]), content=e["code"])),
                            rx.table.cell(e["who"]),
                            rx.table.cell(e["subject"]),
                            rx.table.cell(
                                rx.badge(
                                    e["outcome"],
                                    high_contrast=True,
                                    color_scheme=rx.cond(e["outcome"] == "success", "green", "red"),
                                )
                            ),
                            rx.table.cell(e["reason"]),
                            rx.table.cell(e["ip"]),
                        ),
                    )
                ),
                variant="surface",
                size="1",
                width="100%",
            ),
            empty_state("No events match."),
        ),
        subtitle="Append-only and hash-chained: nobody can change or remove an entry without it showing here.",
    )
