"""A meeting's agenda: accepted referrals, cases due back for review at this panel, and cases
carried forward with open actions; ordered by the chair and published ahead of the meeting
(the panel's pack lead time in working days, by default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, func, select

from panels.action_models import OPEN_ACTION_STATUSES, CaseAction, ReminderKind
from panels.case_models import Case
from panels.meetings import (
    MeetingStatus,
    MeetingUnavailable,
    agenda_publication_due,
    format_day,
    format_when,
    get_meeting,
    local,
    meeting_path,
)
from panels.models import AgendaItem, Decision, InterestDeclaration, Meeting, Panel, Referral
from panels.notifications import notify
from panels.panel_config import is_chair, panel_people, require_chair, require_member
from panels.vocabulary import CaseStatus
from sharing.access import denied
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput
from sharing.models import User
from sharing.permissions import Actor, Permission


class AgendaSource(StrEnum):
    REFERRAL = "referral"
    REVIEW = "review"
    CARRIED_FORWARD = "carried_forward"

    @property
    def label(self) -> str:
        return {
            AgendaSource.REFERRAL: "New referral",
            AgendaSource.REVIEW: "Due for review",
            AgendaSource.CARRIED_FORWARD: "Carried forward (open actions)",
        }[self]


NOT_PUBLISHED = "The agenda for this meeting has not been published yet."


def agenda_items(session: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        session.exec(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(col(AgendaItem.position))
        ).all()
    )


def append_item(
    session: Session, meeting: Meeting, case_id: int, source: AgendaSource, referral_id: int | None = None
) -> AgendaItem | None:
    """Put a case at the end of the agenda; None when it is on it already."""
    existing = session.exec(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.case_id == case_id)
    ).first()
    if existing is not None:
        if referral_id is not None and existing.referral_id is None:
            existing.referral_id = referral_id
            existing.source = AgendaSource.REFERRAL
            session.add(existing)
        return None
    last = session.exec(select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)).one()
    item = AgendaItem(
        meeting_id=meeting.id,  # type: ignore[arg-type]
        case_id=case_id,
        referral_id=referral_id,
        source=source,
        position=(last or 0) + 1,
    )
    session.add(item)
    session.flush()
    return item


def remove_referral_item(session: Session, referral: Referral) -> None:
    """Take a referral's item off its meeting's agenda (deferred or declined)."""
    for item in session.exec(select(AgendaItem).where(AgendaItem.referral_id == referral.id)).all():
        if session.exec(select(Decision.id).where(Decision.agenda_item_id == item.id)).first() is None:
            session.delete(item)
    session.flush()
    _renumber(session, referral.meeting_id)


def _renumber(session: Session, meeting_id: int) -> None:
    for position, item in enumerate(agenda_items(session, meeting_id), start=1):
        if item.position != position:
            item.position = position
            session.add(item)
    session.flush()


def cases_due_for_review(session: Session, panel: Panel, meeting: Meeting) -> list[int]:
    """Open cases this panel decided on at an earlier meeting whose latest decision here set a
    review date on or before this meeting's day."""
    rows = session.exec(
        select(Decision, Meeting)
        .join(Meeting, col(Meeting.id) == col(Decision.meeting_id))
        .where(Decision.panel_id == panel.id, col(Meeting.starts_at) < meeting.starts_at)
        .order_by(col(Meeting.starts_at), col(Decision.recorded_at))
    ).all()
    latest: dict[int, Decision] = {}
    for decision, _ in rows:
        latest[decision.case_id] = decision
    day = local(meeting.starts_at).date()
    due = [case_id for case_id, d in latest.items() if d.review_on is not None and d.review_on <= day]
    if not due:
        return []
    open_ids = set(session.exec(select(Case.id).where(col(Case.id).in_(due), Case.status != CaseStatus.CLOSED)).all())
    return [case_id for case_id in due if case_id in open_ids]


def carried_forward_case_ids(session: Session, panel: Panel, meeting: Meeting) -> list[int]:
    """Open cases with actions agreed at this panel's earlier meetings that are still open
    (not done, not found impossible, not declined), the soonest due first."""
    earlier = select(Meeting.id).where(Meeting.panel_id == panel.id, col(Meeting.starts_at) < meeting.starts_at)
    rows = session.exec(
        select(CaseAction.case_id)
        .join(Case, col(Case.id) == col(CaseAction.case_id))
        .where(
            CaseAction.source_panel_id == panel.id,
            col(CaseAction.source_meeting_id).in_(earlier),
            col(CaseAction.status).in_([str(s) for s in OPEN_ACTION_STATUSES]),
            Case.status != CaseStatus.CLOSED,
        )
        .order_by(col(CaseAction.due_on), col(CaseAction.id))
    ).all()
    return list(dict.fromkeys(rows))


def build_agenda(
    *,
    session: Session,
    actor: Actor,
    meeting_id: int,
    carried_forward: Sequence[int] = (),
) -> list[AgendaItem]:
    """Add to the agenda what belongs on it and is not there yet: accepted referrals, cases
    due for review at this panel, and cases carried forward (``carried_forward`` case ids and
    those :func:`carried_forward_case_ids` finds).  Returns the whole agenda in order."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise MeetingUnavailable("The agenda can only be built before the meeting starts.")
    added: dict[str, int] = {str(s): 0 for s in AgendaSource}
    referrals = session.exec(
        select(Referral)
        .where(Referral.meeting_id == meeting_id, Referral.status == "accepted")
        .order_by(col(Referral.referred_at))
    ).all()
    for referral in referrals:
        if append_item(session, meeting, referral.case_id, AgendaSource.REFERRAL, referral.id):
            added[AgendaSource.REFERRAL] += 1
    for case_id in cases_due_for_review(session, panel, meeting):
        if append_item(session, meeting, case_id, AgendaSource.REVIEW):
            added[AgendaSource.REVIEW] += 1
    forward = list(dict.fromkeys([*carried_forward, *carried_forward_case_ids(session, panel, meeting)]))
    if forward:
        open_ids = set(
            session.exec(select(Case.id).where(col(Case.id).in_(forward), Case.status != CaseStatus.CLOSED)).all()
        )
        if unknown := [c for c in forward if c not in open_ids]:
            raise InvalidInput({"carried_forward": f"These cases are closed or do not exist: {unknown}."})
        for case_id in forward:
            if append_item(session, meeting, case_id, AgendaSource.CARRIED_FORWARD):
                added[AgendaSource.CARRIED_FORWARD] += 1
    record_event(
        session, action=AuditAction.AGENDA_BUILT, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"added": added},
    )  # fmt: skip
    return agenda_items(session, meeting_id)


def reorder_agenda(*, session: Session, actor: Actor, meeting_id: int, item_ids: Sequence[int]) -> list[AgendaItem]:
    """Put the agenda in the chair's order (every item, each once)."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    if meeting.status in (MeetingStatus.CLOSED, MeetingStatus.CANCELLED):
        raise MeetingUnavailable("This meeting is over; its agenda can no longer change.")
    items = {i.id: i for i in agenda_items(session, meeting_id)}
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != set(items):
        raise InvalidInput({"item_ids": "List every item on the agenda once."})
    for position, item_id in enumerate(item_ids, start=1):
        item = items[item_id]
        item.position = position
        session.add(item)
    session.flush()
    record_event(
        session, action=AuditAction.AGENDA_REORDERED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"order": list(item_ids)},
    )  # fmt: skip
    return agenda_items(session, meeting_id)


def publish_agenda(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> Meeting:
    """Publish the agenda and its pack to the panel's members."""
    meeting, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise MeetingUnavailable("Only the agenda of a meeting still to come can be published.")
    if not agenda_items(session, meeting_id):
        raise InvalidInput({"agenda": "There is nothing on the agenda yet."})
    republished = meeting.agenda_published_at is not None
    meeting.agenda_published_at = meeting.agenda_published_at or now or utcnow()
    session.add(meeting)
    session.flush()
    record_event(
        session, action=AuditAction.AGENDA_PUBLISHED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"republished": republished},
    )  # fmt: skip
    if not republished:
        count = len(agenda_items(session, meeting_id))
        notify(
            session, user_ids=[u for u in panel_people(session, panel) if u != actor.user_id],
            kind=ReminderKind.AGENDA_PUBLISHED,
            title=f"Agenda published: {panel.name}, {format_day(meeting.starts_at)}",
            body=(f"The agenda for the {panel.name} on {format_when(meeting.starts_at)} is published with "
                  f"{count} item{'' if count == 1 else 's'}. Your pack shows what your organisation may see."),
            link_path=meeting_path(meeting_id),
        )  # fmt: skip
    return meeting


def publish_due_agendas(*, session: Session, actor: Actor, now: datetime | None = None) -> list[int]:
    """Publish every agenda whose publication date has come (the scheduler runs this)."""
    now = now or utcnow()
    published: list[int] = []
    for meeting in session.exec(
        select(Meeting).where(
            Meeting.status == MeetingStatus.SCHEDULED,
            col(Meeting.agenda_published_at).is_(None),
            col(Meeting.starts_at) > now,
        )
    ).all():
        panel = session.get(Panel, meeting.panel_id)
        assert panel is not None and meeting.id is not None
        if agenda_publication_due(panel, meeting) <= now and agenda_items(session, meeting.id):
            publish_agenda(session=session, actor=actor, meeting_id=meeting.id, now=now)
            published.append(meeting.id)
    return published


# --- Who may see an agenda -------------------------------------------------------------------


def may_see_before_publication(session: Session, actor: Actor, panel: Panel, meeting: Meeting) -> bool:
    """The chair, and lead officers whose organisation leads a case on the agenda."""
    if actor.is_system or is_chair(panel, actor):
        return True
    if not actor.can(Permission.PANELS_REFERRALS_CREATE) or actor.organisation_id is None:
        return False
    return (
        session.exec(
            select(AgendaItem.id)
            .join(Case, col(Case.id) == col(AgendaItem.case_id))
            .where(AgendaItem.meeting_id == meeting.id, Case.lead_organisation_id == actor.organisation_id)
        ).first()
        is not None
    )


def require_agenda_reader(session: Session, actor: Actor, panel: Panel, meeting: Meeting) -> None:
    """Members see the agenda once it is published; the chair and lead officers before."""
    require_member(session, actor, panel)
    if meeting.agenda_published_at is None and not may_see_before_publication(session, actor, panel, meeting):
        raise denied(actor, NOT_PUBLISHED, reason="agenda not published", subject_type="meeting", subject_id=meeting.id)


@dataclass(frozen=True)
class AgendaItemRead:
    id: int
    position: int
    case_id: int
    case_reference: str
    source: str
    source_label: str
    status: str
    current: bool
    conflicted: tuple[str, ...]  # who declared an interest


def list_agenda(*, session: Session, actor: Actor, meeting_id: int) -> list[AgendaItemRead]:
    """The agenda in order: case references and why each is there (the content is in the pack)."""
    meeting, panel = get_meeting(session, meeting_id)
    require_agenda_reader(session, actor, panel, meeting)
    items = agenda_items(session, meeting_id)
    references = dict(
        session.exec(select(Case.id, Case.reference).where(col(Case.id).in_([i.case_id for i in items]))).all()
    )
    declared: dict[int, list[str]] = {}
    for declaration, user in session.exec(
        select(InterestDeclaration, User)
        .join(User, col(User.id) == col(InterestDeclaration.user_id))
        .where(InterestDeclaration.meeting_id == meeting_id)
    ).all():
        declared.setdefault(declaration.agenda_item_id, []).append(user.full_name)
    return [
        AgendaItemRead(
            id=item.id,  # type: ignore[arg-type]
            position=item.position,
            case_id=item.case_id,
            case_reference=references.get(item.case_id, ""),
            source=item.source,
            source_label=AgendaSource(item.source).label,
            status=item.status,
            current=meeting.current_agenda_item_id == item.id,
            conflicted=tuple(sorted(declared.get(item.id, []))),  # type: ignore[arg-type]
        )
        for item in items
    ]
