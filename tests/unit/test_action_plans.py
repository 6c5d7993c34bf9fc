"""Case Action Plans: the lead organisation adds and assigns actions; owners in partner
agencies update their own actions without seeing the rest of the case; managers see their
agency's actions; refusals are audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.action_models import ActionPlan, CaseAction, CaseActionUpdate, CaseContact
from panels.action_plans import (
    NOT_YOUR_ACTION,
    NOT_YOUR_AGENCY,
    EvidenceFile,
    action_history,
    agree_action_plan,
    assign_action,
    carry_forward_actions,
    export_agency_actions_csv,
    get_action,
    get_action_plan,
    list_agency_actions,
    list_my_actions,
    record_victim_contact,
    review_action_plan,
    update_action,
)
from panels.case_models import CaseEvent
from panels.cases import read_case
from panels.working_days import local_date
from sharing.db import transaction, utcnow
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import InformationItem, OrganisationType, Role, StoredDocument
from sharing.permissions import Actor
from sharing.reads import read_item
from sharing.rules import add_working_days
from sharing.vocabulary import WITHHELD, DataCategory
from tests.conftest import actor_of
from tests.unit.action_helpers import add, disclose, notifications_of
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id

__all__ = ["case_world"]

TODAY = utcnow().date()
PDF = b"%PDF-1.4 evidence"


@dataclass(frozen=True)
class World:
    cw: CaseWorld
    police_manager: Actor
    police_colleague: Actor
    housing_id: int
    housing_member: Actor


@pytest.fixture
def world(
    engine: Engine,
    case_world: CaseWorld,
    make_user: Callable[..., tuple[int, str]],
    make_organisation: Callable[..., int],
) -> World:
    police = case_world.police_id
    manager, _ = make_user((Role.MANAGER,), organisation_id=police, full_name="Police Manager", password=None)
    colleague, _ = make_user((Role.PANEL_MEMBER,), organisation_id=police, full_name="Police Colleague", password=None)
    housing = make_organisation(type=OrganisationType.HOUSING_ASSOCIATION)
    member, _ = make_user((Role.PANEL_MEMBER,), organisation_id=housing, full_name="Housing Member", password=None)
    return World(
        case_world,
        actor_of(engine, manager),
        actor_of(engine, colleague),
        housing,
        actor_of(engine, member),
    )


def police_action(engine: Engine, world: World, **kw: object) -> tuple[int, CaseAction]:
    cw = world.cw
    case = make_case(engine, cw.officer)
    assert case.id is not None
    action = add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.police.user_id, **kw)
    return case.id, action


# --- Adding actions -------------------------------------------------------------------------------


def test_adding_an_action_creates_the_plan_its_item_a_chronology_line_and_tells_the_owner(
    engine: Engine, world: World
) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    since = last_audit_id(engine)
    action = add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.police.user_id)
    assert action.number == 1 and action.status == "open"
    with Session(engine) as session:
        plan = session.exec(select(ActionPlan).where(ActionPlan.case_id == case.id)).one()
        # Agreed with the complainant within 10 working days of the report.
        assert plan.due_to_agree_by == local_date(add_working_days(case.opened_at, 10))  # the local calendar
        item = session.get(InformationItem, plan.item_id)
        assert item is not None and item.owner_organisation_id == cw.council_id and item.kind == "action_plan"
        assert any("Visit the household" in f["value"] for f in item.content)
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "action")).all()
        assert [e.item_id for e in events] == [plan.item_id]
    actions = [e.action for e in audit_events(engine, since=since)]
    assert "actions:plan:created" in actions and "actions:action:added" in actions
    told = notifications_of(engine, cw.police.user_id)
    assert [n.title for n in told][-1] == f"New action on case {case.reference}"
    assert "Visit" not in told[-1].body  # no case details beyond the reference
    second = add(engine, cw.officer, case.id, owner_organisation_id=cw.council_id)
    assert second.number == 2


def test_an_action_is_checked_before_it_is_added(engine: Engine, world: World, admin: Actor) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    with pytest.raises(InvalidInput) as error:
        add(
            engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.officer.user_id,
            description="  ", due_on=TODAY - timedelta(days=1), source="panel_decision",
        )  # fmt: skip
    assert error.value.field_errors == {
        "description": "Say what will be done.",
        "due_on": "Choose a due date from today onwards.",
        "source_panel_id": "Say which panel agreed this action.",
        "owner_user_id": f"Choose a person who works for {_org_name(engine, cw.police_id)}.",
    }
    with pytest.raises(InvalidInput) as error:
        add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, party="complainant")
    assert error.value.field_errors == {
        "owner_organisation_id": "The complainant's own actions are followed up by the organisation leading the case."
    }
    # Someone who cannot update actions in the portal (an administrator) cannot own one.
    with pytest.raises(InvalidInput) as error:
        add(engine, cw.officer, case.id, owner_organisation_id=admin.organisation_id, owner_user_id=admin.user_id)
    assert "cannot update actions" in error.value.field_errors["owner_user_id"]
    # The due date may be today exactly.
    assert add(engine, cw.officer, case.id, owner_organisation_id=cw.council_id, due_on=TODAY).due_on == TODAY


def _org_name(engine: Engine, org_id: int) -> str:
    from sharing.models import Organisation

    with Session(engine) as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        return org.name


def test_only_the_lead_organisation_adds_actions(engine: Engine, world: World) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied):
        add(engine, world.police_manager, case.id, owner_organisation_id=cw.police_id)
    denied = audit_events(engine, since=since, action="access:permission:denied")
    assert [e.reason for e in denied] == ["not the lead organisation"]
    with pytest.raises(PermissionDenied):  # a panel member lacks the permission altogether
        add(engine, cw.police, case.id, owner_organisation_id=cw.police_id)


# --- Owners in partner agencies ---------------------------------------------------------------


def test_an_owner_in_a_partner_agency_updates_their_action_without_seeing_the_case(
    engine: Engine, world: World
) -> None:
    cw = world.cw
    case_id, action = police_action(engine, world)
    with Session(engine) as session:
        seen = get_action(session=session, actor=cw.police, action_id=action.id)
        assert seen.description == "Visit the household with a warning letter" and seen.case_reference.startswith(
            "ASB-"
        )
        plan = get_action_plan(session=session, actor=cw.police, case_id=case_id)
        assert plan.partial and [a.id for a in plan.actions] == [action.id] and plan.agreed_on is None
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        read_case(session, cw.police, case_id, via="case page")
    since = last_audit_id(engine)
    with transaction(engine) as session:
        update_action(
            session=session, actor=cw.police, action_id=action.id, status="done", note="Letter hand-delivered"
        )
    with Session(engine) as session:
        row = session.get(CaseAction, action.id)
        assert row is not None and row.status == "done" and row.completed_at is not None
    updated = audit_events(engine, since=since, action="actions:action:updated")
    assert updated[0].detail["as"] == "owner" and updated[0].detail["to"] == "done"
    told = notifications_of(engine, cw.officer.user_id)
    assert told[-1].title.startswith("Action 1 on case") and told[-1].title.endswith("marked done")


def test_a_colleague_of_the_owner_cannot_update_it_and_the_refusal_is_audited(engine: Engine, world: World) -> None:
    _, action = police_action(engine, world)
    for outsider in (world.police_colleague, world.housing_member):
        since = last_audit_id(engine)
        with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
            update_action(session=session, actor=outsider, action_id=action.id, status="done", note="Done")
        assert error.value.message == NOT_YOUR_ACTION
        denied = audit_events(engine, since=since, action="access:permission:denied")
        assert denied[0].subject_type == "case_action" and denied[0].subject_id == str(action.id)
        with pytest.raises(PermissionDenied), Session(engine) as session:
            get_action(session=session, actor=outsider, action_id=action.id)


def test_a_manager_of_the_owner_organisation_updates_and_reassigns_within_it(engine: Engine, world: World) -> None:
    cw = world.cw
    _, action = police_action(engine, world)
    with transaction(engine) as session:
        update_action(
            session=session,
            actor=world.police_manager,
            action_id=action.id,
            status="in_progress",
            note="Booked a visit",
        )
        assign_action(
            session=session, actor=world.police_manager, action_id=action.id, owner_organisation_id=cw.police_id,
            owner_user_id=world.police_colleague.user_id,
        )  # fmt: skip
    assert notifications_of(engine, world.police_colleague.user_id)[-1].title.startswith("New action on case")
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        assign_action(
            session=session, actor=world.police_manager, action_id=action.id, owner_organisation_id=world.housing_id,
            owner_user_id=world.housing_member.user_id,
        )  # fmt: skip
    assert error.value.message == NOT_YOUR_AGENCY
    # The owner cannot hand the action on.
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        assign_action(
            session=session, actor=world.police_colleague, action_id=action.id, owner_organisation_id=cw.police_id,
            owner_user_id=cw.police.user_id,
        )  # fmt: skip
    # The lead organisation gives it to another agency, with a new due date.
    new_due = TODAY + timedelta(days=30)
    with transaction(engine) as session:
        moved = assign_action(
            session=session, actor=cw.officer, action_id=action.id, owner_organisation_id=world.housing_id,
            owner_user_id=world.housing_member.user_id, due_on=new_due,
        )  # fmt: skip
        assert moved.owner_organisation_id == world.housing_id and moved.due_on == new_due


def test_a_closed_action_is_reopened_only_by_the_lead_organisation(engine: Engine, world: World) -> None:
    cw = world.cw
    _, action = police_action(engine, world)
    with transaction(engine) as session:
        update_action(
            session=session, actor=cw.police, action_id=action.id, status="not_possible",
            note="The family moved away",
        )  # fmt: skip
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        update_action(session=session, actor=cw.police, action_id=action.id, status="open", note="Back again")
    assert error.value.field_errors == {
        "status": "This action is closed. Ask the case officer to reopen it if more needs doing."
    }
    with transaction(engine) as session:
        reopened = update_action(session=session, actor=cw.officer, action_id=action.id, status="open", note="Returned")
        assert reopened.status == "open" and reopened.completed_at is None


def test_an_update_needs_a_note_and_a_known_status(engine: Engine, world: World) -> None:
    cw = world.cw
    _, action = police_action(engine, world)
    cases = {
        ("done", " "): {"note": "Say what was done, with any evidence."},
        ("not_undertaken", ""): {"note": "Say why the action could not be done."},
        ("in_progress", ""): {"note": "Say what has happened so far."},
        ("finished", "ok"): {"status": "Choose a status from the list."},
    }
    for (status, note), expected in cases.items():
        with pytest.raises(InvalidInput) as error, transaction(engine) as session:
            update_action(session=session, actor=cw.police, action_id=action.id, status=status, note=note)
        assert error.value.field_errors == expected


def test_evidence_is_stored_with_the_update_and_the_history_lists_every_step(engine: Engine, world: World) -> None:
    cw = world.cw
    _, action = police_action(engine, world)
    with transaction(engine) as session:
        update_action(
            session=session, actor=cw.police, action_id=action.id, status="done", note="Signed letter attached",
            evidence=EvidenceFile("letter.pdf", "application/pdf", PDF),
        )  # fmt: skip
    with Session(engine) as session:
        history = action_history(session=session, actor=cw.officer, action_id=action.id)
        assert [(h.kind, h.status_to) for h in history] == [("added", "open"), ("update", "done")]
        assert history[1].by_name == "Police Member" and history[1].note == "Signed letter attached"
        document = session.get(StoredDocument, history[1].document_id)
        assert document is not None and document.content == PDF
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        update_action(
            session=session, actor=cw.officer, action_id=action.id, status="done", note="Photo",
            evidence=EvidenceFile("photo.png", "image/png", b"not a png"),
        )  # fmt: skip
    assert error.value.field_errors == {"evidence": "Attach the evidence as a PDF, PNG or JPEG file of up to 10 MB."}


# --- The plan as a whole ----------------------------------------------------------------------


def test_the_plan_is_whole_for_the_lead_and_for_a_partner_it_was_disclosed_to(engine: Engine, world: World) -> None:
    cw = world.cw
    case_id, police_owned = police_action(engine, world)
    council_owned = add(engine, cw.officer, case_id, owner_organisation_id=cw.council_id, description="Install CCTV")
    with Session(engine) as session:
        lead_view = get_action_plan(session=session, actor=cw.officer, case_id=case_id)
        housing_view = get_action_plan(session=session, actor=world.housing_member, case_id=case_id)
        plan = session.exec(select(ActionPlan).where(ActionPlan.case_id == case_id)).one()
    assert not lead_view.partial and [a.id for a in lead_view.actions] == [police_owned.id, council_owned.id]
    assert housing_view.partial and housing_view.actions == ()
    assert plan.item_id is not None
    # Sharing other kinds of information shows nothing of the plan.
    disclose(engine, plan.item_id, from_org=cw.council_id, to_org=world.housing_id, category=DataCategory.HEALTH)
    with Session(engine) as session:
        assert get_action_plan(session=session, actor=world.housing_member, case_id=case_id).partial
    disclose(engine, plan.item_id, from_org=cw.council_id, to_org=world.housing_id)
    with Session(engine) as session:
        housing_view = get_action_plan(session=session, actor=world.housing_member, case_id=case_id)
        view = read_item(session=session, actor=world.housing_member, item_id=plan.item_id, via="test")
    assert not housing_view.partial and len(housing_view.actions) == 2
    assert any("Install CCTV" in f.value for f in view.fields)


def test_agreeing_and_reviewing_the_plan(engine: Engine, world: World) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        review_action_plan(session=session, actor=cw.officer, case_id=case.id, reviewed_on=TODAY)
    assert error.value.field_errors == {"reviewed_on": "Agree the plan with the complainant before reviewing it."}
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        agree_action_plan(session=session, actor=cw.officer, case_id=case.id, agreed_on=TODAY + timedelta(days=1))
    assert error.value.field_errors == {"agreed_on": "The plan cannot be agreed on a day still to come."}
    since = last_audit_id(engine)
    with transaction(engine) as session:
        plan = agree_action_plan(session=session, actor=cw.officer, case_id=case.id, agreed_on=TODAY)
        assert plan.agreed_on == TODAY
        review_action_plan(session=session, actor=cw.officer, case_id=case.id, reviewed_on=TODAY)
    actions = [e.action for e in audit_events(engine, since=since, subject_type="case", subject_id=case.id)]
    assert actions == ["actions:plan:created", "actions:plan:agreed", "actions:plan:reviewed"]
    assert audit_events(engine, since=since, action="actions:plan:agreed")[0].detail["late"] is False
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        agree_action_plan(session=session, actor=world.police_manager, case_id=case.id, agreed_on=TODAY)


# --- Lists --------------------------------------------------------------------------------------


def test_my_actions_come_overdue_first_then_due_soon(engine: Engine, world: World) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    start = date(2026, 1, 5)
    owner = {"owner_organisation_id": cw.police_id, "owner_user_id": cw.police.user_id, "today": start}
    later = add(engine, cw.officer, case.id, due_on=start + timedelta(days=60), **owner)  # type: ignore[arg-type]
    soon = add(engine, cw.officer, case.id, due_on=start + timedelta(days=20), **owner)  # type: ignore[arg-type]
    late = add(engine, cw.officer, case.id, due_on=start + timedelta(days=3), **owner)  # type: ignore[arg-type]
    done = add(engine, cw.officer, case.id, due_on=start + timedelta(days=1), **owner)  # type: ignore[arg-type]
    with transaction(engine) as session:
        update_action(session=session, actor=cw.police, action_id=done.id, status="done", note="Done")
    today = start + timedelta(days=14)  # "due soon" is within 7 days (the policy's default)
    with Session(engine) as session:
        mine = list_my_actions(session=session, actor=cw.police, today=today)
    assert [a.id for a in mine] == [late.id, soon.id, later.id]
    assert mine[0].overdue and mine[0].days_overdue == 11
    assert mine[1].due_soon and not mine[1].overdue
    assert not mine[2].due_soon
    # Edge: due in exactly 7 days is "soon"; due today is not yet overdue.
    with Session(engine) as session:
        edge = {
            a.id: a for a in list_my_actions(session=session, actor=cw.police, today=soon.due_on - timedelta(days=7))
        }
        on_the_day = {a.id: a for a in list_my_actions(session=session, actor=cw.police, today=late.due_on)}
    assert edge[soon.id].due_soon
    assert not on_the_day[late.id].overdue and on_the_day[late.id].due_soon


def test_managers_list_and_export_their_agencys_actions(engine: Engine, world: World) -> None:
    cw = world.cw
    _, action = police_action(engine, world, description="=HYPERLINK(evil)")
    with Session(engine) as session:
        listed = list_agency_actions(session=session, actor=world.police_manager)
        assert action.id in [a.id for a in listed]
        assert all(a.owner_organisation_id == cw.police_id for a in listed)
    with pytest.raises(PermissionDenied), Session(engine) as session:
        list_agency_actions(session=session, actor=cw.police)
    since = last_audit_id(engine)
    with transaction(engine) as session:
        exported = export_agency_actions_csv(session=session, actor=world.police_manager)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:3] == ["Case", "Action", "Description"]
    assert "'=HYPERLINK(evil)" in [r[2] for r in rows[1:]]
    assert audit_events(engine, since=since, action="actions:agency:exported")[0].detail["rows"] == len(rows) - 1


def test_carry_forward_lists_a_panels_open_actions_withholding_wording_not_shared(engine: Engine, world: World) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    panel = {"source": "panel_decision", "source_panel_id": 9001}
    first = add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, source_meeting_id=1, **panel)  # type: ignore[arg-type]
    second = add(engine, cw.officer, case.id, owner_organisation_id=cw.council_id, source_meeting_id=2, **panel)  # type: ignore[arg-type]
    add(engine, cw.officer, case.id, owner_organisation_id=cw.council_id)  # not from the panel
    with Session(engine) as session:
        lead = carry_forward_actions(session=session, actor=cw.officer, panel_id=9001)
        police = carry_forward_actions(session=session, actor=cw.police, panel_id=9001)
        meeting_one = carry_forward_actions(session=session, actor=cw.officer, panel_id=9001, meeting_id=1)
    assert {a.id for a in lead} == {first.id, second.id} and not any(a.withheld for a in lead)
    by_id = {a.id: a for a in police}
    assert by_id[first.id].description.startswith("Visit")  # its own
    assert by_id[second.id].withheld and by_id[second.id].description == WITHHELD
    assert [a.id for a in meeting_one] == [first.id]


def test_recording_contact_with_the_victim(engine: Engine, world: World) -> None:
    cw = world.cw
    case = make_case(engine, cw.officer)
    now = utcnow()
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        record_victim_contact(
            session=session, actor=cw.officer, case_id=case.id, contacted_at=now + timedelta(hours=1), method="pigeon"
        )
    assert set(error.value.field_errors) == {"method", "contacted_at"}
    since = last_audit_id(engine)
    with transaction(engine) as session:
        record_victim_contact(
            session=session, actor=cw.officer, case_id=case.id, contacted_at=now, method="phone", progress_update=True
        )
    with Session(engine) as session:
        contacts = session.exec(select(CaseContact).where(CaseContact.case_id == case.id)).all()
        assert [(c.method, c.progress_update) for c in contacts] == [("phone", True)]
        assert session.exec(select(CaseActionUpdate).where(col(CaseActionUpdate.id) < 0)).all() == []
    assert audit_events(engine, since=since, action="actions:contact:recorded")[0].detail["method"] == "phone"
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        record_victim_contact(session=session, actor=cw.police, case_id=case.id, contacted_at=now, method="phone")
