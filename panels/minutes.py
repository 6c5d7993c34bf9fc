"""Minutes: drafted by the chair from the meeting's record (attendance, declarations, items,
the chair's notes, decisions, actions), circulated to those who attended for comment, and approved by the chair,
after which they and the meeting's decisions are locked (decisions change only by amendment).

Each organisation reads its own copy: the words of each decision are a case item of the lead
organisation, read through ``sharing.reads``, so an organisation sees a decision only as far as
it has been shared with it.  A reader who declared an interest in an item gets neither its
decision nor its notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from panels.agenda import AgendaSource
from panels.case_models import Case
from panels.decisions import LOCKED, MinutesLocked, decisions_of_meeting
from panels.documents import WatermarkedPaper
from panels.meeting_notes import NoteRead, notes_of_meeting
from panels.meeting_room import AttendanceStatus, quorum_status
from panels.meetings import MeetingStatus, format_when, get_meeting, local
from panels.models import Attendance, DecisionAction, InterestDeclaration, Meeting, Minutes, MinutesComment, Panel
from panels.packs import CONFLICTED, NOTHING_SHARED
from panels.panel_config import DECISION_TYPES, is_chair, require_chair, require_member
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput
from sharing.models import Organisation, User
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, read_items


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    APPROVED = "approved"


def get_minutes(session: Session, meeting_id: int) -> Minutes | None:
    return session.exec(select(Minutes).where(Minutes.meeting_id == meeting_id)).first()


def _content(session: Session, meeting: Meeting, panel: Panel) -> dict[str, Any]:
    """The meeting's record as the minutes keep it (for the chair; each organisation's copy
    is made from it through the sharing rules)."""
    assert meeting.id is not None
    organisations = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    users = {u.id: u for u in session.exec(select(User))}
    attendance = [
        {
            "user_id": a.user_id,
            "name": users[a.user_id].full_name,
            "organisation": organisations.get(a.organisation_id, ""),
            "status": a.status,
        }
        for a in session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id))
    ]
    attendance.sort(key=lambda a: (a["status"], a["organisation"], a["name"]))
    rows = decisions_of_meeting(session, meeting.id)
    positions = {item.id: item.position for item, _ in rows}
    references = dict(
        session.exec(select(Case.id, Case.reference).where(col(Case.id).in_([i.case_id for i, _ in rows]))).all()
    )
    declarations = [
        {
            "user_id": d.user_id,
            "name": users[d.user_id].full_name,
            "organisation": organisations.get(d.organisation_id, ""),
            "agenda_item_id": d.agenda_item_id,
            "position": positions.get(d.agenda_item_id),
            "reason": d.reason,
        }
        for d in session.exec(select(InterestDeclaration).where(InterestDeclaration.meeting_id == meeting.id))
    ]
    notes: dict[int | None, list[dict[str, Any]]] = {}
    for note in notes_of_meeting(session, meeting.id):
        notes.setdefault(note.agenda_item_id, []).append(_note_entry(note))
    items: list[dict[str, Any]] = []
    for item, decision in rows:
        entry: dict[str, Any] = {
            "agenda_item_id": item.id,
            "position": item.position,
            "case_id": item.case_id,
            "case_reference": references.get(item.case_id, ""),
            "source": item.source,
            "notes": notes.get(item.id, []),
            "decision": None,
            "actions": [],
        }
        if decision is not None:
            entry["decision"] = {
                "decision_id": decision.id,
                "type": decision.decision_type,
                "label": DECISION_TYPES[decision.decision_type].label,
                "item_id": decision.item_id,
                "excluded": [users[u].full_name for u in decision.excluded_user_ids if u in users],
                "intervention_id": decision.intervention_id,
            }
            entry["actions"] = [
                {
                    "id": a.id,
                    "owner_organisation_id": a.owner_organisation_id,
                    "owner_organisation": organisations.get(a.owner_organisation_id, ""),
                    "owner_user_id": a.owner_user_id,
                    "owner_name": users[a.owner_user_id].full_name if a.owner_user_id in users else "",
                    "due_on": a.due_on.isoformat(),
                    "description": a.description,
                }
                for a in session.exec(
                    select(DecisionAction)
                    .where(DecisionAction.decision_id == decision.id)
                    .order_by(col(DecisionAction.id))
                )
            ]
        items.append(entry)
    return {
        "panel": panel.name,
        "when": format_when(meeting.starts_at),
        "quorum": quorum_status(session, meeting.id).explanation,
        "attendance": attendance,
        "declarations": declarations,
        "notes": notes.get(None, []),  # about the meeting as a whole
        "items": items,
    }


def _note_entry(note: NoteRead) -> dict[str, Any]:
    return {
        "id": note.id,
        "text": note.text,
        "written_by": note.written_by,
        "written_at": note.written_at.isoformat(),
        "corrected": note.corrected,
    }


def _note_line(entry: dict[str, Any]) -> str:
    """A note as the minutes print it: the time it was written, the words, and whether they
    were corrected during the meeting."""
    written = local(datetime.fromisoformat(entry["written_at"]))
    return f"{written:%H:%M} {entry['text']}" + (" (corrected during the meeting)" if entry["corrected"] else "")


def _unlocked(minutes: Minutes | None) -> None:
    if minutes is not None and minutes.status == MinutesStatus.APPROVED:
        raise MinutesLocked(LOCKED)


def draft_minutes(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> Minutes:
    """Draft (or redraft) the minutes from the meeting's record."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    if meeting.status not in (MeetingStatus.OPEN, MeetingStatus.CLOSED):
        raise InvalidInput({"minutes": "Minutes are drafted once the meeting has taken place."})
    minutes = get_minutes(session, meeting_id)
    _unlocked(minutes)
    now = now or utcnow()
    minutes = minutes or Minutes(meeting_id=meeting_id)
    minutes.status = MinutesStatus.DRAFT
    minutes.content = _content(session, meeting, panel)
    minutes.drafted_by_user_id = actor.user_id
    minutes.drafted_at = now
    session.add(minutes)
    session.flush()
    record_event(
        session, action=AuditAction.MINUTES_DRAFTED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="minutes", subject_id=minutes.id, detail={"meeting": meeting_id},
    )  # fmt: skip
    return minutes


def _drafted(session: Session, meeting_id: int) -> Minutes:
    minutes = get_minutes(session, meeting_id)
    if minutes is None:
        raise InvalidInput({"minutes": "Draft the minutes first."})
    _unlocked(minutes)
    return minutes


def circulate_minutes(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> Minutes:
    """Send the draft to those who attended, for comment."""
    _, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    minutes = _drafted(session, meeting_id)
    minutes.status = MinutesStatus.CIRCULATED
    minutes.circulated_at = now or utcnow()
    session.add(minutes)
    session.flush()
    record_event(
        session, action=AuditAction.MINUTES_CIRCULATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="minutes", subject_id=minutes.id, detail={"meeting": meeting_id},
    )  # fmt: skip
    return minutes


def _was_present(session: Session, meeting_id: int, user_id: int | None) -> bool:
    return (
        session.exec(
            select(Attendance.id).where(
                Attendance.meeting_id == meeting_id,
                Attendance.user_id == user_id,
                Attendance.status == AttendanceStatus.PRESENT,
            )
        ).first()
        is not None
    )


def comment_on_minutes(
    *, session: Session, actor: Actor, meeting_id: int, comment: str, now: datetime | None = None
) -> MinutesComment:
    """Someone who attended comments on the circulated draft."""
    _, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    if not _was_present(session, meeting_id, actor.user_id):
        raise denied(
            actor, "Only people who attended the meeting can comment on its minutes.",
            reason="did not attend", subject_type="meeting", subject_id=meeting_id,
        )  # fmt: skip
    minutes = get_minutes(session, meeting_id)
    if minutes is None or minutes.status != MinutesStatus.CIRCULATED:
        raise InvalidInput({"comment": "The minutes are not out for comment."})
    if not comment.strip():
        raise InvalidInput({"comment": "Write your comment."})
    row = MinutesComment(
        minutes_id=minutes.id, user_id=actor.user_id, comment=comment.strip()[:2000],  # type: ignore[arg-type]
        created_at=now or utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    record_event(
        session, action=AuditAction.MINUTES_COMMENTED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="minutes", subject_id=minutes.id,
    )  # fmt: skip
    return row


def approve_minutes(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> Minutes:
    """The chair approves the minutes; they and the meeting's decisions are then locked.
    Refused while an agreed action has no owner or no one is recorded as present."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    minutes = _drafted(session, meeting_id)
    if meeting.status != MeetingStatus.CLOSED:
        raise InvalidInput({"minutes": "Close the meeting before approving its minutes."})
    errors: dict[str, str] = {}
    if not session.exec(
        select(Attendance.id).where(Attendance.meeting_id == meeting_id, Attendance.status == AttendanceStatus.PRESENT)
    ).first():
        errors["attendance"] = "No one is recorded as present, so the minutes cannot be approved."
    ownerless = [
        (item.position, action.description)
        for item, decision in decisions_of_meeting(session, meeting_id)
        if decision is not None
        for action in session.exec(select(DecisionAction).where(DecisionAction.decision_id == decision.id))
        if action.owner_user_id is None
    ]
    if ownerless:
        listed = "; ".join(f"item {position}: {description[:60]}" for position, description in ownerless)
        errors["actions"] = f"Every action needs a named owner before the minutes are approved ({listed})."
    if errors:
        raise InvalidInput(errors)
    now = now or utcnow()
    minutes.content = _content(session, meeting, panel)
    minutes.status = MinutesStatus.APPROVED
    minutes.approved_by_user_id = actor.user_id
    minutes.approved_at = now
    session.add(minutes)
    session.flush()
    record_event(
        session, action=AuditAction.MINUTES_APPROVED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="minutes", subject_id=minutes.id, detail={"meeting": meeting_id},
    )  # fmt: skip
    return minutes


# --- Each organisation's copy ----------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesItem:
    position: int
    case_reference: str
    source_label: str
    decided: bool
    note: str  # NOTHING_SHARED / CONFLICTED when the decision is not shown
    notes: tuple[str, ...]  # the chair's notes of the item; none for a reader who declared an interest
    decision: ItemView | None
    excluded: tuple[str, ...]
    own_actions: tuple[str, ...]  # actions owned by the reader's organisation


@dataclass(frozen=True)
class MinutesCopy:
    meeting_id: int
    panel_name: str
    when: str
    status: str
    reader_name: str
    reader_organisation: str
    quorum: str
    attendance: tuple[str, ...]
    declarations: tuple[str, ...]
    notes: tuple[str, ...]  # the chair's notes about the meeting as a whole
    items: tuple[MinutesItem, ...]
    comments: tuple[str, ...]


def _copy(session: Session, actor: Actor, meeting_id: int, via: str) -> MinutesCopy:
    _, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="meeting", subject_id=meeting_id)
    minutes = get_minutes(session, meeting_id)
    chair = is_chair(panel, actor)
    if minutes is None or (minutes.status == MinutesStatus.DRAFT and not chair):
        raise InvalidInput({"minutes": "The minutes of this meeting have not been circulated yet."})
    content = minutes.content
    mine = set(
        session.exec(
            select(InterestDeclaration.agenda_item_id).where(
                InterestDeclaration.meeting_id == meeting_id, InterestDeclaration.user_id == actor.user_id
            )
        )
    )
    decision_items = [
        e["decision"]["item_id"]
        for e in content["items"]
        if e["decision"] and e["decision"]["item_id"] and e["agenda_item_id"] not in mine
    ]
    views = {v.id: v for v in read_items(session=session, actor=actor, item_ids=decision_items, via=via)}
    items: list[MinutesItem] = []
    for entry in content["items"]:
        decision = entry["decision"]
        conflicted = entry["agenda_item_id"] in mine
        view = views.get(decision["item_id"]) if decision and not conflicted else None
        note = CONFLICTED if conflicted else ("" if view is not None or decision is None else NOTHING_SHARED)
        own = tuple(
            f"{a['description']} (owner: {a['owner_name'] or 'not yet named'}, due {a['due_on']})"
            for a in entry["actions"]
            if a["owner_organisation_id"] == actor.organisation_id and not conflicted
        )
        # The chair's notes of the item are restricted like its decision (minutes drafted before
        # notes were kept have none).
        notes = () if conflicted else tuple(_note_line(n) for n in entry.get("notes", []))
        items.append(
            MinutesItem(
                position=entry["position"], case_reference=entry["case_reference"],
                source_label=AgendaSource(entry["source"]).label, decided=decision is not None, note=note,
                notes=notes, decision=view, excluded=tuple(decision["excluded"]) if decision else (), own_actions=own,
            )
        )  # fmt: skip
    comments: tuple[str, ...] = ()
    if chair:
        comments = tuple(
            f"{user.full_name}: {c.comment}"
            for c, user in session.exec(
                select(MinutesComment, User)
                .join(User, col(User.id) == col(MinutesComment.user_id))
                .where(MinutesComment.minutes_id == minutes.id)
                .order_by(col(MinutesComment.id))
            )
        )
    organisation = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    return MinutesCopy(
        meeting_id=meeting_id, panel_name=panel.name, when=content["when"], status=minutes.status,
        reader_name=actor.full_name or actor.label,
        reader_organisation=actor.organisation_name or (organisation.name if organisation else ""),
        quorum=content["quorum"],
        attendance=tuple(f"{a['name']}, {a['organisation']}: {a['status']}" for a in content["attendance"]),
        declarations=tuple(
            f"{d['name']}, {d['organisation']}, declared an interest in item {d['position']}"
            for d in content["declarations"]
        ),
        notes=tuple(_note_line(n) for n in content.get("notes", [])), items=tuple(items), comments=comments,
    )  # fmt: skip


def minutes_for_organisation(*, session: Session, actor: Actor, meeting_id: int) -> MinutesCopy:
    """The minutes as the actor's organisation may read them (circulated or approved; the
    chair also sees the draft and the comments)."""
    copy = _copy(session, actor, meeting_id, "minutes")
    record_event(
        session, action=AuditAction.MINUTES_READ, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id,
    )  # fmt: skip
    return copy


def minutes_pdf(*, session: Session, actor: Actor, meeting_id: int) -> bytes:
    """The actor's organisation's copy of the minutes as a watermarked PDF."""
    copy = _copy(session, actor, meeting_id, "minutes PDF")
    status = {"draft": "DRAFT", "circulated": "DRAFT for comment", "approved": "Approved"}[copy.status]
    paper = WatermarkedPaper(f"{copy.panel_name}: minutes", f"{copy.reader_name}, {copy.reader_organisation}")
    paper.heading(f"{copy.panel_name}: minutes ({status})", 16)
    paper.para(copy.when)
    paper.para(copy.quorum + ".")
    paper.heading("Attendance", 12)
    for line in copy.attendance:
        paper.para(line)
    if copy.declarations:
        paper.heading("Declarations of interest", 12)
        for line in copy.declarations:
            paper.para(line)
    if copy.notes:
        paper.heading("Notes", 12)
        for line in copy.notes:
            paper.para(line)
    for item in copy.items:
        paper.heading(f"{item.position}. Case {item.case_reference} ({item.source_label})", 12)
        for line in item.notes:
            paper.para(f"Note: {line}")
        if not item.decided:
            paper.para("No decision recorded.")
        if item.note:
            paper.para(item.note)
        if item.decision is not None:
            for field in item.decision.fields:
                paper.para(f"{field.label}: {field.value}")
        if item.excluded:
            paper.para(f"Took no part (declared an interest): {', '.join(item.excluded)}")
        for action in item.own_actions:
            paper.para(f"Your organisation's action: {action}")
    data = paper.bytes()
    record_event(
        session, action=AuditAction.MINUTES_DOWNLOADED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"bytes": len(data)},
    )  # fmt: skip
    return data
