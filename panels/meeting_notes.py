"""The chair's running notes of a meeting: what the panel discussed, item by item, written by
its chair or deputy while the meeting is in progress and seen by every participant at once.

Notes are a record, so they are never changed or removed: a correction is a new note that
replaces the one it corrects, and the earlier wording stays on record (in the room, marked as
corrected, and in the audit trail).  A member who declared an interest in an item is given
none of that item's notes (see :func:`panels.room_view.read_meeting_notes`, the one read of
them for a person); the minutes carry the notes of each item the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from panels.agenda import agenda_items
from panels.meeting_room import conflicted_user_ids
from panels.meetings import MeetingStatus, MeetingUnavailable, get_meeting
from panels.models import Meeting, MeetingNote, Panel
from panels.panel_config import require_chair
from sharing.access import denied
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import User
from sharing.permissions import Actor

MAX_NOTE_CHARS = 4000
NOT_IN_PROGRESS = "Notes are kept while the meeting is in progress."


@dataclass(frozen=True)
class NoteRead:
    """A note as it reads now (its latest wording), with the wordings it replaced."""

    id: int
    agenda_item_id: int | None  # None: about the meeting as a whole
    text: str
    written_by: str
    written_at: datetime
    earlier: tuple[str, ...]  # the wordings this one corrected, oldest first

    @property
    def corrected(self) -> bool:
        return bool(self.earlier)


def _check_writable(session: Session, actor: Actor, meeting: Meeting, panel: Panel, agenda_item_id: int | None) -> None:
    """The chair or deputy, the meeting in progress, an item of this meeting in which the
    writer declared no interest."""
    require_chair(session, actor, panel)
    if meeting.status != MeetingStatus.OPEN:
        raise MeetingUnavailable(NOT_IN_PROGRESS)
    if agenda_item_id is None:
        return
    if agenda_item_id not in {i.id for i in agenda_items(session, meeting.id)}:  # type: ignore[arg-type]
        raise InvalidInput({"agenda_item_id": "That item is not on this meeting's agenda."})
    if actor.user_id in conflicted_user_ids(session, agenda_item_id):
        raise denied(
            actor, "You declared an interest in this item, so another chair must keep its notes.",
            reason="conflicted chair", subject_type="agenda_item", subject_id=agenda_item_id,
        )  # fmt: skip


def _clean(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput({"text": "Write the note."})
    if len(cleaned) > MAX_NOTE_CHARS:
        raise InvalidInput({"text": f"Keep a note under {MAX_NOTE_CHARS:,} characters; add another for the rest."})
    return cleaned


def write_note(
    *,
    session: Session,
    actor: Actor,
    meeting_id: int,
    agenda_item_id: int | None,
    text: str,
    now: datetime | None = None,
) -> MeetingNote:
    """Add to the running notes of a meeting in progress (its chair or deputy), about an item
    on its agenda or, with no item, about the meeting as a whole."""
    meeting, panel = get_meeting(session, meeting_id)
    _check_writable(session, actor, meeting, panel, agenda_item_id)
    note = MeetingNote(
        meeting_id=meeting_id, agenda_item_id=agenda_item_id, text=_clean(text),
        written_by_user_id=actor.user_id, written_at=now or utcnow(),
    )  # fmt: skip
    session.add(note)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_NOTE_WRITTEN, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting_note", subject_id=note.id,
        detail={"meeting": meeting_id, "agenda_item": agenda_item_id},
    )  # fmt: skip
    return note


def correct_note(
    *, session: Session, actor: Actor, note_id: int, text: str, now: datetime | None = None
) -> MeetingNote:
    """Correct a note while the meeting is in progress: a new note replaces it, and the
    earlier wording stays on record."""
    note = session.get(MeetingNote, note_id)
    if note is None:
        raise NotFound("That note no longer exists.")
    meeting, panel = get_meeting(session, note.meeting_id)
    _check_writable(session, actor, meeting, panel, note.agenda_item_id)
    if session.exec(select(MeetingNote.id).where(MeetingNote.corrects_note_id == note_id)).first() is not None:
        raise InvalidInput({"text": "That note has already been corrected: correct its latest wording."})
    cleaned = _clean(text)
    if cleaned == note.text:
        raise InvalidInput({"text": "The correction reads the same as the note: change the wording."})
    correction = MeetingNote(
        meeting_id=note.meeting_id, agenda_item_id=note.agenda_item_id, text=cleaned, corrects_note_id=note_id,
        written_by_user_id=actor.user_id, written_at=now or utcnow(),
    )  # fmt: skip
    session.add(correction)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_NOTE_CORRECTED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting_note", subject_id=correction.id,
        detail={"meeting": note.meeting_id, "agenda_item": note.agenda_item_id, "corrects": note_id},
    )  # fmt: skip
    return correction


def notes_of_meeting(session: Session, meeting_id: int) -> list[NoteRead]:
    """Every note of the meeting in its latest wording, in the order first written.  For the
    services that decide who is given which (the room, the minutes): not for display as is."""
    rows = session.exec(
        select(MeetingNote).where(MeetingNote.meeting_id == meeting_id).order_by(col(MeetingNote.id))
    ).all()
    if not rows:
        return []
    writers = {r.written_by_user_id for r in rows if r.written_by_user_id is not None}
    names = dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(writers))).all())
    replaced_by: dict[int | None, MeetingNote] = {r.corrects_note_id: r for r in rows if r.corrects_note_id}
    notes: list[NoteRead] = []
    for first in rows:
        if first.corrects_note_id is not None:
            continue  # reached from the note it corrects
        chain = [first]
        while (following := replaced_by.get(chain[-1].id)) is not None:
            chain.append(following)
        latest = chain[-1]
        assert latest.id is not None
        notes.append(
            NoteRead(
                id=latest.id, agenda_item_id=first.agenda_item_id, text=latest.text,
                written_by=names.get(latest.written_by_user_id, "") if latest.written_by_user_id else "",
                written_at=first.written_at, earlier=tuple(n.text for n in chain[:-1]),
            )
        )  # fmt: skip
    return notes
