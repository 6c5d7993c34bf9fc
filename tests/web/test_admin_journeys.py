"""Administrators set up organisations and people; bad input is answered at the field and
nothing typed is lost."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import axe_violations, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser


def _as_admin(page: Page, path: str, heading: str) -> None:
    sign_in(page, "admin@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name=heading, exact=True).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    assert page.url.rstrip("/").endswith(path)


def test_add_an_organisation_with_answers_at_the_field(page: Page) -> None:
    _as_admin(page, "/admin/organisations", "Organisations")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Add organisation").click()
    expect(page.get_by_text("Enter the organisation's name.")).to_be_visible()
    expect(page.get_by_text("Choose what kind of agency this is.")).to_be_visible()

    name = f"Eastshire Fire and Rescue {uuid.uuid4().hex[:5]}"
    page.get_by_label("Organisation name").fill(name)
    page.get_by_role("button", name="Add organisation").click()
    expect(page.get_by_text("Choose what kind of agency this is.")).to_be_visible()
    expect(page.get_by_label("Organisation name")).to_have_value(name)  # what was typed is kept

    page.get_by_label("Type of agency").select_option("fire_and_rescue")
    page.get_by_role("button", name="Add organisation").click()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Fire and rescue")
    expect(page.get_by_label("Organisation name")).to_have_value("")

    # Single sign-on set-up refuses an address that is not one.
    row.get_by_role("button", name=f"Set up sign-in for {name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Discovery address").fill("login.fire.example")
    dialog.get_by_label("Client ID").fill("portal")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Enter the identity provider's discovery address")).to_be_visible()
    expect(dialog.get_by_label("Client ID")).to_have_value("portal")


def test_add_deactivate_and_reset_a_person(page: Page, browser: object) -> None:
    _as_admin(page, "/admin/users", "Accounts")
    assert axe_violations(page) == []
    email = f"jo.{uuid.uuid4().hex[:6]}@eastbrook.demo"
    page.get_by_label("Full name").fill("Jo Example")
    page.get_by_label("Email").fill("jo at eastbrook")
    page.get_by_label("Organisation").select_option(label="Eastbrook City Homes")
    page.get_by_label("First password").fill("short")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_text("Enter a full email address, like name@agency.gov.uk.")).to_be_visible()
    expect(page.get_by_text("Choose at least one role.")).to_be_visible()
    expect(page.get_by_text("Use at least 12 characters.")).to_be_visible()
    expect(page.get_by_label("Full name")).to_have_value("Jo Example")

    page.get_by_label("Email").fill(email)
    page.get_by_label("First password").fill("a sensible long password")
    page.get_by_role("checkbox", name="Lead officer", exact=True).check()
    page.get_by_role("button", name="Add person").click()
    row = page.get_by_role("row").filter(has_text=email)
    # The newest accounts are listed first, so the new one is there however many exist.
    expect(row).to_contain_text("Eastbrook City Homes", timeout=15_000)
    expect(row).to_contain_text("Lead officer")
    expect(row).to_contain_text("Active")

    row.get_by_role("button", name="Reset password for Jo Example").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New password").fill("tiny")
    dialog.get_by_role("button", name="Set password").click()
    expect(dialog.get_by_text("Use at least 12 characters.")).to_be_visible()
    dialog.get_by_label("New password").fill("another long password")
    dialog.get_by_role("button", name="Set password").click()
    # The dialog closes once the password is set (the confirmation toast may be stacked under another).
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("listitem").filter(has_text="New password set for Jo Example.")).to_have_count(1)

    row.get_by_role("button", name="Deactivate Jo Example").click()
    expect(row).to_contain_text("Deactivated")

    # The deactivated person cannot sign in, whatever the password.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, email, "another long password")
    expect(page.get_by_text("This account has been deactivated.")).to_be_visible()
