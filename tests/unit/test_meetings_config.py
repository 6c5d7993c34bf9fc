"""Panels as data: setting one up and changing it (the form starts from its set-up and keeps what
it does not show), what is checked, who may, and the demo panels' set-up."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.demo import LEGAL, POLICE, SOLUTIONS
from panels.meeting_pages import find_panel_people, panel_form_options
from panels.models import Panel, PanelMember, PanelOrganisation
from panels.panel_config import (
    CCP_DECISION_TYPES,
    DECISION_TYPES,
    PSG_DECISION_TYPES,
    TEP_DECISION_TYPES,
    create_panel,
    get_panel_set_up,
    panel_input_of,
    update_panel,
)
from portal.components.panel_form import parse_panel_form
from sharing.access import DENIED_MESSAGE
from sharing.config import get_settings
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import Organisation, User
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, make_panel, meeting_world, panel_input

__all__ = ["meeting_world"]


def test_an_administrator_sets_up_a_panel_with_its_members_and_rules(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    since = last_audit_id(engine)
    data = panel_input(
        world, member_user_ids=[world.police.member.user_id], cadence_rrule="rrule:freq=monthly;byday=2tu"
    )
    with transaction(engine) as session:
        panel_id = create_panel(session=session, actor=world.admin, data=data).id
    with Session(engine) as session:
        panel = session.get(Panel, panel_id)
        assert panel is not None
        assert panel.cadence_rrule == "FREQ=MONTHLY;BYDAY=2TU"
        assert panel.agenda_cutoff_working_days == 5 and panel.pack_lead_working_days == 5
        assert panel.quorum_required_organisation_ids == [world.legal.org.id]
        assert panel.deputy_chair_user_id == world.deputy.user_id
        assert set(
            session.exec(select(PanelOrganisation.organisation_id).where(PanelOrganisation.panel_id == panel_id))
        ) == {o.id for o in world.orgs}
        assert list(session.exec(select(PanelMember.user_id).where(PanelMember.panel_id == panel_id))) == [
            world.police.member.user_id
        ]
    (event,) = audit_events(engine, subject_type="panel", subject_id=panel_id, since=since)
    assert event.action == "panels:panel:created"
    assert event.actor_user_id == world.admin.user_id


def test_a_bad_meeting_pattern_and_other_mistakes_are_named_at_their_fields(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    data = panel_input(
        world,
        cadence_rrule="FREQ=MONTHLY;BYDAY=2XX",
        start_time="25:99",
        quorum_min_organisations=9,
        quorum_required_organisation_ids=[999_999],
        decision_types=["action_plan", "hang_them_all"],
        venue="",
        sharing_purpose="gossip",
        agenda_cutoff_working_days=-1,
    )
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        create_panel(session=session, actor=world.admin, data=data)
    errors = error.value.field_errors
    assert errors["cadence_rrule"] == "The meeting pattern is not valid: invalid 'BYDAY': 2XX."
    assert errors["start_time"] == "The start time is not valid: use the 24-hour clock, e.g. 10:00."
    assert errors["quorum_min_organisations"] == "The quorum must be between 1 and the 4 organisations on the panel."
    assert errors["quorum_required_organisation_ids"] == "Organisations that must be present must sit on the panel."
    assert errors["decision_types"] == "These are not decisions the portal knows: hang_them_all."
    assert errors["venue"] == "Give a venue or a video link for the meetings."
    assert errors["sharing_purpose"] == "Choose the purpose the panel's packs are shared for."
    assert errors["agenda_cutoff_working_days"] == "Give a number of working days from 0 to 30."


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=HOURLY", "a panel cannot meet more often than daily"),
        ("BYDAY=2TU", "it must say how often (FREQ=WEEKLY or FREQ=MONTHLY, for example)"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "it never produces a meeting"),
        ("", "give one rule such as FREQ=MONTHLY;BYDAY=2TU"),
    ],
)
def test_meeting_patterns_that_cannot_work_are_refused(
    engine: Engine, meeting_world: MeetingWorld, rule: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        create_panel(session=session, actor=meeting_world.admin, data=panel_input(meeting_world, cadence_rrule=rule))
    assert error.value.field_errors["cadence_rrule"] == f"The meeting pattern is not valid: {reason}."


def test_the_chair_must_come_from_the_panel_and_differ_from_the_deputy(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    data = panel_input(
        world, organisation_ids=[world.police.org.id, world.legal.org.id], quorum_required_organisation_ids=[]
    )
    data.deputy_chair_user_id = world.deputy.user_id
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        create_panel(session=session, actor=world.admin, data=data)
    assert error.value.field_errors == {
        "chair_user_id": "The chair must be an active person from an organisation on the panel."
    }
    same = panel_input(world, deputy_chair_user_id=world.chair.user_id)
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        create_panel(session=session, actor=world.admin, data=same)
    assert error.value.field_errors == {
        "deputy_chair_user_id": "The deputy chair must be someone other than the chair."
    }


def test_only_administrators_set_up_panels(engine: Engine, meeting_world: MeetingWorld) -> None:
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        create_panel(session=session, actor=meeting_world.chair, data=panel_input(meeting_world))
    assert error.value.message == DENIED_MESSAGE
    (event,) = audit_events(engine, actor_user_id=meeting_world.chair.user_id, since=since)
    assert event.reason == "lacks panels:panels:manage"


def test_updating_a_panel_records_what_changed(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    with transaction(engine) as session:
        panel = create_panel(session=session, actor=world.admin, data=panel_input(world))
        panel_id = panel.id
        assert panel_id is not None
        data = panel_input_of(session, panel)
    data.cadence_rrule = "FREQ=MONTHLY;BYDAY=3WE"
    data.quorum_min_organisations = 3
    since = last_audit_id(engine)
    with transaction(engine) as session:
        update_panel(session=session, actor=world.admin, panel_id=panel_id, data=data)
    (event,) = audit_events(engine, subject_type="panel", subject_id=panel_id, since=since)
    assert event.action == "panels:panel:updated"
    assert event.detail == {"changed": ["cadence_rrule", "quorum_min_organisations"]}


def test_the_demo_panels_are_configured_from_the_policies(db: Session) -> None:
    panels = {p.name: p for p in db.exec(select(Panel))}
    orgs = {o.name: o.id for o in db.exec(select(Organisation))}
    psg, ccp, tep = panels["Problem Solving Group"], panels["Complex Case Panel"], panels["Tenancy Enforcement Panel"]
    assert psg.cadence_rrule == "FREQ=MONTHLY;BYDAY=2TU"
    assert psg.decision_types == list(PSG_DECISION_TYPES)
    assert psg.sharing_purpose == "asb_case_management"
    assert orgs[POLICE] in psg.quorum_required_organisation_ids
    assert ccp.decision_types == list(CCP_DECISION_TYPES)
    assert ccp.sharing_purpose == "homelessness_prevention"
    assert orgs[SOLUTIONS] in ccp.quorum_required_organisation_ids
    assert tep.decision_types == list(TEP_DECISION_TYPES)
    assert tep.sharing_purpose == "tenancy_enforcement"
    assert orgs[LEGAL] in tep.quorum_required_organisation_ids
    for panel in (psg, ccp, tep):
        assert all(key in DECISION_TYPES for key in panel.decision_types)
        assert panel.venue or panel.video_link


def test_the_form_changing_a_panel_starts_from_its_set_up_for_administrators_only(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    panel_id = make_panel(
        engine, world, member_user_ids=[world.police.member.user_id], confidentiality_statement="Our own statement."
    )
    with transaction(engine) as session:
        current = get_panel_set_up(session=session, actor=world.admin, panel_id=panel_id)
    assert current.member_user_ids == [world.police.member.user_id]
    assert (current.chair_user_id, current.deputy_chair_user_id) == (world.chair.user_id, world.deputy.user_id)
    assert set(current.organisation_ids) == {o.id for o in world.orgs}
    assert current.quorum_required_organisation_ids == [world.legal.org.id]
    assert current.confidentiality_statement == "Our own statement."
    for actor in (world.chair, world.police.member):
        since = last_audit_id(engine)
        with pytest.raises(PermissionDenied) as denied, transaction(engine) as session:
            get_panel_set_up(session=session, actor=actor, panel_id=panel_id)
        assert denied.value.message == DENIED_MESSAGE
        (event,) = audit_events(engine, since=since)
        assert (event.action, event.subject_type, event.subject_id, event.actor_user_id) == (
            "access:permission:denied", "panel", str(panel_id), actor.user_id,
        )  # fmt: skip

    # An organisation on the panel that has since been deactivated is still offered when the
    # panel is changed (saving must not drop it), though not for a new panel.
    with transaction(engine) as session:
        solutions = session.get(Organisation, world.solutions.org.id)
        assert solutions is not None
        solutions.active = False
        session.add(solutions)
    with transaction(engine) as session:
        changing = panel_form_options(session=session, actor=world.admin, panel_id=panel_id)
        new = panel_form_options(session=session, actor=world.admin)
    assert world.solutions.org.id in {i for i, _ in changing.organisations}
    assert world.solutions.org.id not in {i for i, _ in new.organisations}


def test_a_change_made_through_the_form_keeps_what_the_form_does_not_show(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    panel_id = make_panel(engine, world, agenda_cutoff_working_days=7, confidentiality_statement="Ours.")
    fields, errors = parse_panel_form(
        {
            "name": "Renamed panel " + str(panel_id), "purpose": "New terms of reference.",
            f"org_{world.council.org.id}": "on", f"org_{world.legal.org.id}": "on",
            f"member_{world.legal.member.user_id}": "on", "chair_user_id": str(world.chair.user_id),
            "deputy_chair_user_id": "", "cadence_rrule": "", "cadence_preset": "FREQ=MONTHLY;BYDAY=1WE",
            "start_time": "14:00", "duration_minutes": "90", "venue": "Civic Centre",
            "quorum_min_organisations": "2", f"required_{world.legal.org.id}": "on",
            "sharing_purpose": "asb_case_management", "decision_action_plan": "on", "decision_made_up": "on",
        }
    )  # fmt: skip
    assert errors == {}
    with transaction(engine) as session:
        current = get_panel_set_up(session=session, actor=world.admin, panel_id=panel_id)
        update_panel(session=session, actor=world.admin, panel_id=panel_id, data=replace(current, **fields))
    with transaction(engine) as session:
        saved = get_panel_set_up(session=session, actor=world.admin, panel_id=panel_id)
    assert (saved.purpose, saved.member_user_ids, saved.deputy_chair_user_id) == (
        "New terms of reference.", [world.legal.member.user_id], None,
    )  # fmt: skip
    assert (saved.cadence_rrule, saved.start_time, saved.decision_types) == (
        "FREQ=MONTHLY;BYDAY=1WE", "14:00", ["action_plan"],
    )  # fmt: skip
    assert (saved.agenda_cutoff_working_days, saved.confidentiality_statement) == (7, "Ours.")  # kept
    assert parse_panel_form({"duration_minutes": "an hour", "cadence_starts_on": "8/6/2030"})[1] == {
        "duration_minutes": "Enter a whole number.",
        "cadence_starts_on": "Enter the date as day, month and year.",
        "cadence_rrule": "Choose how often the panel meets, or write the pattern.",
    }


def test_a_partnership_too_large_to_list_offers_the_panels_people_and_finds_the_rest(
    engine: Engine, meeting_world: MeetingWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = meeting_world
    panel_id = make_panel(
        engine,
        world,
        organisation_ids=[world.council.org.id, world.police.org.id, world.legal.org.id],
        member_user_ids=[world.legal.member.user_id],
    )
    with transaction(engine) as session:
        outsider = session.get(User, world.solutions.member.user_id)
        departed = session.get(User, world.solutions.officer.user_id)
        assert outsider is not None and departed is not None
        departed.is_active = False
        session.add(departed)
        outsider_email, departed_email = outsider.email, departed.email

    # A council small enough to list: everyone active is offered, and nothing needs finding.
    monkeypatch.setenv("PORTAL_PANEL_FORM_PEOPLE_LISTED", "5000")
    get_settings.cache_clear()
    try:
        with transaction(engine) as session:
            small = panel_form_options(session=session, actor=world.admin, panel_id=panel_id)
        # Larger than the form lists: the panel's own people and its organisations' people.
        monkeypatch.setenv("PORTAL_PANEL_FORM_PEOPLE_LISTED", "3")
        get_settings.cache_clear()
        with transaction(engine) as session:
            large = panel_form_options(session=session, actor=world.admin, panel_id=panel_id)
            new = panel_form_options(session=session, actor=world.admin)
    finally:
        get_settings.cache_clear()
    if small.everyone_listed:  # the shared test database may hold more than 5,000 people
        assert world.solutions.member.user_id in {i for i, _ in small.people}
    assert world.solutions.officer.user_id not in {i for i, _ in small.people}
    assert not large.everyone_listed and not new.everyone_listed
    listed = {i for i, _ in large.people}
    # The chair, deputy and named member always; then at most 3 of the member organisations'.
    assert {world.chair.user_id, world.deputy.user_id, world.legal.member.user_id} <= listed
    assert world.solutions.member.user_id not in listed  # Solutions does not sit on this panel
    assert len(listed) <= 3 + 3
    assert [label for _, label in large.people] == sorted((label for _, label in large.people), key=str.casefold)
    assert new.people == ()

    with transaction(engine) as session:
        found = find_panel_people(session=session, actor=world.admin, query=f"  {outsider_email.upper()} ")
        gone = find_panel_people(session=session, actor=world.admin, query=departed_email)
        wildcard = find_panel_people(session=session, actor=world.admin, query="%_%")
    assert [i for i, _ in found] == [world.solutions.member.user_id]
    assert found[0][1].startswith("Panel Member (")
    assert gone == ()  # deactivated accounts are not offered
    assert wildcard == ()  # the words are matched as typed, not as patterns
    with pytest.raises(InvalidInput) as short, transaction(engine) as session:
        find_panel_people(session=session, actor=world.admin, query=" a ")
    assert short.value.field_errors == {"people_query": "Type at least two letters of the person's name or email."}
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        find_panel_people(session=session, actor=world.chair, query=outsider_email)
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]
