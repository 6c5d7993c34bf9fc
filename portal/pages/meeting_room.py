"""The live meeting room: the chair opens the meeting; members join from their own browsers
after accepting the confidentiality statement; everyone sees who is present, the item under
discussion, the live quorum check, the chair's notes and the decisions as they are recorded;
members declare interests and record what they told the meeting; the chair records attendance,
keeps the notes and records decisions.

How changes reach every browser within a second, without a reload
-----------------------------------------------------------------
Reflex 0.10 offers ``rx.SharedState``: clients linked to one token share one state and every
change is pushed to all of them.  It is not used here, for three reasons.  (1) Only changes
made through that shared state reach the others, but meetings change through services called
from other pages, the scheduler and the command line too: a second copy of the room in Reflex
state would drift from the database, which is the record.  (2) Most of what the room shows
is not the same for everyone: each organisation sees the item's content as the sharing rules
allow it, a member who declared an interest sees none of it, only the chair sees the decision
form.  Each browser has to read the room again as its own person anyway, so pushing a copy of
the shared part saves nothing.  (3) Any browser may call a public handler on the shared
state, so its contents would need guarding of their own.

Instead each browser's :meth:`MeetingRoomState.watch` is a background task that waits for the
room's version to move (:mod:`portal.room_updates`: one poller per meeting per worker reads
:func:`panels.room_view.room_version` every half second and is nudged at once by changes
made in the same worker), then reads the room again through the services as its own signed-in
person, in a worker thread, and applies it.  With several workers (``REFLEX_REDIS_URL``) the
version still comes from the database, so a change made in one worker reaches browsers
connected to another within the poll interval.  What every participant sees (roster, quorum,
agenda, decision headlines) comes from :func:`panels.room_view.read_room`; the item's content
comes from :func:`panels.packs.meeting_pack`, through the need-to-know chokepoint, and is read
again only when the item, the declarations on it or its decision change; the chair's notes come
from :func:`panels.room_view.read_meeting_notes` (each read recorded) and are read again only
when a note is written or the reader's declarations change.

What the room shows is kept in parts (:class:`RoomRosterState`, :class:`RoomAgendaState`,
:class:`RoomItemState`, :class:`RoomNotesState`, :class:`RoomDecisionsState`), each a state of
its own under :class:`MeetingRoomState`, and only values that changed are set: a browser
re-renders the components bound to a state whenever that state changes, so a decision redraws
the decisions, the agenda and the item's header, not the roster, the notes and the forms.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from panels.decisions import ActionInput, DecisionInput, MeetingNotQuorate, record_decision
from panels.meeting_notes import correct_note, write_note
from panels.meeting_room import (
    close_meeting,
    declare_interest,
    join_meeting,
    log_verbal_disclosure,
    open_meeting,
    record_attendance,
    set_current_item,
)
from panels.panels import list_panels
from panels.room_view import RoomCore, RoomRead, current_item_content, read_meeting_notes, read_room
from portal import routes
from portal.auth_state import AuthState
from portal.components.forms import (
    dialog_buttons,
    dynamic_select_input,
    field_error,
    reset_form,
    select_input,
    text_area,
    text_input,
)
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from portal.room_updates import ROOM_CHANGES, client_connected
from portal.services import run_as
from sharing.errors import DomainError, InvalidInput, SessionExpired
from sharing.permissions import Actor, Permission
from sharing.vocabulary import BASIS_LABELS, CATEGORY_LABELS, DataCategory, LawfulBasis

T = TypeVar("T")

# A watcher with nothing to do still wakes this often, to notice a closed tab.
HEARTBEAT_SECONDS = 5.0

STATUS_LABELS = {"scheduled": "Not started", "open": "In progress", "closed": "Closed", "cancelled": "Cancelled"}
CATEGORY_OPTIONS = [(str(c), label[:1].upper() + label[1:]) for c, label in CATEGORY_LABELS.items()]
BASIS_OPTIONS = [(str(b), label[:1].upper() + label[1:]) for b, label in BASIS_LABELS.items()]
SHARE_LABELS = {"approved": "shared", "awaiting_approval": "waiting for approval", "emergency": "shared (emergency)"}


# --- Reading the room (plain values, so a worker thread can build them) -----------------------


@dataclass
class RoomSnapshot:
    """The room as one participant sees it, as display values."""

    version: str
    values: dict[str, Any]
    content_key: str
    content: list[dict[str, str]] | None = None  # None: the content did not need reading again
    content_note: str = ""
    escalation_panels: list[dict[str, str]] = field(default_factory=list)
    notes_key: str = ""
    notes: list[dict[str, str]] | None = None  # None: the notes did not need reading again


def _quorum_text(core: RoomCore) -> str:
    explanation = core.quorum.explanation
    detail = explanation.split(": ", 1)[1] if ": " in explanation else explanation
    return ("Quorate: " if core.quorum.met else "Not quorate: ") + detail


def _content_key(room: RoomRead) -> str:
    """What the item's content, as this participant sees it, depends on."""
    return f"{room.core.current_agenda_item_id}|{bool(room.agenda)}|{room.actor_conflicted}|{room.core.status}"


def _content(session: Session, actor: Actor, room: RoomRead) -> tuple[list[dict[str, str]], str]:
    """The item under discussion as the actor's organisation may see it."""
    if room.core.current_agenda_item_id is None or not room.agenda:
        return [], ""
    if room.actor_conflicted:
        return [], ""  # the page says why
    if not actor.can(Permission.SHARING_ITEMS_READ):
        return [], "Your account cannot read case information."
    content = current_item_content(session=session, actor=actor, meeting_id=room.core.meeting_id)
    rows: list[dict[str, str]] = []
    for view in content.items:
        rows.append({"kind": "item", "text": f"{view.title} ({view.owner_organisation}, {view.marking})"})
        rows.extend(
            {"kind": "field", "label": f.label, "value": f.value, "withheld": "yes" if f.withheld else ""}
            for f in view.fields
        )
    return rows, content.note


def _notes_key(room: RoomRead) -> str:
    """What the chair's notes, as this participant is given them, depend on."""
    return f"{room.core.note_count}|{room.actor_declared_item_ids}|{len(room.agenda)}"


WITHHELD_NOTES = "You declared an interest in this item, so its notes are not shown to you."


def _note_rows(session: Session, actor: Actor, room: RoomRead) -> list[dict[str, str]]:
    """The chair's notes as the actor is given them, as rows: a heading per item (the meeting
    as a whole first), then its notes, or a line saying they are withheld."""
    if not room.agenda or not actor.can(Permission.SHARING_ITEMS_READ):
        return []
    given = read_meeting_notes(session=session, actor=actor, meeting_id=room.core.meeting_id)
    by_item: dict[int | None, list[dict[str, str]]] = {}
    for note in given.notes:
        by_item.setdefault(note.agenda_item_id, []).append(
            {
                "kind": "note",
                "item_id": str(note.agenda_item_id or ""),
                "id": str(note.id),
                "text": note.text,
                "by": note.written_by,
                "when": local_time(note.written_at),
                "corrected": "yes" if note.corrected else "",
                "earlier": " · ".join(note.earlier),
            }
        )
    groups: list[tuple[int | None, str]] = [(None, "About the meeting")]
    groups += [
        (a.id, f"Item {a.position}: case {a.case_reference}") for a in sorted(room.agenda, key=lambda a: a.position)
    ]
    rows: list[dict[str, str]] = []
    for item_id, heading in groups:
        withheld = item_id is not None and item_id in given.withheld_item_ids
        if not withheld and item_id not in by_item:
            continue
        rows.append({"kind": "heading", "item_id": str(item_id or ""), "text": heading})
        if withheld:
            rows.append({"kind": "withheld", "item_id": str(item_id), "text": WITHHELD_NOTES})
        else:
            rows += by_item[item_id]
    return rows


def read_snapshot(
    session: Session,
    actor: Actor,
    meeting_id: int,
    content_key: str | None,
    core: RoomCore | None = None,
    notes_key: str | None = None,
) -> RoomSnapshot:
    """The room as the actor sees it, from ``core`` when the room was already read for
    everyone (else afresh); the item's content is read again only when ``content_key`` is out
    of date, and the chair's notes only when ``notes_key`` is."""
    room = read_room(session=session, actor=actor, meeting_id=meeting_id, core=core)
    core = room.core
    current = next((a for a in room.agenda if a.id == core.current_agenda_item_id), None)
    conflicted = set(core.current_conflicted_user_ids)
    decided = {d.agenda_item_id for d in core.decisions}
    members = {i for i, _ in core.organisations}
    values: dict[str, Any] = {
        "panel_name": core.panel_name,
        "when": core.when,
        "where": " · ".join(p for p in (core.venue, core.video_link) if p),
        "status": core.status,
        "status_label": STATUS_LABELS.get(core.status, core.status),
        "statement": core.confidentiality_statement,
        "is_chair": room.actor_is_chair,
        "joined": room.actor_joined,
        "quorate": core.quorum.met,
        "quorum_text": _quorum_text(core),
        "present_organisations": ", ".join(core.quorum.organisations_present),
        "roster": [
            {
                "user_id": str(e.user_id),
                "name": e.name,
                "organisation": e.organisation,
                "role": e.role,
                "status": e.status,
                "status_label": e.status_label,
                "conflicted": "yes" if e.user_id in conflicted else "",
            }
            for e in core.roster
        ],
        "agenda": [
            {
                "id": str(a.id),
                "position": str(a.position),
                "reference": a.case_reference,
                "source": a.source_label,
                "current": "yes" if a.current else "",
                "decided": "yes" if a.id in decided else "",
                "conflicted": ", ".join(a.conflicted),
            }
            for a in room.agenda
        ],
        "agenda_note": ""
        if room.agenda
        else "The agenda has not been published yet; it appears here when the chair publishes it.",
        "current": {
            "id": str(current.id),
            "title": f"Item {current.position}: case {current.case_reference}",
            "source": current.source_label,
            "decided": "yes" if current.id in decided else "",
        }
        if current
        else {},
        "i_am_conflicted": room.actor_conflicted,
        "decisions": [
            {
                "headline": f"Item {d.position}, case {d.case_reference}: {d.label}",
                "when": local_time(d.recorded_at),
                "excluded": ", ".join(d.excluded),
            }
            for d in core.decisions
        ],
        "decision_options": [{"value": o.key, "label": o.label} for o in core.decision_options],
        "organisations": [{"value": str(i), "label": name} for i, name in core.organisations],
        "people": [
            {"value": str(e.user_id), "label": f"{e.name} ({e.organisation})"}
            for e in core.roster
            if e.organisation_id in members
        ],
    }
    key = _content_key(room)
    snapshot = RoomSnapshot(version=core.version, values=values, content_key=key)
    if key != content_key:
        snapshot.content, snapshot.content_note = _content(session, actor, room)
    snapshot.notes_key = _notes_key(room)
    if snapshot.notes_key != notes_key:
        snapshot.notes = _note_rows(session, actor, room)
    if room.actor_is_chair and content_key is None:
        snapshot.escalation_panels = [
            {"value": str(p.id), "label": p.name}
            for p in list_panels(session=session, actor=actor)
            if p.id != core.panel_id
        ]
    return snapshot


def _read_as(
    cookie: str, ip: str | None, meeting_id: int, keys: tuple[str, str], core: RoomCore | None
) -> RoomSnapshot:
    """Read the room as the person signed in with ``cookie`` (in a worker thread); ``keys``
    are the content and notes keys the browser has."""
    return run_as(cookie, ip, lambda session, actor: read_snapshot(session, actor, meeting_id, keys[0], core, keys[1]))


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class MeetingRoomState(AuthState):
    meeting_id: int = 0
    not_found: str = ""
    panel_name: str = ""
    when: str = ""
    where: str = ""
    status: str = ""
    status_label: str = ""
    statement: str = ""
    is_chair: bool = False
    joined: bool = False
    decision_options: list[dict[str, str]] = []
    organisations: list[dict[str, str]] = []
    people: list[dict[str, str]] = []
    escalation_panels: list[dict[str, str]] = []
    action_rows: list[str] = ["1"]
    decision_errors: dict[str, str] = {}
    decision_refusal: str = ""
    join_open: bool = False
    join_error: str = ""
    declare_open: bool = False
    declare_error: str = ""
    can_share_verbally: bool = False
    verbal_open: bool = False
    verbal_errors: dict[str, str] = {}
    verbal_outcome: list[str] = []
    note_error: str = ""
    general_note_error: str = ""
    correct_open: bool = False
    correct_error: str = ""
    correcting_id: str = ""
    correcting_text: str = ""
    _version: str = ""
    _current_id: str = ""  # the item under discussion, for the handlers
    _content_key: str = ""
    _notes_key: str = ""
    _watch_generation: int = 0

    # --- reading ------------------------------------------------------------------------

    async def _apply(self, snapshot: RoomSnapshot) -> None:
        """Set what changed, each value in the part of the room that shows it (see
        :data:`ROOM_PARTS`): a browser re-renders only the parts whose values changed."""
        parts: dict[type[MeetingRoomState], MeetingRoomState] = {}
        for name, value in snapshot.values.items():
            part = ROOM_PARTS.get(name, MeetingRoomState)
            if part not in parts:
                parts[part] = self if part is MeetingRoomState else await self.get_state(part)
            if getattr(parts[part], name) != value:  # only what changed goes to the browser
                setattr(parts[part], name, value)
        self._current_id = snapshot.values.get("current", {}).get("id", "")
        if snapshot.content is not None:
            item = await self.get_state(RoomItemState)
            item.content = snapshot.content
            item.content_note = snapshot.content_note
            self._content_key = snapshot.content_key
        if snapshot.escalation_panels:
            self.escalation_panels = snapshot.escalation_panels
        notes = await self.get_state(RoomNotesState)
        if snapshot.notes is not None:
            notes.notes = snapshot.notes
            self._notes_key = snapshot.notes_key
        current = [
            n for n in notes.notes if n["kind"] == "note" and self._current_id and n["item_id"] == self._current_id
        ]
        if notes.current_notes != current:
            notes.current_notes = current
        self._version = snapshot.version

    def _set(self, **values: Any) -> None:
        """Set these of the room's own variables, leaving alone (and so not sending again)
        those that already hold the value."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _act(self, action: Callable[[Session, Actor], T]) -> tuple[T, RoomSnapshot]:
        """Run one service call and read the room after it, in one transaction; then tell the
        other browsers in the room."""
        meeting_id, key, notes_key = self.meeting_id, self._content_key, self._notes_key

        def _both(session: Session, actor: Actor) -> tuple[T, RoomSnapshot]:
            result = action(session, actor)
            session.flush()
            return result, read_snapshot(session, actor, meeting_id, key, notes_key=notes_key)

        result, snapshot = self._run(_both)
        ROOM_CHANGES.nudge(meeting_id)
        await self._apply(snapshot)
        return result, snapshot

    @rx.event
    async def load(self) -> Any:
        raw = self._route_arg("meeting_id")
        self.not_found = ""
        if not raw.isdigit():
            self.not_found = "There is no such meeting."
            return self.require_sign_in()
        if int(raw) != self.meeting_id:
            self.meeting_id = int(raw)
            item, notes = await self.get_state(RoomItemState), await self.get_state(RoomNotesState)
            item.content, item.content_note = [], ""
            notes.notes, self._notes_key = [], ""
            self.action_rows = ["1"]
        self._set(decision_errors={}, decision_refusal="", verbal_outcome=[])
        self.note_error, self.general_note_error, self.correct_open = "", "", False
        meeting_id = self.meeting_id
        snapshot: list[RoomSnapshot] = []

        def _read(session: Session, actor: Actor) -> Actor:
            snapshot.append(read_snapshot(session, actor, meeting_id, None))  # everything afresh
            return actor

        try:
            actor = self._run(_read)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            self.not_found = error.message
            return self.require_sign_in()
        await self._apply(snapshot[0])
        self._show(actor)
        self.can_share_verbally = actor.can(Permission.PANELS_MEETINGS_SHARE_VERBALLY)
        return MeetingRoomState.watch

    @rx.event(background=True)
    async def watch(self) -> AsyncIterator[Any]:
        """Keep this browser's room up to date until it leaves the page or closes."""
        async with self:
            self._watch_generation += 1
            generation = self._watch_generation
            meeting_id, seen, keys = self.meeting_id, self._version, (self._content_key, self._notes_key)
            cookie, ip = self.router.headers.cookie, self._client_ip()
            token = self.router.session.client_token
        while True:
            change = await ROOM_CHANGES.wait_for_change(meeting_id, seen, timeout=HEARTBEAT_SECONDS)
            if not await client_connected(token):
                return
            if change is None:  # nothing new: is this browser still in the room?
                async with self:
                    if not self._watching(generation, meeting_id):
                        return
                    seen, keys = self._version, (self._content_key, self._notes_key)
                continue
            try:
                snapshot = await asyncio.to_thread(_read_as, cookie, ip, meeting_id, keys, change.state)
            except SessionExpired as error:
                async with self:
                    leave = self._to_sign_in(error.message)
                yield leave
                return
            except DomainError as error:  # e.g. their organisation no longer sits on the panel
                async with self:
                    self.not_found = error.message
                return
            async with self:
                if not self._watching(generation, meeting_id):
                    return
                await self._apply(snapshot)
                seen, keys = self._version, (self._content_key, self._notes_key)

    def _watching(self, generation: int, meeting_id: int) -> bool:
        """Whether this watcher is still wanted: no newer one started (a reload), and the
        browser is still on this meeting's room (every page's on_load updates the router)."""
        return (
            self._watch_generation == generation
            and self.meeting_id == meeting_id
            and self.router.route_id.strip("/") == routes.MEETING_ROOM.strip("/")
            and self._route_arg("meeting_id") == str(meeting_id)
        )

    # --- the chair's and members' actions -------------------------------------------------------

    async def _do(self, action: Callable[[Session, Actor], Any]) -> Any:
        # No success toasts: the room itself shows every change, to everyone.
        try:
            await self._act(action)
        except DomainError as error:
            return self._handle(error)
        return None

    @rx.event
    async def open_meeting(self) -> Any:
        meeting_id = self.meeting_id
        return await self._do(lambda session, actor: open_meeting(session=session, actor=actor, meeting_id=meeting_id))

    @rx.event
    async def close_meeting(self) -> Any:
        meeting_id = self.meeting_id
        return await self._do(lambda session, actor: close_meeting(session=session, actor=actor, meeting_id=meeting_id))

    @rx.event
    def set_join_open(self, value: bool) -> None:
        self.join_open = value
        self.join_error = ""

    @rx.event
    async def join(self, form_data: dict[str, Any]) -> Any:
        self.join_error = ""
        meeting_id, accepted = self.meeting_id, form_data.get("accept") == "on"
        try:
            await self._act(
                lambda session, actor: join_meeting(
                    session=session, actor=actor, meeting_id=meeting_id, accept_confidentiality=accepted
                )
            )
        except InvalidInput as error:
            self.join_error = error.field_errors.get("accept_confidentiality", error.message)
            return None
        except DomainError as error:
            return self._handle(error)
        self.join_open = False
        return None

    @rx.event
    async def mark(self, user_id: str, status: str) -> Any:
        meeting_id = self.meeting_id
        return await self._do(
            lambda session, actor: record_attendance(
                session=session, actor=actor, meeting_id=meeting_id, user_id=int(user_id), status=status
            )
        )

    @rx.event
    async def discuss(self, agenda_item_id: str) -> Any:
        meeting_id = self.meeting_id
        self._set(decision_errors={}, decision_refusal="", verbal_outcome=[])
        return await self._do(
            lambda session, actor: set_current_item(
                session=session, actor=actor, meeting_id=meeting_id, agenda_item_id=int(agenda_item_id)
            )
        )

    @rx.event
    def set_declare_open(self, value: bool) -> None:
        self.declare_open = value
        self.declare_error = ""

    @rx.event
    async def declare(self, form_data: dict[str, Any]) -> Any:
        self.declare_error = ""
        if not self._current_id:
            return rx.toast.error("No item is under discussion.")
        item_id, reason = int(self._current_id), str(form_data.get("reason", ""))
        try:
            await self._act(
                lambda session, actor: declare_interest(
                    session=session, actor=actor, agenda_item_id=item_id, reason=reason
                )
            )
        except InvalidInput as error:
            self.declare_error = error.field_errors.get("reason", error.message)
            return None
        except DomainError as error:
            return self._handle(error)
        self.declare_open = False
        return None

    @rx.event
    def add_action_row(self) -> None:
        self.action_rows = [
            *self.action_rows,
            str(max(int(n) for n in self.action_rows) + 1 if self.action_rows else 1),
        ]

    @rx.event
    def remove_action_row(self, number: str) -> None:
        self.action_rows = [n for n in self.action_rows if n != number]

    def _actions(self, form_data: dict[str, Any]) -> tuple[list[ActionInput], str]:
        actions: list[ActionInput] = []
        for shown, number in enumerate(self.action_rows, start=1):
            values = {
                part: str(form_data.get(f"action_{number}_{part}", "")).strip()
                for part in ("organisation", "owner", "due", "description")
            }
            if not any(values.values()):
                continue
            if not values["organisation"].isdigit():
                return [], f"Action {shown}: choose the organisation that owns it."
            due = _parse_date(values["due"])
            if due is None:
                return [], f"Action {shown}: enter the date it is due."
            actions.append(
                ActionInput(
                    owner_organisation_id=int(values["organisation"]),
                    description=values["description"],
                    due_on=due,
                    owner_user_id=int(values["owner"]) if values["owner"].isdigit() else None,
                )
            )
        return actions, ""

    @rx.event
    async def record_decision(self, form_data: dict[str, Any]) -> Any:
        self._set(decision_errors={}, decision_refusal="")
        if not self._current_id:
            self.decision_refusal = "Choose the item under discussion first."
            return None
        errors: dict[str, str] = {}
        review_raw = str(form_data.get("review_on", ""))
        review_on = _parse_date(review_raw)
        if review_raw and review_on is None:
            errors["review_on"] = "Enter the date as day, month and year."
        actions, problem = self._actions(form_data)
        if problem:
            errors["actions"] = problem
        if errors:
            self.decision_errors = errors
            return None
        escalate = str(form_data.get("escalate_to_panel_id", ""))
        data = DecisionInput(
            decision_type=str(form_data.get("decision_type", "")),
            rationale=str(form_data.get("rationale", "")),
            conditions=str(form_data.get("conditions", "")),
            dissent=str(form_data.get("dissent", "")),
            review_on=review_on,
            escalate_to_panel_id=int(escalate) if escalate.isdigit() else None,
            actions=actions,
        )
        item_id = int(self._current_id)
        try:
            await self._act(
                lambda session, actor: record_decision(session=session, actor=actor, agenda_item_id=item_id, data=data)
            )
        except MeetingNotQuorate as refused:
            self.decision_refusal = refused.message
            return None
        except InvalidInput as error:
            self.decision_errors = error.field_errors
            if "meeting" in error.field_errors:
                self.decision_refusal = error.field_errors["meeting"]
            return None
        except SessionExpired as error:
            return self._handle(error)
        except DomainError as error:  # e.g. a chair who declared an interest in the item
            self.decision_refusal = error.message
            return None
        self._set(action_rows=["1"])
        return reset_form("decision-form")

    @rx.event
    def set_verbal_open(self, value: bool) -> None:
        self.verbal_open = value
        self.verbal_errors = {}

    @rx.event
    async def log_verbal(self, form_data: dict[str, Any]) -> Any:
        self._set(verbal_errors={}, verbal_outcome=[])
        if not self._current_id:
            return rx.toast.error("No item is under discussion.")
        category, basis = str(form_data.get("category", "")), str(form_data.get("basis", ""))
        errors: dict[str, str] = {}
        if category not in {c for c, _ in CATEGORY_OPTIONS}:
            errors["category"] = "Choose what kind of information it was."
        if basis not in {b for b, _ in BASIS_OPTIONS}:
            errors["basis"] = "Choose the lawful basis for sharing it."
        if errors:
            self.verbal_errors = errors
            return None
        item_id = int(self._current_id)
        said, justification = str(form_data.get("what_was_said", "")), str(form_data.get("justification", ""))
        try:
            outcomes, _ = await self._act(
                lambda session, actor: log_verbal_disclosure(
                    session=session, actor=actor, agenda_item_id=item_id, what_was_said=said,
                    category=DataCategory(category), basis=LawfulBasis(basis), justification=justification,
                )
            )  # fmt: skip
        except InvalidInput as error:
            self.verbal_errors = error.field_errors
            return None
        except DomainError as error:
            return self._handle(error)
        self.verbal_open = False
        self.verbal_outcome = [
            f"{o.organisation}: {SHARE_LABELS.get(o.status, o.status)}"
            if o.disclosure_id is not None
            else f"{o.organisation}: not shared. {o.refusal}"
            for o in outcomes
        ] or ["Nobody from another organisation is present, so nothing was shared."]
        return None

    # --- the chair's notes --------------------------------------------------------------------

    async def _write_note(self, agenda_item_id: int | None, text: str) -> str:
        """Write a note; the problem with its text, if any ("" when written)."""
        meeting_id = self.meeting_id
        try:
            await self._act(
                lambda session, actor: write_note(
                    session=session, actor=actor, meeting_id=meeting_id, agenda_item_id=agenda_item_id, text=text
                )
            )
        except InvalidInput as error:
            return error.field_errors.get("text", error.message)
        return ""

    @rx.event
    async def add_note(self, form_data: dict[str, Any]) -> Any:
        """A note about the item under discussion.  On a problem the text stays in the form."""
        self._set(note_error="")
        if not self._current_id:
            return rx.toast.error("No item is under discussion.")
        try:
            self._set(note_error=await self._write_note(int(self._current_id), str(form_data.get("note_text", ""))))
        except DomainError as error:
            return self._handle(error)
        return None if self.note_error else reset_form("note-form")

    @rx.event
    async def add_general_note(self, form_data: dict[str, Any]) -> Any:
        """A note about the meeting as a whole."""
        self._set(general_note_error="")
        try:
            self._set(general_note_error=await self._write_note(None, str(form_data.get("general_note", ""))))
        except DomainError as error:
            return self._handle(error)
        return None if self.general_note_error else reset_form("general-note-form")

    @rx.event
    def start_correction(self, note_id: str, text: str) -> None:
        self.correcting_id, self.correcting_text = note_id, text
        self.correct_error = ""
        self.correct_open = True

    @rx.event
    def set_correct_open(self, value: bool) -> None:
        self.correct_open = value
        self.correct_error = ""

    @rx.event
    async def correct(self, form_data: dict[str, Any]) -> Any:
        self.correct_error = ""
        if not self.correcting_id.isdigit():
            return None
        note_id, text = int(self.correcting_id), str(form_data.get("correction", ""))
        try:
            await self._act(
                lambda session, actor: correct_note(session=session, actor=actor, note_id=note_id, text=text)
            )
        except InvalidInput as error:
            self.correct_error = error.field_errors.get("text", error.message)
            return None
        except DomainError as error:
            return self._handle(error)
        self.correct_open = False
        return None


# The parts of the room, each a state of its own so that a change re-renders only the part
# that shows it: Reflex re-renders every component bound to a state whenever any of that
# state's variables changes, and a decision should not redraw the roster, the notes and the
# decision form in thirty browsers.  Everything else (the meeting itself, the chair's forms
# and dialogs) stays on MeetingRoomState, whose handlers update these parts.


class RoomRosterState(MeetingRoomState):
    """Who is here and the quorum."""

    roster: list[dict[str, str]] = []
    quorate: bool = False
    quorum_text: str = ""
    present_organisations: str = ""


class RoomAgendaState(MeetingRoomState):
    agenda: list[dict[str, str]] = []
    agenda_note: str = ""


class RoomItemState(MeetingRoomState):
    """The item under discussion and its content as this participant may see it."""

    current: dict[str, str] = {}
    i_am_conflicted: bool = False
    content: list[dict[str, str]] = []
    content_note: str = ""


class RoomNotesState(MeetingRoomState):
    """The chair's notes this participant is given, and those on the item under discussion."""

    notes: list[dict[str, str]] = []
    current_notes: list[dict[str, str]] = []


class RoomDecisionsState(MeetingRoomState):
    decisions: list[dict[str, str]] = []


# Which part shows each of the snapshot's values (the rest are MeetingRoomState's own).
ROOM_PARTS: dict[str, type[MeetingRoomState]] = {
    **dict.fromkeys(("roster", "quorate", "quorum_text", "present_organisations"), RoomRosterState),
    **dict.fromkeys(("agenda", "agenda_note"), RoomAgendaState),
    **dict.fromkeys(("current", "i_am_conflicted"), RoomItemState),
    "decisions": RoomDecisionsState,
}


# --- The page -------------------------------------------------------------------------------------


def _section(title: str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def _status_bar() -> rx.Component:
    S = MeetingRoomState
    return rx.hstack(
        rx.badge(S.status_label, size="2", variant="surface", high_contrast=True, id="meeting-status"),
        rx.text(S.panel_name, " · ", S.when, weight="medium"),
        rx.cond(S.where != "", rx.text(S.where, size="2", color_scheme="gray")),
        rx.spacer(),
        rx.cond(
            S.is_chair & (S.status == "scheduled"),
            rx.button("Open the meeting", on_click=S.open_meeting),
        ),
        rx.cond(
            (S.status == "open") & ~S.joined,
            rx.button("Join the meeting", on_click=S.set_join_open(True)),
        ),
        rx.cond(
            S.is_chair & (S.status == "open"),
            rx.button("Close the meeting", variant="soft", color_scheme="gray", on_click=S.close_meeting),
        ),
        align="center",
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _quorum() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text(RoomRosterState.quorum_text, weight="bold"),
            rx.cond(
                RoomRosterState.present_organisations != "",
                rx.text("Organisations present: ", RoomRosterState.present_organisations, size="2"),
            ),
            spacing="1",
        ),
        icon=rx.cond(RoomRosterState.quorate, "circle-check", "triangle-alert"),  # type: ignore[arg-type]
        color_scheme=rx.cond(RoomRosterState.quorate, "green", "orange"),  # type: ignore[arg-type]
        high_contrast=True,
        role="status",
        id="quorum",
        width="100%",
    )


def _attendance_buttons(entry: Any) -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                label,
                size="1",
                variant=rx.cond(entry["status"] == status, "solid", "soft"),  # type: ignore[arg-type]
                color_scheme="gray",
                high_contrast=True,
                aria_label=label + ": " + entry["name"],
                aria_pressed=rx.cond(entry["status"] == status, "true", "false"),
                on_click=MeetingRoomState.mark(entry["user_id"], status),
            )
            for status, label in (("present", "Present"), ("apologies", "Apologies"), ("absent", "Absent"))
        ],
        spacing="1",
    )


def _roster() -> rx.Component:
    S = MeetingRoomState
    return _section(
        "Who is here",
        rx.el.ul(
            rx.foreach(
                RoomRosterState.roster,
                lambda e: rx.el.li(
                    rx.hstack(
                        rx.vstack(
                            rx.hstack(
                                rx.text(e["name"], weight="medium"),
                                rx.cond(e["role"] != "", rx.badge(e["role"], variant="soft", high_contrast=True)),
                                rx.cond(
                                    e["conflicted"] != "",
                                    rx.badge("Interest declared", color_scheme="orange", high_contrast=True),
                                ),
                                spacing="2",
                                align="center",
                                wrap="wrap",
                            ),
                            rx.text(e["organisation"], size="2", color_scheme="gray", high_contrast=True),
                            spacing="0",
                        ),
                        rx.spacer(),
                        rx.badge(
                            e["status_label"],
                            color_scheme=rx.cond(e["status"] == "present", "green", "gray"),  # type: ignore[arg-type]
                            high_contrast=True,
                        ),
                        rx.cond(S.is_chair & (S.status != "scheduled"), _attendance_buttons(e)),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                        width="100%",
                    ),
                    class_name="room-row",
                ),
            ),
            aria_label="People at the meeting",
            id="presence",
            class_name="room-list",
        ),
    )


def _agenda() -> rx.Component:
    S = MeetingRoomState
    return _section(
        "Agenda",
        rx.cond(RoomAgendaState.agenda_note != "", rx.text(RoomAgendaState.agenda_note, size="2")),
        rx.el.ol(
            rx.foreach(
                RoomAgendaState.agenda,
                lambda a: rx.el.li(
                    rx.hstack(
                        rx.vstack(
                            rx.text(a["position"], ". Case ", a["reference"], weight="medium"),
                            rx.text(a["source"], size="2", color_scheme="gray", high_contrast=True),
                            rx.cond(
                                a["conflicted"] != "",
                                rx.text("Interest declared: ", a["conflicted"], size="2"),
                            ),
                            spacing="0",
                        ),
                        rx.spacer(),
                        rx.cond(a["current"] == "yes", rx.badge("Now discussing", high_contrast=True)),
                        rx.cond(a["decided"] == "yes", rx.badge("Decided", color_scheme="green", high_contrast=True)),
                        rx.cond(
                            S.is_chair & (S.status == "open") & (a["current"] != "yes"),
                            rx.button(
                                "Discuss now",
                                size="1",
                                variant="soft",
                                aria_label="Discuss now: item " + a["position"],
                                on_click=S.discuss(a["id"]),
                            ),
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                        width="100%",
                    ),
                    class_name="room-row",
                ),
            ),
            class_name="room-list",
            aria_label="Agenda items",
        ),
    )


def _item_content() -> rx.Component:
    return rx.cond(
        RoomItemState.i_am_conflicted,
        rx.callout(
            "You declared an interest in this item, so its content is not shown to you and you take no part "
            "in its decision.",
            icon="eye-off",
            color_scheme="orange",
            high_contrast=True,
            id="conflicted-notice",
        ),
        rx.vstack(
            rx.cond(RoomItemState.content_note != "", rx.text(RoomItemState.content_note, size="2")),
            rx.foreach(
                RoomItemState.content,
                lambda row: rx.cond(
                    row["kind"] == "item",
                    rx.heading(row["text"], size="3", as_="h3"),
                    rx.hstack(
                        rx.text(row["label"], ":", weight="medium", size="2"),
                        rx.cond(
                            row["withheld"] == "yes",
                            rx.text(row["value"], size="2", style={"font_style": "italic"}),
                            rx.text(row["value"], size="2"),
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                ),
            ),
            spacing="2",
            width="100%",
            id="item-content",
        ),
    )


def _action_row(number: Any, index: Any) -> rx.Component:
    """One action: named by ``number`` (stable while rows come and go), labelled by position."""
    S = MeetingRoomState
    prefix = "action-" + number + "-"
    name = "action_" + number + "_"
    shown = (index + 1).to_string()

    def labelled(label: str, part: str, control: rx.Component) -> rx.Component:
        return rx.vstack(
            rx.el.label(label, " (action ", shown, ")", html_for=prefix + part, class_name="field-label"),
            control,
            spacing="1",
            width="100%",
        )

    return rx.el.li(
        rx.grid(
            labelled(
                "Owner organisation",
                "organisation",
                rx.el.select(
                    rx.el.option("Choose…", value=""),
                    rx.foreach(S.organisations, lambda o: rx.el.option(o["label"], value=o["value"])),
                    id=prefix + "organisation",
                    name=name + "organisation",
                    class_name="field-input",
                ),
            ),
            labelled(
                "Owner person",
                "owner",
                rx.el.select(
                    rx.el.option("Not named yet", value=""),
                    rx.foreach(S.people, lambda p: rx.el.option(p["label"], value=p["value"])),
                    id=prefix + "owner",
                    name=name + "owner",
                    class_name="field-input",
                ),
            ),
            labelled(
                "Due",
                "due",
                rx.el.input(type="date", id=prefix + "due", name=name + "due", class_name="field-input"),
            ),
            labelled(
                "What is to be done",
                "description",
                rx.el.input(id=prefix + "description", name=name + "description", class_name="field-input"),
            ),
            columns=rx.breakpoints(initial="1", md="4"),
            spacing="3",
            width="100%",
        ),
        rx.button(
            "Remove",
            type="button",
            size="1",
            variant="ghost",
            color_scheme="gray",
            aria_label="Remove action " + shown,
            on_click=S.remove_action_row(number),
        ),
        class_name="room-row",
        key=number,  # by row, not position: removing a row keeps what was typed in the others
    )


def _decision_form() -> rx.Component:
    S = MeetingRoomState
    errors = S.decision_errors
    return rx.form(
        rx.vstack(
            rx.heading("Record the decision", size="3", as_="h3"),
            rx.cond(
                S.decision_refusal != "",
                rx.callout(
                    S.decision_refusal,
                    icon="ban",
                    color_scheme="red",
                    high_contrast=True,
                    role="alert",
                    id="decision-refusal",
                    width="100%",
                ),
            ),
            dynamic_select_input(
                "Decision", "decision_type", S.decision_options, error=errors.get("decision_type", "")
            ),
            text_area("Reasons", "rationale", error=errors.get("rationale", ""), rows=3),
            rx.grid(
                text_area(
                    "Conditions",
                    "conditions",
                    error=errors.get("conditions", ""),
                    hint="Needed for some decisions.",
                    rows=3,
                ),
                text_area(
                    "Dissent",
                    "dissent",
                    error=errors.get("dissent", ""),
                    hint="Who disagreed, and why (optional).",
                    rows=3,
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            rx.grid(
                text_input(
                    "Review by",
                    "review_on",
                    type="date",
                    error=errors.get("review_on", ""),
                    hint="When the panel keeps the case under review.",
                ),
                dynamic_select_input(
                    "Escalate to",
                    "escalate_to_panel_id",
                    S.escalation_panels,
                    error=errors.get("escalate_to_panel_id", ""),
                    placeholder="Not escalated",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            rx.el.fieldset(
                rx.el.legend("Actions agreed", class_name="field-label"),
                rx.el.ol(rx.foreach(S.action_rows, _action_row), class_name="room-list"),
                rx.cond(
                    errors.get("actions", "") != "",
                    rx.text(errors.get("actions", ""), color_scheme="red", size="2", role="alert"),
                ),
                rx.button("Add an action", type="button", variant="soft", size="2", on_click=S.add_action_row),
                class_name="fieldset",
                width="100%",
            ),
            rx.button("Record the decision", type="submit"),
            spacing="3",
            align="start",
            width="100%",
        ),
        on_submit=S.record_decision,
        no_validate=True,
        id="decision-form",
        width="100%",
    )


def _current_item() -> rx.Component:
    S = MeetingRoomState
    return rx.card(
        rx.vstack(
            rx.cond(
                RoomItemState.current.contains("id"),  # type: ignore[attr-defined]
                rx.vstack(
                    rx.hstack(
                        rx.heading("Now discussing: ", RoomItemState.current["title"], size="4", as_="h2"),
                        rx.badge(RoomItemState.current["source"], variant="soft", high_contrast=True),
                        rx.cond(
                            RoomItemState.current["decided"] == "yes",
                            rx.badge("Decided", color_scheme="green", high_contrast=True),
                        ),
                        align="center",
                        spacing="2",
                        wrap="wrap",
                        id="current-item",
                    ),
                    _item_content(),
                    rx.hstack(
                        rx.cond(
                            (S.status == "open") & ~RoomItemState.i_am_conflicted,
                            rx.button(
                                "Declare an interest",
                                variant="soft",
                                color_scheme="orange",
                                on_click=S.set_declare_open(True),
                            ),
                        ),
                        rx.cond(
                            (S.status == "open") & S.joined & S.can_share_verbally & ~RoomItemState.i_am_conflicted,
                            rx.button(
                                "Record what I told the meeting", variant="soft", on_click=S.set_verbal_open(True)
                            ),
                        ),
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.cond(
                        S.verbal_outcome.length() > 0,  # type: ignore[attr-defined]
                        rx.callout(
                            rx.vstack(
                                rx.text("What you said was recorded as a disclosure to each organisation present:"),
                                rx.foreach(S.verbal_outcome, lambda line: rx.text(line, size="2")),
                                spacing="1",
                            ),
                            icon="info",
                            color_scheme="blue",
                            high_contrast=True,
                            role="status",
                            width="100%",
                        ),
                    ),
                    _current_notes(),
                    rx.cond(
                        S.is_chair & (S.status == "open") & (RoomItemState.current["decided"] != "yes"),
                        _decision_form(),
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.vstack(
                    rx.heading("Now discussing", size="4", as_="h2", id="current-item"),
                    rx.text(
                        rx.cond(
                            S.is_chair,
                            "Choose an item on the agenda to discuss.",
                            "Nothing yet. The item appears here when the chair moves to it.",
                        ),
                        size="2",
                    ),
                    spacing="2",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def _note_row(note: Any) -> rx.Component:
    return rx.el.li(_note(note, correctable=True), class_name="room-row")


def _note(note: Any, *, correctable: Any) -> rx.Component:
    """A note: its words, who wrote it and when, and any earlier wording; the chair corrects
    it where ``correctable`` (an item's notes on the item's card, general ones in the list)."""
    S = MeetingRoomState
    return rx.vstack(
        rx.text(note["text"], size="2"),
        rx.hstack(
            rx.text(note["by"], ", ", note["when"], size="1", color_scheme="gray", high_contrast=True),
            rx.cond(note["corrected"] == "yes", rx.badge("Corrected", variant="soft", high_contrast=True)),
            rx.cond(
                S.is_chair & (S.status == "open") & correctable,
                rx.button(
                    "Correct",
                    size="1",
                    variant="ghost",
                    aria_label="Correct the note: " + note["text"],
                    on_click=S.start_correction(note["id"], note["text"]),
                ),
            ),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            note["earlier"] != "",
            rx.text("Earlier wording: ", note["earlier"], size="1", color_scheme="gray", high_contrast=True),
        ),
        spacing="1",
    )


def _note_form(form_id: str, name: str, label: str, error: Any, on_submit: Any) -> rx.Component:
    return rx.form(
        rx.vstack(
            text_area(label, name, error=error, rows=2),
            rx.button("Add the note", type="submit", variant="soft"),
            spacing="2",
            align="start",
            width="100%",
        ),
        on_submit=on_submit,
        no_validate=True,
        id=form_id,
        width="100%",
    )


def _current_notes() -> rx.Component:
    """The notes of the item under discussion; the chair adds to them here."""
    S = MeetingRoomState
    return rx.cond(
        ~RoomItemState.i_am_conflicted,
        rx.vstack(
            rx.heading("Notes on this item", size="3", as_="h3"),
            rx.cond(
                RoomNotesState.current_notes.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(
                    rx.foreach(RoomNotesState.current_notes, _note_row), class_name="room-list", id="current-notes"
                ),
                rx.text("No notes yet.", size="2", id="current-notes"),
            ),
            rx.cond(
                S.is_chair & (S.status == "open"),
                _note_form("note-form", "note_text", "Note on this item", S.note_error, S.add_note),
            ),
            spacing="2",
            width="100%",
            aria_live="polite",
        ),
    )


def _notes() -> rx.Component:
    """Every note the participant is given, item by item."""
    S = MeetingRoomState
    return _section(
        "Notes",
        rx.cond(
            RoomNotesState.notes.length() > 0,  # type: ignore[attr-defined]
            rx.vstack(
                rx.foreach(
                    RoomNotesState.notes,
                    lambda row: rx.match(
                        row["kind"],
                        ("heading", rx.heading(row["text"], size="2", as_="h3")),
                        ("withheld", rx.text(row["text"], size="2", style={"font_style": "italic"})),
                        rx.box(_note(row, correctable=row["item_id"] == ""), class_name="room-row", width="100%"),
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            rx.text("The chair's notes appear here as they are written.", size="2"),
        ),
        rx.cond(
            S.is_chair & (S.status == "open"),
            _note_form(
                "general-note-form", "general_note", "Note about the meeting", S.general_note_error, S.add_general_note
            ),
        ),
        id="notes",
        aria_live="polite",
    )


def _correct_dialog() -> rx.Component:
    S = MeetingRoomState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Correct a note"),
            rx.dialog.description(
                "Your correction replaces the note for everyone; the earlier wording stays on record.", size="2"
            ),
            rx.form(
                rx.vstack(
                    rx.el.label("Corrected note", html_for="correction", class_name="field-label"),
                    rx.el.textarea(
                        id="correction",
                        name="correction",
                        rows=3,
                        default_value=S.correcting_text,
                        key=S.correcting_id,
                        class_name="field-input",
                        aria_invalid=rx.cond(S.correct_error != "", "true", "false"),
                        aria_describedby="correction-error",
                    ),
                    field_error(S.correct_error, "correction"),
                    dialog_buttons("Save the correction"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.correct,
                no_validate=True,
                margin_top="1em",
            ),
        ),
        open=S.correct_open,
        on_open_change=S.set_correct_open,
    )


def _decisions() -> rx.Component:
    return _section(
        "Decisions",
        rx.cond(
            RoomDecisionsState.decisions.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(
                    RoomDecisionsState.decisions,
                    lambda d: rx.el.li(
                        rx.vstack(
                            rx.text(d["headline"], weight="medium"),
                            rx.text("Recorded ", d["when"], size="2", color_scheme="gray", high_contrast=True),
                            rx.cond(
                                d["excluded"] != "",
                                rx.text("Took no part (declared an interest): ", d["excluded"], size="2"),
                            ),
                            spacing="0",
                        ),
                        class_name="room-row",
                    ),
                ),
                class_name="room-list",
                aria_label="Decisions recorded",
            ),
            rx.text("No decisions yet.", size="2"),
        ),
        id="decisions",
        aria_live="polite",
    )


def _join_dialog() -> rx.Component:
    S = MeetingRoomState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Join the meeting"),
            rx.dialog.description("Confidentiality statement", size="2", weight="medium"),
            rx.text(S.statement, size="2", id="confidentiality-statement"),
            rx.form(
                rx.vstack(
                    rx.el.label(
                        rx.el.input(type="checkbox", name="accept", id="accept-confidentiality"),
                        " I accept the confidentiality statement",
                        html_for="accept-confidentiality",
                        class_name="checkbox-label",
                    ),
                    rx.cond(S.join_error != "", rx.text(S.join_error, color_scheme="red", size="2", role="alert")),
                    dialog_buttons("Join"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.join,
                no_validate=True,
                margin_top="1em",
            ),
        ),
        open=S.join_open,
        on_open_change=S.set_join_open,
    )


def _declare_dialog() -> rx.Component:
    S = MeetingRoomState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Declare an interest"),
            rx.dialog.description(
                "You will not see this item's content and will take no part in its decision.", size="2"
            ),
            rx.form(
                rx.vstack(
                    text_area("Your interest", "reason", error=S.declare_error, rows=3),
                    dialog_buttons("Declare"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.declare,
                no_validate=True,
                margin_top="1em",
            ),
        ),
        open=S.declare_open,
        on_open_change=S.set_declare_open,
    )


def _verbal_dialog() -> rx.Component:
    S = MeetingRoomState
    errors = S.verbal_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Record what you told the meeting"),
            rx.dialog.description(
                "It is recorded as a disclosure from your organisation to each organisation present, "
                "and the sharing rules decide each one.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    text_area("What you said", "what_was_said", error=errors.get("what_was_said", ""), rows=4),
                    select_input("Kind of information", "category", CATEGORY_OPTIONS, error=errors.get("category", "")),
                    select_input("Lawful basis", "basis", BASIS_OPTIONS, error=errors.get("basis", "")),
                    text_area(
                        "Why sharing it was necessary and proportionate",
                        "justification",
                        error=errors.get("justification", ""),
                        hint="Needed when sharing without consent.",
                        rows=3,
                    ),
                    dialog_buttons("Record"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.log_verbal,
                no_validate=True,
                margin_top="1em",
            ),
        ),
        open=S.verbal_open,
        on_open_change=S.set_verbal_open,
    )


@rx.page(route=routes.MEETING_ROOM, title=f"Meeting room · {PRODUCT_NAME}", on_load=MeetingRoomState.load)
def meeting_room_page() -> rx.Component:
    S = MeetingRoomState
    return page_shell(
        "Meeting room",
        rx.cond(
            S.not_found != "",
            rx.callout(S.not_found, icon="lock", color_scheme="red", high_contrast=True, role="alert"),
            rx.box(
                rx.vstack(
                    _status_bar(),
                    rx.cond(
                        S.status == "scheduled",
                        empty_state(
                            "The meeting has not started.",
                            "This page updates by itself when the chair opens it.",
                        ),
                    ),
                    _quorum(),
                    _current_item(),
                    rx.grid(
                        _roster(),
                        rx.vstack(_agenda(), _notes(), _decisions(), spacing="4", width="100%"),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                    _join_dialog(),
                    _declare_dialog(),
                    _verbal_dialog(),
                    _correct_dialog(),
                    spacing="4",
                    width="100%",
                ),
                width="100%",
            ),
        ),
    )
