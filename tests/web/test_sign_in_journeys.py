"""Signing in, what each agency's navigation shows, wrong passwords, signing out."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing.models import AuditEvent
from tests.web.conftest import RunningPortal, axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

NAV = [
    "My work", "Panels", "Information", "People", "Share", "Sharing console", "Requests and retention",
    "Agreements", "Audit trail", "Organisations", "Accounts",
]  # fmt: skip


def nav_items(page: Page) -> list[str]:
    nav = page.get_by_role("navigation", name="Main")
    return [name for name in NAV if nav.get_by_role("link", name=name, exact=True).count() > 0]


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_sign_in_page_is_labelled_and_accessible(page: Page) -> None:
    page.goto("/signin/")
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    # Demo mode shows the demo sign-ins and their password.
    expect(page.get_by_text("demo-pass-2026")).to_be_visible()
    expect(page.get_by_text("pc.jones@police.demo")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "sign-in.png")


def test_two_agencies_see_their_own_name_organisation_and_navigation(page: Page) -> None:
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    expect(page.locator("#my-name")).to_have_text("Alex Morgan")
    expect(page.locator("#my-organisation")).to_have_text("Eastbrook City Council ASB Team")
    expect(page.locator("#my-roles")).to_contain_text("Lead officer")
    assert nav_items(page) == ["My work", "Panels", "Information", "People", "Share", "Agreements"]
    sign_out(page)

    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    expect(page.locator("#my-name")).to_have_text("PC Taylor Jones")
    expect(page.locator("#my-organisation")).to_have_text("Eastshire Police")
    expect(page.locator("#my-roles")).to_contain_text("Panel member")
    assert nav_items(page) == ["My work", "Panels", "Information"]
    # The police sit on the Problem Solving Group and the Complex Case Panel, not the TEP.
    expect(page.get_by_role("heading", name="Problem Solving Group")).to_be_visible()
    expect(page.get_by_role("heading", name="Complex Case Panel")).to_be_visible()
    expect(page.get_by_role("heading", name="Tenancy Enforcement Panel")).to_have_count(0)
    sign_out(page)


def test_administrator_and_information_sharing_officer_navigation(page: Page) -> None:
    sign_in(page, "admin@eastbrook.demo")
    wait_for_my_work(page)
    assert nav_items(page) == ["My work", "Panels", "Agreements", "Audit trail", "Organisations", "Accounts"]
    assert axe_violations(page) == []
    screenshot(page, "my-work-administrator.png")
    sign_out(page)

    sign_in(page, "iso@eastbrook.demo")
    wait_for_my_work(page)
    expect(page.locator("#my-roles")).to_contain_text("Information-sharing officer")
    assert nav_items(page) == [
        "My work", "Panels", "Information", "People", "Share", "Sharing console", "Requests and retention",
        "Agreements", "Audit trail",
    ]  # fmt: skip
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_text("The trail is complete and unaltered")).to_be_visible()
    assert axe_violations(page) == []


def test_wrong_password_keeps_the_email_and_says_nothing_about_which_was_wrong(page: Page, engine: Engine) -> None:
    sign_in(page, "legal@eastbrook.demo", "not-the-password")
    message = page.get_by_role("alert").filter(has_text="The email or password is not right")
    expect(message).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("legal@eastbrook.demo")
    assert "/signin" in page.url

    sign_in(page, "nobody@eastbrook.demo", "not-the-password")
    expect(page.get_by_role("alert").filter(has_text="The email or password is not right")).to_be_visible()

    def failure_reasons() -> list[str | None]:
        with Session(engine) as session:
            return list(
                session.exec(
                    select(AuditEvent.reason)
                    .where(AuditEvent.action == "auth:signin:failed")
                    .where(col(AuditEvent.actor_label).in_(["legal@eastbrook.demo", "nobody@eastbrook.demo"]))
                ).all()
            )

    # The page answers at once; the second attempt's audit row may land a moment later.
    deadline = time.monotonic() + 10
    while "unknown email" not in failure_reasons() and time.monotonic() < deadline:
        time.sleep(0.2)
    reasons = failure_reasons()
    assert "wrong password" in reasons
    assert "unknown email" in reasons


def test_pages_need_a_session_and_sign_out_ends_it(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    expect(page.get_by_text("Please sign in to continue.")).to_be_visible()

    sign_in(page, "nurse.reid@health.demo")
    wait_for_my_work(page)
    cookies = {c["name"]: c for c in page.context.cookies()}
    session_cookie = cookies["portal_session"]
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Lax"
    sign_out(page)
    assert "portal_session" not in {c["name"] for c in page.context.cookies()}
    # The old token is dead on the server too: replaying it gets nobody in.
    page.context.add_cookies([{k: session_cookie[k] for k in ("name", "value", "domain", "path")}])
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))


def test_a_panel_member_cannot_use_the_admin_screens_by_url(page: Page, engine: Engine) -> None:
    sign_in(page, "sw.patel@adultcare.demo")
    wait_for_my_work(page)
    page.goto("/admin/users")
    expect(page.get_by_text("You do not have permission to do that.")).to_be_visible()
    expect(page.get_by_text("admin@eastbrook.demo")).to_have_count(0)
    with Session(engine) as session:
        denial = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "access:permission:denied", AuditEvent.actor_label == "sw.patel@adultcare.demo")
            .order_by(col(AuditEvent.id).desc())
        ).first()
    assert denial is not None
    assert denial.reason == "lacks admin:users:read"


def test_every_demo_account_can_sign_in(page: Page) -> None:
    from panels.demo import DEMO_ACCOUNTS

    for account in DEMO_ACCOUNTS:
        sign_in(page, account.email)
        wait_for_my_work(page)
        expect(page.locator("#my-name")).to_have_text(account.full_name)
        expect(page.locator("#my-organisation")).to_have_text(account.organisation)
        sign_out(page)


def test_the_portal_started_on_another_port_talks_to_itself_and_signs_in(page: Page, portal: RunningPortal) -> None:
    """`make run PORT=…` without PORTAL_PUBLIC_URL: the browser's events and its sign-in go to
    the port the portal started on, not to the default 3000."""
    assert portal.port != 3000
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    assert sockets and all(url.startswith(f"ws://localhost:{portal.port}/_event") for url in sockets), sockets
    printed = portal.log_path.read_text()
    assert f"starting at http://localhost:{portal.port} (listening on port {portal.port})" in printed
    assert "PORTAL_PUBLIC_URL is" not in printed
    sign_out(page)
