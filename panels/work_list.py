"""The case deadlines a person's "My work" shows: first contacts, contact with the victim,
case and action plan reviews, and notices about to run out, on the cases they lead.

A deadline shows from ``ContactCadence.action_due_soon_days`` before it (a notice's end from
``LegalClocks.nosp_expiry_warning_days`` before, as its reminder does) and stays until it is
met.  Every number comes from the lead organisation's policy.  Which cases appear is decided
by the need-to-know chokepoint: each case's summary is read through ``sharing.reads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from panels.action_models import ActionPlan, CaseContact
from panels.action_plans import plan_agreement_due
from panels.case_models import Case, Intervention
from panels.notifications import case_path, local_date
from panels.policy import CasePolicy, get_case_policy
from panels.reminders import next_plan_review_on
from panels.vocabulary import CaseStatus, InterventionKind, InterventionStatus
from sharing.access import require
from sharing.db import utcnow
from sharing.models import Role
from sharing.permissions import Actor, Permission
from sharing.reads import read_items

FIRST_CONTACT = "first_contact"
VICTIM_CONTACT = "victim_contact"
CASE_REVIEW = "case_review"
PLAN_AGREEMENT = "plan_agreement"
PLAN_REVIEW = "plan_review"
NOTICE_ENDING = "notice_ending"
MONITORING_ENDING = "monitoring_ending"


def plan_path(case_id: int) -> str:
    return f"{case_path(case_id)}/plan"


@dataclass(frozen=True)
class DeadlineRead:
    """One deadline on one case, with the page where it is met."""

    case_id: int
    case_reference: str
    kind: str
    label: str
    due_on: date
    overdue: bool
    link_path: str


def _aware(moment: datetime | None) -> datetime | None:
    # Aggregates bypass the column type on SQLite: make them UTC-aware again.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _my_cases(session: Session, actor: Actor) -> list[Case]:
    """Open cases the actor leads; for a manager, also their organisation's cases with no lead officer."""
    mine = col(Case.lead_officer_user_id) == actor.user_id
    if Role.MANAGER in actor.roles:
        mine = mine | col(Case.lead_officer_user_id).is_(None)
    return list(
        session.exec(
            select(Case)
            .where(Case.lead_organisation_id == actor.organisation_id, Case.status != CaseStatus.CLOSED, mine)
            .order_by(col(Case.id))
        )
    )


def _deadlines(
    case: Case,
    policy: CasePolicy,
    plan: ActionPlan | None,
    agree_by: date,
    last_contact: datetime | None,
    notices: list[Intervention],
    now: datetime,
    today: date,
) -> list[DeadlineRead]:
    assert case.id is not None
    soon = today + timedelta(days=policy.cadence.action_due_soon_days)
    found: list[DeadlineRead] = []

    def add(kind: str, label: str, due_on: date, link: str, overdue: bool | None = None) -> None:
        found.append(
            DeadlineRead(
                case_id=case.id or 0, case_reference=case.reference, kind=kind, label=label, due_on=due_on,
                overdue=due_on < today if overdue is None else overdue, link_path=link,
            )
        )  # fmt: skip

    here = case_path(case.id)
    if case.first_contact_made_at is None and last_contact is None:
        if case.first_contact_due_at is not None and local_date(case.first_contact_due_at) <= soon:
            add(FIRST_CONTACT, "First contact with the victim", local_date(case.first_contact_due_at), here,
                overdue=now > case.first_contact_due_at)  # fmt: skip
    else:
        latest = max(t for t in (case.first_contact_made_at, last_contact) if t is not None)
        next_on = local_date(latest) + timedelta(days=policy.cadence.victim_contact_every_days)
        if next_on <= soon:
            add(VICTIM_CONTACT, "Contact with the victim", next_on, plan_path(case.id))
    if case.next_review_on is not None and case.next_review_on <= soon:
        add(CASE_REVIEW, "Case review", case.next_review_on, here)
    if plan is None or plan.agreed_on is None:
        if agree_by <= soon:
            add(PLAN_AGREEMENT, "Agreeing the action plan with the complainant", agree_by, plan_path(case.id))
    else:
        review_on = next_plan_review_on(plan.agreed_on, plan.last_reviewed_on, policy.cadence)
        if review_on is not None and review_on <= soon:
            add(PLAN_REVIEW, "Action plan review", review_on, plan_path(case.id))
    warn = timedelta(days=policy.clocks.nosp_expiry_warning_days)
    for notice in notices:
        label = (
            InterventionKind(notice.kind).label if notice.kind in InterventionKind._value2member_map_ else notice.kind
        )
        if notice.expires_on is not None and notice.expires_on - warn <= today:
            add(NOTICE_ENDING, f"{label} ends", notice.expires_on, here)
        if notice.monitoring_ends_on is not None and notice.monitoring_ends_on - warn <= today:
            add(MONITORING_ENDING, f"Monitoring of the {label} ends", notice.monitoring_ends_on, here)
    return found


def list_case_deadlines(*, session: Session, actor: Actor, now: datetime | None = None) -> list[DeadlineRead]:
    """The deadlines due soon or missed on the open cases the actor leads (and, for a
    manager, their organisation's cases without a lead officer): overdue first, then by date."""
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case")
    if actor.organisation_id is None or actor.user_id is None:
        return []
    now = now or utcnow()
    today = local_date(now)
    cases = _my_cases(session, actor)
    item_ids = [c.summary_item_id for c in cases if c.summary_item_id is not None]
    visible = {v.id for v in read_items(session=session, actor=actor, item_ids=item_ids, via="my work")}
    cases = [c for c in cases if c.summary_item_id in visible]
    if not cases:
        return []
    ids = [c.id for c in cases]
    plans = {p.case_id: p for p in session.exec(select(ActionPlan).where(col(ActionPlan.case_id).in_(ids)))}
    contacts = dict(
        session.exec(
            select(CaseContact.case_id, func.max(CaseContact.contacted_at))
            .where(col(CaseContact.case_id).in_(ids))
            .group_by(col(CaseContact.case_id))
        ).all()
    )
    notices: dict[int, list[Intervention]] = {}
    for notice in session.exec(
        select(Intervention)
        .where(col(Intervention.case_id).in_(ids), Intervention.status == InterventionStatus.SERVED)
        .order_by(col(Intervention.id))
    ):
        notices.setdefault(notice.case_id, []).append(notice)
    policy = get_case_policy(session, actor.organisation_id)
    found: list[DeadlineRead] = []
    for case in cases:
        assert case.id is not None
        plan = plans.get(case.id)
        agree_by = plan.due_to_agree_by if plan is not None else plan_agreement_due(session, case)
        found += _deadlines(
            case, policy, plan, agree_by, _aware(contacts.get(case.id)), notices.get(case.id, []), now, today
        )
    return sorted(found, key=lambda d: (not d.overdue, d.due_on, d.case_reference, d.kind))
