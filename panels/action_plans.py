"""Case Action Plans (Welwyn 003 §8.5): what the agencies and the complainant will do, by
when, agreed with the complainant within ``ContactCadence.action_plan_agreed_within_working_days``
of the report and reviewed every ``action_plan_review_every_months``.

Who may do what:

* The organisation leading the case adds actions, assigns them to any partner organisation
  and person, records the complainant's agreement and the plan's reviews, and may update
  any of its actions.
* An action's owner (the person it is assigned to) and the managers of the owner
  organisation update it, even when they can see nothing else of the case: they see the
  action itself (its wording, due date and case reference).  Anything more of the case,
  including the rest of the plan, they see only through a disclosure: the plan is an
  information item owned by the lead organisation, read through ``sharing.reads``.
* Every refusal is audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from panels.action_models import (
    OPEN_ACTION_STATUSES,
    ActionParty,
    ActionPlan,
    ActionSource,
    ActionStatus,
    CaseAction,
    CaseActionUpdate,
    CaseContact,
    ContactMethod,
    ReminderKind,
)
from panels.case_models import Case, CaseReport
from panels.cases import add_case_event, case_for_update, case_item, get_case
from panels.notifications import action_path, local_date, long_date, notify
from panels.policy import ContactCadence, get_case_policy
from panels.vocabulary import CaseEventKind, CaseStatus
from sharing.access import denied, require
from sharing.accounts import roles_of
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import InformationItem, Organisation, Role, User, UserRole
from sharing.permissions import Actor, Permission, permissions_for
from sharing.reads import read_items
from sharing.register import store_document
from sharing.rules import add_working_days
from sharing.vocabulary import WITHHELD, DataCategory, ItemKind

NOT_YOUR_ACTION = (
    "Only the person this action is assigned to, a manager in their organisation, or the organisation "
    "leading the case can change it."
)
NOT_YOUR_AGENCY = "Only the organisation leading the case can give this action to another organisation."
PLAN_VIA = "action plan"
EVIDENCE_FILES = "Attach the evidence as a PDF, PNG or JPEG file of up to 10 MB."


# --- Read models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRead:
    id: int
    case_id: int
    case_reference: str
    number: int
    description: str  # WITHHELD when the actor may see that the action exists but not its wording
    party: str
    party_label: str
    owner_organisation_id: int
    owner_organisation: str
    owner_user_id: int | None
    owner_name: str
    due_on: date
    source: str
    source_label: str
    source_panel_id: int | None
    source_meeting_id: int | None
    status: str
    status_label: str
    is_open: bool
    overdue: bool
    due_soon: bool
    days_overdue: int
    completed_at: datetime | None
    updated_at: datetime
    withheld: bool = False


@dataclass(frozen=True)
class ActionUpdateRead:
    id: int
    kind: str
    status_from: str
    status_to: str
    status_label: str
    note: str
    document_id: int | None
    by_name: str
    by_organisation: str
    at: datetime


@dataclass(frozen=True)
class PlanRead:
    case_id: int
    case_reference: str
    plan_id: int | None
    due_to_agree_by: date | None
    agreed_on: date | None
    last_reviewed_on: date | None
    actions: tuple[ActionRead, ...]
    # True when the plan as a whole was not shared with the actor's organisation: only the
    # actions it owns are listed.
    partial: bool = False
    # The actor's organisation leads the case and the actor may change the plan.
    can_manage: bool = False
    # When the agreed plan is next due for review (every ``action_plan_review_every_months``).
    next_review_on: date | None = None


@dataclass
class ActionInput:
    description: str
    due_on: date
    owner_organisation_id: int
    owner_user_id: int | None = None
    party: str = ActionParty.AGENCY
    source: str = ActionSource.CASE_OFFICER
    source_panel_id: int | None = None
    source_meeting_id: int | None = None


@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


class _Names:
    """Organisation and person names, fetched once per call."""

    def __init__(self, session: Session, actions: Sequence[CaseAction]) -> None:
        org_ids = {a.owner_organisation_id for a in actions}
        user_ids = {a.owner_user_id for a in actions if a.owner_user_id is not None}
        case_ids = {a.case_id for a in actions}
        self.orgs = (
            dict(
                session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(org_ids))).all()
            )
            if org_ids
            else {}
        )
        self.users = (
            dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(user_ids))).all())
            if user_ids
            else {}
        )
        self.references = (
            dict(session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(case_ids))).all())
            if case_ids
            else {}
        )


def _action_read(
    action: CaseAction, names: _Names, today: date, due_soon_days: int, *, withheld: bool = False
) -> ActionRead:
    assert action.id is not None
    status = ActionStatus(action.status)
    is_open = status.is_open
    overdue = is_open and action.due_on < today
    return ActionRead(
        id=action.id,
        case_id=action.case_id,
        case_reference=names.references.get(action.case_id, ""),
        number=action.number,
        description=WITHHELD if withheld else action.description,
        party=action.party,
        party_label=ActionParty(action.party).label,
        owner_organisation_id=action.owner_organisation_id,
        owner_organisation=names.orgs.get(action.owner_organisation_id, ""),
        owner_user_id=action.owner_user_id,
        owner_name=names.users.get(action.owner_user_id, "") if action.owner_user_id else "",
        due_on=action.due_on,
        source=action.source,
        source_label=ActionSource(action.source).label,
        source_panel_id=action.source_panel_id,
        source_meeting_id=action.source_meeting_id,
        status=action.status,
        status_label=status.label,
        is_open=is_open,
        overdue=overdue,
        due_soon=is_open and not overdue and (action.due_on - today).days <= due_soon_days,
        days_overdue=(today - action.due_on).days if overdue else 0,
        completed_at=action.completed_at,
        updated_at=action.updated_at,
        withheld=withheld,
    )


def _reads(
    session: Session,
    actor: Actor,
    actions: Sequence[CaseAction],
    today: date,
    *,
    withheld_ids: frozenset[int] = frozenset(),
) -> list[ActionRead]:
    names = _Names(session, actions)
    soon = _due_soon_days(session, actor)
    return [_action_read(a, names, today, soon, withheld=a.id in withheld_ids) for a in actions]


def _due_soon_days(session: Session, actor: Actor) -> int:
    if actor.organisation_id is None:
        return 0
    return get_case_policy(session, actor.organisation_id).cadence.action_due_soon_days


def _worklist_order(action: ActionRead) -> tuple[int, date, int]:
    """Overdue first (the longest overdue first), then due soon, then the rest, by due date."""
    band = 0 if action.overdue else 1 if action.due_soon else 2 if action.is_open else 3
    return (band, action.due_on, action.id)


# --- The plan and its information item ---------------------------------------------------------


def report_received_at(session: Session, case: Case) -> datetime:
    """When the case was first reported (its earliest report, or its opening)."""
    first = session.exec(
        select(CaseReport.received_at).where(CaseReport.case_id == case.id).order_by(col(CaseReport.received_at))
    ).first()
    return first or case.opened_at


def plan_agreement_due_from(reported_at: datetime, cadence: ContactCadence) -> date:
    """The day a plan must be agreed with the complainant by: working days after the report."""
    return local_date(add_working_days(reported_at, cadence.action_plan_agreed_within_working_days))


def plan_agreement_due(session: Session, case: Case) -> date:
    cadence = get_case_policy(session, case.lead_organisation_id).cadence
    return plan_agreement_due_from(report_received_at(session, case), cadence)


def plan_of(session: Session, case_id: int) -> ActionPlan | None:
    return session.exec(select(ActionPlan).where(ActionPlan.case_id == case_id)).first()


def _plan_for(session: Session, case: Case, actor: Actor) -> ActionPlan:
    """The case's plan, created (with its information item) on first use."""
    assert case.id is not None
    plan = plan_of(session, case.id)
    if plan is not None:
        return plan
    plan = ActionPlan(
        case_id=case.id, due_to_agree_by=plan_agreement_due(session, case), created_by_user_id=actor.user_id
    )
    session.add(plan)
    session.flush()
    item = case_item(
        session, case=case, actor=actor, kind=ItemKind.ACTION_PLAN, title=f"Action plan {case.reference}",
        category=DataCategory.ASB_HISTORY, fields=[],
    )  # fmt: skip
    plan.item_id = item.id
    session.add(plan)
    _refresh_plan_item(session, plan, case)
    record_event(
        session, action=AuditAction.ACTION_PLAN_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, detail={"plan_id": plan.id, "reference": case.reference},
    )  # fmt: skip
    return plan


def _refresh_plan_item(session: Session, plan: ActionPlan, case: Case) -> None:
    """Rewrite the plan's information item from its actions (after every change)."""
    if plan.item_id is None:
        return
    item = session.get(InformationItem, plan.item_id)
    assert item is not None
    actions = session.exec(
        select(CaseAction).where(CaseAction.plan_id == plan.id).order_by(col(CaseAction.number))
    ).all()
    names = _Names(session, actions)
    asb = str(DataCategory.ASB_HISTORY)
    agreed = (
        f"Agreed on {long_date(plan.agreed_on)}"
        if plan.agreed_on
        else f"Not yet agreed (due by {long_date(plan.due_to_agree_by)})"
    )
    content = [{"key": "agreed", "label": "Agreed with the complainant", "value": agreed, "category": asb}]
    if plan.last_reviewed_on:
        content.append(
            {"key": "reviewed", "label": "Last reviewed", "value": long_date(plan.last_reviewed_on), "category": asb}
        )
    for a in actions:
        owner = names.orgs.get(a.owner_organisation_id, "")
        if a.party == ActionParty.COMPLAINANT:
            owner = "The complainant"
        content.append(
            {
                "key": f"action_{a.number}",
                "label": f"Action {a.number} ({owner}, due {long_date(a.due_on)})",
                "value": f"{a.description} [{ActionStatus(a.status).label}]",
                "category": asb,
            }
        )
    item.content = content
    session.add(item)
    session.flush()


def get_action_plan(*, session: Session, actor: Actor, case_id: int, today: date | None = None) -> PlanRead:
    """The case's plan as the actor may see it: all of it for the lead organisation, or for a
    partner the plan has been disclosed to; otherwise only the actions the actor's
    organisation owns (``partial``)."""
    require(actor, Permission.ACTIONS_ACTIONS_READ, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    today = today or local_date(utcnow())
    plan = plan_of(session, case_id)
    actions = (
        session.exec(select(CaseAction).where(CaseAction.plan_id == plan.id).order_by(col(CaseAction.number))).all()
        if plan is not None
        else []
    )
    whole = actor.is_system or actor.organisation_id == case.lead_organisation_id
    if not whole and plan is not None and plan.item_id is not None:
        # The chokepoint decides (and logs) whether the plan was shared with this organisation.
        whole = plan.item_id in _plans_shared_with(session, actor, [plan.item_id])
    if not whole:
        actions = [a for a in actions if a.owner_organisation_id == actor.organisation_id]
    return PlanRead(
        case_id=case_id,
        case_reference=case.reference,
        plan_id=plan.id if plan else None,
        due_to_agree_by=(plan.due_to_agree_by if plan else plan_agreement_due(session, case)) if whole else None,
        agreed_on=plan.agreed_on if plan and whole else None,
        last_reviewed_on=plan.last_reviewed_on if plan and whole else None,
        actions=tuple(_reads(session, actor, actions, today)),
        partial=not whole,
        can_manage=actor.can(Permission.ACTIONS_PLANS_MANAGE)
        and (actor.is_system or actor.organisation_id == case.lead_organisation_id),
        next_review_on=_next_review_on(plan, get_case_policy(session, case.lead_organisation_id).cadence)
        if plan is not None and whole
        else None,
    )


def _next_review_on(plan: ActionPlan, cadence: ContactCadence) -> date | None:
    anchor = plan.last_reviewed_on or plan.agreed_on
    if anchor is None:
        return None
    result: date = anchor + relativedelta(months=cadence.action_plan_review_every_months)
    return result


def agree_action_plan(
    *, session: Session, actor: Actor, case_id: int, agreed_on: date, today: date | None = None
) -> ActionPlan:
    """Record the day the complainant agreed the plan."""
    case = case_for_update(session, actor, case_id, Permission.ACTIONS_PLANS_MANAGE)
    today = today or local_date(utcnow())
    if agreed_on > today:
        raise InvalidInput({"agreed_on": "The plan cannot be agreed on a day still to come."})
    if agreed_on < local_date(case.opened_at):
        raise InvalidInput({"agreed_on": "The plan cannot be agreed before the case was opened."})
    plan = _plan_for(session, case, actor)
    plan.agreed_on = agreed_on
    plan.agreed_recorded_by_user_id = actor.user_id
    session.add(plan)
    _refresh_plan_item(session, plan, case)
    late = agreed_on > plan.due_to_agree_by
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.ACTION, item_id=plan.item_id,
        summary=f"Action plan agreed with the complainant on {long_date(agreed_on)}" + (" (late)" if late else ""),
        subject_type="action_plan", subject_id=plan.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.ACTION_PLAN_AGREED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case_id,
        detail={"agreed_on": agreed_on.isoformat(), "due_by": plan.due_to_agree_by.isoformat(), "late": late},
    )  # fmt: skip
    return plan


def review_action_plan(
    *, session: Session, actor: Actor, case_id: int, reviewed_on: date, today: date | None = None
) -> ActionPlan:
    """Record a review of the plan (due every ``action_plan_review_every_months``)."""
    case = case_for_update(session, actor, case_id, Permission.ACTIONS_PLANS_MANAGE)
    today = today or local_date(utcnow())
    plan = plan_of(session, case_id)
    if plan is None or plan.agreed_on is None:
        raise InvalidInput({"reviewed_on": "Agree the plan with the complainant before reviewing it."})
    if reviewed_on > today or reviewed_on < plan.agreed_on:
        raise InvalidInput(
            {"reviewed_on": "Give the day of the review: not in the future, nor before the plan was agreed."}
        )
    plan.last_reviewed_on = reviewed_on
    plan.reviewed_by_user_id = actor.user_id
    session.add(plan)
    _refresh_plan_item(session, plan, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.ACTION, item_id=plan.item_id,
        summary=f"Action plan reviewed on {long_date(reviewed_on)}", subject_type="action_plan", subject_id=plan.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.ACTION_PLAN_REVIEWED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case_id, detail={"reviewed_on": reviewed_on.isoformat()},
    )  # fmt: skip
    return plan


# --- Adding and assigning actions -------------------------------------------------------------


def _check_owner(
    session: Session, errors: dict[str, str], case: Case, organisation_id: int, user_id: int | None, party: str
) -> None:
    org = session.get(Organisation, organisation_id)
    if org is None or not org.active:
        errors["owner_organisation_id"] = "Choose an organisation from the list."
        return
    if party == ActionParty.COMPLAINANT and organisation_id != case.lead_organisation_id:
        errors["owner_organisation_id"] = (
            "The complainant's own actions are followed up by the organisation leading the case."
        )
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.organisation_id != organisation_id:
        errors["owner_user_id"] = f"Choose a person who works for {org.name}."
    elif Permission.ACTIONS_ACTIONS_UPDATE not in permissions_for(roles_of(session, user_id)):
        errors["owner_user_id"] = (
            "That person cannot update actions in the portal: choose someone else, or leave it to their managers."
        )


def add_action(
    *, session: Session, actor: Actor, case_id: int, data: ActionInput, today: date | None = None
) -> CaseAction:
    """Add an action to the case's plan (the lead organisation), creating the plan on first
    use.  The owner is told."""
    case = case_for_update(session, actor, case_id, Permission.ACTIONS_PLANS_MANAGE)
    today = today or local_date(utcnow())
    errors: dict[str, str] = {}
    if case.status == CaseStatus.CLOSED:
        errors["case"] = "This case is closed. Reopen it before adding actions."
    description = data.description.strip()
    if not description:
        errors["description"] = "Say what will be done."
    elif len(description) > 2000:
        errors["description"] = "Keep the action to 2,000 characters; put the detail in a case note."
    if data.party not in {p.value for p in ActionParty}:
        errors["party"] = "Say whether an agency or the complainant will do this."
    if data.source not in {s.value for s in ActionSource}:
        errors["source"] = "Say where the action came from."
    elif data.source == ActionSource.PANEL_DECISION and data.source_panel_id is None:
        errors["source_panel_id"] = "Say which panel agreed this action."
    if data.due_on < today:
        errors["due_on"] = "Choose a due date from today onwards."
    _check_owner(session, errors, case, data.owner_organisation_id, data.owner_user_id, data.party)
    if errors:
        raise InvalidInput(errors)
    return _insert_action(session, actor, case, data, description)


def add_panel_action(*, session: Session, actor: Actor, case: Case, data: ActionInput) -> CaseAction:
    """Put an action a panel agreed on the case's plan, creating the plan on first use.  For
    the panel's decision service, which has already checked that the actor chairs the panel
    and that the owner and due date are sound; the owner is told as with any other action."""
    if data.source != ActionSource.PANEL_DECISION or data.source_panel_id is None:
        raise InvalidInput({"source_panel_id": "Say which panel agreed this action."})
    description = data.description.strip()
    if not description:
        raise InvalidInput({"description": "Say what will be done."})
    return _insert_action(session, actor, case, data, description[:2000])


def _insert_action(session: Session, actor: Actor, case: Case, data: ActionInput, description: str) -> CaseAction:
    plan = _plan_for(session, case, actor)
    numbers = session.exec(select(CaseAction.number).where(CaseAction.plan_id == plan.id)).all()
    now = utcnow()
    assert plan.id is not None and case.id is not None
    action = CaseAction(
        plan_id=plan.id,
        case_id=case.id,
        number=max(numbers, default=0) + 1,
        description=description,
        party=data.party,
        owner_organisation_id=data.owner_organisation_id,
        owner_user_id=data.owner_user_id,
        due_on=data.due_on,
        source=data.source,
        source_panel_id=data.source_panel_id,
        source_meeting_id=data.source_meeting_id,
        status=ActionStatus.OPEN,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(action)
    session.flush()
    assert action.id is not None
    session.add(
        CaseActionUpdate(
            action_id=action.id, kind="added", status_to=ActionStatus.OPEN, by_user_id=actor.user_id,
            by_organisation_id=actor.organisation_id, at=now,
        )
    )  # fmt: skip
    _refresh_plan_item(session, plan, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.ACTION, item_id=plan.item_id,
        summary=f"Action {action.number} added, due {long_date(action.due_on)}",
        subject_type="case_action", subject_id=action.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.ACTION_ADDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case_action", subject_id=action.id,
        detail={"case": case.reference, "owner_organisation_id": action.owner_organisation_id,
                "owner_user_id": action.owner_user_id, "due_on": action.due_on.isoformat(), "source": action.source},
    )  # fmt: skip
    _tell_owner(session, action, case)
    return action


def _managers_of(session: Session, organisation_id: int) -> list[int]:
    return users_with_role(session, organisation_id, Role.MANAGER)


def users_with_role(session: Session, organisation_id: int, role: Role) -> list[int]:
    """Active people of an organisation holding ``role``."""
    rows = session.exec(
        select(User.id)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(User.organisation_id == organisation_id, col(User.is_active), UserRole.role == role)
        .order_by(col(User.id))
    ).all()
    return [r for r in rows if r is not None]


def action_recipients(session: Session, action: CaseAction) -> list[int]:
    """Who hears about an action: its owner, or (without one) the owner organisation's managers."""
    if action.owner_user_id is not None:
        owner = session.get(User, action.owner_user_id)
        if owner is not None and owner.is_active:
            return [action.owner_user_id]
    return _managers_of(session, action.owner_organisation_id)


def _tell_owner(session: Session, action: CaseAction, case: Case) -> None:
    assert action.id is not None
    notify(
        session,
        user_ids=action_recipients(session, action),
        kind=ReminderKind.ACTION_ASSIGNED,
        title=f"New action on case {case.reference}",
        body=f"Action {action.number} on case {case.reference} is yours, due {long_date(action.due_on)}.",
        link_path=action_path(action.id),
        case_reference=case.reference,
    )


def _relation(session: Session, actor: Actor, action: CaseAction) -> tuple[str, Case]:
    """How the actor stands to the action: lead (organisation), owner, owner_manager, or ''."""
    case = get_case(session, action.case_id)
    if actor.is_system:
        return "lead", case
    if actor.organisation_id == case.lead_organisation_id and actor.can(Permission.ACTIONS_PLANS_MANAGE):
        return "lead", case
    if actor.user_id is not None and actor.user_id == action.owner_user_id:
        return "owner", case
    if Role.MANAGER in actor.roles and actor.organisation_id == action.owner_organisation_id:
        return "owner_manager", case
    return "", case


def _action_for(session: Session, actor: Actor, action_id: int, permission: Permission) -> tuple[CaseAction, str, Case]:
    require(actor, permission, subject_type="case_action", subject_id=action_id)
    action = session.get(CaseAction, action_id)
    if action is None:
        raise NotFound("That action no longer exists.")
    relation, case = _relation(session, actor, action)
    if not relation:
        raise denied(
            actor, NOT_YOUR_ACTION, reason="not the owner, a manager of the owner or the lead organisation",
            subject_type="case_action", subject_id=action_id,
        )  # fmt: skip
    return action, relation, case


def assign_action(
    *,
    session: Session,
    actor: Actor,
    action_id: int,
    owner_organisation_id: int,
    owner_user_id: int | None,
    due_on: date | None = None,
    today: date | None = None,
) -> CaseAction:
    """Give the action to another organisation or person (the lead organisation), or to
    another person in the same organisation (a manager of the owner organisation).  The new
    owner is told."""
    action, relation, case = _action_for(session, actor, action_id, Permission.ACTIONS_ACTIONS_UPDATE)
    if relation == "owner" or (relation == "owner_manager" and owner_organisation_id != action.owner_organisation_id):
        message = NOT_YOUR_AGENCY if relation == "owner_manager" else NOT_YOUR_ACTION
        raise denied(
            actor, message, reason=f"{relation} may not reassign", subject_type="case_action", subject_id=action_id
        )
    today = today or local_date(utcnow())
    errors: dict[str, str] = {}
    if not ActionStatus(action.status).is_open:
        errors["status"] = "This action is closed; reopen it before giving it to someone else."
    if due_on is not None and due_on < today and due_on != action.due_on:
        errors["due_on"] = "Choose a due date from today onwards."
    if relation == "owner_manager" and due_on is not None and due_on != action.due_on:
        errors["due_on"] = "Only the organisation leading the case can change the due date."
    _check_owner(session, errors, case, owner_organisation_id, owner_user_id, action.party)
    if errors:
        raise InvalidInput(errors)
    before = {"owner_organisation_id": action.owner_organisation_id, "owner_user_id": action.owner_user_id,
              "due_on": action.due_on.isoformat()}  # fmt: skip
    action.owner_organisation_id = owner_organisation_id
    action.owner_user_id = owner_user_id
    if due_on is not None:
        action.due_on = due_on
    action.updated_at = utcnow()
    session.add(action)
    assert action.id is not None
    session.add(
        CaseActionUpdate(
            action_id=action.id, kind="assigned", status_from=action.status, status_to=action.status,
            by_user_id=actor.user_id, by_organisation_id=actor.organisation_id,
        )
    )  # fmt: skip
    plan = session.get(ActionPlan, action.plan_id)
    assert plan is not None
    _refresh_plan_item(session, plan, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.ACTION, item_id=plan.item_id,
        summary=f"Action {action.number} reassigned, due {long_date(action.due_on)}",
        subject_type="case_action", subject_id=action.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.ACTION_ASSIGNED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case_action", subject_id=action.id,
        detail={"before": before, "owner_organisation_id": owner_organisation_id, "owner_user_id": owner_user_id,
                "due_on": action.due_on.isoformat(), "as": relation},
    )  # fmt: skip
    _tell_owner(session, action, case)
    return action


@dataclass(frozen=True)
class OwnerChoice:
    """An organisation an action can be given to, and its people who can update actions."""

    organisation_id: int
    organisation: str
    people: tuple[tuple[int, str], ...]


def list_action_owners(*, session: Session, actor: Actor, case_id: int) -> list[OwnerChoice]:
    """Who the lead organisation can give the case's actions to: every active organisation
    (the lead first), each with its active people able to update actions."""
    case = case_for_update(session, actor, case_id, Permission.ACTIONS_PLANS_MANAGE)
    orgs = session.exec(select(Organisation).where(col(Organisation.active)).order_by(col(Organisation.name))).all()
    rows = session.exec(
        select(User.id, User.full_name, User.organisation_id, UserRole.role)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(col(User.is_active))
        .order_by(col(User.full_name))
    ).all()
    roles: dict[int, set[Role]] = {}
    names: dict[int, tuple[str, int]] = {}
    for user_id, name, organisation_id, role in rows:
        if user_id is None:
            continue
        roles.setdefault(user_id, set()).add(Role(role))
        names[user_id] = (name, organisation_id)
    able = [
        (user_id, name, organisation_id)
        for user_id, (name, organisation_id) in names.items()
        if Permission.ACTIONS_ACTIONS_UPDATE in permissions_for(frozenset(roles[user_id]))
    ]
    choices = [
        OwnerChoice(
            organisation_id=o.id,
            organisation=o.name,
            people=tuple(sorted(((u, n) for u, n, org in able if org == o.id), key=lambda p: p[1])),
        )
        for o in orgs
        if o.id is not None
    ]
    return sorted(choices, key=lambda c: c.organisation_id != case.lead_organisation_id)


# --- Updating actions ------------------------------------------------------------------------


def update_action(
    *,
    session: Session,
    actor: Actor,
    action_id: int,
    status: str,
    note: str,
    evidence: EvidenceFile | None = None,
) -> CaseAction:
    """Record progress on an action: its status and the evidence of what was done (or why
    it could not be).  Its owner, the owner organisation's managers and the lead
    organisation may; once closed, only the lead organisation can reopen it.  The lead
    officer is told of updates made by other organisations."""
    action, relation, case = _action_for(session, actor, action_id, Permission.ACTIONS_ACTIONS_UPDATE)
    errors: dict[str, str] = {}
    try:
        new_status = ActionStatus(status)
    except ValueError:
        errors["status"] = "Choose a status from the list."
        new_status = ActionStatus(action.status)
    current = ActionStatus(action.status)
    text = note.strip()
    if not text:
        errors["note"] = (
            "Say what was done, with any evidence."
            if new_status == ActionStatus.DONE
            else "Say why the action could not be done."
            if not new_status.is_open
            else "Say what has happened so far."
        )
    elif len(text) > 4000:
        errors["note"] = "Keep the note to 4,000 characters."
    if not current.is_open and new_status != current and relation != "lead":
        errors["status"] = "This action is closed. Ask the case officer to reopen it if more needs doing."
    if errors:
        raise InvalidInput(errors)
    document = None
    if evidence is not None:
        try:
            document = store_document(
                session=session, actor=actor, filename=evidence.filename, content_type=evidence.content_type,
                content=evidence.content,
            )  # fmt: skip
        except InvalidInput:
            raise InvalidInput({"evidence": EVIDENCE_FILES}) from None
    now = utcnow()
    action.status = new_status
    action.completed_at = None if new_status.is_open else (action.completed_at if not current.is_open else now)
    action.updated_at = now
    session.add(action)
    assert action.id is not None
    session.add(
        CaseActionUpdate(
            action_id=action.id, kind="update", status_from=current, status_to=new_status, note=text,
            document_id=document.id if document else None, by_user_id=actor.user_id,
            by_organisation_id=actor.organisation_id, at=now,
        )
    )  # fmt: skip
    plan = session.get(ActionPlan, action.plan_id)
    assert plan is not None
    _refresh_plan_item(session, plan, case)
    org = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    by = org.name if org else "the portal"
    what = "updated" if new_status == current else f"marked {new_status.label.lower()}"
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.ACTION, item_id=plan.item_id,
        summary=f"Action {action.number} {what} by {by}", subject_type="case_action", subject_id=action.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.ACTION_UPDATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case_action", subject_id=action.id,
        detail={"case": case.reference, "from": str(current), "to": str(new_status), "as": relation,
                "evidence_document_id": document.id if document else None},
    )  # fmt: skip
    if actor.organisation_id != case.lead_organisation_id and case.lead_officer_user_id is not None:
        notify(
            session,
            user_ids=[case.lead_officer_user_id],
            kind=ReminderKind.ACTION_UPDATED,
            title=f"Action {action.number} on case {case.reference} {what}",
            body=f"{by} {what} action {action.number} on case {case.reference}.",
            link_path=action_path(action.id),
            case_reference=case.reference,
        )
    return action


# --- Reading actions ------------------------------------------------------------------------


def get_action(*, session: Session, actor: Actor, action_id: int, today: date | None = None) -> ActionRead:
    """One action, for its owner, the owner organisation's managers or the lead organisation."""
    action, _, _ = _action_for(session, actor, action_id, Permission.ACTIONS_ACTIONS_READ)
    return _reads(session, actor, [action], today or local_date(utcnow()))[0]


def action_history(*, session: Session, actor: Actor, action_id: int) -> list[ActionUpdateRead]:
    """What happened to an action, oldest first (the same people as :func:`get_action`)."""
    _action_for(session, actor, action_id, Permission.ACTIONS_ACTIONS_READ)
    updates = session.exec(
        select(CaseActionUpdate).where(CaseActionUpdate.action_id == action_id).order_by(col(CaseActionUpdate.id))
    ).all()
    user_ids = {u.by_user_id for u in updates if u.by_user_id is not None}
    org_ids = {u.by_organisation_id for u in updates if u.by_organisation_id is not None}
    users = (
        dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(user_ids))).all()) if user_ids else {}
    )
    orgs = (
        dict(session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(org_ids))).all())
        if org_ids
        else {}
    )
    return [
        ActionUpdateRead(
            id=u.id or 0,
            kind=u.kind,
            status_from=u.status_from,
            status_to=u.status_to,
            status_label=ActionStatus(u.status_to).label if u.status_to else "",
            note=u.note,
            document_id=u.document_id,
            by_name=users.get(u.by_user_id, "") if u.by_user_id else "Portal",
            by_organisation=orgs.get(u.by_organisation_id, "") if u.by_organisation_id else "",
            at=u.at,
        )
        for u in updates
    ]


def list_my_actions(*, session: Session, actor: Actor, today: date | None = None) -> list[ActionRead]:
    """The actor's open actions: overdue first, then due soon, then the rest."""
    require(actor, Permission.ACTIONS_ACTIONS_READ, subject_type="case_action")
    if actor.user_id is None:
        return []
    actions = session.exec(
        select(CaseAction)
        .join(Case, col(Case.id) == col(CaseAction.case_id))
        .where(
            CaseAction.owner_user_id == actor.user_id,
            col(CaseAction.status).in_([str(s) for s in OPEN_ACTION_STATUSES]),
            Case.status != CaseStatus.CLOSED,
        )
    ).all()
    return sorted(_reads(session, actor, actions, today or local_date(utcnow())), key=_worklist_order)


def list_agency_actions(
    *, session: Session, actor: Actor, today: date | None = None, include_closed: bool = False
) -> list[ActionRead]:
    """Every action the manager's organisation owns, overdue first: the open ones on open
    cases, or every one with ``include_closed``."""
    require(actor, Permission.ACTIONS_AGENCY_READ, subject_type="organisation", subject_id=actor.organisation_id)
    query = select(CaseAction).where(CaseAction.owner_organisation_id == actor.organisation_id)
    if not include_closed:
        query = query.join(Case, col(Case.id) == col(CaseAction.case_id)).where(
            col(CaseAction.status).in_([str(s) for s in OPEN_ACTION_STATUSES]), Case.status != CaseStatus.CLOSED
        )
    actions = session.exec(query).all()
    return sorted(_reads(session, actor, actions, today or local_date(utcnow())), key=_worklist_order)


CSV_COLUMNS = ("Case", "Action", "Description", "Party", "Owner", "Due", "Status", "Days overdue", "Source")


def _csv_cell(value: str) -> str:
    # A cell starting like a formula is run by spreadsheet programs: make it plain text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_agency_actions_csv(
    *, session: Session, actor: Actor, today: date | None = None, include_closed: bool = False
) -> str:
    """The manager's list as CSV (audited)."""
    rows = list_agency_actions(session=session, actor=actor, today=today, include_closed=include_closed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for a in rows:
        writer.writerow(
            [_csv_cell(v) for v in (
                a.case_reference, str(a.number), a.description, a.party_label, a.owner_name or "Not assigned",
                a.due_on.isoformat(), a.status_label, str(a.days_overdue), a.source_label,
            )]
        )  # fmt: skip
    record_event(
        session, action=AuditAction.AGENCY_ACTIONS_EXPORTED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="organisation", subject_id=actor.organisation_id, detail={"rows": len(rows)},
    )  # fmt: skip
    return buffer.getvalue()


def carry_forward_actions(
    *, session: Session, actor: Actor, panel_id: int, meeting_id: int | None = None, today: date | None = None
) -> list[ActionRead]:
    """Open actions a panel agreed (at ``meeting_id``, or at any of its meetings), for its next
    agenda, overdue first.  Each action's wording is shown to the lead organisation, the owner
    organisation and partners the plan was disclosed to; others see that it exists, whose it
    is and when it is due, with the wording withheld."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="panel", subject_id=panel_id)
    query = select(CaseAction).where(
        CaseAction.source_panel_id == panel_id, col(CaseAction.status).in_([str(s) for s in OPEN_ACTION_STATUSES])
    )
    if meeting_id is not None:
        query = query.where(CaseAction.source_meeting_id == meeting_id)
    actions = session.exec(query).all()
    withheld: set[int] = set()
    others = [a for a in actions if not _sees_own(session, actor, a)]
    if others and not actor.is_system:
        plans = {
            p.id: p.item_id
            for p in session.exec(select(ActionPlan).where(col(ActionPlan.id).in_({a.plan_id for a in others})))
        }
        item_ids = sorted({i for i in plans.values() if i is not None})
        readable = _plans_shared_with(session, actor, item_ids)
        withheld = {a.id for a in others if a.id is not None and plans.get(a.plan_id) not in readable}
    reads = _reads(session, actor, actions, today or local_date(utcnow()), withheld_ids=frozenset(withheld))
    return sorted(reads, key=_worklist_order)


def _plans_shared_with(session: Session, actor: Actor, item_ids: Sequence[int]) -> set[int]:
    """The plan items the actor's organisation may read in full, as the chokepoint decides
    (and logs); a disclosure of other categories, which shows nothing of a plan, does not count."""
    if not item_ids or not actor.can(Permission.SHARING_ITEMS_READ):
        return set()
    views = read_items(session=session, actor=actor, item_ids=item_ids, via=PLAN_VIA)
    return {v.id for v in views if not any(f.withheld for f in v.fields)}


def _sees_own(session: Session, actor: Actor, action: CaseAction) -> bool:
    if actor.is_system or actor.organisation_id == action.owner_organisation_id:
        return True
    case = session.get(Case, action.case_id)
    return case is not None and case.lead_organisation_id == actor.organisation_id


# --- Contact with the victim -------------------------------------------------------------------


def record_victim_contact(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    contacted_at: datetime,
    method: str,
    progress_update: bool = False,
    now: datetime | None = None,
) -> CaseContact:
    """Record a contact with the victim; the contact cadence runs from the latest one (and the
    monthly update cadence from the latest that updated them on progress)."""
    case = case_for_update(session, actor, case_id)
    now = now or utcnow()
    errors: dict[str, str] = {}
    if method not in {m.value for m in ContactMethod}:
        errors["method"] = "Say how the victim was contacted."
    if contacted_at.tzinfo is None or contacted_at > now:
        errors["contacted_at"] = "Give when the contact happened: it cannot be in the future."
    elif local_date(contacted_at) < local_date(case.opened_at):
        errors["contacted_at"] = "The contact cannot be before the case was opened."
    if errors:
        raise InvalidInput(errors)
    contact = CaseContact(
        case_id=case_id, contacted_at=contacted_at, method=method, progress_update=progress_update,
        recorded_by_user_id=actor.user_id, recorded_at=now,
    )  # fmt: skip
    session.add(contact)
    session.flush()
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.NOTE, occurred_at=contacted_at,
        summary=f"Victim contacted ({ContactMethod(method).label.lower()})"
        + ("; updated on progress" if progress_update else ""),
        subject_type="case_contact", subject_id=contact.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.VICTIM_CONTACT_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case_id,
        detail={"contact_id": contact.id, "method": method, "progress_update": progress_update},
    )  # fmt: skip
    return contact
