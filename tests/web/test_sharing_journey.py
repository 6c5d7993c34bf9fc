"""The sharing journey: the ASB officer discloses a case summary to the police under s.115,
the information-sharing officer approves it, PC Jones sees it, and the officer sees both the
disclosure and PC Jones's view in the access log."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from sharing.vocabulary import WITHHELD
from tests.web.conftest import axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

CASE_3 = "ASB-2026-0003: dispute over garden fires and rubbish"


def _go(page: Page, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_police_see_only_what_was_shared_with_them(page: Page) -> None:
    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    _go(page, "Information", "Information")
    table = page.get_by_role("table")
    expect(table).to_contain_text("ASB-2026-0001")
    expect(table).to_contain_text("ASB-2026-0002")
    expect(table).not_to_contain_text("ASB-2026-0003")
    page.get_by_role("link", name=re.compile("ASB-2026-0001: repeated loud music")).click()
    expect(page.locator("#item-title")).to_contain_text("ASB-2026-0001")
    expect(page.get_by_text("Loud music and shouting from the flat above")).to_be_visible()
    # The victim's health was not shared with the police: the field says so, it is not blank.
    expect(page.get_by_text(WITHHELD)).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "shared-information.png")


def test_disclose_under_s115_approve_read_and_audit(page: Page) -> None:
    # 1. The ASB officer asks to share case 3 with the police without consent.
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "Share", "Share information")
    assert axe_violations(page) == []
    page.get_by_label(CASE_3).check()
    page.get_by_label("Share with").select_option(label="Eastshire Police")
    page.get_by_label("Purpose").select_option(label="ASB case management")
    page.get_by_label("Lawful basis").select_option(label="Crime and Disorder Act 1998 s.115")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text("Explain why sharing without consent is necessary and proportionate")).to_be_visible()
    page.get_by_label("Why sharing is necessary and proportionate").fill(
        "The police are investigating criminal damage linked to the fires and need the history to plan a visit."
    )
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.locator("#share-outcome")).to_contain_text("waits for an information-sharing officer's approval")
    disclosure_id = re.search(r"Request (\d+)", page.locator("#share-outcome").inner_text()).group(1)  # type: ignore[union-attr]
    _sign_out(page)

    # 2. Until it is approved, the police see nothing of it.
    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    _go(page, "Information", "Information")
    expect(page.get_by_role("table")).not_to_contain_text("ASB-2026-0003")
    _sign_out(page)

    # 3. The information-sharing officer approves it.
    sign_in(page, "iso@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "Sharing console", "Sharing console")
    assert axe_violations(page) == []
    page.get_by_role("button", name=f"Approve disclosure {disclosure_id}", exact=True).click()
    expect(page.get_by_role("listitem").filter(has_text=f"Disclosure {disclosure_id} approved")).to_have_count(1)
    _sign_out(page)

    # 4. PC Jones now sees it.
    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    _go(page, "Information", "Information")
    page.get_by_role("link", name=CASE_3).click()
    expect(page.get_by_text("Bonfires of household rubbish")).to_be_visible()
    _sign_out(page)

    # 5. The officer sees the disclosure and PC Jones's view in the access log.
    sign_in(page, "iso@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "Sharing console", "Sharing console")
    shared = page.get_by_role("row").filter(has_text=CASE_3).filter(has_text="Shared")
    expect(shared.first).to_contain_text("Crime and Disorder Act 1998 s.115")
    page.get_by_label("Person").select_option(label="Terry Vance (Eastbrook City Council ASB Team)")
    log = page.locator("#access-log")
    expect(
        log.get_by_role("row").filter(has_text="PC Taylor Jones").filter(has_text="information detail")
    ).to_have_count(1)
    screenshot(page, "sharing-console.png")
