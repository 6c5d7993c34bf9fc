"""Reports and the case list in the browser: the ASB officer records a phoned-in report,
triages it into a case (a bad triage answered at the field first), finds the case in the list
and narrows the list by type; a third-party report without the victim's consent is refused;
the police see only what was shared with them."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from panels.triage import VICTIM_CONSENT_NEEDED
from tests.web.conftest import axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

CASE_URL = re.compile(r"/cases/(\d+)/?$")


def _go(page: Page, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def _record_report(page: Page, *, what: str, name: str, channel: str, where: str = "", victim: str = "") -> None:
    form = page.locator("#report-form")
    form.get_by_label("Or their name").fill(name)
    form.get_by_label("How it was reported").select_option(label=channel)
    form.get_by_label("What happened", exact=True).fill(what)
    if where:
        form.get_by_label("Where", exact=True).fill(where)
    if victim:
        form.get_by_label("Victim, for a report made on their behalf").select_option(label=victim)
    form.get_by_role("button", name="Record report").click()


def _triage(page: Page, what: str) -> None:
    queue = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Where"))
    queue.get_by_role("row").filter(has_text=what).get_by_role("button", name=re.compile("^Triage")).click()
    expect(page.get_by_role("dialog")).to_be_visible()


def _at_rest(page: Page) -> None:
    """Confirmations gone (axe looks at the page at rest)."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)


def _apply(page: Page, url: re.Pattern[str]) -> None:
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(url)
    expect(page.locator("#case-results")).to_have_attribute("aria-busy", "false")


def _case_link(page: Page, case_id: str) -> str:
    return f"main a[href='/cases/{case_id}']"


def test_a_report_is_triaged_into_a_case_found_in_the_list(page: Page) -> None:
    what = f"Shouting and threats at the front door, third time this week ({uuid.uuid4().hex[:6]})"
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "Reports", "Reports")
    expect(page.get_by_role("heading", name="Record a report")).to_be_visible()
    assert axe_violations(page) == []

    # Nothing chosen: answered at the field.
    page.locator("#report-form").get_by_role("button", name="Record report").click()
    expect(page.get_by_text("Choose how the report was made.")).to_be_visible()

    _record_report(page, what=what, name="Sam Caller", channel="Phone", where="3 Orchard Row, Eastbrook")
    queued = page.get_by_role("row").filter(has_text=what)
    expect(queued).to_be_visible()
    expect(queued).to_contain_text("Phone")
    expect(queued).to_contain_text("Sam Caller")
    expect(page.locator("#report-form").get_by_label("What happened", exact=True)).to_have_value("")
    _at_rest(page)
    screenshot(page, "reports.png")

    # A triage without any type of behaviour is answered at the field; what was chosen stays.
    _triage(page, what)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Sam Caller")
    expect(dialog.get_by_label("Log only (anonymous, no feedback)")).to_have_count(0)
    dialog.get_by_label("Open a case").check()
    dialog.get_by_label("Category").select_option(label="Personal")
    expect(dialog.get_by_label("Location")).to_have_value("3 Orchard Row, Eastbrook")
    dialog.get_by_label("Area (optional)").fill("Orchard ward")
    dialog.get_by_role("button", name="Save triage").click()
    expect(dialog.get_by_text("Tick at least one type of behaviour.")).to_be_visible()
    expect(dialog.get_by_label("Category")).to_have_value("personal")
    expect(dialog.get_by_label("Area (optional)")).to_have_value("Orchard ward")
    expect(dialog.get_by_label("Open a case")).to_be_checked()
    assert axe_violations(page) == []

    dialog.get_by_label("Harassment or intimidation").check()
    dialog.get_by_role("button", name="Save triage").click()
    expect(page).to_have_url(CASE_URL)
    match = CASE_URL.search(page.url)
    assert match is not None
    case_id = match.group(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Case|[A-Z]+-\d{4}-\d{4}"))

    # The case list shows it, with its reference, linking to the case.
    _go(page, "Cases", "Cases")
    link = page.locator(_case_link(page, case_id))
    expect(link).to_have_text(re.compile(r"^[A-Z]+-\d{4}-\d{4}$"))
    reference = link.inner_text()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference, exact=True))
    expect(row).to_contain_text("Harassment or intimidation")
    expect(row).to_contain_text("1 Initial enquiry and assessment")
    expect(row).to_contain_text("Alex Morgan")
    expect(page.locator("#case-list-summary")).to_contain_text(re.compile(r"Showing 1–\d+ of \d+"))
    assert axe_violations(page) == []
    screenshot(page, "cases.png")

    # Filter by type: harassment keeps it, fly-tipping narrows it out; the URL keeps the filter.
    page.get_by_label("Type of behaviour").select_option(label="Harassment or intimidation")
    _apply(page, re.compile(r"/cases/?\?type=harassment$"))
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    page.get_by_label("Type of behaviour").select_option(label="Fly-tipping")
    _apply(page, re.compile(r"\?type=fly_tipping$"))
    expect(page.get_by_role("link", name=reference, exact=True)).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    expect(page.get_by_label("Type of behaviour")).to_have_value("fly_tipping")
    expect(page.get_by_role("link", name=reference, exact=True)).to_have_count(0)
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_role("link", name=reference, exact=True)).to_be_visible()
    expect(page.get_by_label("Type of behaviour")).to_have_value("")

    # The report is listed as triaged, linking to the case.
    _go(page, "Reports", "Reports")
    triaged = page.get_by_role("row").filter(has_text=what)
    expect(triaged).to_contain_text("Case opened")
    expect(triaged.get_by_role("link", name=reference)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The police see only cases shared with them: not this one, and no officer filter.
    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports")).to_have_count(0)
    _go(page, "Cases", "Cases")
    expect(page.get_by_label("Type of behaviour")).to_be_visible()
    expect(page.get_by_label("Lead officer")).to_have_count(0)
    expect(page.locator(_case_link(page, case_id))).to_have_count(0)
    expect(page.get_by_text(reference)).to_have_count(0)
    assert axe_violations(page) == []


def test_a_third_party_report_needs_the_victims_consent_before_triage(page: Page) -> None:
    family = f"Tester{uuid.uuid4().hex[:5]}"
    victim = f"Robin {family}"
    what = f"Neighbour's son threatening Robin on the stairs ({family})"
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "People", "People")
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill(family)
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("row").filter(has_text=victim)).to_be_visible()

    _go(page, "Reports", "Reports")
    _record_report(page, what=what, name="Pat Neighbour", channel="Third party on the victim's behalf")
    expect(page.get_by_text("Choose the victim the report is made for")).to_be_visible()
    expect(page.locator("#report-form").get_by_label("What happened", exact=True)).to_have_value(what)
    page.locator("#report-form").get_by_label("Victim, for a report made on their behalf").select_option(label=victim)
    page.locator("#report-form").get_by_role("button", name="Record report").click()
    expect(page.get_by_role("row").filter(has_text=what)).to_be_visible()

    _triage(page, what)
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Open a case").check()
    dialog.get_by_label("Category").select_option(label="Personal")
    dialog.get_by_label("Violence or threats").check()
    dialog.get_by_label("Location").fill("Stairwell, Marsh Lane")
    dialog.get_by_role("button", name="Save triage").click()
    refusal = dialog.get_by_role("alert").filter(has_text=VICTIM_CONSENT_NEEDED)
    expect(refusal).to_be_visible()
    people = refusal.get_by_role("link", name="Record the victim's consent on the People page")
    expect(people).to_have_attribute("href", "/sharing/people")
    expect(page).to_have_url(re.compile(r"/cases/reports/?$"))
    expect(dialog.get_by_label("Location")).to_have_value("Stairwell, Marsh Lane")
    _at_rest(page)
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("row").filter(has_text=what)).to_be_visible()


def test_not_asb_advice_is_prefilled_and_an_anonymous_report_is_only_logged(page: Page) -> None:
    tag = uuid.uuid4().hex[:6]
    crying = f"Baby crying through the wall at night ({tag})"
    anonymous = f"Someone dealing from a parked car outside the shop ({tag})"
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    _go(page, "Reports", "Reports")

    _record_report(page, what=crying, name="Lee Next-Door", channel="Email")
    _triage(page, crying)
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("radio", name="Not anti-social behaviour").check()
    dialog.get_by_label("Why it is not anti-social behaviour").select_option(label="Babies crying")
    advice = dialog.get_by_label("Advice given")
    expect(advice).to_have_value(re.compile("A baby crying is normal household noise"))
    advice.fill("A baby crying is normal household noise. Told Lee about the mediation service.")
    dialog.get_by_role("button", name="Save triage").click()
    expect(dialog).to_have_count(0)
    triaged = page.get_by_role("row").filter(has_text=crying)
    expect(triaged).to_contain_text("Not anti-social behaviour: Babies crying")
    expect(triaged).to_contain_text("None")

    form = page.locator("#report-form")
    form.get_by_label("Anonymous: the person did not give their name").check()
    form.get_by_label("What happened", exact=True).fill(anonymous)
    form.get_by_role("button", name="Record report").click()
    queued = page.get_by_role("row").filter(has_text=anonymous)
    expect(queued).to_contain_text("Anonymous")
    _triage(page, anonymous)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("radio", name="Not anti-social behaviour")).to_have_count(0)
    dialog.get_by_label("Log only (anonymous, no feedback)").check()
    dialog.get_by_role("button", name="Save triage").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text=anonymous)).to_contain_text("Log only (anonymous)")
