"""Referring a case to a panel (Cambridge 002: "the lead officer makes a referral to the next
available meeting, notifies the Chair, and brings all available evidence"), and the chair's
decision on it: accept (onto that meeting's agenda), defer (to the following meeting) or
decline (with a reason the referrer sees).

What the referral says is a case item owned by the lead organisation, so the panel's members
see it only as far as it has been shared with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from panels.agenda import AgendaSource, append_item, remove_referral_item
from panels.case_models import Case
from panels.cases import add_case_event, case_for_update, case_item, get_case
from panels.meetings import MeetingStatus, format_day, get_meeting, meeting_path, next_available_meeting
from panels.models import Meeting, Panel, Referral
from panels.notifications import notify
from panels.panel_config import get_panel, require_chair
from panels.vocabulary import CaseEventKind, CaseStatus
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, read_items
from sharing.vocabulary import DataCategory, ItemKind


class ReferralStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DEFERRED = "deferred"
    DECLINED = "declined"
    HEARD = "heard"

    @property
    def label(self) -> str:
        return {
            ReferralStatus.SUBMITTED: "Submitted, waiting for the chair",
            ReferralStatus.ACCEPTED: "Accepted onto the agenda",
            ReferralStatus.DEFERRED: "Deferred to a later meeting",
            ReferralStatus.DECLINED: "Declined",
            ReferralStatus.HEARD: "Heard by the panel",
        }[self]


OPEN_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.DEFERRED)
DECISIONS = ("accept", "defer", "decline")
# Notification kinds (what the portal and the email say is in the title and body).
REFERRAL_RECEIVED = "panel_referral_received"
REFERRAL_DECIDED = "panel_referral_decided"


def _notify_chair(
    session: Session, actor: Actor, panel: Panel, referral: Referral, meeting: Meeting, case: Case
) -> None:
    """Tell the chair and deputy a referral has arrived: in the portal, and by email as each
    prefers.  The message names the case by its reference only."""
    chairs = [u for u in (panel.chair_user_id, panel.deputy_chair_user_id) if u is not None]
    assert meeting.id is not None
    notify(
        session, user_ids=chairs, kind=REFERRAL_RECEIVED,
        title=f"New referral to the {panel.name}: case {case.reference}",
        body=(f"Case {case.reference} has been referred to the {panel.name} for the meeting on "
              f"{format_day(meeting.starts_at)}. Accept, defer or decline it."),
        link_path=meeting_path(meeting.id), case_reference=case.reference,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.REFERRAL_MADE, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="referral", subject_id=referral.id,
        detail={
            "panel": panel.id, "meeting": meeting.id, "case": referral.case_id,
            "notify_user_ids": [u for u in (panel.chair_user_id, panel.deputy_chair_user_id) if u is not None],
        },
    )  # fmt: skip


def refer_case(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    panel_id: int,
    reason: str,
    decision_sought: str,
    evidence: str = "",
    now: datetime | None = None,
) -> Referral:
    """Refer a case the actor's organisation leads to the panel's next available meeting."""
    case = case_for_update(session, actor, case_id, Permission.PANELS_REFERRALS_CREATE)
    panel = get_panel(session, panel_id)
    now = now or utcnow()
    errors: dict[str, str] = {}
    if not panel.active:
        errors["panel_id"] = "This panel is no longer active."
    if case.status == CaseStatus.CLOSED:
        errors["case"] = "This case is closed; reopen it before referring it."
    if not reason.strip():
        errors["reason"] = "Say why the case needs the panel."
    if not decision_sought.strip():
        errors["decision_sought"] = "Say what you are asking the panel to decide."
    if errors:
        raise InvalidInput(errors)
    pending = session.exec(
        select(Referral, Meeting)
        .join(Meeting, col(Meeting.id) == col(Referral.meeting_id))
        .where(Referral.case_id == case_id, Referral.panel_id == panel_id, col(Referral.status).in_(OPEN_STATUSES))
    ).first()
    if pending is not None:
        day = format_day(pending[1].starts_at)
        raise InvalidInput({"panel_id": f"This case is already referred to the {panel.name} (meeting on {day})."})
    meeting = next_available_meeting(session, panel_id, now)
    if meeting is None:
        raise InvalidInput(
            {"panel_id": f"The {panel.name} has no meeting open for referrals. Ask its chair to schedule one."}
        )
    asb = DataCategory.ASB_HISTORY
    item = case_item(
        session, case=case, actor=actor, kind=ItemKind.CASE_NOTE,
        title=f"Referral of {case.reference} to the {panel.name}", category=asb,
        fields=[
            ("reason", "Why it is referred", reason.strip(), asb),
            ("decision_sought", "Decision sought", decision_sought.strip(), asb),
            ("evidence", "Evidence brought", evidence.strip() or "None listed", asb),
        ],
    )  # fmt: skip
    referral = Referral(
        case_id=case_id, panel_id=panel_id, meeting_id=meeting.id, item_id=item.id,  # type: ignore[arg-type]
        status=ReferralStatus.SUBMITTED, referred_by_user_id=actor.user_id,
        referred_by_organisation_id=case.lead_organisation_id, referred_at=now,
    )  # fmt: skip
    session.add(referral)
    session.flush()
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.PANEL_REFERRAL, item_id=item.id,
        summary=f"Referred to the {panel.name} (meeting on {format_day(meeting.starts_at)})",
        subject_type="referral", subject_id=referral.id, occurred_at=now,
    )  # fmt: skip
    _notify_chair(session, actor, panel, referral, meeting, case)
    return referral


def get_referral(session: Session, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("That referral no longer exists.")
    return referral


def decide_referral(
    *,
    session: Session,
    actor: Actor,
    referral_id: int,
    decision: str,
    reason: str = "",
    now: datetime | None = None,
) -> Referral:
    """The chair's (or deputy's) decision on a referral: ``accept`` puts it on its meeting's
    agenda, ``defer`` moves it to the following available meeting, ``decline`` (with a reason)
    ends it."""
    referral = get_referral(session, referral_id)
    meeting, panel = get_meeting(session, referral.meeting_id)
    require_chair(session, actor, panel)
    now = now or utcnow()
    if decision not in DECISIONS:
        raise InvalidInput({"decision": "Accept, defer or decline the referral."})
    if referral.status not in (ReferralStatus.SUBMITTED, ReferralStatus.DEFERRED):
        raise InvalidInput({"decision": f"This referral has already been {referral.status}."})
    if decision == "decline" and not reason.strip():
        raise InvalidInput({"reason": "Say why the referral is declined; the referring officer will see it."})
    action = AuditAction.REFERRAL_ACCEPTED
    if decision == "accept":
        if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.OPEN):
            raise InvalidInput({"decision": "Its meeting is over or cancelled; defer it to a later meeting."})
        referral.status = ReferralStatus.ACCEPTED
        append_item(session, meeting, referral.case_id, AgendaSource.REFERRAL, referral.id)
        summary = f"Referral accepted by the {panel.name} for {format_day(meeting.starts_at)}"
    elif decision == "defer":
        target = next_available_meeting(session, panel.id, now, after=meeting.starts_at)  # type: ignore[arg-type]
        if target is None:
            raise InvalidInput(
                {"decision": "There is no later meeting open for referrals to defer it to. Schedule one first."}
            )
        remove_referral_item(session, referral)
        referral.meeting_id = target.id  # type: ignore[assignment]
        referral.status = ReferralStatus.DEFERRED
        action = AuditAction.REFERRAL_DEFERRED
        summary = f"Referral deferred by the {panel.name} to {format_day(target.starts_at)}"
    else:
        remove_referral_item(session, referral)
        referral.status = ReferralStatus.DECLINED
        action = AuditAction.REFERRAL_DECLINED
        summary = f"Referral declined by the {panel.name}"
    case = get_case(session, referral.case_id)
    referral.decided_by_user_id = actor.user_id
    referral.decided_at = now
    referral.decision_reason = reason.strip()[:2000]
    session.add(referral)
    session.flush()
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.PANEL_REFERRAL,
        summary=summary, subject_type="referral", subject_id=referral.id, occurred_at=now,
    )  # fmt: skip
    _notify_referrer(session, referral, case, f"{summary}.")
    record_event(
        session, action=action, outcome=Outcome.SUCCESS, actor=actor, subject_type="referral",
        subject_id=referral.id, reason=reason.strip()[:500] or None, detail={"meeting": referral.meeting_id},
    )  # fmt: skip
    return referral


def _notify_referrer(session: Session, referral: Referral, case: Case, summary: str) -> None:
    """Tell the officer who made the referral what the chair decided (the reasons are on the
    referral, for those who may read it)."""
    if referral.referred_by_user_id is None:
        return
    notify(
        session, user_ids=[referral.referred_by_user_id], kind=REFERRAL_DECIDED,
        title=f"Referral of case {case.reference}: {ReferralStatus(referral.status).label.lower()}",
        body=f"Case {case.reference}: {summary}",
        link_path=meeting_path(referral.meeting_id), case_reference=case.reference,
    )  # fmt: skip


# --- What the referrer and the chair see -----------------------------------------------------


@dataclass(frozen=True)
class ReferralRead:
    id: int
    case_id: int
    case_reference: str
    panel_name: str
    meeting_id: int
    meeting_day: str
    status: str
    status_label: str
    decision_reason: str
    referred_at: datetime
    content: ItemView | None  # what the referral says, as the reader may see it


def _reads(session: Session, actor: Actor, referrals: list[Referral], via: str) -> list[ReferralRead]:
    views = {
        v.id: v
        for v in read_items(
            session=session, actor=actor, item_ids=[r.item_id for r in referrals if r.item_id is not None], via=via
        )
    }
    out: list[ReferralRead] = []
    for referral in referrals:
        meeting = session.get(Meeting, referral.meeting_id)
        panel = session.get(Panel, referral.panel_id)
        case = session.get(Case, referral.case_id)
        assert meeting is not None and panel is not None and case is not None and referral.id is not None
        out.append(
            ReferralRead(
                id=referral.id, case_id=referral.case_id, case_reference=case.reference, panel_name=panel.name,
                meeting_id=referral.meeting_id, meeting_day=format_day(meeting.starts_at), status=referral.status,
                status_label=ReferralStatus(referral.status).label, decision_reason=referral.decision_reason,
                referred_at=referral.referred_at,
                content=views.get(referral.item_id) if referral.item_id is not None else None,
            )
        )  # fmt: skip
    return out


def list_case_referrals(*, session: Session, actor: Actor, case_id: int) -> list[ReferralRead]:
    """A case's referrals and where each stands, for its lead organisation."""
    require(actor, Permission.CASES_CASES_READ, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    if case.lead_organisation_id != actor.organisation_id and not actor.is_system:
        raise denied(
            actor, "Only the organisation leading this case can follow its referrals.",
            reason="not the lead organisation", subject_type="case", subject_id=case_id,
        )  # fmt: skip
    referrals = session.exec(
        select(Referral).where(Referral.case_id == case_id).order_by(col(Referral.referred_at))
    ).all()
    return _reads(session, actor, list(referrals), "case referrals")


def list_meeting_referrals(*, session: Session, actor: Actor, meeting_id: int) -> list[ReferralRead]:
    """The referrals waiting on a meeting, for its chair to decide (their content as far as it
    has been shared with the chair's organisation)."""
    _, panel = get_meeting(session, meeting_id)
    require_chair(session, actor, panel)
    referrals = session.exec(
        select(Referral).where(Referral.meeting_id == meeting_id).order_by(col(Referral.referred_at))
    ).all()
    return _reads(session, actor, list(referrals), "referrals to decide")
