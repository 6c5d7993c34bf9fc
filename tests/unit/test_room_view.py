"""The meeting room as every participant sees it (roster, quorum, agenda, decision headlines)
and the room's version, which must move whenever anything shown in the room changes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from panels.agenda import NOT_PUBLISHED
from panels.decisions import ActionInput, DecisionInput, record_decision
from panels.meeting_notes import correct_note, write_note
from panels.meeting_room import (
    close_meeting,
    declare_interest,
    join_meeting,
    log_verbal_disclosure,
    open_meeting,
    set_current_item,
)
from panels.packs import CONFLICTED, NOTHING_SHARED
from panels.room_view import (
    NOT_RECORDED,
    ItemContent,
    RoomRead,
    current_item_content,
    list_decision_headlines,
    list_roster,
    read_room,
    read_room_core,
    room_version,
)
from sharing.db import transaction
from sharing.disclosures import decide_disclosure
from sharing.errors import PermissionDenied
from sharing.models import OrganisationType
from sharing.permissions import Actor
from sharing.vocabulary import WITHHELD, DataCategory, LawfulBasis
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, attend, meeting_with_case, meeting_world
from tests.unit.sharing_helpers import (
    JUSTIFICATION,
    access_log,
    last_access_log_id,
    make_agency,
    make_agreement,
    make_item,
    share,
)

__all__ = ["meeting_world"]

PLAN = DecisionInput("action_plan", "The behaviour continues and needs a joint response.")


def _room(engine: Engine, actor: Actor, meeting_id: int) -> RoomRead:
    with transaction(engine) as session:
        return read_room(session=session, actor=actor, meeting_id=meeting_id)


def _version(engine: Engine, meeting_id: int) -> str:
    with Session(engine) as session:
        return room_version(session, meeting_id)


def test_the_room_shows_who_is_expected_and_where_each_stands(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair, world.police.member))
    attend(engine, world, held.meeting_id, world.legal.member, status="apologies")
    room = _room(engine, world.police.member, held.meeting_id)
    rows = {(e.name, e.organisation): (e.role, e.status_label, e.confidentiality_accepted) for e in room.core.roster}
    assert rows == {
        ("Chair Person", world.council.org.name): ("Chair", "Present", True),
        ("Deputy Person", world.police.org.name): ("Deputy chair", NOT_RECORDED, False),
        ("Panel Member", world.police.org.name): ("", "Present", True),
        ("Panel Member", world.legal.org.name): ("", "Apologies", False),
    }
    assert [e.organisation for e in room.core.roster] == sorted(e.organisation for e in room.core.roster)
    assert room.actor_joined and not room.actor_is_chair and not room.actor_conflicted
    assert room.core.status == "open"
    assert room.core.quorum.met is False
    assert room.core.quorum.explanation == f"The meeting is not quorate: {world.legal.org.name} must be present"
    assert [a.id for a in room.agenda] == [held.agenda_item_id]
    assert {name for _, name in room.core.organisations} == {o.name for o in world.orgs}
    assert "action_plan" in {o.key for o in room.core.decision_options}
    assert room.core.confidentiality_statement.startswith("What is said and shown at this meeting is confidential.")
    assert _room(engine, world.chair, held.meeting_id).actor_is_chair


def test_the_quorum_shown_is_the_current_items_without_the_conflicted(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair, world.police.member, world.legal.member))
    assert _room(engine, world.chair, held.meeting_id).core.quorum.met
    with transaction(engine) as session:
        set_current_item(
            session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id
        )
        declare_interest(
            session=session, actor=world.legal.member, agenda_item_id=held.agenda_item_id, reason="My client."
        )
    room = _room(engine, world.chair, held.meeting_id)
    assert room.core.current_agenda_item_id == held.agenda_item_id
    assert room.core.quorum.met is False
    assert room.core.quorum.missing_required == (world.legal.org.name,)
    assert room.agenda[0].current and room.agenda[0].conflicted == ("Panel Member",)
    assert room.core.current_conflicted_user_ids == (world.legal.member.user_id,)
    assert _room(engine, world.legal.member, held.meeting_id).actor_conflicted
    assert not room.actor_conflicted


def test_members_see_no_agenda_before_it_is_published_and_outsiders_nothing(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, publish=False, open_it=False)
    since = last_audit_id(engine)
    assert _room(engine, world.police.member, held.meeting_id).agenda == ()
    assert audit_events(engine, action="access:permission:denied", since=since) == []  # not a refusal
    assert len(_room(engine, world.chair, held.meeting_id).agenda) == 1
    outsider = make_agency(engine, OrganisationType.HEALTH, "Outsider").member
    for read in (read_room, list_roster, list_decision_headlines):
        with pytest.raises(PermissionDenied) as denied, transaction(engine) as session:
            read(session=session, actor=outsider, meeting_id=held.meeting_id)
        assert denied.value.message.startswith("Your organisation does not sit on the Panel-")
    assert len(audit_events(engine, action="access:permission:denied", actor_user_id=outsider.user_id)) == 3


def test_decision_headlines_name_the_decision_and_who_took_no_part(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(
        engine,
        world,
        present=(world.chair, world.police.member, world.legal.member, world.solutions.member),
    )
    with transaction(engine) as session:
        declare_interest(
            session=session, actor=world.solutions.member, agenda_item_id=held.agenda_item_id, reason="Neighbour."
        )
        record_decision(
            session=session,
            actor=world.chair,
            agenda_item_id=held.agenda_item_id,
            data=DecisionInput(
                "action_plan",
                "Joint visit needed.",
                actions=[ActionInput(world.police.org.id, "Joint visit", date(2030, 6, 20))],
            ),
        )
    with transaction(engine) as session:
        headlines = list_decision_headlines(session=session, actor=world.police.member, meeting_id=held.meeting_id)
    assert [(h.position, h.case_reference, h.label, h.excluded) for h in headlines] == [
        (1, held.case.reference, "Agree a multi-agency action plan", ("Panel Member",))
    ]
    assert _room(engine, world.legal.member, held.meeting_id).core.decisions == tuple(headlines)


def test_the_room_version_moves_with_every_change_the_room_shows(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, open_it=False)
    make_agreement(engine, world.council.iso, world.orgs)
    seen = [_version(engine, held.meeting_id)]

    def moved() -> bool:
        now = _version(engine, held.meeting_id)
        fresh = now not in seen
        seen.append(now)
        return fresh

    assert not moved()  # nothing happened
    with transaction(engine) as session:
        open_meeting(session=session, actor=world.chair, meeting_id=held.meeting_id)
    assert moved()
    for actor in (world.chair, world.police.officer, world.legal.member):
        with transaction(engine) as session:
            join_meeting(session=session, actor=actor, meeting_id=held.meeting_id, accept_confidentiality=True)
        assert moved()
    attend(engine, world, held.meeting_id, world.legal.member, status="apologies")
    assert moved()
    attend(engine, world, held.meeting_id, world.legal.member)
    assert moved()
    with transaction(engine) as session:
        set_current_item(
            session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id
        )
    assert moved()
    with transaction(engine) as session:
        declare_interest(
            session=session, actor=world.solutions.member, agenda_item_id=held.agenda_item_id, reason="Neighbour."
        )
    assert moved()
    with transaction(engine) as session:
        log_verbal_disclosure(
            session=session, actor=world.police.officer, agenda_item_id=held.agenda_item_id,
            what_was_said="Two arrests at the address last month.", category=DataCategory.ALLEGATIONS_OF_CRIME,
            basis=LawfulBasis.CRIME_AND_DISORDER_S115, justification=JUSTIFICATION,
        )  # fmt: skip
    assert moved()
    with transaction(engine) as session:
        note = write_note(
            session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id,
            text="Two arrests confirmed by the police.",
        )  # fmt: skip
    assert moved()
    with transaction(engine) as session:
        correct_note(session=session, actor=world.chair, note_id=note.id, text="Two arrests, one charge.")  # type: ignore[arg-type]
    assert moved()
    with transaction(engine) as session:
        record_decision(session=session, actor=world.chair, agenda_item_id=held.agenda_item_id, data=PLAN)
    assert moved()
    with transaction(engine) as session:
        close_meeting(session=session, actor=world.chair, meeting_id=held.meeting_id)
    assert moved()
    assert not moved()
    assert _version(engine, 10**9) == ""


def _share_with_police(engine: Engine, world: MeetingWorld, item_ids: list[int]) -> None:
    """The council shares ASB history (not health) with the police, approved by its ISO."""
    disclosure = share(
        engine, world.council.officer, item_ids, world.police.org,
        basis=LawfulBasis.CRIME_AND_DISORDER_S115, categories=[DataCategory.ASB_HISTORY],
    )  # fmt: skip
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=world.council.iso, disclosure_id=disclosure.id, approve=True,  # type: ignore[arg-type]
                          note="Necessary for the joint plan.")  # fmt: skip


def _content(engine: Engine, actor: Actor, meeting_id: int) -> ItemContent:
    with transaction(engine) as session:
        return current_item_content(session=session, actor=actor, meeting_id=meeting_id)


def test_the_item_under_discussion_as_each_organisation_may_see_it(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    make_agreement(engine, world.council.iso, [world.council.org, world.police.org, world.legal.org])
    held = meeting_with_case(engine, world, present=(world.chair,))
    note_id = make_item(
        engine, world.council.officer, (("summary", DataCategory.ASB_HISTORY), ("impact", DataCategory.HEALTH)),
        case_reference=held.case.reference, title="Case note: noise at night",
    )  # fmt: skip
    _share_with_police(engine, world, [note_id])
    assert _content(engine, world.police.member, held.meeting_id) == ItemContent(None, "", "", ())  # no item yet
    with transaction(engine) as session:
        set_current_item(
            session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id
        )
    since, since_log = last_audit_id(engine), last_access_log_id(engine)
    police = _content(engine, world.police.member, held.meeting_id)
    assert (police.agenda_item_id, police.case_reference, police.note) == (
        held.agenda_item_id,
        held.case.reference,
        "",
    )
    (view,) = police.items
    assert {f.key: f.value for f in view.fields} == {"summary": "value of summary", "impact": WITHHELD}
    assert [(r.item_id, r.via, r.outcome) for r in access_log(engine, world.police.member, since=since_log)] == [
        (note_id, "meeting room", "partial")
    ]
    (event,) = audit_events(engine, action="panels:pack:read", since=since)
    assert event.detail == {"agenda_item": held.agenda_item_id, "items": 1, "via": "meeting room"}

    legal = _content(engine, world.legal.member, held.meeting_id)
    assert (legal.note, legal.items) == (NOTHING_SHARED, ())
    assert len(_content(engine, world.council.member, held.meeting_id).items) == 3  # its own records in full

    with transaction(engine) as session:
        declare_interest(
            session=session, actor=world.police.member, agenda_item_id=held.agenda_item_id, reason="I know them."
        )
    since_log = last_access_log_id(engine)
    assert _content(engine, world.police.member, held.meeting_id).note == CONFLICTED
    assert access_log(engine, world.police.member, since=since_log) == []


def test_the_items_content_is_refused_before_publication_and_to_outsiders(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, publish=False, open_it=False)
    with pytest.raises(PermissionDenied) as denied:
        _content(engine, world.police.member, held.meeting_id)
    assert denied.value.message == NOT_PUBLISHED
    outsider = make_agency(engine, OrganisationType.HEALTH, "Outsider").member
    with pytest.raises(PermissionDenied):
        _content(engine, outsider, held.meeting_id)


def test_one_read_of_the_room_serves_every_participant_but_each_is_checked(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair,))
    with Session(engine) as session:
        core = read_room_core(session, held.meeting_id)
    assert core.version == _version(engine, held.meeting_id)
    assert core.chair_user_ids == (world.chair.user_id, world.deputy.user_id)
    with transaction(engine) as session:
        room = read_room(session=session, actor=world.legal.member, meeting_id=held.meeting_id, core=core)
    assert room.core is core and not room.actor_joined
    outsider = make_agency(engine, OrganisationType.HEALTH, "Outsider").member
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        read_room(session=session, actor=outsider, meeting_id=held.meeting_id, core=core)
    other = meeting_with_case(engine, world, present=(world.chair,))
    with transaction(engine) as session:  # a core of another meeting is not used
        assert read_room(
            session=session, actor=world.chair, meeting_id=other.meeting_id, core=core
        ).core.meeting_id == (other.meeting_id)
