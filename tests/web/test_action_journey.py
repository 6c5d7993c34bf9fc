"""The action journey: PC Jones finds the Problem Solving Group's action on "My work", marks
it done with an update, and the case officer sees the update on the case's action plan; the
bell counts unread notifications; the administrator runs the reminders sweep from the
scheduler page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.action_models import EmailOutbox
from tests.web.conftest import axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

CASE = "ASB-2026-0001"
NOTE = "Patrols on four weekend nights; music from the flat above stopped when officers called. Logged as 26/50123."
UNREAD = re.compile(r"Notifications, \d+ unread")


def _new_page(browser: Browser, portal_url: str) -> Page:
    context = browser.new_context(base_url=portal_url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    return context.new_page()


def test_police_complete_a_panel_action_and_the_case_officer_sees_it(
    page: Page, browser: Browser, portal_url: str
) -> None:
    # 1. PC Jones: the action the Problem Solving Group gave him is on My work, due soon.
    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    expect(page.get_by_role("link", name=UNREAD)).to_be_visible()
    action_link = page.get_by_role("link", name=re.compile(rf"Action \d+ on case {CASE}"))
    expect(action_link).to_be_visible()
    expect(page.get_by_text("Patrol Willow Court between 11pm and 3am")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "my-work.png")

    # 2. He opens it (the place to act), and marks it done with what was done.
    action_link.click()
    expect(page.get_by_role("heading", name=re.compile(rf"Action \d+ on case {CASE}"), level=2)).to_be_visible()
    expect(page.get_by_text("Panel decision")).to_be_visible()
    assert axe_violations(page) == []
    # Saying nothing is refused at the field, and what was chosen is kept.
    page.get_by_label("New status").select_option(label="Done")
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_text("Say what was done, with any evidence.")).to_be_visible()
    page.get_by_label("What was done").fill(NOTE)
    page.get_by_role("button", name="Save update").click()
    expect(page.get_by_text("The action is updated.")).to_be_visible()
    expect(page.locator(".rt-Badge", has_text=re.compile(r"^Done$"))).to_be_visible()
    expect(page.get_by_text(NOTE).first).to_be_visible()
    plan_path = page.get_by_role("link", name="Open the case's action plan").get_attribute("href")
    assert plan_path and plan_path.endswith("/plan")

    # 3. The case officer: the bell counts the news, and the plan shows the update.
    officer = _new_page(browser, portal_url)
    sign_in(officer, "asb.officer@eastbrook.demo")
    wait_for_my_work(officer)
    bell = officer.get_by_role("link", name=UNREAD)
    expect(bell).to_be_visible()
    expect(officer.get_by_role("heading", name="Deadlines on your cases")).to_be_visible()
    officer.goto(plan_path)
    expect(officer.get_by_role("heading", name="Action plan", level=1)).to_be_visible()
    expect(officer.locator("#plan-case")).to_contain_text(CASE)
    card = officer.locator(".rt-Card").filter(has_text="Patrol Willow Court")
    expect(card.locator(".latest-update")).to_contain_text(NOTE)
    expect(card.locator(".latest-update")).to_contain_text("PC Taylor Jones, Eastshire Police")
    expect(card.locator(".rt-Badge", has_text=re.compile(r"^Done$"))).to_be_visible()
    expect(officer.get_by_role("heading", name="What the complainant agrees to do")).to_be_visible()
    assert axe_violations(officer) == []
    screenshot(officer, "action-plan.png")

    # 4. The notifications page: PC Jones's update is there, and reading it lowers the count.
    bell.click()
    expect(officer.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    expect(officer.get_by_text(re.compile(rf"Action \d+ on case {CASE} marked done")).first).to_be_visible()
    assert axe_violations(officer) == []
    officer.get_by_role("button", name="Mark all read").click()
    expect(officer.get_by_text("Nothing unread.")).to_be_visible()
    expect(officer.get_by_role("link", name="Notifications, none unread")).to_be_visible()
    officer.context.close()


def test_the_administrator_runs_the_reminders_sweep(page: Page, engine: Engine) -> None:
    sign_in(page, "admin@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scheduler").click()
    expect(page.get_by_role("heading", name="Scheduled jobs", level=1)).to_be_visible()
    jobs = page.locator("#jobs")
    # The demo's start-up sweep ran before anyone signed in.
    expect(jobs.get_by_role("row").filter(has_text="Reminders sweep")).to_contain_text("Succeeded")
    page.get_by_role("button", name="Run now: Send email").click()
    toast = page.get_by_text(re.compile(r"Send email: succeeded|Send email has already run"))
    expect(toast).to_be_visible()
    expect(jobs.get_by_role("row").filter(has_text="Send email")).to_contain_text("Succeeded")
    expect(toast).to_be_hidden(timeout=15_000)  # the toast's own colours are the library's
    assert axe_violations(page) == []
    screenshot(page, "scheduler.png")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Email outbox").click()
    expect(page.get_by_role("heading", name="Email outbox", level=1)).to_be_visible()
    # The newest emails are listed; other tests' data may push the demo's own further down,
    # so the page is checked for emails in the portal's form and the database for PC Jones's.
    expect(page.get_by_role("table")).to_contain_text("ASB Panel Portal: ")
    with Session(engine) as session:
        to_jones = session.exec(select(EmailOutbox).where(EmailOutbox.to_address == "pc.jones@police.demo")).all()
    assert to_jones, "the sweep should have queued PC Jones's reminders by email"
    assert axe_violations(page) == []


def test_the_team_manager_sees_the_agencys_actions_and_downloads_them(page: Page) -> None:
    sign_in(page, "psg.chair@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agency actions").click()
    expect(page.get_by_role("heading", name="Agency actions", level=1)).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Ask the landowner to fit a height barrier")
    # Overdue first.
    expect(table.get_by_role("row").nth(1)).to_contain_text("Overdue by")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    path = download.value.path()
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("Case,Action,Description")
    assert "Ask the landowner to fit a height barrier" in text
