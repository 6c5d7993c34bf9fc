"""The meeting room page's reading and parsing, without a browser: what each participant is
shown (quorum wording, their own conflict, owners offered for actions), when the item's
content is read again, how action rows are parsed, and when a browser's watcher stops."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from panels.decisions import ActionInput
from panels.meeting_notes import write_note
from panels.meeting_room import declare_interest, set_current_item
from portal import routes
from portal.auth_state import AuthState
from portal.pages.meeting_room import (
    ROOM_PARTS,
    WITHHELD_NOTES,
    MeetingRoomState,
    RoomItemState,
    RoomNotesState,
    RoomSnapshot,
    read_snapshot,
)
from sharing.db import transaction
from sharing.permissions import Actor
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, attend, meeting_with_case, meeting_world

__all__ = ["meeting_world"]


def _snapshot(engine: Engine, actor: Actor, meeting_id: int, content_key: str | None = None) -> RoomSnapshot:
    with transaction(engine) as session:
        return read_snapshot(session, actor, meeting_id, content_key)


def test_the_quorum_is_said_in_words_and_the_chair_gets_the_form_choices(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair, world.police.member))
    police = _snapshot(engine, world.police.member, held.meeting_id)
    assert police.values["quorate"] is False
    assert police.values["quorum_text"] == f"Not quorate: {world.legal.org.name} must be present"
    assert police.values["is_chair"] is False and police.values["joined"] is True
    assert police.values["status_label"] == "In progress"
    assert police.escalation_panels == []
    attend(engine, world, held.meeting_id, world.legal.member)
    chair = _snapshot(engine, world.chair, held.meeting_id)
    assert chair.values["quorum_text"] == "Quorate: 3 organisations present (at least 2 needed)"
    assert chair.values["is_chair"] is True
    assert chair.escalation_panels  # other panels to escalate to, read on the first load
    assert {p["label"] for p in chair.values["people"]} >= {
        f"Chair Person ({world.council.org.name})",
        f"Panel Member ({world.legal.org.name})",
    }
    assert [d["value"] for d in chair.values["decision_options"]][:2] == ["action_plan", "escalate"]


def test_the_items_content_is_read_again_only_when_what_it_depends_on_changes(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair, world.council.member))
    with transaction(engine) as session:
        set_current_item(
            session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id
        )
    since = last_audit_id(engine)
    first = _snapshot(engine, world.council.member, held.meeting_id)
    assert first.content and first.content[0]["kind"] == "item"  # the council's own case records
    assert first.values["current"]["title"] == f"Item 1: case {held.case.reference}"
    again = _snapshot(engine, world.council.member, held.meeting_id, first.content_key)
    assert again.content is None  # nothing it depends on changed: not read, not logged again
    assert len(audit_events(engine, action="panels:pack:read", since=since)) == 1
    attend(engine, world, held.meeting_id, world.legal.member)  # someone arrives: same content
    assert _snapshot(engine, world.council.member, held.meeting_id, first.content_key).content is None

    with transaction(engine) as session:
        declare_interest(
            session=session, actor=world.council.member, agenda_item_id=held.agenda_item_id, reason="My neighbour."
        )
    conflicted = _snapshot(engine, world.council.member, held.meeting_id, first.content_key)
    assert conflicted.values["i_am_conflicted"] is True
    assert conflicted.content == []  # the page says why instead
    roster = {r["user_id"]: r["conflicted"] for r in conflicted.values["roster"]}
    assert roster[str(world.council.member.user_id)] == "yes"
    assert roster[str(world.chair.user_id)] == roster[str(world.legal.member.user_id)] == ""
    assert _snapshot(engine, world.chair, held.meeting_id).values["i_am_conflicted"] is False


def test_the_notes_are_read_again_only_when_they_change_and_never_for_a_conflicted_item(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair, world.police.member))
    with transaction(engine) as session:
        set_current_item(
            session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id
        )
        write_note(session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=held.agenda_item_id,
                   text="The police visited twice in May.")  # fmt: skip
    since = last_audit_id(engine)
    first = _snapshot(engine, world.police.member, held.meeting_id)
    assert first.notes is not None
    heading, note = first.notes
    assert (heading["kind"], heading["text"]) == ("heading", f"Item 1: case {held.case.reference}")
    assert (note["kind"], note["text"], note["by"], note["item_id"]) == (
        "note", "The police visited twice in May.", "Chair Person", str(held.agenda_item_id),
    )  # fmt: skip

    def again(notes_key: str) -> RoomSnapshot:
        with transaction(engine) as session:
            return read_snapshot(session, world.police.member, held.meeting_id, first.content_key, notes_key=notes_key)

    assert again(first.notes_key).notes is None  # nothing new: not read, not recorded again
    assert len(audit_events(engine, action="panels:notes:read", since=since)) == 1
    with transaction(engine) as session:
        write_note(session=session, actor=world.chair, meeting_id=held.meeting_id, agenda_item_id=None,
                   text="Legal services sent apologies.")  # fmt: skip
    fresh = again(first.notes_key).notes
    assert fresh is not None
    assert [(r["kind"], r["text"]) for r in fresh][:2] == [("heading", "About the meeting"),
                                                          ("note", "Legal services sent apologies.")]  # fmt: skip

    with transaction(engine) as session:
        declare_interest(
            session=session, actor=world.police.member, agenda_item_id=held.agenda_item_id, reason="My cousin."
        )
    conflicted = again(first.notes_key).notes
    assert conflicted is not None
    assert "The police visited twice in May." not in {r["text"] for r in conflicted}
    assert conflicted[-1] == {"kind": "withheld", "item_id": str(held.agenda_item_id), "text": WITHHELD_NOTES}


def _actions(rows: list[str], form: dict[str, Any]) -> tuple[list[ActionInput], str]:
    return MeetingRoomState._actions(SimpleNamespace(action_rows=rows), form)  # type: ignore[arg-type]


def test_action_rows_are_parsed_with_their_number_as_shown() -> None:
    form = {
        "action_1_organisation": "4",
        "action_1_owner": "17",
        "action_1_due": "2030-06-20",
        "action_1_description": "Joint visit",
        "action_3_organisation": "",  # a blank row (2 was removed): skipped
        "action_5_organisation": "9",
        "action_5_due": "2030-07-01",
        "action_5_description": "Warning letter",
    }
    actions, problem = _actions(["1", "3", "5"], form)
    assert problem == ""
    assert actions == [
        ActionInput(4, "Joint visit", date(2030, 6, 20), 17),
        ActionInput(9, "Warning letter", date(2030, 7, 1), None),
    ]
    assert _actions(["1", "5"], {"action_5_description": "Call the tenant"}) == (
        [],
        "Action 2: choose the organisation that owns it.",
    )
    assert _actions(["1"], {"action_1_organisation": "4", "action_1_due": "20/06/2030"}) == (
        [],
        "Action 1: enter the date it is due.",
    )


def _state(generation: int, meeting_id: int, path: str, param: str) -> Any:
    """A state on the page ``path`` (a route pattern), at the address with ``param`` in it."""
    address = path.replace("[meeting_id]", param)
    state = SimpleNamespace(
        _watch_generation=generation,
        meeting_id=meeting_id,
        router=SimpleNamespace(route_id=path, url=SimpleNamespace(path=address)),
    )
    state._route_arg = lambda name: AuthState._route_arg(state, name)  # type: ignore[arg-type]
    return state


def test_a_watcher_stops_when_the_browser_leaves_the_room_or_a_newer_one_starts() -> None:
    watching = MeetingRoomState._watching
    assert watching(_state(2, 7, routes.MEETING_ROOM, "7"), 2, 7)  # type: ignore[arg-type]
    assert watching(_state(2, 7, routes.MEETING_ROOM + "/", "7"), 2, 7)  # type: ignore[arg-type]
    assert not watching(_state(3, 7, routes.MEETING_ROOM, "7"), 2, 7)  # type: ignore[arg-type]
    assert not watching(_state(2, 8, routes.MEETING_ROOM, "8"), 2, 7)  # type: ignore[arg-type]
    assert not watching(_state(2, 7, routes.HOME, ""), 2, 7)  # type: ignore[arg-type]


def test_every_value_of_the_room_has_a_home_in_exactly_one_part(engine: Engine, meeting_world: MeetingWorld) -> None:
    """Each value the room reads is a variable of the part ``ROOM_PARTS`` names (or of the
    room's own state), and no part repeats another's: a value without a home would fail in
    every browser, and one in two parts would redraw both."""
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.chair, world.police.member))
    snapshot = _snapshot(engine, world.chair, held.meeting_id)
    own = set(MeetingRoomState.base_vars)
    for name in snapshot.values:
        part = ROOM_PARTS.get(name, MeetingRoomState)
        assert name in part.base_vars, (name, part.__name__)
        if part is not MeetingRoomState:
            assert name not in own, name  # the part's, not also the room's
    parts = {*ROOM_PARTS.values(), RoomNotesState, RoomItemState}
    assert all(p.get_parent_state() is MeetingRoomState for p in parts)
    homes = [set(p.base_vars) - own for p in parts]
    assert all(not (a & b) for i, a in enumerate(homes) for b in homes[i + 1 :])
    # What _apply sets outside the snapshot's values lives where it says.
    assert {"content", "content_note"} <= set(RoomItemState.base_vars) - own
    assert {"notes", "current_notes"} <= set(RoomNotesState.base_vars) - own
