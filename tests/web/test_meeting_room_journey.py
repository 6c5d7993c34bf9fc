"""The live meeting room with two browsers at once: the Problem Solving Group's chair opens the
meeting, PC Jones joins from another browser (accepting the confidentiality statement), and the
chair's notes (and their correction) and decision appear on PC Jones's screen within two
seconds, without a reload.  Without
quorum the decision is refused with the reason; a member who declares an interest is shown as
conflicted and no longer counts towards the item's quorum."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.agenda import build_agenda, publish_agenda
from panels.cases import CaseInput, open_case
from panels.meetings import add_meeting
from panels.models import Panel, Referral
from panels.referrals import decide_referral, refer_case
from portal import routes
from sharing.accounts import actor_for_user
from sharing.db import transaction
from sharing.models import User
from sharing.permissions import SYSTEM_ACTOR, Actor
from tests.web.conftest import axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

CHAIR = "psg.chair@eastbrook.demo"
POLICE = "pc.jones@police.demo"
HOUSING_OFFICER = "ha.officer@riverside.demo"  # Riverside Homes, a lead officer who sits on the group
PLAN = "Agree a multi-agency action plan"


@dataclass(frozen=True)
class HeldMeeting:
    meeting_id: int
    case_reference: str


def _actor(session: Session, email: str) -> Actor:
    user = session.exec(select(User).where(User.email == email)).one()
    return actor_for_user(session, user)


def psg_meeting(engine: Engine) -> HeldMeeting:
    """A Problem Solving Group meeting far in the future, with one new ASB case referred by
    the council's ASB officer, accepted by the chair, and the agenda published."""
    starts_at = datetime(2041, 1, 1, 10, 0, tzinfo=UTC) + timedelta(days=random.randrange(0, 3000))
    referred_at = starts_at - timedelta(days=20)
    with transaction(engine) as session:
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        officer, chair = _actor(session, "asb.officer@eastbrook.demo"), _actor(session, CHAIR)
        meeting = add_meeting(
            session=session, actor=SYSTEM_ACTOR, panel_id=panel.id, starts_at=starts_at,  # type: ignore[arg-type]
            now=referred_at - timedelta(days=1),
        )  # fmt: skip
        case = open_case(
            session=session,
            actor=officer,
            data=CaseInput(category="personal", types=["noise"], location="3 Meeting Street", area="North"),
        )
        referral = refer_case(
            session=session, actor=officer, case_id=case.id, panel_id=panel.id,  # type: ignore[arg-type]
            reason="Noise every night despite two warnings.", decision_sought="A joint action plan.",
            now=referred_at,
        )  # fmt: skip
        assert referral.meeting_id == meeting.id
        decide_referral(session=session, actor=chair, referral_id=referral.id, decision="accept")  # type: ignore[arg-type]
        build_agenda(session=session, actor=chair, meeting_id=meeting.id)  # type: ignore[arg-type]
        publish_agenda(session=session, actor=chair, meeting_id=meeting.id)  # type: ignore[arg-type]
        assert session.get(Referral, referral.id) is not None
        return HeldMeeting(meeting.id, case.reference)  # type: ignore[arg-type]


@pytest.fixture
def two_browsers(browser: Browser, portal_url: str) -> Iterator[tuple[Page, Page]]:
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    for _ in range(2):
        context = browser.new_context(base_url=portal_url, viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(20_000)
        contexts.append(context)
        pages.append(context.new_page())
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


def enter_room(page: Page, email: str, meeting_id: int) -> None:
    sign_in(page, email)
    wait_for_my_work(page)
    page.goto(routes.meeting_room(meeting_id))
    expect(page.get_by_role("heading", name="Meeting room", level=1)).to_be_visible()


def join(page: Page) -> None:
    page.get_by_role("button", name="Join the meeting").click()
    dialog = page.get_by_role("dialog", name="Join the meeting")
    expect(dialog).to_contain_text("What is said and shown at this meeting is confidential.")
    dialog.get_by_label("I accept the confidentiality statement").check()
    dialog.get_by_role("button", name="Join", exact=True).click()
    expect(dialog).to_be_hidden()


def person(page: Page, name: str) -> object:
    return page.locator("#presence").get_by_role("listitem").filter(has_text=name)


def test_the_chairs_decision_reaches_another_browser_within_two_seconds(
    engine: Engine, two_browsers: tuple[Page, Page]
) -> None:
    chair, police = two_browsers
    held = psg_meeting(engine)

    enter_room(chair, CHAIR, held.meeting_id)
    expect(chair.locator("#meeting-status")).to_have_text("Not started")
    enter_room(police, POLICE, held.meeting_id)
    expect(police.get_by_text("The meeting has not started.")).to_be_visible()

    chair.get_by_role("button", name="Open the meeting").click()
    expect(chair.locator("#meeting-status")).to_have_text("In progress")
    expect(police.locator("#meeting-status")).to_have_text("In progress", timeout=2000)  # pushed
    join(chair)

    # PC Jones must accept the statement to join.
    police.get_by_role("button", name="Join the meeting").click()
    dialog = police.get_by_role("dialog", name="Join the meeting")
    dialog.get_by_role("button", name="Join", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "You must accept the confidentiality statement to join the meeting."
    )
    dialog.get_by_label("I accept the confidentiality statement").check()
    dialog.get_by_role("button", name="Join", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(person(chair, "PC Taylor Jones")).to_contain_text("Present", timeout=2000)  # type: ignore[arg-type]
    expect(police.locator("#quorum")).to_contain_text("Not quorate: at least 3 organisations must be present and 2 are")

    # The chair records the social worker as present: the meeting becomes quorate for everyone.
    chair.get_by_role("button", name="Present: Nina Patel").click()
    expect(police.locator("#quorum")).to_contain_text(
        "Quorate: 3 organisations present (at least 3 needed)", timeout=2000
    )
    expect(police.locator("#quorum")).to_contain_text("Eastshire Adult Social Care")

    chair.get_by_role("button", name="Discuss now: item 1", exact=True).click()
    expect(police.locator("#current-item")).to_contain_text(f"case {held.case_reference}", timeout=2000)
    # The police see the item only as far as the council has shared it with them.
    expect(police.get_by_text("Nothing about this case has been shared with your organisation.")).to_be_visible()
    expect(chair.locator("#item-content")).to_contain_text("Noise every night despite two warnings.")

    # The chair keeps notes on the item; PC Jones sees each appear without a reload.
    note_form = chair.locator("#note-form")
    too_long = "Neighbours describe music every night. " * 110  # over the 4,000 characters a note may hold
    note_form.get_by_label("Note on this item").fill(too_long)
    note_form.get_by_role("button", name="Add the note").click()
    expect(note_form.get_by_role("alert")).to_have_text("Keep a note under 4,000 characters; add another for the rest.")
    expect(note_form.get_by_label("Note on this item")).to_have_value(too_long)  # kept
    note = "The police will check the address on their night patrols."
    note_form.get_by_label("Note on this item").fill(note)
    note_form.get_by_role("button", name="Add the note").click()
    expect(police.locator("#current-notes")).to_contain_text(note, timeout=2000)  # pushed
    expect(police.locator("#notes")).to_contain_text(f"Item 1: case {held.case_reference}")
    expect(note_form.get_by_label("Note on this item")).to_have_value("")
    expect(note_form.get_by_role("alert")).to_have_count(0)
    chair.locator("#current-notes").get_by_role("button", name="Correct the note: " + note).click()
    dialog = chair.get_by_role("dialog", name="Correct a note")
    dialog.get_by_label("Corrected note").fill(note + " From Friday.")
    dialog.get_by_role("button", name="Save the correction").click()
    expect(dialog).to_be_hidden()
    expect(police.locator("#current-notes")).to_contain_text(note + " From Friday.", timeout=2000)
    expect(police.locator("#current-notes")).to_contain_text("Corrected")

    form = chair.locator("#decision-form")
    form.get_by_label("Decision").select_option(label=PLAN)
    form.get_by_label("Reasons").fill("Noise continues; the police and the council visit together.")
    form.get_by_label("Owner organisation (action 1)").select_option(label="Eastshire Police")
    form.get_by_label("Owner person (action 1)").select_option(label="PC Taylor Jones (Eastshire Police)")
    due = (datetime.now(UTC) + timedelta(days=30 * 365)).date().isoformat()
    form.get_by_label("Due (action 1)").fill(due)
    form.get_by_label("What is to be done (action 1)").fill("Joint visit to the address")
    form.get_by_role("button", name="Add an action").click()
    form.get_by_label("What is to be done (action 2)").fill("A row added by mistake")
    form.get_by_role("button", name="Add an action").click()
    form.get_by_label("Owner organisation (action 3)").select_option(label="Eastbrook City Council ASB Team")
    form.get_by_label("Due (action 3)").fill(due)
    form.get_by_label("What is to be done (action 3)").fill("Warning letter to the tenant")
    form.get_by_role("button", name="Remove action 2").click()
    expect(form.get_by_label("What is to be done (action 2)")).to_have_value("Warning letter to the tenant")
    expect(form.get_by_label("What is to be done (action 3)")).to_have_count(0)
    assert axe_violations(chair) == []
    screenshot(chair, "meeting-room.png")

    form.get_by_role("button", name="Record the decision").click()
    headline = f"Item 1, case {held.case_reference}: {PLAN}"
    expect(police.locator("#decisions").get_by_text(headline)).to_be_visible(timeout=2000)
    expect(chair.locator("#decisions").get_by_text(headline)).to_be_visible()
    expect(police.locator("#current-item")).to_contain_text("Decided")
    assert axe_violations(police) == []


def test_no_decision_without_quorum_and_a_declared_interest_takes_a_member_out(
    engine: Engine, two_browsers: tuple[Page, Page]
) -> None:
    chair, officer = two_browsers
    held = psg_meeting(engine)
    enter_room(chair, CHAIR, held.meeting_id)
    chair.get_by_role("button", name="Open the meeting").click()
    join(chair)
    chair.get_by_role("button", name="Discuss now: item 1", exact=True).click()
    expect(chair.locator("#current-item")).to_contain_text(f"case {held.case_reference}")

    # Riverside's officer tells the meeting something and records it as a disclosure on the spot.
    enter_room(officer, HOUSING_OFFICER, held.meeting_id)
    join(officer)
    officer.get_by_role("button", name="Record what I told the meeting").click()
    dialog = officer.get_by_role("dialog", name="Record what you told the meeting")
    dialog.get_by_label("What you said").fill("Our tenant at number 5 has complained about the same flat twice.")
    dialog.get_by_label("Kind of information").select_option(label="ASB history")
    dialog.get_by_label("Lawful basis").select_option(label="Crime and Disorder Act 1998 s.115")
    dialog.get_by_label("Why sharing it was necessary and proportionate").fill(
        "The council leads the case and needs the neighbours' complaints to plan its response."
    )
    dialog.get_by_role("button", name="Record", exact=True).click()
    expect(dialog).to_be_hidden()
    outcome = officer.get_by_role("status").filter(has_text="recorded as a disclosure")
    expect(outcome).to_contain_text("Eastbrook City Council ASB Team:")

    # Then declares an interest: the item's content goes, and they no longer count for its quorum.
    officer.get_by_role("button", name="Declare an interest").click()
    dialog = officer.get_by_role("dialog", name="Declare an interest")
    dialog.get_by_label("Your interest").fill("The tenant is a relative of a colleague in my team.")
    dialog.get_by_role("button", name="Declare", exact=True).click()
    expect(officer.locator("#conflicted-notice")).to_be_visible()
    expect(officer.locator("#item-content")).to_have_count(0)
    expect(person(chair, "Lee Hart")).to_contain_text("Interest declared", timeout=2000)  # type: ignore[arg-type]

    refusal = (
        "The meeting is not quorate: Eastshire Police must be present; "
        "at least 3 organisations must be present and 1 are"
    )
    expect(chair.locator("#quorum")).to_contain_text(refusal.removeprefix("The meeting is not quorate: "))
    form = chair.locator("#decision-form")
    form.get_by_label("Decision").select_option(label=PLAN)
    form.get_by_label("Reasons").fill("Trying to decide without a quorum.")
    form.get_by_role("button", name="Record the decision").click()
    expect(chair.locator("#decision-refusal")).to_have_text(refusal)
    expect(chair.locator("#decisions")).to_contain_text("No decisions yet.")
    expect(form.get_by_label("Reasons")).to_have_value("Trying to decide without a quorum.")  # kept
    assert axe_violations(officer) == []
