"""The chair's running notes: only the chair or deputy writes them, only while the meeting is in
progress; a correction is a new note and the earlier wording stays; every participant is given
them except the notes of an item they declared an interest in; each write and read is audited;
the minutes carry them, and a conflicted reader's copy withholds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.agenda import NOT_PUBLISHED, build_agenda, publish_agenda
from panels.meeting_notes import NOT_IN_PROGRESS, correct_note, notes_of_meeting, write_note
from panels.meeting_room import close_meeting, declare_interest, join_meeting, open_meeting
from panels.meetings import MeetingUnavailable
from panels.minutes import circulate_minutes, draft_minutes, minutes_for_organisation
from panels.models import MeetingNote
from panels.packs import CONFLICTED
from panels.referrals import decide_referral
from panels.room_view import MeetingNotes, read_meeting_notes
from sharing.access import DENIED_MESSAGE
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import OrganisationType
from sharing.permissions import Actor
from tests.unit.case_helpers import make_case
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MEETING_AT, MeetingWorld, meeting_with_case, meeting_world, refer
from tests.unit.sharing_helpers import make_agency

__all__ = ["meeting_world"]


@dataclass(frozen=True)
class TwoItems:
    meeting_id: int
    first: int  # agenda item ids
    second: int


def _two_items(engine: Engine, world: MeetingWorld, *, publish: bool = True) -> TwoItems:
    """An open meeting with two council cases on its published agenda."""
    held = meeting_with_case(engine, world, open_it=False, publish=False)
    case = make_case(engine, world.council.officer)
    referral_id = refer(engine, world, case, held.panel_id, now=MEETING_AT - timedelta(days=30))
    with transaction(engine) as session:
        decide_referral(session=session, actor=world.chair, referral_id=referral_id, decision="accept")
        items = build_agenda(session=session, actor=world.chair, meeting_id=held.meeting_id)
        second = next(i.id for i in items if i.case_id == case.id)
        assert second is not None
        if publish:
            publish_agenda(session=session, actor=world.chair, meeting_id=held.meeting_id)
        open_meeting(session=session, actor=world.chair, meeting_id=held.meeting_id)
    return TwoItems(held.meeting_id, held.agenda_item_id, second)


def _write(engine: Engine, actor: Actor, meeting_id: int, item_id: int | None, text: str) -> MeetingNote:
    with transaction(engine) as session:
        return write_note(session=session, actor=actor, meeting_id=meeting_id, agenda_item_id=item_id, text=text)


def _correct(engine: Engine, actor: Actor, note_id: int, text: str) -> MeetingNote:
    with transaction(engine) as session:
        return correct_note(session=session, actor=actor, note_id=note_id, text=text)


def _read(engine: Engine, actor: Actor, meeting_id: int) -> MeetingNotes:
    with transaction(engine) as session:
        return read_meeting_notes(session=session, actor=actor, meeting_id=meeting_id)


def test_only_the_chair_or_deputy_writes_notes_and_only_while_the_meeting_is_in_progress(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, open_it=False)
    with pytest.raises(MeetingUnavailable) as unavailable:
        _write(engine, world.chair, held.meeting_id, held.agenda_item_id, "Too early.")
    assert unavailable.value.message == NOT_IN_PROGRESS
    with transaction(engine) as session:
        open_meeting(session=session, actor=world.chair, meeting_id=held.meeting_id)

    for actor, message, reason in (
        (world.legal.member, "Only the chair or deputy chair of the Panel-", "not the panel's chair"),
        (world.admin, DENIED_MESSAGE, "lacks panels:meetings:chair"),
    ):
        since = last_audit_id(engine)
        with pytest.raises(PermissionDenied) as error:
            _write(engine, actor, held.meeting_id, held.agenda_item_id, "Not mine to write.")
        assert error.value.message.startswith(message)
        (event,) = audit_events(engine, since=since)
        assert (event.action, event.actor_user_id, event.reason) == ("access:permission:denied", actor.user_id, reason)

    with pytest.raises(InvalidInput) as invalid:
        _write(engine, world.chair, held.meeting_id, held.agenda_item_id, "   ")
    assert invalid.value.field_errors == {"text": "Write the note."}
    with pytest.raises(InvalidInput) as invalid:
        _write(engine, world.chair, held.meeting_id, held.agenda_item_id, "x" * 4001)
    assert invalid.value.field_errors == {"text": "Keep a note under 4,000 characters; add another for the rest."}
    other = meeting_with_case(engine, world)
    with pytest.raises(InvalidInput) as invalid:
        _write(engine, world.chair, held.meeting_id, other.agenda_item_id, "Wrong meeting.")
    assert invalid.value.field_errors == {"agenda_item_id": "That item is not on this meeting's agenda."}

    since = last_audit_id(engine)
    item_note = _write(engine, world.chair, held.meeting_id, held.agenda_item_id, "  Police visited twice in May.  ")
    general = _write(engine, world.deputy, held.meeting_id, None, "Housing Solutions sent apologies.")
    assert (item_note.text, item_note.agenda_item_id, item_note.written_by_user_id) == (
        "Police visited twice in May.", held.agenda_item_id, world.chair.user_id,
    )  # fmt: skip
    assert general.agenda_item_id is None
    assert [(e.action, e.subject_id, e.detail) for e in audit_events(engine, since=since)] == [
        ("panels:note:written", str(item_note.id), {"meeting": held.meeting_id, "agenda_item": held.agenda_item_id}),
        ("panels:note:written", str(general.id), {"meeting": held.meeting_id, "agenda_item": None}),
    ]

    with transaction(engine) as session:
        close_meeting(session=session, actor=world.chair, meeting_id=held.meeting_id)
    with pytest.raises(MeetingUnavailable):
        _write(engine, world.chair, held.meeting_id, held.agenda_item_id, "After the meeting.")
    with pytest.raises(MeetingUnavailable):
        _correct(engine, world.chair, item_note.id, "Police visited three times in May.")  # type: ignore[arg-type]


def test_a_correction_is_a_new_note_and_the_earlier_wording_stays_on_record(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world)
    first = _write(engine, world.chair, held.meeting_id, held.agenda_item_id, "Two visits in May.")
    assert first.id is not None
    with pytest.raises(InvalidInput) as invalid:
        _correct(engine, world.chair, first.id, "Two visits in May.")
    assert invalid.value.field_errors == {"text": "The correction reads the same as the note: change the wording."}
    with pytest.raises(PermissionDenied):
        _correct(engine, world.legal.member, first.id, "Three visits in May.")
    since = last_audit_id(engine)
    second = _correct(engine, world.chair, first.id, "Three visits in May.")
    with pytest.raises(InvalidInput) as invalid:
        _correct(engine, world.deputy, first.id, "Four visits in May.")
    assert invalid.value.field_errors == {"text": "That note has already been corrected: correct its latest wording."}
    third = _correct(engine, world.deputy, second.id, "Three visits in May, one with the police.")  # type: ignore[arg-type]

    with Session(engine) as session:
        rows = session.exec(
            select(MeetingNote).where(MeetingNote.meeting_id == held.meeting_id).order_by(col(MeetingNote.id))
        ).all()
        assert [(r.text, r.corrects_note_id) for r in rows] == [
            ("Two visits in May.", None),  # never changed
            ("Three visits in May.", first.id),
            ("Three visits in May, one with the police.", second.id),
        ]
        (note,) = notes_of_meeting(session, held.meeting_id)
    assert (note.id, note.text, note.written_by, note.earlier, note.corrected) == (
        third.id, "Three visits in May, one with the police.", "Deputy Person",
        ("Two visits in May.", "Three visits in May."), True,
    )  # fmt: skip
    assert note.written_at == first.written_at  # when it was first written
    events = audit_events(engine, action="panels:note:corrected", since=since)
    assert [(e.subject_id, e.detail["corrects"]) for e in events] == [  # type: ignore[index]
        (str(second.id), first.id),
        (str(third.id), second.id),
    ]


def test_a_member_who_declared_an_interest_is_not_given_that_items_notes(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    meeting = _two_items(engine, world)
    general = _write(engine, world.chair, meeting.meeting_id, None, "The meeting started late.")
    on_first = _write(engine, world.chair, meeting.meeting_id, meeting.first, "The tenant's son was arrested.")
    on_second = _write(engine, world.chair, meeting.meeting_id, meeting.second, "Mediation has been offered.")
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.legal.member, agenda_item_id=meeting.first, reason="Client.")

    since = last_audit_id(engine)
    legal = _read(engine, world.legal.member, meeting.meeting_id)
    assert [n.id for n in legal.notes] == [general.id, on_second.id]
    assert legal.withheld_item_ids == (meeting.first,)
    assert "The tenant's son was arrested." not in {n.text for n in legal.notes}
    (event,) = audit_events(engine, action="panels:notes:read", since=since)
    assert (event.actor_user_id, event.subject_id, event.detail) == (
        world.legal.member.user_id,
        str(meeting.meeting_id),
        {"notes": [general.id, on_second.id], "withheld_items": [meeting.first], "via": "meeting room"},
    )
    police = _read(engine, world.police.member, meeting.meeting_id)
    assert [n.id for n in police.notes] == [general.id, on_first.id, on_second.id]
    assert police.withheld_item_ids == ()

    # A chair who declared an interest neither writes nor is given the item's notes.
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.chair, agenda_item_id=meeting.second, reason="My neighbour.")
    with pytest.raises(PermissionDenied) as denied:
        _write(engine, world.chair, meeting.meeting_id, meeting.second, "Mediation accepted.")
    assert denied.value.message == "You declared an interest in this item, so another chair must keep its notes."
    with pytest.raises(PermissionDenied):
        _correct(engine, world.chair, on_second.id, "Mediation was offered twice.")  # type: ignore[arg-type]
    _write(engine, world.deputy, meeting.meeting_id, meeting.second, "Mediation accepted.")
    chair = _read(engine, world.chair, meeting.meeting_id)
    assert {n.agenda_item_id for n in chair.notes} == {None, meeting.first}
    assert chair.withheld_item_ids == (meeting.second,)


def test_nobody_outside_the_panel_and_no_member_before_publication_reads_the_notes(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    meeting = _two_items(engine, world, publish=False)
    _write(engine, world.chair, meeting.meeting_id, meeting.first, "Discussed before publication.")
    with pytest.raises(PermissionDenied) as denied:
        _read(engine, world.police.member, meeting.meeting_id)
    assert denied.value.message == NOT_PUBLISHED
    outsider = make_agency(engine, OrganisationType.HEALTH, "Outsider").member
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as denied:
        _read(engine, outsider, meeting.meeting_id)
    assert denied.value.message.startswith("Your organisation does not sit on the Panel-")
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]
    assert len(_read(engine, world.chair, meeting.meeting_id).notes) == 1  # the chair sees the agenda already


def test_the_minutes_carry_the_notes_and_a_conflicted_readers_copy_withholds_them(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    meeting = _two_items(engine, world)
    for actor in (world.police.member, world.legal.member):
        with transaction(engine) as session:
            join_meeting(session=session, actor=actor, meeting_id=meeting.meeting_id, accept_confidentiality=True)
    _write(engine, world.chair, meeting.meeting_id, None, "The meeting started late.")
    first = _write(engine, world.chair, meeting.meeting_id, meeting.first, "Arrest last week.")
    _correct(engine, world.chair, first.id, "Arrest last week; charged with criminal damage.")  # type: ignore[arg-type]
    _write(engine, world.chair, meeting.meeting_id, meeting.second, "Mediation offered.")
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.legal.member, agenda_item_id=meeting.first, reason="Client.")
        close_meeting(session=session, actor=world.chair, meeting_id=meeting.meeting_id)
        content = draft_minutes(session=session, actor=world.chair, meeting_id=meeting.meeting_id).content
        circulate_minutes(session=session, actor=world.chair, meeting_id=meeting.meeting_id)
    assert [n["text"] for n in content["notes"]] == ["The meeting started late."]
    by_item = {i["agenda_item_id"]: i["notes"] for i in content["items"]}
    assert [(n["text"], n["corrected"]) for n in by_item[meeting.first]] == [
        ("Arrest last week; charged with criminal damage.", True)
    ]
    assert [n["text"] for n in by_item[meeting.second]] == ["Mediation offered."]

    def copy_of(actor: Actor) -> dict[int, tuple[tuple[str, ...], str]]:
        with transaction(engine) as session:
            copy = minutes_for_organisation(session=session, actor=actor, meeting_id=meeting.meeting_id)
        assert len(copy.notes) == 1 and copy.notes[0].endswith("The meeting started late.")
        return {item.position: (item.notes, item.note) for item in copy.items}

    police = copy_of(world.police.member)
    assert police[1][0][0].endswith("Arrest last week; charged with criminal damage. (corrected during the meeting)")
    assert police[2][0][0].endswith("Mediation offered.")
    legal = copy_of(world.legal.member)
    assert legal[1] == ((), CONFLICTED)  # neither the decision nor the notes of the item
    assert legal[2][0][0].endswith("Mediation offered.")
