"""The meeting room: joining with the confidentiality statement, attendance, quorum (minimum
number of organisations, organisations that must be present), declarations of interest, the
current item, and information said aloud recorded as disclosures."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.meeting_room import (
    VerbalShareOutcome,
    declare_interest,
    join_meeting,
    log_verbal_disclosure,
    quorum_status,
    record_attendance,
    set_current_item,
)
from panels.meetings import MeetingUnavailable
from panels.models import Attendance, Panel, VerbalDisclosure
from sharing.access import DENIED_MESSAGE
from sharing.db import transaction
from sharing.disclosures import NOT_SAID_BY_YOU, DisclosureRequest, record_spoken_disclosure
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import Disclosure, OrganisationType
from sharing.permissions import Actor, Permission
from sharing.vocabulary import DataCategory, LawfulBasis, Purpose
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, attend, load_meeting, meeting_with_case, meeting_world
from tests.unit.sharing_helpers import JUSTIFICATION, make_agency, make_agreement, make_item

__all__ = ["meeting_world"]


def _panel_name(engine: Engine, panel_id: int) -> str:
    with Session(engine) as session:
        panel = session.get(Panel, panel_id)
        assert panel is not None
        return panel.name


def _quorum(engine: Engine, meeting_id: int, agenda_item_id: int | None = None) -> tuple[bool, str]:
    with Session(engine) as session:
        status = quorum_status(session, meeting_id, agenda_item_id=agenda_item_id)
        return status.met, status.explanation


def test_quorum_needs_the_required_organisations_and_the_minimum_number(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world)
    legal = world.legal.org.name
    assert _quorum(engine, held.meeting_id) == (
        False,
        f"The meeting is not quorate: {legal} must be present; at least 2 organisations must be present and 0 are",
    )
    attend(engine, world, held.meeting_id, world.council.member, world.police.member)
    assert _quorum(engine, held.meeting_id) == (False, f"The meeting is not quorate: {legal} must be present")
    attend(engine, world, held.meeting_id, world.legal.member, status="apologies")
    assert _quorum(engine, held.meeting_id)[0] is False  # apologies are not presence
    attend(engine, world, held.meeting_id, world.legal.member)
    with Session(engine) as session:
        status = quorum_status(session, held.meeting_id)
    assert status.met
    assert status.explanation == "The meeting is quorate: 3 organisations present (at least 2 needed)"
    assert set(status.organisations_present) == {world.council.org.name, world.police.org.name, legal}
    assert status.missing_required == ()


def test_quorum_by_number_alone(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, quorum_min_organisations=3, quorum_required_organisation_ids=[])
    # Two people from one organisation are one organisation.
    attend(engine, world, held.meeting_id, world.council.member, world.council.officer, world.police.member)
    assert _quorum(engine, held.meeting_id) == (
        False,
        "The meeting is not quorate: at least 3 organisations must be present and 2 are",
    )
    attend(engine, world, held.meeting_id, world.solutions.member)
    assert _quorum(engine, held.meeting_id)[0] is True


def test_joining_needs_the_confidentiality_statement_and_a_meeting_in_progress(
    engine: Engine, meeting_world: MeetingWorld, make_organisation: object
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, open_it=False)
    with pytest.raises(MeetingUnavailable) as unavailable, transaction(engine) as session:
        join_meeting(
            session=session, actor=world.police.member, meeting_id=held.meeting_id, accept_confidentiality=True
        )
    assert unavailable.value.message == "The meeting is not in progress."
    from panels.meeting_room import open_meeting

    with transaction(engine) as session:
        open_meeting(session=session, actor=world.deputy, meeting_id=held.meeting_id)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        join_meeting(
            session=session, actor=world.police.member, meeting_id=held.meeting_id, accept_confidentiality=False
        )
    assert invalid.value.field_errors == {
        "accept_confidentiality": "You must accept the confidentiality statement to join the meeting."
    }
    since = last_audit_id(engine)
    with transaction(engine) as session:
        join_meeting(
            session=session, actor=world.police.member, meeting_id=held.meeting_id, accept_confidentiality=True
        )
    with Session(engine) as session:
        row = session.exec(select(Attendance).where(Attendance.meeting_id == held.meeting_id)).one()
    assert (row.user_id, row.status, row.organisation_id) == (
        world.police.member.user_id,
        "present",
        world.police.org.id,
    )
    assert row.joined_at is not None and row.confidentiality_accepted_at is not None
    (event,) = audit_events(engine, subject_type="meeting", subject_id=held.meeting_id, since=since)
    assert event.action == "panels:meeting:joined"


def test_only_members_join_and_only_the_chair_records_attendance(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(
        engine, world, organisation_ids=[world.council.org.id, world.legal.org.id], deputy_chair_user_id=None
    )
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        join_meeting(
            session=session, actor=world.police.member, meeting_id=held.meeting_id, accept_confidentiality=True
        )
    assert error.value.message.startswith("Your organisation does not sit on the Panel-")
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        record_attendance(session=session, actor=world.legal.member, meeting_id=held.meeting_id,
                          user_id=world.legal.member.user_id, status="present")  # type: ignore[arg-type]  # fmt: skip
    assert error.value.message.startswith("Only the chair or deputy chair")
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        record_attendance(session=session, actor=world.chair, meeting_id=held.meeting_id,
                          user_id=world.police.member.user_id, status="present")  # type: ignore[arg-type]  # fmt: skip
    assert invalid.value.field_errors["user_id"].startswith("That person does not sit on the Panel-")
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        record_attendance(session=session, actor=world.chair, meeting_id=held.meeting_id,
                          user_id=world.legal.member.user_id, status="late")  # type: ignore[arg-type]  # fmt: skip
    assert invalid.value.field_errors == {"status": "Choose present, apologies or absent."}


def test_a_declaration_takes_the_member_out_of_the_items_quorum(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    assert _quorum(engine, held.meeting_id, held.agenda_item_id)[0] is True
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        declare_interest(session=session, actor=world.legal.member, agenda_item_id=held.agenda_item_id, reason=" ")
    assert invalid.value.field_errors == {"reason": "Say what your interest is."}
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.legal.member, agenda_item_id=held.agenda_item_id,
                         reason="I advised the tenant's family privately.")  # fmt: skip
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        declare_interest(session=session, actor=world.legal.member, agenda_item_id=held.agenda_item_id, reason="again")
    assert invalid.value.field_errors == {"reason": "You have already declared an interest in this item."}
    assert _quorum(engine, held.meeting_id, held.agenda_item_id) == (
        False,
        f"The meeting is not quorate: {world.legal.org.name} must be present; "
        "at least 2 organisations must be present and 1 are",
    )
    assert _quorum(engine, held.meeting_id)[0] is True  # the meeting as a whole still is


def test_the_chair_moves_the_meeting_through_its_agenda(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world)
    other = meeting_with_case(engine, world)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        set_current_item(session=session, actor=world.chair, meeting_id=held.meeting_id,
                         agenda_item_id=other.agenda_item_id)  # fmt: skip
    assert invalid.value.field_errors == {"agenda_item_id": "That item is not on this meeting's agenda."}
    with transaction(engine) as session:
        set_current_item(session=session, actor=world.chair, meeting_id=held.meeting_id,
                         agenda_item_id=held.agenda_item_id)  # fmt: skip
    assert load_meeting(engine, held.meeting_id).current_agenda_item_id == held.agenda_item_id


def test_information_said_aloud_is_recorded_as_a_disclosure_to_each_organisation_present(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    # Housing Solutions is not party to the agreement, so sharing with it is refused.
    make_agreement(engine, world.council.iso, [world.council.org, world.police.org, world.legal.org])
    held = meeting_with_case(
        engine, world, present=(world.police.officer, world.council.member, world.legal.member, world.solutions.member)
    )
    since = last_audit_id(engine)
    with transaction(engine) as session:
        outcomes = log_verbal_disclosure(
            session=session, actor=world.police.officer, agenda_item_id=held.agenda_item_id,
            what_was_said="The tenant was arrested last week for possession with intent to supply.",
            category=DataCategory.ALLEGATIONS_OF_CRIME, basis=LawfulBasis.CRIME_AND_DISORDER_S115,
            justification=JUSTIFICATION,
        )  # fmt: skip
    by_org = {o.organisation: o for o in outcomes}
    assert set(by_org) == {world.council.org.name, world.legal.org.name, world.solutions.org.name}
    assert by_org[world.council.org.name].status == "awaiting_approval"
    assert by_org[world.legal.org.name].status == "awaiting_approval"
    refused = by_org[world.solutions.org.name]
    assert refused.disclosure_id is None and refused.status == "refused"
    assert refused.refusal.startswith("There is no active information sharing agreement between")
    with Session(engine) as session:
        rows = session.exec(
            select(VerbalDisclosure).where(VerbalDisclosure.agenda_item_id == held.agenda_item_id)
        ).all()
        assert len(rows) == 3
        shared = session.get(Disclosure, by_org[world.legal.org.name].disclosure_id)
        assert shared is not None
        assert (shared.basis, shared.purpose, shared.discloser_organisation_id) == (
            "crime_and_disorder_s115", "asb_case_management", world.police.org.id,
        )  # fmt: skip
    actions = [e.action for e in audit_events(engine, since=since)]
    assert actions.count("sharing:disclosure:requested") == 2
    assert "sharing:disclosure:refused" in actions
    assert actions[-1] == "panels:disclosure:verbal_logged"


def _say(
    engine: Engine, actor: Actor, agenda_item_id: int, said: str = "He was cautioned for criminal damage."
) -> list[VerbalShareOutcome]:
    with transaction(engine) as session:
        return log_verbal_disclosure(
            session=session, actor=actor, agenda_item_id=agenda_item_id, what_was_said=said,
            category=DataCategory.ALLEGATIONS_OF_CRIME, basis=LawfulBasis.CRIME_AND_DISORDER_S115,
            justification=JUSTIFICATION,
        )  # fmt: skip


def test_a_partner_at_the_panel_records_what_they_told_the_meeting(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    make_agreement(engine, world.council.iso, [world.council.org, world.police.org, world.legal.org])
    held = meeting_with_case(engine, world, present=(world.police.member, world.council.member, world.legal.member))
    assert not world.police.member.can(Permission.SHARING_DISCLOSURES_REQUEST)  # a panel member, not a sharer
    since = last_audit_id(engine)
    outcomes = _say(engine, world.police.member, held.agenda_item_id)
    assert {(o.organisation, o.status) for o in outcomes} == {
        (world.council.org.name, "awaiting_approval"),
        (world.legal.org.name, "awaiting_approval"),
    }
    with Session(engine) as session:
        shared = session.get(Disclosure, outcomes[0].disclosure_id)
        assert shared is not None
        assert (shared.discloser_organisation_id, shared.requested_by_user_id) == (
            world.police.org.id, world.police.member.user_id,
        )  # fmt: skip
    events = audit_events(engine, actor_user_id=world.police.member.user_id, since=since)
    assert [e.action for e in events] == [
        "sharing:item:created", "sharing:disclosure:requested", "sharing:disclosure:requested",
        "panels:disclosure:verbal_logged",
    ]  # fmt: skip


def test_an_absent_member_an_outsider_and_an_administrator_are_refused_and_audited(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member,))
    attend(engine, world, held.meeting_id, world.police.member, status="apologies")
    outsider = make_agency(engine, OrganisationType.HEALTH, "Outsider").member
    refusals = {
        world.police.member.user_id: ("Join the meeting before recording what you shared.", "not present"),
        world.legal.member.user_id: ("Join the meeting before recording what you shared.", "not present"),
        outsider.user_id: (f"Your organisation does not sit on the {_panel_name(engine, held.panel_id)}.",
                           "not a member of the panel"),
        world.admin.user_id: (DENIED_MESSAGE, "lacks panels:meetings:attend"),
    }  # fmt: skip
    for actor in (world.police.member, world.legal.member, outsider, world.admin):
        since = last_audit_id(engine)
        with pytest.raises(PermissionDenied) as error:
            _say(engine, actor, held.agenda_item_id)
        message, reason = refusals[actor.user_id]
        assert error.value.message == message
        (event,) = audit_events(engine, since=since)
        assert (event.action, event.outcome, event.actor_user_id, event.reason) == (
            "access:permission:denied", "denied", actor.user_id, reason,
        )  # fmt: skip
    with Session(engine) as session:
        assert session.exec(select(VerbalDisclosure).where(VerbalDisclosure.meeting_id == held.meeting_id)).all() == []


def test_only_ones_own_words_go_out_as_a_spoken_disclosure(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    make_agreement(engine, world.council.iso, [world.council.org, world.police.org])
    item_id = make_item(engine, world.police.officer, (("summary", DataCategory.ALLEGATIONS_OF_CRIME),))
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        record_spoken_disclosure(
            session=session, actor=world.police.member,
            request=DisclosureRequest(
                item_ids=[item_id], recipient_organisation_id=world.council.org.id,
                purpose=Purpose.ASB_CASE_MANAGEMENT, basis=LawfulBasis.CRIME_AND_DISORDER_S115,
                justification=JUSTIFICATION,
            ),
        )  # fmt: skip
    assert error.value.message == NOT_SAID_BY_YOU  # the force's other records are not theirs to share
    (event,) = audit_events(engine, since=since)
    assert (event.action, event.reason) == ("access:permission:denied", "not the speaker's own words")
