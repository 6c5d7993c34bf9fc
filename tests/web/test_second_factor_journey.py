"""An administrator's first sign-in sets up the authenticator; later sign-ins ask for a code."""

from __future__ import annotations

import time
import uuid

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from sharing.db import transaction
from sharing.directory import create_user
from sharing.models import Role
from sharing.permissions import SYSTEM_ACTOR
from tests.web.conftest import sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

PASSWORD = "a long administrator password"


def test_administrator_sets_up_and_then_uses_an_authenticator(page: Page, engine: Engine) -> None:
    email = f"second.admin.{uuid.uuid4().hex[:6]}@eastbrook.demo"
    with transaction(engine) as session:
        create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            email=email,
            full_name="Robin Second",
            organisation_id=1,
            roles=[str(Role.ADMINISTRATOR)],
            password=PASSWORD,
        )

    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to add the portal to an authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)

    page.get_by_label("Six-digit code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on and sign in").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()

    page.get_by_label("Six-digit code").fill(totp.now())
    page.get_by_role("button", name="Turn on and sign in").click()
    wait_for_my_work(page)
    expect(page.locator("#my-name")).to_have_text("Robin Second")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, email, PASSWORD)
    expect(page.get_by_text("Enter the code from your authenticator app")).to_be_visible()
    # The code just used cannot be replayed: use the next one (still inside the accepted window).
    page.get_by_label("Six-digit code").fill(totp.at(time.time() + totp.interval))
    page.get_by_role("button", name="Verify and sign in").click()
    wait_for_my_work(page)
