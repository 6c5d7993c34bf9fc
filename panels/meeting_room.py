"""The meeting itself: the chair opens it; members join by accepting the confidentiality
statement; the chair records attendance and works through the agenda; quorum is worked out
from the organisations present; members declare interests (a conflicted member sees none of
that item's restricted content and takes no part in its decision); and information said aloud
is recorded on the spot as a disclosure with its basis."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from panels.agenda import agenda_items
from panels.case_models import Case
from panels.meetings import MeetingStatus, MeetingUnavailable, format_day, get_meeting
from panels.models import AgendaItem, Attendance, InterestDeclaration, Meeting, Panel, PanelMember, VerbalDisclosure
from panels.panel_config import member_organisation_ids, require_chair, require_member
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.disclosures import DisclosureRefused, DisclosureRequest, record_spoken_disclosure
from sharing.errors import InvalidInput, NotFound
from sharing.models import InformationItem, Organisation, User
from sharing.permissions import Actor, Permission
from sharing.vocabulary import DataCategory, ItemKind, LawfulBasis, Marking, Purpose


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    APOLOGIES = "apologies"
    ABSENT = "absent"


def _meeting_in_progress(meeting: Meeting) -> None:
    if meeting.status != MeetingStatus.OPEN:
        raise MeetingUnavailable("The meeting is not in progress.")


def open_meeting(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> Meeting:
    """The chair (or deputy) opens the meeting."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise MeetingUnavailable(
            "This meeting was cancelled."
            if meeting.status == MeetingStatus.CANCELLED
            else "This meeting has already been opened."
        )
    meeting.status = MeetingStatus.OPEN
    meeting.opened_at = now or utcnow()
    session.add(meeting)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_OPENED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id,
    )  # fmt: skip
    return meeting


def close_meeting(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> Meeting:
    """The chair closes the meeting; the minutes follow."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    _meeting_in_progress(meeting)
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = now or utcnow()
    meeting.current_agenda_item_id = None
    session.add(meeting)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_CLOSED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id,
    )  # fmt: skip
    return meeting


def _attendance(session: Session, meeting_id: int, user_id: int) -> Attendance | None:
    return session.exec(
        select(Attendance).where(Attendance.meeting_id == meeting_id, Attendance.user_id == user_id)
    ).first()


def join_meeting(
    *, session: Session, actor: Actor, meeting_id: int, accept_confidentiality: bool, now: datetime | None = None
) -> Attendance:
    """Join a meeting in progress: the member must accept the confidentiality statement."""
    meeting, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    _meeting_in_progress(meeting)
    if not accept_confidentiality:
        raise InvalidInput(
            {"accept_confidentiality": "You must accept the confidentiality statement to join the meeting."}
        )
    assert actor.user_id is not None and actor.organisation_id is not None
    now = now or utcnow()
    row = _attendance(session, meeting_id, actor.user_id) or Attendance(
        meeting_id=meeting_id, user_id=actor.user_id, organisation_id=actor.organisation_id, status="present"
    )
    row.status = AttendanceStatus.PRESENT
    row.joined_at = row.joined_at or now
    row.confidentiality_accepted_at = now
    row.recorded_by_user_id = actor.user_id
    row.recorded_at = now
    session.add(row)
    session.flush()
    record_event(
        session, action=AuditAction.MEETING_JOINED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"confidentiality_accepted": True},
    )  # fmt: skip
    return row


def _eligible(session: Session, panel: Panel, user: User) -> bool:
    if user.id in (panel.chair_user_id, panel.deputy_chair_user_id):
        return True
    if user.organisation_id in member_organisation_ids(session, panel):
        return True
    return session.get(PanelMember, (panel.id, user.id)) is not None


def record_attendance(
    *, session: Session, actor: Actor, meeting_id: int, user_id: int, status: str, now: datetime | None = None
) -> Attendance:
    """The chair records someone as present, sending apologies or absent."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingUnavailable("This meeting was cancelled.")
    if status not in {s.value for s in AttendanceStatus}:
        raise InvalidInput({"status": "Choose present, apologies or absent."})
    user = session.get(User, user_id)
    if user is None or not _eligible(session, panel, user):
        raise InvalidInput({"user_id": f"That person does not sit on the {panel.name}."})
    now = now or utcnow()
    row = _attendance(session, meeting_id, user_id) or Attendance(
        meeting_id=meeting_id, user_id=user_id, organisation_id=user.organisation_id, status=status
    )
    row.status = status
    if status == AttendanceStatus.PRESENT:
        row.joined_at = row.joined_at or now
    row.recorded_by_user_id = actor.user_id
    row.recorded_at = now
    session.add(row)
    session.flush()
    record_event(
        session, action=AuditAction.ATTENDANCE_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"user": user_id, "status": status},
    )  # fmt: skip
    return row


# --- Quorum ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuorumStatus:
    met: bool
    organisations_present: tuple[str, ...]
    missing_required: tuple[str, ...]
    needed: int
    explanation: str


def conflicted_user_ids(session: Session, agenda_item_id: int) -> set[int]:
    return set(
        session.exec(select(InterestDeclaration.user_id).where(InterestDeclaration.agenda_item_id == agenda_item_id))
    )


def quorum_status(session: Session, meeting_id: int, *, agenda_item_id: int | None = None) -> QuorumStatus:
    """Whether the meeting is quorate: at least the panel's minimum number of its member
    organisations present, including every organisation that must be.  For an agenda item,
    members who declared an interest in it do not count."""
    _, panel = get_meeting(session, meeting_id)
    members = member_organisation_ids(session, panel)
    excluded = conflicted_user_ids(session, agenda_item_id) if agenda_item_id is not None else set()
    present_ids = {
        a.organisation_id
        for a in session.exec(
            select(Attendance).where(Attendance.meeting_id == meeting_id, Attendance.status == AttendanceStatus.PRESENT)
        )
        if a.user_id not in excluded and a.organisation_id in members
    }
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    present = tuple(sorted(names.get(i, "") for i in present_ids))
    missing = tuple(sorted(names.get(i, "") for i in panel.quorum_required_organisation_ids if i not in present_ids))
    needed = panel.quorum_min_organisations
    problems: list[str] = []
    if missing:
        problems.append(f"{_and(missing)} must be present")
    if len(present_ids) < needed:
        problems.append(f"at least {needed} organisations must be present and {len(present_ids)} are")
    if problems:
        explanation = "The meeting is not quorate: " + "; ".join(problems)
    else:
        explanation = f"The meeting is quorate: {len(present_ids)} organisations present (at least {needed} needed)"
    return QuorumStatus(not problems, present, missing, needed, explanation)


def _and(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- Declarations and the current item -------------------------------------------------------


def get_agenda_item(session: Session, agenda_item_id: int) -> tuple[AgendaItem, Meeting, Panel]:
    item = session.get(AgendaItem, agenda_item_id)
    if item is None:
        raise NotFound("That agenda item no longer exists.")
    meeting, panel = get_meeting(session, item.meeting_id)
    return item, meeting, panel


def declare_interest(
    *, session: Session, actor: Actor, agenda_item_id: int, reason: str, now: datetime | None = None
) -> InterestDeclaration:
    """Declare a conflict of interest in an agenda item (before or during the meeting)."""
    _, meeting, panel = get_agenda_item(session, agenda_item_id)
    require_member(session, actor, panel)
    if meeting.status in (MeetingStatus.CLOSED, MeetingStatus.CANCELLED):
        raise MeetingUnavailable("This meeting is over.")
    if not reason.strip():
        raise InvalidInput({"reason": "Say what your interest is."})
    assert actor.user_id is not None and actor.organisation_id is not None
    if actor.user_id in conflicted_user_ids(session, agenda_item_id):
        raise InvalidInput({"reason": "You have already declared an interest in this item."})
    declaration = InterestDeclaration(
        meeting_id=meeting.id, agenda_item_id=agenda_item_id, user_id=actor.user_id,  # type: ignore[arg-type]
        organisation_id=actor.organisation_id, reason=reason.strip()[:1000], declared_at=now or utcnow(),
    )  # fmt: skip
    session.add(declaration)
    session.flush()
    record_event(
        session, action=AuditAction.INTEREST_DECLARED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="agenda_item", subject_id=agenda_item_id, detail={"meeting": meeting.id},
    )  # fmt: skip
    return declaration


def set_current_item(*, session: Session, actor: Actor, meeting_id: int, agenda_item_id: int) -> Meeting:
    """The chair moves the meeting on to an item."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    _meeting_in_progress(meeting)
    if agenda_item_id not in {i.id for i in agenda_items(session, meeting_id)}:
        raise InvalidInput({"agenda_item_id": "That item is not on this meeting's agenda."})
    meeting.current_agenda_item_id = agenda_item_id
    session.add(meeting)
    session.flush()
    record_event(
        session, action=AuditAction.CURRENT_ITEM_SET, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"agenda_item": agenda_item_id},
    )  # fmt: skip
    return meeting


# --- Information said aloud --------------------------------------------------------------------


@dataclass(frozen=True)
class VerbalShareOutcome:
    organisation: str
    disclosure_id: int | None
    status: str
    refusal: str


def log_verbal_disclosure(
    *,
    session: Session,
    actor: Actor,
    agenda_item_id: int,
    what_was_said: str,
    category: DataCategory,
    basis: LawfulBasis,
    justification: str = "",
    person_id: int | None = None,
    now: datetime | None = None,
) -> list[VerbalShareOutcome]:
    """Record what the actor told the meeting as a disclosure, on the spot, from their
    organisation to each other organisation present, for the panel's purpose and on the
    stated basis.  Each share is decided by the sharing rules separately; a refusal is recorded
    (it shows something was said without a basis) and does not stop the others."""
    item, meeting, panel = get_agenda_item(session, agenda_item_id)
    require_member(session, actor, panel)
    require(actor, Permission.PANELS_MEETINGS_SHARE_VERBALLY, subject_type="agenda_item", subject_id=agenda_item_id)
    _meeting_in_progress(meeting)
    assert actor.user_id is not None and actor.organisation_id is not None
    present = _attendance(session, meeting.id, actor.user_id)  # type: ignore[arg-type]
    if present is None or present.status != AttendanceStatus.PRESENT:
        raise denied(
            actor, "Join the meeting before recording what you shared.", reason="not present",
            subject_type="meeting", subject_id=meeting.id,
        )  # fmt: skip
    if not what_was_said.strip():
        raise InvalidInput({"what_was_said": "Record what you told the meeting."})
    case = session.get(Case, item.case_id)
    assert case is not None
    now = now or utcnow()
    said = InformationItem(
        kind=ItemKind.CASE_NOTE, owner_organisation_id=actor.organisation_id, person_id=person_id,
        case_reference=case.reference,
        title=f"Said at the {panel.name} on {format_day(meeting.starts_at)} about {case.reference}"[:200],
        category=category, marking=Marking.OFFICIAL_SENSITIVE,
        content=[
            {"key": "said", "label": "Said at the meeting", "value": what_was_said.strip(), "category": str(category)}
        ],
        created_by_user_id=actor.user_id,
    )  # fmt: skip
    session.add(said)
    session.flush()
    assert said.id is not None
    record_event(
        session, action=AuditAction.ITEM_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="information_item", subject_id=said.id,
        detail={"kind": str(ItemKind.CASE_NOTE), "category": str(category), "case": case.reference, "via": "meeting"},
    )  # fmt: skip
    recipients = sorted(
        {
            a.organisation_id
            for a in session.exec(
                select(Attendance).where(
                    Attendance.meeting_id == meeting.id, Attendance.status == AttendanceStatus.PRESENT
                )
            )
            if a.organisation_id != actor.organisation_id
        }
    )
    request = DisclosureRequest(
        item_ids=[said.id], recipient_organisation_id=0, purpose=Purpose(panel.sharing_purpose), basis=basis,
        justification=justification, categories=[category],
    )  # fmt: skip
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    outcomes: list[VerbalShareOutcome] = []
    for organisation_id in recipients:
        savepoint = session.begin_nested()
        try:
            disclosure = record_spoken_disclosure(
                session=session, actor=actor, request=replace(request, recipient_organisation_id=organisation_id)
            )
        except DisclosureRefused as refused:
            savepoint.rollback()
            for effect in refused.durable_effects:  # kept with the rest of this action
                effect(session)
            outcomes.append(VerbalShareOutcome(names.get(organisation_id, ""), None, "refused", refused.message))
            session.add(
                VerbalDisclosure(
                    meeting_id=meeting.id, agenda_item_id=agenda_item_id, item_id=said.id,  # type: ignore[arg-type]
                    recipient_organisation_id=organisation_id, refusal=refused.message[:1000],
                    said_by_user_id=actor.user_id, said_at=now,
                )
            )  # fmt: skip
            continue
        savepoint.commit()
        outcomes.append(VerbalShareOutcome(names.get(organisation_id, ""), disclosure.id, disclosure.status, ""))
        session.add(
            VerbalDisclosure(
                meeting_id=meeting.id, agenda_item_id=agenda_item_id, item_id=said.id,  # type: ignore[arg-type]
                recipient_organisation_id=organisation_id, disclosure_id=disclosure.id,
                said_by_user_id=actor.user_id, said_at=now,
            )
        )  # fmt: skip
    session.flush()
    record_event(
        session, action=AuditAction.VERBAL_DISCLOSURE_LOGGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="agenda_item", subject_id=agenda_item_id,
        detail={"item": said.id, "basis": str(basis), "shared": [o.disclosure_id for o in outcomes if o.disclosure_id],
                "refused": len([o for o in outcomes if o.disclosure_id is None])},
    )  # fmt: skip
    return outcomes


@dataclass(frozen=True)
class AttendanceRead:
    user_id: int
    name: str
    organisation: str
    status: str
    confidentiality_accepted: bool


def list_attendance(*, session: Session, actor: Actor, meeting_id: int) -> list[AttendanceRead]:
    """Who is (or was) at the meeting."""
    _, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    rows = session.exec(
        select(Attendance, User)
        .join(User, col(User.id) == col(Attendance.user_id))
        .where(Attendance.meeting_id == meeting_id)
        .order_by(col(User.full_name))
    ).all()
    return [
        AttendanceRead(
            a.user_id,
            u.full_name,
            names.get(a.organisation_id, ""),
            a.status,
            a.confidentiality_accepted_at is not None,
        )
        for a, u in rows
    ]
