"""A case's stages (Reading's six, 004 §8), its regular reviews, and closure.

* Stages: a case moves between the first five stages as the work needs, back and forth, each
  move with a reason (:func:`move_stage`).  It reaches Closure only through closure.
* Reviews: a first review a set number of months after opening, then at a regular interval
  (:func:`next_review_on`, stored on the case whenever the stage changes or a review is
  recorded); an enquiry that runs past its limit is flagged (:func:`stage_alerts`).
* Closure: the lead officer asks with a reason from the policies' list; a team manager other
  than the one who asked approves it, having told the victim of their right to an ASB Case
  Review (000 §14.4); the retention clock of every item of the case starts then.  A closed case
  can be reopened.  Cases with no incident for a while are *proposed* for closure by a
  scheduled job, never closed by it (003 §8.5).

Every number comes from the organisation's :class:`panels.policy.CasePolicy`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, StageMove
from panels.cases import add_case_event, case_for_update, refresh_case_summary
from panels.policy import CasePolicy, get_case_policy
from panels.vocabulary import CaseEventKind, CaseStage, CaseStatus, ClosureReason
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput
from sharing.models import InformationItem
from sharing.permissions import Actor, Permission

STAGE_ORDER: tuple[CaseStage, ...] = tuple(CaseStage)
OWN_CLOSURE = "A different manager must approve the closure you asked for"
TELL_VICTIM = "Tell the victim about their right to an ASB Case Review before closing"

# Reasons whose note must say something in particular.
CLOSURE_NOTE_REQUIRED: dict[ClosureReason, str] = {
    ClosureReason.REFERRED_TO_OTHER_AGENCY: "Say which agency the case was referred to.",
    ClosureReason.LEGAL_ACTION_CONCLUDED: "Say which legal action concluded and how.",
    ClosureReason.NO_CONTACT_FROM_COMPLAINANT: "Say how and when you tried to contact the complainant.",
}


class WrongCaseStatus(DomainError):
    """The action does not fit the case's status (e.g. approving a closure nobody asked for)."""


# --- Dates ---------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; a day the target month lacks becomes its last day
    (29 February 2028 + 12 months = 28 February 2029)."""
    result: date = day + relativedelta(months=months)
    return result


def long_date(day: date) -> str:
    """``3 March 2027``."""
    return f"{day.day} {day:%B %Y}"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# --- Pure rules ----------------------------------------------------------------------------


def enquiry_deadline(case: Case, policy: CasePolicy) -> date:
    """The last day of the initial enquiry stage: opening plus the enquiry limit."""
    return case.opened_at.date() + timedelta(days=policy.stages.enquiry_max_days)


def enquiry_overdue_label(policy: CasePolicy) -> str:
    days = policy.stages.enquiry_max_days
    weeks, rest = divmod(days, 7)
    span = f"{weeks} week{'s' if weeks != 1 else ''}" if rest == 0 else f"{days} day{'s' if days != 1 else ''}"
    return f"Enquiry stage over {span}"


def next_review_on(case: Case, policy: CasePolicy, *, last_reviewed_on: date | None = None) -> date:
    """When the case is next due a review: the first a set number of months after opening,
    then one every interval after the last review."""
    if last_reviewed_on is not None:
        return add_months(last_reviewed_on, policy.stages.review_every_months)
    return add_months(case.opened_at.date(), policy.stages.first_review_after_months)


def stage_alerts(case: Case, today: date, policy: CasePolicy) -> list[str]:
    """What needs attention about the case's stage and reviews today (nothing once closed)."""
    if case.status == CaseStatus.CLOSED:
        return []
    alerts: list[str] = []
    deadline = enquiry_deadline(case, policy)
    if case.stage == CaseStage.ENQUIRY and today > deadline:
        alerts.append(f"{enquiry_overdue_label(policy)}: it should have ended on {long_date(deadline)}")
    due = case.next_review_on or next_review_on(case, policy)
    if today == due:
        alerts.append("Case review due today")
    elif today > due:
        alerts.append(f"Case review overdue: it was due on {long_date(due)}")
    return alerts


def quiet_cutoff(today: date, policy: CasePolicy) -> date:
    """A case whose last incident (or opening, when none) was on or before this day has been
    quiet long enough to be proposed for closure."""
    return add_months(today, -policy.stages.propose_closure_after_quiet_months)


def last_activity_on(case: Case) -> date:
    return (case.last_incident_at or case.opened_at).date()


# --- Stage moves ---------------------------------------------------------------------------


def _last_reviewed_on(session: Session, case_id: int) -> date | None:
    latest = session.exec(
        select(func.max(col(CaseEvent.occurred_at))).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == CaseEventKind.STAGE_REVIEW
        )
    ).one()
    if latest is None:
        return None
    when: datetime = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
    return when.astimezone(UTC).date()


def _schedule_review(session: Session, case: Case, policy: CasePolicy) -> None:
    assert case.id is not None
    if case.status == CaseStatus.CLOSED:
        case.next_review_on = None
        return
    case.next_review_on = next_review_on(case, policy, last_reviewed_on=_last_reviewed_on(session, case.id))


def _record_move(
    session: Session, *, case: Case, actor: Actor, to_stage: CaseStage, reason: str, now: datetime
) -> StageMove:
    """Move the case (no checks: the caller has made them), with its row, line and audit."""
    assert case.id is not None
    from_stage = CaseStage(case.stage)
    move = StageMove(
        case_id=case.id,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason[:2000],
        moved_by_user_id=actor.user_id,
        moved_at=now,
    )
    session.add(move)
    case.stage = to_stage
    case.stage_changed_at = now
    _schedule_review(session, case, get_case_policy(session, case.lead_organisation_id))
    refresh_case_summary(session, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.STAGE_MOVED, occurred_at=now,
        summary=f"Moved from {from_stage.label} to {to_stage.label}: {reason}",
        subject_type="stage_move", subject_id=move.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.STAGE_MOVED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id,
        detail={"from": str(from_stage), "to": str(to_stage), "stage_move": move.id},
    )  # fmt: skip
    return move


def advance_to_stage(
    session: Session, *, case: Case, actor: Actor, to_stage: CaseStage, reason: str, now: datetime | None = None
) -> StageMove | None:
    """Move the case forward to ``to_stage`` if it is at an earlier stage; otherwise leave it.
    For services that have already checked the actor may change the case."""
    if STAGE_ORDER.index(CaseStage(case.stage)) >= STAGE_ORDER.index(to_stage):
        return None
    return _record_move(session, case=case, actor=actor, to_stage=to_stage, reason=reason, now=now or utcnow())


def move_stage(
    *, session: Session, actor: Actor, case_id: int, to_stage: str, reason: str, now: datetime | None = None
) -> StageMove:
    """Move an open case to another of the first five stages, forwards or back, with a reason.

    Closure is reached only through :func:`request_closure` and :func:`approve_closure`.
    """
    case = case_for_update(session, actor, case_id)
    errors: dict[str, str] = {}
    if to_stage not in {s.value for s in CaseStage}:
        errors["to_stage"] = "Choose a stage from the list."
    elif to_stage == CaseStage.CLOSURE:
        errors["to_stage"] = "A case reaches Closure only when a manager approves its closure: ask for closure instead."
    elif to_stage == case.stage:
        errors["to_stage"] = f"The case is already at {CaseStage(to_stage).label}."
    if not reason.strip():
        errors["reason"] = "Say why the case is moving stage."
    if errors:
        raise InvalidInput(errors)
    if case.status == CaseStatus.CLOSED:
        raise WrongCaseStatus("This case is closed: reopen it before moving its stage.")
    return _record_move(
        session, case=case, actor=actor, to_stage=CaseStage(to_stage), reason=reason.strip(), now=now or utcnow()
    )


def record_stage_review(*, session: Session, actor: Actor, case_id: int, reviewed_on: date, note: str) -> date:
    """Record that the case's progress was reviewed; returns (and stores) the next review date."""
    case = case_for_update(session, actor, case_id)
    errors: dict[str, str] = {}
    now = utcnow()
    if reviewed_on > now.date():
        errors["reviewed_on"] = "A review cannot be recorded for a date still to come."
    elif reviewed_on < case.opened_at.date():
        errors["reviewed_on"] = "The review date is before the case was opened."
    if not note.strip():
        errors["note"] = "Note what the review found and decided."
    if errors:
        raise InvalidInput(errors)
    if case.status == CaseStatus.CLOSED:
        raise WrongCaseStatus("This case is closed: reopen it before recording a review.")
    occurred_at = now if reviewed_on == now.date() else _start_of(reviewed_on)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.STAGE_REVIEW, occurred_at=occurred_at,
        summary=f"Case reviewed on {long_date(reviewed_on)}: {note.strip()}",
    )  # fmt: skip
    _schedule_review(session, case, get_case_policy(session, case.lead_organisation_id))
    assert case.next_review_on is not None
    refresh_case_summary(session, case)
    record_event(
        session, action=AuditAction.CASE_UPDATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id,
        detail={"reviewed_on": reviewed_on.isoformat(), "next_review_on": case.next_review_on.isoformat()},
    )  # fmt: skip
    return case.next_review_on


# --- Closure -------------------------------------------------------------------------------


def _set_items_closed_on(session: Session, case: Case, closed_on: date | None) -> None:
    """Start (or, on reopening, stop) the retention clock of every item of the case."""
    session.execute(
        update(InformationItem)
        .where(col(InformationItem.case_reference) == case.reference)
        .values(case_closed_on=closed_on)
        .execution_options(synchronize_session="fetch")
    )


def request_closure(*, session: Session, actor: Actor, case_id: int, reason: str, note: str) -> Case:
    """Ask for the case to be closed, with a reason from the list (some need a note); a team
    manager then approves or refuses it."""
    case = case_for_update(session, actor, case_id)
    errors: dict[str, str] = {}
    if reason not in {r.value for r in ClosureReason}:
        errors["reason"] = "Choose a reason for closing from the list."
    elif ClosureReason(reason) in CLOSURE_NOTE_REQUIRED and not note.strip():
        errors["note"] = CLOSURE_NOTE_REQUIRED[ClosureReason(reason)]
    if errors:
        raise InvalidInput(errors)
    if case.status == CaseStatus.CLOSED:
        raise WrongCaseStatus("This case is already closed.")
    if case.status == CaseStatus.CLOSURE_REQUESTED:
        raise WrongCaseStatus("Closure has already been asked for: a team manager is to decide.")
    label = ClosureReason(reason).label
    case.status = CaseStatus.CLOSURE_REQUESTED
    case.closure_reason = reason
    case.closure_note = note.strip()
    case.closure_requested_by_user_id = actor.user_id
    case.closure_requested_at = utcnow()
    refresh_case_summary(session, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.CLOSURE_REQUESTED,
        summary=f"Closure requested: {label}" + (f" ({case.closure_note})" if case.closure_note else ""),
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CLOSURE_REQUESTED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, detail={"reason": reason},
    )  # fmt: skip
    return case


def _for_closure_decision(session: Session, actor: Actor, case_id: int) -> Case:
    case = case_for_update(session, actor, case_id, Permission.CASES_CLOSURE_APPROVE)
    if case.status != CaseStatus.CLOSURE_REQUESTED:
        raise WrongCaseStatus("Nobody has asked for this case to be closed.")
    return case


def approve_closure(
    *, session: Session, actor: Actor, case_id: int, victim_told_of_case_review: bool, now: datetime | None = None
) -> Case:
    """Close the case (team managers of the lead organisation, not the one who asked).

    The manager confirms the victim has been told of their right to an ASB Case Review; the
    retention clock of every item of the case starts on the closing day.
    """
    case = _for_closure_decision(session, actor, case_id)
    if actor.user_id is not None and actor.user_id == case.closure_requested_by_user_id:
        raise denied(
            actor, OWN_CLOSURE, reason="approving own closure request", subject_type="case", subject_id=case.id
        )
    if not victim_told_of_case_review:
        raise InvalidInput({"victim_told_of_case_review": TELL_VICTIM}, message=TELL_VICTIM)
    when = now or utcnow()
    label = ClosureReason(case.closure_reason).label
    if case.stage != CaseStage.CLOSURE:
        _record_move(session, case=case, actor=actor, to_stage=CaseStage.CLOSURE, reason=f"Closed: {label}", now=when)
    case.status = CaseStatus.CLOSED
    case.closed_at = when
    case.closure_approved_by_user_id = actor.user_id
    case.victim_told_of_case_review_at = when
    case.closure_proposed_at = None
    case.next_review_on = None
    _set_items_closed_on(session, case, when.date())
    refresh_case_summary(session, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.CLOSED, occurred_at=when,
        summary=f"Case closed: {label}. The victim was told of their right to an ASB Case Review.",
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CLOSURE_APPROVED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id,
        detail={"reason": case.closure_reason, "requested_by": case.closure_requested_by_user_id},
    )  # fmt: skip
    return case


def _clear_closure_request(case: Case) -> None:
    case.closure_reason = ""
    case.closure_note = ""
    case.closure_requested_by_user_id = None
    case.closure_requested_at = None


def refuse_closure(*, session: Session, actor: Actor, case_id: int, reason: str) -> Case:
    """Keep the case open (team managers), saying why."""
    case = _for_closure_decision(session, actor, case_id)
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the case should stay open."})
    asked_for = case.closure_reason
    case.status = CaseStatus.OPEN
    _clear_closure_request(case)
    refresh_case_summary(session, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.CLOSURE_REFUSED,
        summary=f"Closure refused: {reason.strip()}",
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CLOSURE_REFUSED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, reason=reason.strip()[:500], detail={"asked_for": asked_for},
    )  # fmt: skip
    return case


def reopen_case(*, session: Session, actor: Actor, case_id: int, reason: str, now: datetime | None = None) -> Case:
    """Reopen a closed case (e.g. on a new report), back at the stage it was at before closure.
    The retention clock of its items stops."""
    case = case_for_update(session, actor, case_id)
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the case is being reopened."})
    if case.status != CaseStatus.CLOSED:
        raise WrongCaseStatus("Only a closed case can be reopened.")
    when = now or utcnow()
    into_closure = session.exec(
        select(StageMove)
        .where(StageMove.case_id == case.id, StageMove.to_stage == CaseStage.CLOSURE)
        .order_by(col(StageMove.moved_at).desc(), col(StageMove.id).desc())
    ).first()
    back_to = CaseStage(into_closure.from_stage) if into_closure is not None else CaseStage.ENQUIRY
    case.status = CaseStatus.OPEN
    case.closed_at = None
    case.closure_approved_by_user_id = None
    case.victim_told_of_case_review_at = None
    _clear_closure_request(case)
    _set_items_closed_on(session, case, None)
    _record_move(session, case=case, actor=actor, to_stage=back_to, reason=f"Reopened: {reason.strip()}", now=when)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.REOPENED, occurred_at=when,
        summary=f"Case reopened: {reason.strip()}",
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_REOPENED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, reason=reason.strip()[:500], detail={"stage": str(back_to)},
    )  # fmt: skip
    return case


# --- Proposed closure (a scheduled job) ------------------------------------------------------


def propose_quiet_cases_for_closure(*, session: Session, actor: Actor, today: date) -> list[int]:
    """Propose for closure every open case with no incident (or, with none, no opening) in the
    organisation's quiet period.  Nothing is closed: the lead officer decides.  A case already
    proposed is left alone, so running the job twice proposes once.  Returns the cases proposed.

    The scheduler calls it with the system actor (every organisation); a person calling it
    proposes only their own organisation's cases.
    """
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case")
    query = (
        select(col(Case.lead_organisation_id))
        .distinct()
        .where(Case.status == CaseStatus.OPEN, col(Case.closure_proposed_at).is_(None))
    )
    if not actor.is_system:
        query = query.where(Case.lead_organisation_id == actor.organisation_id)
    proposed: list[int] = []
    now = utcnow()
    for organisation_id in sorted(session.exec(query).all()):
        policy = get_case_policy(session, organisation_id)
        cutoff = quiet_cutoff(today, policy)
        last_activity = func.coalesce(col(Case.last_incident_at), col(Case.opened_at))
        quiet = session.exec(
            select(Case)
            .where(
                Case.lead_organisation_id == organisation_id,
                Case.status == CaseStatus.OPEN,
                col(Case.closure_proposed_at).is_(None),
                last_activity < _start_of(cutoff + timedelta(days=1)),
            )
            .order_by(col(Case.id))
        ).all()
        for case in quiet:
            since = last_activity_on(case)
            if since > cutoff:  # the database compared instants; the rule is about days
                continue
            assert case.id is not None
            case.closure_proposed_at = now
            refresh_case_summary(session, case)
            quiet_since = (
                f"no incident since {long_date(since)}"
                if case.last_incident_at
                else f"no incident since the case was opened on {long_date(since)}"
            )
            add_case_event(
                session, case=case, actor=actor, kind=CaseEventKind.CLOSURE_PROPOSED, occurred_at=now,
                summary=(
                    f"Proposed for closure: {quiet_since}. The case stays open until the lead officer asks "
                    "for closure and a manager approves it."
                ),
            )  # fmt: skip
            record_event(
                session, action=AuditAction.CLOSURE_PROPOSED, outcome=Outcome.SUCCESS, actor=actor,
                subject_type="case", subject_id=case.id, detail={"last_activity_on": since.isoformat()},
            )  # fmt: skip
            proposed.append(case.id)
    return proposed
