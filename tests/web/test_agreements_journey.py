"""The agreement register: an information-sharing officer adds an agreement and activates it."""

from __future__ import annotations

import uuid

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect

from tests.web.conftest import axe_violations, portal_today, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser


def test_add_and_activate_an_agreement(page: Page) -> None:
    sign_in(page, "iso@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agreements", exact=True).click()
    expect(page.get_by_role("heading", name="Information sharing agreements", level=1)).to_be_visible()
    # The demo agreement is due for review within the warning window.
    expect(page.get_by_role("row").filter(has_text="ECSP-ISA-2026")).to_contain_text("Review due")
    assert axe_violations(page) == []

    reference = f"RH-POL-{uuid.uuid4().hex[:5]}"
    page.get_by_label("Title").fill("Riverside Homes and Eastshire Police tenancy enforcement protocol")
    page.get_by_label("Reference").fill(reference)
    page.get_by_role("button", name="Add agreement").click()
    expect(page.get_by_text("Enter a date.").first).to_be_visible()
    expect(page.get_by_label("Reference")).to_have_value(reference)

    # A year's agreement that started last month, whatever day the journey runs on.
    starts = portal_today() - relativedelta(months=1)
    page.get_by_label("Starts on").fill(starts.isoformat())
    page.get_by_label("Ends on").fill((starts + relativedelta(years=1, days=-1)).isoformat())
    page.get_by_label("Review by").fill((starts + relativedelta(months=6)).isoformat())
    page.get_by_role("button", name="Add agreement").click()
    expect(page.get_by_text("An agreement needs at least two organisations.")).to_be_visible()

    page.get_by_label("Riverside Homes", exact=True).check()
    page.get_by_label("Signatory for Riverside Homes").fill("Neil Burton")
    page.get_by_label("Eastshire Police", exact=True).check()
    page.get_by_label("Tenancy enforcement").check()
    page.get_by_label("Housing and tenancy").check()
    page.get_by_label("Crime and Disorder Act 1998 s.115").check()
    page.get_by_role("button", name="Add agreement").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Draft")

    # Activation needs every party's signatory.
    row.get_by_role("button", name=f"Activate {reference}").click()
    expect(page.get_by_text("Every party needs a named signatory")).to_be_visible()
    expect(row).to_contain_text("Draft")

    # The register is filtered by status and by words from the title, reference or parties.
    filters = page.get_by_role("form", name="Filter the register")
    filters.get_by_label("Status").select_option(label="Draft")
    filters.get_by_label("Search the register").fill(f"{reference.lower()} police")
    filters.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#filter-count")).to_have_text("1 agreement matches.")
    expect(page.get_by_role("row").filter(has_text="ECSP-ISA-2026")).to_have_count(0)
    expect(row).to_contain_text("Draft")
    filters.get_by_label("Status").select_option(label="Active")
    filters.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_text("No agreements match.")).to_be_visible()
    expect(filters.get_by_label("Search the register")).to_have_value(f"{reference.lower()} police")
    assert axe_violations(page) == []
    filters.get_by_role("button", name="Show all").click()
    expect(page.get_by_role("row").filter(has_text="ECSP-ISA-2026")).to_contain_text("Review due")
    expect(row).to_contain_text("Draft")
    expect(filters.get_by_label("Search the register")).to_have_value("")
    expect(page.locator("#filter-count")).to_have_count(0)
