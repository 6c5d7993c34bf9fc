"""The shell every signed-in page shares: header, navigation per permission, main area."""

from __future__ import annotations

import reflex as rx

from portal import routes
from portal.auth_state import AuthState
from portal.components.notifications import notification_bell

PRODUCT_NAME = "ASB Panel Portal"


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, class_name="nav-link", underline="none")


def navigation() -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            _nav_link("My work", routes.HOME),
            rx.cond(AuthState.can_read_cases, _nav_link("Cases", routes.CASES)),
            rx.cond(AuthState.can_read_agency_actions, _nav_link("Agency actions", routes.ACTIONS_AGENCY)),
            rx.cond(AuthState.can_record_reports, _nav_link("Reports", routes.REPORTS)),
            rx.cond(AuthState.can_see_panels, _nav_link("Panels", routes.PANELS)),
            rx.cond(AuthState.can_read_items, _nav_link("Information", routes.INFORMATION)),
            rx.cond(AuthState.can_record_consent, _nav_link("People", routes.PEOPLE)),
            rx.cond(AuthState.can_share, _nav_link("Share", routes.SHARE)),
            rx.cond(AuthState.can_use_console, _nav_link("Sharing console", routes.CONSOLE)),
            rx.cond(AuthState.can_manage_records, _nav_link("Requests and retention", routes.RECORDS)),
            rx.cond(AuthState.can_read_agreements, _nav_link("Agreements", routes.AGREEMENTS)),
            rx.cond(AuthState.can_read_audit, _nav_link("Audit trail", routes.AUDIT)),
            rx.cond(
                AuthState.can_admin,
                rx.hstack(
                    _nav_link("Organisations", routes.ADMIN_ORGANISATIONS),
                    _nav_link("Accounts", routes.ADMIN_USERS),
                    spacing="4",
                ),
            ),
            rx.cond(AuthState.can_read_scheduler, _nav_link("Scheduler", routes.ADMIN_SCHEDULER)),
            rx.cond(AuthState.can_read_outbox, _nav_link("Email outbox", routes.ADMIN_OUTBOX)),
            spacing="4",
            align="center",
            wrap="wrap",
        ),
        aria_label="Main",
        id="main-nav",
    )


# A real form POST (a full page load), so the server can end the session and clear the
# HttpOnly cookie; Reflex's own form component would turn the submit into an event instead.
_SIGN_OUT_SCRIPT = (
    "const f = document.createElement('form'); f.method = 'post'; "
    f"f.action = '{routes.AUTH_SIGN_OUT}'; document.body.appendChild(f); f.submit();"
)


def sign_out_form() -> rx.Component:
    return rx.button(
        "Sign out",
        type="button",
        variant="soft",
        color_scheme="gray",
        size="2",
        on_click=rx.call_script(_SIGN_OUT_SCRIPT),
    )


def header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.icon("shield-check", size=22, aria_hidden="true"),
                    rx.text(PRODUCT_NAME, weight="bold", size="4"),
                    align="center",
                    spacing="2",
                ),
                href=routes.HOME,
                underline="none",
                class_name="brand",
            ),
            navigation(),
            rx.spacer(),
            notification_bell(),
            rx.vstack(
                rx.text(AuthState.user_name, weight="medium", size="2", id="signed-in-name"),
                rx.text(AuthState.organisation_name, size="1", color_scheme="gray", id="signed-in-organisation"),
                spacing="0",
                align="end",
            ),
            sign_out_form(),
            align="center",
            spacing="5",
            width="100%",
        ),
        class_name="site-header",
    )


def page_shell(title: str | rx.Var[str], *children: rx.Component, subtitle: str = "") -> rx.Component:
    """A signed-in page.  Content shows only after the session check has passed."""
    return rx.box(
        rx.link("Skip to content", href="#main", class_name="skip-link"),
        header(),
        rx.el.main(
            rx.cond(
                AuthState.signed_in,
                rx.vstack(
                    rx.heading(title, size="7", as_="h1"),
                    *([rx.text(subtitle, color_scheme="gray")] if subtitle else []),
                    *children,
                    spacing="5",
                    width="100%",
                ),
                rx.center(rx.spinner(size="3"), rx.text(" Checking your sign-in…"), padding="4em"),
            ),
            id="main",
            class_name="page-main",
            tab_index=-1,
        ),
        class_name="page",
    )


# A full page load: downloads are plain HTTP routes, not pages of the app.
FILE_LINK = {"reloadDocument": True}


def file_link(text: str | rx.Var[str], href: str | rx.Var[str]) -> rx.Component:
    """A link to a file the server sends (a PDF, an .ics)."""
    return rx.link(
        rx.hstack(rx.icon("download", size=16, aria_hidden="true"), rx.text(text), spacing="1", align="center"),
        href=href,
        custom_attrs=FILE_LINK,
        underline="always",
    )


def empty_state(message: str, hint: str = "") -> rx.Component:
    return rx.callout(
        rx.vstack(rx.text(message, weight="medium"), *([rx.text(hint, size="2")] if hint else []), spacing="1"),
        icon="info",
        color_scheme="gray",
        variant="surface",
        width="100%",
    )
