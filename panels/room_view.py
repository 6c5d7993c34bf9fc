"""The live meeting room as every participant sees it, and how the room notices change.

:func:`read_room_core` gathers what everyone at the meeting may see: the meeting, who is
expected and where each stands (present, apologies, absent), the quorum (for the item under
discussion, without the members who declared an interest in it), the agenda, and the headline
of each decision (its type and who took no part).  The live room reads it once per change for
all its participants; :func:`read_room` hands it to one participant after checking they sit on
the panel, with what is theirs alone (chair or not, joined or not, conflicted or not, the
agenda only once they may see it).  Case content is not in it: each participant reads the item
under discussion through :func:`current_item_content`, so it passes the sharing rules for
their own organisation (and is logged as theirs); the chair's running notes come through
:func:`read_meeting_notes`, which keeps an item's notes from anyone who declared an interest
in it (and records what each participant was given).

:func:`room_version` is a cheap fingerprint of those same rows.  It changes whenever anything
a participant sees in the room changes, whichever process made the change, so a browser can
poll it and read the room again only when it moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from panels.agenda import AgendaItemRead, list_agenda, may_see_before_publication, require_agenda_reader
from panels.case_models import Case
from panels.decisions import decisions_of_meeting
from panels.meeting_notes import NoteRead, notes_of_meeting
from panels.meeting_room import AttendanceStatus, QuorumStatus, conflicted_user_ids, quorum_status
from panels.meetings import MeetingStatus, MeetingUnavailable, format_when, get_meeting
from panels.models import (
    AgendaItem,
    Attendance,
    Decision,
    DecisionAmendment,
    InterestDeclaration,
    Meeting,
    MeetingNote,
    Panel,
    PanelMember,
    VerbalDisclosure,
)
from panels.packs import CONFLICTED, NOTHING_SHARED
from panels.panel_config import (
    DECISION_TYPES,
    confidentiality_statement,
    decision_types_of,
    member_organisation_ids,
    require_member,
)
from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.models import Organisation, User
from sharing.permissions import SYSTEM_ACTOR, Actor, Permission
from sharing.reads import ItemView, read_items, visible_item_ids

STATUS_LABELS = {
    AttendanceStatus.PRESENT: "Present",
    AttendanceStatus.APOLOGIES: "Apologies",
    AttendanceStatus.ABSENT: "Absent",
}
NOT_RECORDED = "Not yet joined"


@dataclass(frozen=True)
class RosterEntry:
    """Someone expected at the meeting (the chair, the deputy, the panel's named members) or
    already recorded at it, and where they stand."""

    user_id: int
    name: str
    organisation_id: int
    organisation: str
    role: str  # "Chair", "Deputy chair" or ""
    status: str  # present, apologies, absent, or "" when nothing is recorded yet
    status_label: str
    confidentiality_accepted: bool


@dataclass(frozen=True)
class DecisionHeadline:
    """What the room heard decided: the item, the kind of decision and who took no part.
    Its reasons, conditions and actions are case information, read through the sharing rules."""

    agenda_item_id: int
    position: int
    case_reference: str
    label: str
    excluded: tuple[str, ...]
    recorded_at: datetime


@dataclass(frozen=True)
class DecisionOption:
    key: str
    label: str
    needs_conditions: bool
    needs_review_date: bool
    needs_panel: bool


@dataclass(frozen=True)
class RoomCore:
    """What every participant in the room sees, read once for all of them at one version of
    the room.  It holds no case content, and it is handed to a participant only through
    :func:`read_room`, which checks they sit on the panel first."""

    version: str
    meeting_id: int
    panel_id: int
    panel_name: str
    when: str
    venue: str
    video_link: str
    status: str
    confidentiality_statement: str
    agenda_published: bool
    chair_user_ids: tuple[int, ...]  # the chair and the deputy
    current_agenda_item_id: int | None
    current_conflicted_user_ids: tuple[int, ...]  # who declared an interest in the current item
    declarations: tuple[tuple[int, int], ...]  # (agenda item, user) for every declared interest
    note_count: int  # how many notes (and corrections) the chair has written: not the notes
    roster: tuple[RosterEntry, ...]
    quorum: QuorumStatus  # for the current item when there is one
    agenda: tuple[AgendaItemRead, ...]
    decisions: tuple[DecisionHeadline, ...]
    organisations: tuple[tuple[int, str], ...]  # the panel's member organisations, by name
    decision_options: tuple[DecisionOption, ...]


@dataclass(frozen=True)
class RoomRead:
    """The room as one participant sees it."""

    core: RoomCore
    actor_is_chair: bool
    actor_joined: bool  # present, having accepted the confidentiality statement
    actor_conflicted: bool  # declared an interest in the current item
    actor_declared_item_ids: tuple[int, ...]  # every item the actor declared an interest in
    agenda: tuple[AgendaItemRead, ...]  # empty while the actor may not see it yet


def _roster(session: Session, panel: Panel, meeting: Meeting) -> list[RosterEntry]:
    expected = {u for u in (panel.chair_user_id, panel.deputy_chair_user_id) if u is not None}
    expected |= set(session.exec(select(PanelMember.user_id).where(PanelMember.panel_id == panel.id)))
    recorded = {a.user_id: a for a in session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id))}
    ids = expected | set(recorded)
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids)))} if ids else {}
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    entries: list[RosterEntry] = []
    for user_id, user in users.items():
        assert user_id is not None
        if user_id not in recorded and not user.is_active:
            continue
        row = recorded.get(user_id)
        organisation_id = row.organisation_id if row is not None else user.organisation_id
        status = row.status if row is not None else ""
        role = (
            "Chair"
            if user_id == panel.chair_user_id
            else ("Deputy chair" if user_id == panel.deputy_chair_user_id else "")
        )
        entries.append(
            RosterEntry(
                user_id=user_id, name=user.full_name, organisation_id=organisation_id,
                organisation=names.get(organisation_id, ""), role=role, status=status,
                status_label=STATUS_LABELS.get(AttendanceStatus(status), status) if status else NOT_RECORDED,
                confidentiality_accepted=row is not None and row.confidentiality_accepted_at is not None,
            )
        )  # fmt: skip
    return sorted(entries, key=lambda e: (e.organisation, e.name))


def list_roster(*, session: Session, actor: Actor, meeting_id: int) -> list[RosterEntry]:
    """Who is expected at the meeting and where each stands, by organisation and name."""
    meeting, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    return _roster(session, panel, meeting)


def _headlines(session: Session, meeting_id: int) -> list[DecisionHeadline]:
    rows = [(item, decision) for item, decision in decisions_of_meeting(session, meeting_id) if decision is not None]
    if not rows:
        return []
    references = dict(
        session.exec(select(Case.id, Case.reference).where(col(Case.id).in_([i.case_id for i, _ in rows]))).all()
    )
    excluded_ids = {u for _, d in rows for u in d.excluded_user_ids}
    names = (
        dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(excluded_ids))).all())
        if excluded_ids
        else {}
    )
    return sorted(
        (
            DecisionHeadline(
                agenda_item_id=item.id,  # type: ignore[arg-type]
                position=item.position,
                case_reference=references.get(item.case_id, ""),
                label=DECISION_TYPES[decision.decision_type].label
                if decision.decision_type in DECISION_TYPES
                else decision.decision_type,
                excluded=tuple(sorted(names.get(u, "") for u in decision.excluded_user_ids)),
                recorded_at=decision.recorded_at,
            )
            for item, decision in rows
        ),
        key=lambda h: h.position,
    )


def list_decision_headlines(*, session: Session, actor: Actor, meeting_id: int) -> list[DecisionHeadline]:
    """The decisions recorded at the meeting, as the room heard them, in agenda order."""
    _, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    return _headlines(session, meeting_id)


def read_room_core(session: Session, meeting_id: int) -> RoomCore:
    """The room at its present version, for everyone at once.  Callers hand it to a person
    only through :func:`read_room`."""
    version = room_version(session, meeting_id)  # first: a later change shows as a newer version
    meeting, panel = get_meeting(session, meeting_id)
    assert meeting.id is not None and panel.id is not None
    current = meeting.current_agenda_item_id
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    return RoomCore(
        version=version, meeting_id=meeting.id, panel_id=panel.id, panel_name=panel.name,
        when=format_when(meeting.starts_at), venue=meeting.venue, video_link=meeting.video_link,
        status=meeting.status, confidentiality_statement=confidentiality_statement(panel),
        agenda_published=meeting.agenda_published_at is not None,
        chair_user_ids=tuple(u for u in (panel.chair_user_id, panel.deputy_chair_user_id) if u is not None),
        current_agenda_item_id=current,
        current_conflicted_user_ids=tuple(sorted(conflicted_user_ids(session, current))) if current else (),
        declarations=tuple(
            sorted(
                session.exec(
                    select(InterestDeclaration.agenda_item_id, InterestDeclaration.user_id).where(
                        InterestDeclaration.meeting_id == meeting.id
                    )
                ).all()
            )
        ),
        note_count=session.exec(
            select(func.count(col(MeetingNote.id))).where(MeetingNote.meeting_id == meeting.id)
        ).one(),
        roster=tuple(_roster(session, panel, meeting)),
        quorum=quorum_status(session, meeting.id, agenda_item_id=current),
        # The whole agenda, read as the portal; each participant gets it only when they may see it.
        agenda=tuple(list_agenda(session=session, actor=SYSTEM_ACTOR, meeting_id=meeting.id)),
        decisions=tuple(_headlines(session, meeting.id)),
        organisations=tuple(
            sorted(((i, names.get(i, "")) for i in member_organisation_ids(session, panel)), key=lambda o: o[1])
        ),
        decision_options=tuple(
            DecisionOption(d.key, d.label, d.needs_conditions, d.needs_review_date, d.needs_panel)
            for d in decision_types_of(panel)
        ),
    )  # fmt: skip


def read_room(*, session: Session, actor: Actor, meeting_id: int, core: RoomCore | None = None) -> RoomRead:
    """The meeting room as a participant sees it (members of the panel's organisations, the
    chair and deputy).  ``core`` is a :func:`read_room_core` of this meeting already read (the
    live room reads it once for everyone); without it the room is read afresh.  The agenda
    is left empty while the actor may not see it yet."""
    meeting, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    if core is None or core.meeting_id != meeting_id:
        core = read_room_core(session, meeting_id)
    mine = next((e for e in core.roster if e.user_id == actor.user_id), None)
    may_see_agenda = core.agenda_published or may_see_before_publication(session, actor, panel, meeting)
    return RoomRead(
        core=core,
        actor_is_chair=actor.user_id is not None and actor.user_id in core.chair_user_ids,
        actor_joined=mine is not None and mine.status == AttendanceStatus.PRESENT and mine.confidentiality_accepted,
        actor_conflicted=actor.user_id in core.current_conflicted_user_ids,
        actor_declared_item_ids=tuple(item for item, user in core.declarations if user == actor.user_id),
        agenda=core.agenda if may_see_agenda else (),
    )


@dataclass(frozen=True)
class ItemContent:
    """The item under discussion as one organisation may see it."""

    agenda_item_id: int | None
    case_reference: str
    note: str  # NOTHING_SHARED or CONFLICTED when there is nothing to show
    items: tuple[ItemView, ...]


def current_item_content(*, session: Session, actor: Actor, meeting_id: int) -> ItemContent:
    """The case under discussion as the actor's organisation may see it (the meeting pack
    for that one item): read through the need-to-know chokepoint, which logs each read; none
    of it for an actor who declared an interest in the item."""
    meeting, panel = get_meeting(session, meeting_id)
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="meeting", subject_id=meeting_id)
    require_agenda_reader(session, actor, panel, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingUnavailable("This meeting was cancelled.")
    agenda_item_id = meeting.current_agenda_item_id
    item = session.get(AgendaItem, agenda_item_id) if agenda_item_id is not None else None
    if item is None or item.id is None:
        return ItemContent(None, "", "", ())
    case = session.get(Case, item.case_id)
    reference = case.reference if case is not None else ""
    if actor.user_id in conflicted_user_ids(session, item.id):
        return ItemContent(item.id, reference, CONFLICTED, ())
    ids = sorted(visible_item_ids(session=session, actor=actor, case_reference=reference))
    views = tuple(read_items(session=session, actor=actor, item_ids=ids, via="meeting room")) if ids else ()
    record_event(
        session, action=AuditAction.PACK_READ, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id,
        detail={"agenda_item": item.id, "items": len(views), "via": "meeting room"},
    )  # fmt: skip
    return ItemContent(item.id, reference, "" if views else NOTHING_SHARED, views)


@dataclass(frozen=True)
class MeetingNotes:
    """The chair's notes of a meeting as one participant is given them."""

    notes: tuple[NoteRead, ...]  # general notes and those of items the participant may see
    withheld_item_ids: tuple[int, ...]  # items whose notes are kept from them (a declared interest)


def read_meeting_notes(*, session: Session, actor: Actor, meeting_id: int, via: str = "meeting room") -> MeetingNotes:
    """The chair's running notes as the actor is given them: a member of the panel who may see
    the agenda gets the notes about the meeting and about each item, except the notes of any
    item they declared an interest in (restricted content, like the item's own).  The read is
    recorded: which notes they were given and which items' notes were withheld."""
    meeting, panel = get_meeting(session, meeting_id)
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="meeting", subject_id=meeting_id)
    require_agenda_reader(session, actor, panel, meeting)
    declared = set(
        session.exec(
            select(InterestDeclaration.agenda_item_id).where(
                InterestDeclaration.meeting_id == meeting_id, InterestDeclaration.user_id == actor.user_id
            )
        )
    )
    notes = notes_of_meeting(session, meeting_id)
    given = tuple(n for n in notes if n.agenda_item_id not in declared)
    withheld = tuple(
        sorted({n.agenda_item_id for n in notes if n.agenda_item_id is not None and n.agenda_item_id in declared})
    )
    if given or withheld:
        record_event(
            session, action=AuditAction.MEETING_NOTES_READ, outcome=Outcome.SUCCESS, actor=actor,
            subject_type="meeting", subject_id=meeting_id,
            detail={"notes": [n.id for n in given], "withheld_items": list(withheld), "via": via},
        )  # fmt: skip
    return MeetingNotes(given, withheld)


def room_version(session: Session, meeting_id: int) -> str:
    """A fingerprint of everything the room shows about a meeting: its status and current
    item, attendance, the agenda, declarations, decisions and their amendments, what was said
    aloud, and the chair's notes (a correction is a note too).  One query; it reveals nothing
    itself, so it needs no actor."""

    def of_meeting(expression: ColumnElement[Any], where: ColumnElement[bool]) -> ScalarSelect[Any]:
        return sa_select(expression).where(where).scalar_subquery()

    query = sa_select(
        col(Meeting.status),
        col(Meeting.current_agenda_item_id),
        col(Meeting.agenda_published_at),
        of_meeting(func.count(col(Attendance.id)), col(Attendance.meeting_id) == meeting_id),
        of_meeting(func.max(col(Attendance.recorded_at)), col(Attendance.meeting_id) == meeting_id),
        of_meeting(func.count(col(AgendaItem.id)), col(AgendaItem.meeting_id) == meeting_id),
        of_meeting(  # catches a change of order
            func.coalesce(func.sum(col(AgendaItem.position) * col(AgendaItem.id)), 0),
            col(AgendaItem.meeting_id) == meeting_id,
        ),
        of_meeting(func.count(col(InterestDeclaration.id)), col(InterestDeclaration.meeting_id) == meeting_id),
        of_meeting(func.count(col(Decision.id)), col(Decision.meeting_id) == meeting_id),
        sa_select(func.count(col(DecisionAmendment.id)))
        .join(Decision, col(Decision.id) == col(DecisionAmendment.decision_id))
        .where(col(Decision.meeting_id) == meeting_id)
        .scalar_subquery(),
        of_meeting(func.count(col(VerbalDisclosure.id)), col(VerbalDisclosure.meeting_id) == meeting_id),
        of_meeting(func.count(col(MeetingNote.id)), col(MeetingNote.meeting_id) == meeting_id),
    ).where(col(Meeting.id) == meeting_id)
    row = session.connection().execute(query).first()
    return "" if row is None else "|".join("" if value is None else str(value) for value in row)
