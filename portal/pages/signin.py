"""Sign-in: email and password, then a TOTP code (or setting one up) where required, or
"Sign in with <organisation>" for agencies with their own identity provider."""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
import reflex as rx

from panels.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from portal import routes
from portal.components.forms import text_input
from portal.components.layout import PRODUCT_NAME
from portal.services import run_as
from sharing.accounts import (
    SignInStep,
    confirm_totp_enrolment,
    new_totp_secret,
    sign_in_with_password,
    totp_provisioning_uri,
    verify_second_factor,
)
from sharing.config import get_settings
from sharing.db import transaction
from sharing.directory import list_sso_organisations
from sharing.errors import DomainError, SessionExpired, SignInFailed
from sharing.models import ROLE_LABELS

# How long the second step may wait after a correct password.
PENDING_SECONDS = 300


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


class SignInState(rx.State):
    step: str = "password"
    email: str = ""
    form_error: str = ""
    code_error: str = ""
    notice: str = ""
    busy: bool = False
    sso_options: list[dict[str, str]] = []
    demo_mode: bool = False
    demo_accounts: list[dict[str, str]] = []
    enrol_secret: str = ""
    enrol_qr: str = ""
    _pending_user_id: int | None = None
    _pending_since: float = 0.0

    @rx.event
    def load(self) -> Any:
        params = self.router.url.query_parameters
        self.notice = params.get("notice", "") or params.get("error", "")
        # The form's own fields are left alone here: a quick person may already have
        # submitted before this ran, and their answer must not be wiped.
        # Already signed in? Go straight to My work.
        try:
            run_as(self.router.headers.cookie, self.router.session.client_ip or None, lambda _s, actor: actor)
        except SessionExpired:
            pass
        else:
            return rx.redirect(routes.HOME, replace=True)
        with transaction() as session:
            self.sso_options = [
                {"slug": slug, "name": name, "href": routes.sso_login(slug)}
                for slug, name in list_sso_organisations(session=session)
            ]
        self.demo_mode = get_settings().is_demo
        self.demo_accounts = (
            [
                {
                    "email": a.email,
                    "organisation": a.organisation,
                    "roles": ", ".join(ROLE_LABELS[r] for r in a.roles) + (f" ({a.note})" if a.note else ""),
                }
                for a in DEMO_ACCOUNTS
            ]
            if self.demo_mode
            else []
        )
        return None

    def _finish(self, step: SignInStep) -> Any:
        if step.next == "done" and step.ticket:
            # A shared computer must not show the last person's email or step.
            self._reset_steps()
            self.email = ""
            # A full page load, so the server can set the HttpOnly session cookie.
            return rx.call_script(f"window.location.assign('{routes.AUTH_COMPLETE}?ticket={step.ticket}')")
        self._pending_user_id = step.user_id
        self._pending_since = time.monotonic()
        self.step = step.next
        if step.next == "enrol_totp":
            self.enrol_secret = new_totp_secret()
            self.enrol_qr = _qr_data_uri(totp_provisioning_uri(email=self.email, secret=self.enrol_secret))
        return None

    @rx.event
    def submit_password(self, form_data: dict[str, Any]) -> Any:
        email = str(form_data.get("email", "")).strip()
        password = str(form_data.get("password", ""))
        self.email = email
        self.form_error = self.notice = ""
        if not email or not password:
            self.form_error = "Enter your email address and password."
            return None
        try:
            with transaction() as session:
                step = sign_in_with_password(
                    session=session, email=email, password=password, ip_address=self.router.session.client_ip or None
                )
        except SignInFailed as error:
            self.form_error = error.message
            return None
        return self._finish(step)

    def _pending(self) -> int | None:
        if self._pending_user_id is None or time.monotonic() - self._pending_since > PENDING_SECONDS:
            self._reset_steps()
            self.notice = "Your sign-in took too long. Please start again."
            return None
        return self._pending_user_id

    @rx.event
    def submit_code(self, form_data: dict[str, Any]) -> Any:
        user_id = self._pending()
        if user_id is None:
            return None
        code = str(form_data.get("code", ""))
        self.code_error = ""
        try:
            with transaction() as session:
                if self.step == "enrol_totp":
                    step = confirm_totp_enrolment(
                        session=session,
                        user_id=user_id,
                        secret=self.enrol_secret,
                        code=code,
                        ip_address=self.router.session.client_ip or None,
                    )
                else:
                    step = verify_second_factor(
                        session=session, user_id=user_id, code=code, ip_address=self.router.session.client_ip or None
                    )
        except DomainError as error:
            self.code_error = error.message
            return None
        return self._finish(step)

    def _reset_steps(self) -> None:
        self.step = "password"
        self._pending_user_id = None
        self.code_error = self.form_error = ""
        self.enrol_secret = self.enrol_qr = ""

    @rx.event
    def start_again(self) -> None:
        self._reset_steps()


def _password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                SignInState.form_error != "",
                rx.callout(
                    SignInState.form_error, icon="triangle-alert", color_scheme="red", role="alert", width="100%"
                ),
            ),
            text_input("Email", "email", type="email", autocomplete="username", default_value=SignInState.email),
            text_input("Password", "password", type="password", autocomplete="current-password"),
            rx.button("Sign in", type="submit", size="3", width="100%"),
            spacing="4",
            width="100%",
        ),
        on_submit=SignInState.submit_password,
        no_validate=True,
        width="100%",
    )


def _code_form(button: str) -> rx.Component:
    return rx.form(
        rx.vstack(
            text_input(
                "Six-digit code",
                "code",
                error=SignInState.code_error,
                autocomplete="one-time-code",
                inputmode="numeric",
                hint="Open your authenticator app and type the code it shows for the ASB Panel Portal.",
            ),
            rx.button(button, type="submit", size="3", width="100%"),
            rx.button("Start again", type="button", variant="ghost", on_click=SignInState.start_again),
            spacing="4",
            width="100%",
        ),
        on_submit=SignInState.submit_code,
        no_validate=True,
        reset_on_submit=True,
        width="100%",
    )


def _enrol_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Set up your authenticator", size="4", as_="h2"),
        rx.text(
            "Your role needs a second step at sign-in. Scan this code with an authenticator app "
            "(for example Microsoft Authenticator), or type the key below into it."
        ),
        rx.image(src=SignInState.enrol_qr, alt="QR code to add the portal to an authenticator app", width="180px"),
        rx.text("Key: ", rx.code(SignInState.enrol_secret, id="totp-secret"), size="2"),
        _code_form("Turn on and sign in"),
        spacing="3",
        width="100%",
    )


def _sso_buttons() -> rx.Component:
    return rx.cond(
        SignInState.sso_options.length() > 0,  # type: ignore[attr-defined]
        rx.vstack(
            rx.hstack(
                rx.separator(size="4"),
                rx.text("or", size="2", color_scheme="gray"),
                rx.separator(size="4"),
                align="center",
                width="100%",
            ),
            rx.foreach(
                SignInState.sso_options,
                lambda o: rx.button(
                    rx.el.a("Sign in with " + o["name"], href=o["href"], custom_attrs={"reloadDocument": True}),
                    as_child=True,
                    variant="outline",
                    size="3",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
    )


def _demo_accounts() -> rx.Component:
    return rx.cond(
        SignInState.demo_mode,
        rx.card(
            rx.vstack(
                rx.heading("Demo partnership", size="3", as_="h2"),
                rx.text(
                    "This portal runs with fictional demo data. Every demo account uses the password ",
                    rx.code(DEMO_PASSWORD, id="demo-password"),
                    ".",
                    size="2",
                ),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Email"),
                            rx.table.column_header_cell("Organisation"),
                            rx.table.column_header_cell("Role"),
                        )
                    ),
                    rx.table.body(
                        rx.foreach(
                            SignInState.demo_accounts,
                            lambda a: rx.table.row(
                                rx.table.cell(rx.code(a["email"])),
                                rx.table.cell(a["organisation"]),
                                rx.table.cell(a["roles"]),
                            ),
                        )
                    ),
                    size="1",
                    variant="surface",
                    width="100%",
                ),
                spacing="3",
            ),
            width="100%",
            max_width="760px",
        ),
    )


@rx.page(route=routes.SIGN_IN, title=f"Sign in · {PRODUCT_NAME}", on_load=SignInState.load)
def signin_page() -> rx.Component:
    return rx.box(
        rx.el.main(
            rx.vstack(
                rx.hstack(
                    rx.icon("shield-check", size=32, aria_hidden="true"),
                    rx.heading(PRODUCT_NAME, size="7", as_="h1"),
                    align="center",
                    spacing="3",
                ),
                rx.text("Multi-agency anti-social behaviour panels, with consent-aware information sharing."),
                rx.card(
                    rx.vstack(
                        rx.heading("Sign in", size="5", as_="h2"),
                        rx.cond(
                            SignInState.notice != "",
                            rx.callout(SignInState.notice, icon="info", role="status", width="100%"),
                        ),
                        rx.match(
                            SignInState.step,
                            (
                                "totp",
                                rx.vstack(
                                    rx.text("Enter the code from your authenticator app to finish signing in."),
                                    _code_form("Verify and sign in"),
                                    width="100%",
                                ),
                            ),
                            ("enrol_totp", _enrol_step()),
                            rx.vstack(_password_form(), _sso_buttons(), spacing="4", width="100%"),
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    width="100%",
                    max_width="420px",
                    size="3",
                ),
                _demo_accounts(),
                align="center",
                spacing="5",
                padding_y="3em",
                padding_x="1em",
            ),
            id="main",
        ),
        class_name="signin-page",
    )
