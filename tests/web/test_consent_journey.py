"""Consent in the browser: add a person, record their consent with the signed form, share on
consent, then withdraw it and see the partner lose access and be told."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import axe_violations, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser


def _go(page: Page, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def test_consent_given_shared_then_withdrawn(page: Page, tmp_path: Path) -> None:
    family = f"Tester{uuid.uuid4().hex[:5]}"
    name = f"Morgan {family}"
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "People", "People")
    assert axe_violations(page) == []

    page.get_by_label("First name").fill("Morgan")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_text("Enter the person's last name")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Morgan")
    page.get_by_label("Last name").fill(family)
    page.get_by_label("Address").fill("9 Canal Walk, Eastbrook")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()

    page.get_by_role("button", name=f"Consent of {name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("How consent was given").select_option(label="Signed form")
    dialog.get_by_label("Police").check()
    dialog.get_by_label("ASB case management").check()
    dialog.get_by_label("Identity").check()
    dialog.get_by_label("Contact").check()
    dialog.get_by_role("button", name="Record consent").click()
    expect(dialog.get_by_text("Attach the signed consent form.")).to_be_visible()
    form = tmp_path / "signed-consent.pdf"
    form.write_bytes(b"%PDF-1.4\n% a signed consent form\n%%EOF\n")
    dialog.locator("input[type=file]").set_input_files(str(form))
    expect(dialog.get_by_text("Attached: signed-consent.pdf")).to_be_visible()
    dialog.get_by_role("button", name="Record consent").click()
    expect(dialog.get_by_text("Share contact, identity with Police for ASB case management")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    # Share the person's details with the police on the strength of that consent.
    _go(page, "Share", "Share information")
    page.get_by_label(f"Personal details of {name}").check()
    page.get_by_label("Share with").select_option(label="Eastshire Police")
    page.get_by_label("Purpose").select_option(label="ASB case management")
    page.get_by_label("Lawful basis").select_option(label="Consent")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.locator("#share-outcome")).to_contain_text("Shared")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    _go(page, "Information", "Information")
    expect(page.get_by_role("link", name=f"Personal details of {name}")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The person withdraws consent.
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "People", "People")
    page.get_by_role("button", name=f"Consent of {name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Withdraw consent").first.click()
    expect(
        page.get_by_role("listitem").filter(has_text="1 disclosure(s) that rested on it were stopped")
    ).to_have_count(1)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    _go(page, "Information", "Information")
    expect(page.get_by_text("has been withdrawn").first).to_be_visible()
    expect(page.get_by_role("link", name=f"Personal details of {name}")).to_have_count(0)
