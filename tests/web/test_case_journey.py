"""The case journey: the ASB officer opens a case, assesses the risk as High and sees the
one-working-day deadline for first contact, adds incidents until the ASB Case Review flag shows;
PC Jones cannot open the case until its summary is shared with Eastshire Police (under s.115,
approved by the information-sharing officer), and then sees it."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import select

from panels.cases import CaseInput, open_case
from panels.incidents import IncidentInput, record_incident
from panels.parties import PartyInput, add_party
from panels.policy import get_case_policy
from panels.risk import first_report_received_at
from panels.working_days import working_day_deadline
from portal import routes
from portal.formatting import local_time
from sharing.accounts import actor_for_user
from sharing.config import get_settings
from sharing.db import transaction
from sharing.models import User
from sharing.register import PersonInput, create_person
from tests.conftest import unique
from tests.web.conftest import axe_violations, screenshot, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser

OFFICER = "asb.officer@eastbrook.demo"
POLICE = "pc.jones@police.demo"
ISO = "iso@eastbrook.demo"
# Answers that score 12 + 6 + 6 + 12 + 0 = 36: High (32 or more) under the council's scheme.
HIGH_ANSWERS = {
    "What kind of behaviour is it?": "Threats, intimidation or violence",
    "How long has it been happening?": "More than six months",
    "How often does it happen?": "Every day",
    "What impact is it having on the person reporting?": "Afraid to leave or stay in the home",
    "Care and support needs or vulnerabilities of those involved": "None known",
}


def _open_case(engine: Engine, location: str) -> tuple[int, str, datetime]:
    """A case led by the ASB team, opened through the services; with the first-contact
    deadline a High assessment will give it."""
    with transaction(engine) as session:
        user = session.exec(select(User).where(User.email == OFFICER)).one()
        actor = actor_for_user(session, user)
        case = open_case(
            session=session,
            actor=actor,
            data=CaseInput(category="personal", types=["noise"], location=location, area="Riverside"),
        )
        assert case.id is not None
        high = get_case_policy(session, case.lead_organisation_id).risk_scheme.level("high")
        due = working_day_deadline(first_report_received_at(session, case), high.first_contact_working_days)
        return case.id, case.reference, due


def _local_input(days_ago: int) -> str:
    """A ``datetime-local`` value some days before now, where the portal is used."""
    moment = datetime.now(ZoneInfo(get_settings().timezone)) - timedelta(days=days_ago, hours=1)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _axe(page: Page) -> list[dict[str, object]]:
    """The accessibility scan, once the page is at rest: a confirmation toast half-way
    through fading in or stacking is not what a reader sees."""
    page.mouse.move(0, 0)  # as the scan does, but before waiting: toasts regroup when the pointer leaves
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")
    return axe_violations(page)


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def _open(page: Page, case_id: int) -> None:
    page.goto(routes.case(case_id))


def _tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _dialog(page: Page) -> Locator:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def _add_incident(page: Page, days_ago: int, what: str) -> None:
    page.get_by_role("button", name="Add an incident").click()
    dialog = _dialog(page)
    dialog.get_by_label("When it happened").fill(_local_input(days_ago))
    dialog.get_by_label("What happened").fill(what)
    dialog.get_by_label("Person on record").select_option(label="Jamie Carter")
    dialog.get_by_role("button", name="Add to the diary").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#incident-list")).to_contain_text(what)


def test_high_risk_case_review_flag_and_sharing_with_the_police(engine: Engine, page: Page) -> None:
    case_id, reference, due = _open_case(engine, "Flat 2, 9 Heron Walk, Eastbrook")

    # 1. The officer opens the case: no deadline until the risk is assessed.
    sign_in(page, OFFICER)
    wait_for_my_work(page)
    _open(page, case_id)
    expect(page.get_by_role("heading", name=f"Case {reference}", level=1)).to_be_visible()
    expect(page.locator("#first-contact")).to_have_text("Not set: assess the risk to set the deadline")
    assert _axe(page) == []

    # 2. The victim joins the case.
    page.get_by_role("button", name="Add a party").click()
    dialog = _dialog(page)
    dialog.get_by_label("Person", exact=True).select_option(label="Jamie Carter")
    dialog.get_by_label("Part in the case").select_option(label="Victim")
    dialog.get_by_label("Tenure").select_option(label="Council tenant")
    dialog.get_by_label("Support services (optional)").fill("Victim Support")
    assert _axe(page) == []
    dialog.get_by_role("button", name="Add to the case").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="Jamie Carter")).to_contain_text("Council tenant")
    expect(page.locator("#lead-suggestion")).to_contain_text("Housing Officer")  # standard until assessed

    # 3. The risk assessment comes out High: first contact within one working day.
    _tab(page, "Risk")
    page.get_by_role("button", name="Assess risk").click()
    dialog = _dialog(page)
    for question, answer in HIGH_ANSWERS.items():
        dialog.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    assert _axe(page) == []
    dialog.get_by_role("button", name="Save assessment").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    result = page.locator("#risk-result")
    expect(result).to_contain_text("Result: High, score 36")
    expect(result).to_contain_text(f"Due by {local_time(due)}")
    expect(page.locator("#first-contact")).to_have_text(f"Due by {local_time(due)}")
    expect(page.locator("#risk-badge")).to_have_text("Risk: High (score 36)")
    assert _axe(page) == []

    # 4. Incidents until the ASB Case Review threshold is met (3 in 6 months, each reported in time).
    _tab(page, "Incidents")
    _add_incident(page, 20, "Music and shouting through the wall until 3am.")
    _add_incident(page, 9, "Banging on the victim's door and threats on the stairs.")
    expect(page.locator("#case-review-flag")).to_have_count(0)
    _add_incident(page, 2, "Rubbish thrown at the victim's window.")
    flag = page.locator("#case-review-flag")
    expect(flag).to_contain_text("ASB Case Review threshold met")
    expect(flag).to_contain_text("3 incidents between")
    incidents = page.locator("#incident-list").get_by_role("heading", level=3)
    expect(incidents).to_have_count(3)
    expect(page.locator("#incident-list .incident").first).to_contain_text("Rubbish thrown")  # newest first
    assert _axe(page) == []
    _tab(page, "Chronology")
    expect(page.locator("#chronology li").first).to_contain_text("meets the ASB Case Review threshold")
    _tab(page, "Incidents")
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)  # the confirmations have gone
    screenshot(page, "case.png")
    _sign_out(page)

    # 5. PC Jones cannot open the case: it has not been shared with the police.
    sign_in(page, POLICE)
    wait_for_my_work(page)
    _open(page, case_id)
    expect(page.locator("#case-refused")).to_have_text("This case has not been shared with your organisation.")
    expect(page.get_by_text("Rubbish thrown")).to_have_count(0)
    assert _axe(page) == []
    _sign_out(page)

    # 6. The officer shares the case summary with the police under s.115 ...
    sign_in(page, OFFICER)
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Share", exact=True).click()
    expect(page.get_by_role("heading", name="Share information", level=1)).to_be_visible()
    page.get_by_label(f"{reference}: Case {reference}", exact=True).check()
    page.get_by_label("Share with").select_option(label="Eastshire Police")
    page.get_by_label("Purpose").select_option(label="ASB case management")
    page.get_by_label("Lawful basis").select_option(label="Crime and Disorder Act 1998 s.115")
    page.get_by_label("Why sharing is necessary and proportionate").fill(
        "The police attend the repeated threats and need the case's risk and stage to plan a joint visit."
    )
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.locator("#share-outcome")).to_contain_text("waits for an information-sharing officer's approval")
    disclosure_id = re.search(r"Request (\d+)", page.locator("#share-outcome").inner_text()).group(1)  # type: ignore[union-attr]
    _sign_out(page)

    # ... and the information-sharing officer approves it.
    sign_in(page, ISO)
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sharing console", exact=True).click()
    page.get_by_role("button", name=f"Approve disclosure {disclosure_id}", exact=True).click()
    expect(page.get_by_role("listitem").filter(has_text=f"Disclosure {disclosure_id} approved")).to_have_count(1)
    _sign_out(page)

    # 7. PC Jones now opens the case and sees its summary, and nothing that was not shared.
    sign_in(page, POLICE)
    wait_for_my_work(page)
    _open(page, case_id)
    expect(page.get_by_role("heading", name=f"Case {reference}", level=1)).to_be_visible()
    expect(page.locator("#risk-badge")).to_have_text("Risk: High (score 36)")
    expect(page.locator("#first-contact")).to_have_text(f"Due by {local_time(due)}")
    expect(page.get_by_text("Flat 2, 9 Heron Walk, Eastbrook")).to_be_visible()
    expect(page.get_by_role("tab", name="Stage and closure")).to_have_count(0)
    expect(page.locator("#case-review-flag")).to_have_count(0)
    assert _axe(page) == []
    _tab(page, "Incidents")
    expect(page.get_by_text("No incident is in the diary yet (or none was shared with you).")).to_be_visible()


def test_an_incident_without_a_description_keeps_what_was_typed(engine: Engine, page: Page) -> None:
    case_id, reference, _ = _open_case(engine, "12 Kestrel Road, Eastbrook")
    sign_in(page, OFFICER)
    wait_for_my_work(page)
    _open(page, case_id)
    expect(page.get_by_role("heading", name=f"Case {reference}", level=1)).to_be_visible()
    _tab(page, "Incidents")
    page.get_by_role("button", name="Add an incident").click()
    dialog = _dialog(page)
    when = _local_input(1)
    dialog.get_by_label("When it happened").fill(when)
    dialog.get_by_label("Name (if not on record)").fill("Pat Neighbour")
    dialog.get_by_label("Police called").check()
    dialog.get_by_label("Crime reference (optional)").fill("37/12345/26")
    dialog.get_by_role("button", name="Add to the diary").click()

    description = dialog.get_by_label("What happened")
    expect(dialog.get_by_role("alert").filter(has_text="Describe what happened.")).to_be_visible()
    expect(description).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("When it happened")).to_have_value(when)
    expect(dialog.get_by_label("Name (if not on record)")).to_have_value("Pat Neighbour")
    expect(dialog.get_by_label("Police called")).to_be_checked()
    expect(dialog.get_by_label("Crime reference (optional)")).to_have_value("37/12345/26")
    assert _axe(page) == []

    description.fill("Car alarm set off repeatedly outside the house at night.")
    dialog.get_by_role("button", name="Add to the diary").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    incident = page.locator("#incident-list .incident").first
    expect(incident).to_contain_text("Car alarm set off repeatedly")
    expect(incident).to_contain_text("Yes, crime reference 37/12345/26")


# A 1x1 PNG: the evidence check reads the file's first bytes, not its name.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def _case_with_a_perpetrator_and_an_incident(engine: Engine) -> tuple[int, str, str]:
    """A case with an alleged perpetrator on record and one incident in its diary."""
    with transaction(engine) as session:
        actor = actor_for_user(session, session.exec(select(User).where(User.email == OFFICER)).one())
        case = open_case(
            session=session,
            actor=actor,
            data=CaseInput(category="nuisance", types=["noise"], location="4 Plover Close, Eastbrook"),
        )
        assert case.id is not None
        person = create_person(
            session=session, actor=actor, data=PersonInput("Casey", unique("Rowe"), date(1990, 4, 2))
        )
        assert person.id is not None
        add_party(
            session=session,
            actor=actor,
            case_id=case.id,
            data=PartyInput(person_id=person.id, role="alleged_perpetrator", tenure="council_tenant"),
        )
        record_incident(
            session=session,
            actor=actor,
            case_id=case.id,
            data=IncidentInput(
                occurred_at=datetime.now(ZoneInfo(get_settings().timezone)) - timedelta(days=3),
                what_happened="Door kicked in the communal hallway.",
                reported_by_name="Sam Neighbour",
            ),
        )
        return case.id, case.reference, person.display_name


def test_evidence_stage_interventions_and_case_review(engine: Engine, page: Page, tmp_path: Path) -> None:
    case_id, reference, perpetrator = _case_with_a_perpetrator_and_an_incident(engine)
    sign_in(page, OFFICER)
    wait_for_my_work(page)
    _open(page, case_id)
    expect(page.get_by_role("heading", name=f"Case {reference}", level=1)).to_be_visible()

    # Evidence: listed with its name, type, size and checksum.
    _tab(page, "Incidents")
    page.get_by_role("button", name=re.compile("^Add evidence to the incident on")).click()
    dialog = _dialog(page)
    dialog.get_by_label("Kind of evidence").select_option(label="A photo (JPEG or PNG)")
    photo = tmp_path / "door.png"
    photo.write_bytes(PNG)
    dialog.locator("input[type=file]").set_input_files(str(photo))
    expect(dialog.get_by_text("Attached: door.png")).to_be_visible()
    dialog.get_by_label("Description (optional)").fill("The damaged door")
    assert _axe(page) == []
    dialog.get_by_role("button", name="Add evidence").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="door.png")
    expect(row).to_contain_text("image/png")
    expect(row).to_contain_text(f"{len(PNG)} bytes")
    expect(row).to_contain_text(hashlib.sha256(PNG).hexdigest())
    # The file comes back as it was added, to the signed-in officer.
    with page.expect_download() as download:
        row.get_by_role("link", name="door.png").click()
    assert Path(download.value.path()).read_bytes() == PNG
    assert download.value.suggested_filename == "door.png"
    # The case links to its shared action plan.
    page.locator("#case-plan-link").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/plan$"))
    _open(page, case_id)
    expect(page.get_by_role("heading", name=f"Case {reference}", level=1)).to_be_visible()

    # Stage: moved with a reason.
    _tab(page, "Stage and closure")
    page.get_by_label("New stage").select_option(label="2 Case investigation")
    page.get_by_role("button", name="Move stage").click()
    expect(page.get_by_role("alert").filter(has_text="Say why the case is moving stage.")).to_be_visible()
    page.get_by_label("Why it is moving").fill("Diary sheets to gather over the next month.")
    page.get_by_role("button", name="Move stage").click()
    expect(page.get_by_text("Stage: 2 Case investigation")).to_be_visible()
    assert _axe(page) == []

    # Interventions: what the law refuses is said, with its reason; a warning letter is recorded.
    _tab(page, "Interventions and legal remedies")
    page.get_by_role("button", name="Record an intervention").click()
    dialog = _dialog(page)
    dialog.get_by_label("Intervention", exact=True).select_option(label="Community Protection Notice")
    dialog.get_by_label("Served on (a party to the case)").select_option(label=f"{perpetrator} (alleged perpetrator)")
    today = datetime.now(ZoneInfo(get_settings().timezone)).date()
    dialog.get_by_label("Date served or started").fill(today.isoformat())
    dialog.get_by_role("button", name="Record", exact=True).click()
    expect(dialog.locator("#intervention-problem")).to_contain_text(
        "A Community Protection Notice needs a Community Protection Warning served on the same person first."
    )
    assert _axe(page) == []
    dialog.get_by_label("Intervention", exact=True).select_option(label="Warning letter")
    dialog.get_by_label("Details").fill("Letter about the damage to the communal door.")
    dialog.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    letter = page.get_by_role("heading", name=f"Warning letter on {perpetrator}", level=3)
    expect(letter).to_be_visible()
    expect(page.get_by_text(f"Served {today:%-d %b %Y}")).to_be_visible()
    expect(page.get_by_text("Stage: 4 Interventions")).to_be_visible()
    assert _axe(page) == []

    # ASB Case Review: the check, and an application recorded.
    _tab(page, "ASB Case Review")
    expect(page.get_by_text("The case does not meet the threshold today.")).to_be_visible()
    page.get_by_label("Received on").fill(today.isoformat())
    page.get_by_label("Applicant's name (if not on record)").fill("Sam Neighbour")
    page.get_by_role("button", name="Record application").click()
    expect(
        page.get_by_role("heading", name=f"Application received {today:%-d %b %Y} from Sam Neighbour")
    ).to_be_visible()
    expect(page.get_by_text("Awaiting decision")).to_be_visible()
    assert _axe(page) == []

    # Closure asked for: a team manager decides.
    _tab(page, "Stage and closure")
    page.get_by_label("Reason for closing").select_option(label="Resolved: the behaviour has stopped")
    page.get_by_role("button", name="Ask for closure").click()
    expect(page.get_by_text("Status: Closure awaiting approval")).to_be_visible()
    expect(page.get_by_text("A team manager decides whether the case closes.")).to_be_visible()
