"""The panel and meeting pages: PC Jones opens the next Problem Solving Group's pack and sees
what was shared with Eastshire Police and "Withheld" where it was not; the ASB officer refers
a case and sees it land on the next available meeting; the chair accepts it and publishes; an
administrator changes a panel's terms of reference."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from panels.case_models import Case
from panels.meetings import MeetingStatus, format_when, next_available_meeting
from panels.models import Meeting, Panel, Referral
from panels.packs import NOTHING_SHARED
from sharing.db import utcnow
from sharing.models import Organisation, User
from sharing.vocabulary import WITHHELD
from tests.web.conftest import axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def _toasts_gone(page: Page) -> None:
    """Confirmations fade after a few seconds; check the page as a reader finds it at rest."""
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)


def _next_psg(engine: Any) -> Meeting:
    with Session(engine) as session:
        if importlib.util.find_spec("panels.case_demo") is None:
            pytest.skip("the demo has no cases yet (panels.case_demo), so the next meeting has no agenda")
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        return session.exec(
            select(Meeting)
            .where(
                Meeting.panel_id == panel.id,
                Meeting.status == MeetingStatus.SCHEDULED,
                col(Meeting.starts_at) > utcnow(),
            )
            .order_by(col(Meeting.starts_at))
        ).first()  # type: ignore[return-value]


def _landed_on(engine: Any, case: Case) -> tuple[Meeting, Meeting | None]:
    """The meeting the case's newest referral landed on, checked against the portal's own rule
    (the next meeting whose agenda cut-off had not passed) at the moment the portal recorded
    the referral, and the scheduled meeting just before it (still open a moment earlier if its
    cut-off fell between the page being drawn and the referral: the rule never goes back)."""
    with Session(engine) as session:
        referral = session.exec(
            select(Referral).where(Referral.case_id == case.id).order_by(col(Referral.id).desc())
        ).first()
        assert referral is not None and referral.meeting_id is not None
        expected = next_available_meeting(session, referral.panel_id, referral.referred_at)
        assert expected is not None and referral.meeting_id == expected.id
        earlier = session.exec(
            select(Meeting)
            .where(
                Meeting.panel_id == referral.panel_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                col(Meeting.starts_at) < expected.starts_at,
            )
            .order_by(col(Meeting.starts_at).desc())
        ).first()
        return expected, earlier


def _case_to_refer(engine: Any) -> Case:
    """An open case the ASB team leads that is not waiting on the Problem Solving Group."""
    with Session(engine) as session:
        team = session.exec(select(Organisation).where(Organisation.name == "Eastbrook City Council ASB Team")).one()
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        waiting = set(
            session.exec(
                select(Referral.case_id).where(
                    Referral.panel_id == panel.id, col(Referral.status).in_(["submitted", "accepted", "deferred"])
                )
            )
        )
        cases = session.exec(
            select(Case)
            .where(Case.lead_organisation_id == team.id, Case.status == "open")
            .order_by(col(Case.reference))
        ).all()
        return next(c for c in cases if c.id not in waiting)


def test_pc_jones_reads_the_pack_with_what_was_withheld(page: Page, engine: Any) -> None:
    meeting = _next_psg(engine)
    when = format_when(meeting.starts_at)
    sign_in(page, "pc.jones@police.demo")
    wait_for_my_work(page)
    page.locator("#my-meetings").get_by_role("link", name=when).click()
    expect(page.get_by_role("heading", name=re.compile("Problem Solving Group"), level=1)).to_be_visible()
    pack = page.locator("#pack")
    expect(pack).to_contain_text("Case ASB-2026-0001")
    expect(pack).to_contain_text("Loud music and shouting from the flat above")  # shared with the police
    expect(pack.get_by_text(WITHHELD).first).to_be_visible()  # the victim's health was not
    expect(pack).to_contain_text(NOTHING_SHARED)  # ASB-2026-0003 was not shared at all
    assert axe_violations(page) == []
    screenshot(page, "pack.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the pack (PDF)").click()
    assert download.value.suggested_filename == f"meeting-{meeting.id}-pack.pdf"
    _sign_out(page)


def test_officer_refers_a_case_and_the_chair_accepts_and_publishes(page: Page, engine: Any) -> None:
    case = _case_to_refer(engine)

    # 1. The ASB officer finds the panel and its next meeting, and refers a case.
    sign_in(page, "asb.officer@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Panels", exact=True).click()
    page.get_by_role("link", name="Problem Solving Group", exact=True).click()
    expect(page.get_by_role("heading", name="Problem Solving Group", level=1)).to_be_visible()
    expect(page.get_by_text("Monthly on the second Tuesday")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "panel.png")
    page.locator("#upcoming-meetings").get_by_role("link").first.click()  # the next meeting
    lands_on = page.locator("#lands-on")
    expect(lands_on).to_contain_text(re.compile(r"\d{4} at \d\d:\d\d"))
    shown = lands_on.inner_text()  # where the page says a referral made now will land
    page.get_by_label("Case", exact=True).select_option(value=str(case.id))
    page.get_by_label("Why the case needs the panel").fill("Threats have continued after the warning letter.")
    page.get_by_label("Decision you are asking the panel to make").fill("Agree a joint action plan with the police.")
    page.get_by_label("Evidence you will bring").fill("Diary sheets for October and the incident log.")
    page.get_by_role("button", name="Refer the case").click()
    outcome = page.locator("#referral-outcome")
    expect(outcome).to_contain_text("Referred to the meeting on")
    meeting, earlier = _landed_on(engine, case)
    when = format_when(meeting.starts_at)
    assert when in shown or (earlier is not None and format_when(earlier.starts_at) in shown), shown
    expect(outcome).to_contain_text(f"Referred to the meeting on {when}")
    expect(page.get_by_text(f"Case {case.reference}").first).to_be_visible()
    _toasts_gone(page)
    assert axe_violations(page) == []
    _sign_out(page)

    # 2. The chair accepts the referral and publishes the agenda again.
    sign_in(page, "psg.chair@eastbrook.demo")
    wait_for_my_work(page)
    page.goto(f"/meetings/{meeting.id}")
    expect(page.get_by_role("heading", name=re.compile("Problem Solving Group"), level=1)).to_be_visible()
    page.get_by_role("button", name=f"Accept the referral of case {case.reference}").click()
    expect(page.locator("#agenda")).to_contain_text(f"Case {case.reference}")
    # The demo published the next meeting's agenda; a later meeting's is published for the first time.
    publish = "Publish the changes" if meeting.agenda_published_at is not None else "Publish the agenda and pack"
    page.get_by_role("button", name=publish).click()
    expect(page.get_by_text("The agenda and pack are published to the panel's members.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Accept the referral of case {case.reference}")).to_have_count(0)
    _toasts_gone(page)
    assert axe_violations(page) == []
    screenshot(page, "meeting.png")


def test_an_administrator_changes_a_panels_terms_of_reference(page: Page, engine: Any) -> None:
    with Session(engine) as session:
        chair = session.exec(select(User).where(User.email == "tep.chair@eastbrook.demo")).one()
    sign_in(page, "admin@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Panels", exact=True).click()
    page.get_by_role("link", name="Tenancy Enforcement Panel", exact=True).click()
    expect(page.get_by_role("heading", name="Tenancy Enforcement Panel", level=1)).to_be_visible()
    page.get_by_role("button", name="Change the panel's set-up").click()

    # The form starts from the panel as it is.  It offers every active organisation and person,
    # and after the unit tests the shared database holds thousands: give it time to arrive.
    form = page.locator("#panel-edit-form")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Tenancy Enforcement Panel", timeout=30_000)
    expect(form.get_by_label("Chair", exact=True).locator("option:checked")).to_have_text(re.compile(chair.full_name))
    expect(form.get_by_label("Or write the pattern (RRULE)")).to_have_value("FREQ=MONTHLY;BYDAY=4TH")
    members = form.get_by_role("group", name="Member organisations")
    expect(members.get_by_label("Eastbrook Legal Services")).to_be_checked()
    expect(members.get_by_label("Eastshire Police")).not_to_be_checked()
    required = form.get_by_role("group", name="Organisations that must be present for a quorum")
    expect(required.get_by_label("Eastbrook City Homes")).to_be_checked()
    expect(form.get_by_label("Authorise a Notice of Seeking Possession")).to_be_checked()
    expect(form.get_by_label("Agree a multi-agency action plan")).not_to_be_checked()
    expect(form.get_by_label("Purpose the panel's papers are shared for")).to_have_value("tenancy_enforcement")

    # A problem is shown at its field, and what was typed stays.
    purpose = (
        "Senior officers and legal advisers authorise Notices of Seeking Possession and demotion, restore "
        "demoted tenancies and review every notice served in the last quarter."
    )
    form.get_by_label("Purpose (terms of reference)").fill(purpose)
    venue = form.get_by_label("Venue")
    old_venue = venue.input_value()
    venue.fill("")
    form.get_by_role("button", name="Save the changes").click()
    expect(form.locator("#venue-error")).to_have_text("Give a venue or a video link for the meetings.")
    expect(form.get_by_label("Purpose (terms of reference)")).to_have_value(purpose)
    assert axe_violations(page) == []

    # The journeys' portal lists 10 people at most, so the rest are found by name or email.
    # Enter in the search box searches; it does not save the form, and what was typed stays.
    search = form.get_by_label("Find someone else by name or email")
    search.fill("x")
    search.press("Enter")
    expect(form.locator("#panel-edit-form-people-query-error")).to_have_text(
        "Type at least two letters of the person's name or email."
    )
    search.fill("nobody-by-this-name")
    form.get_by_role("button", name="Find", exact=True).click()
    expect(form.get_by_role("status").filter(has_text="Nobody active matches")).to_have_text(
        "Nobody active matches “nobody-by-this-name”."
    )
    search.fill("pc.jones@police")
    search.press("Enter")
    expect(form.get_by_role("status").filter(has_text="Added")).to_have_text(
        "Added at the end of the list: PC Taylor Jones (Eastshire Police)."
    )
    named = form.get_by_role("group", name="Named members (besides the organisations)")
    expect(named.get_by_label("PC Taylor Jones (Eastshire Police)")).not_to_be_checked()
    expect(form.get_by_label("Chair", exact=True).locator("option", has_text="PC Taylor Jones")).to_have_count(1)
    expect(form.get_by_label("Chair", exact=True).locator("option:checked")).to_have_text(re.compile(chair.full_name))
    expect(form.get_by_label("Purpose (terms of reference)")).to_have_value(purpose)
    expect(form.locator("#venue-error")).to_have_text("Give a venue or a video link for the meetings.")
    assert axe_violations(page) == []
    screenshot(page, "panel-set-up.png")

    venue.fill(old_venue)
    form.get_by_role("button", name="Save the changes").click()
    expect(page.locator("#panel-edit-form")).to_have_count(0)
    expect(page.get_by_text(purpose)).to_be_visible()
    expect(page.get_by_text("Monthly on the fourth Thursday")).to_be_visible()  # the rest as it was
    _toasts_gone(page)
    assert axe_violations(page) == []
    _sign_out(page)
