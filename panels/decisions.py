"""Recording what a panel decided about an agenda item: only by its chair or deputy, only while
the meeting is quorate (without the members who declared an interest), only a decision the
panel may make, always with its rationale; with conditions, dissent and the actions agreed.

Some decisions do more: referring to Housing Solutions needs a party's valid consent covering
Housing Solutions; authorising a Notice of Seeking Possession or a Notice of Intention creates
the planned legal remedy on the case.  Once the minutes are approved a decision is locked and
changes only by a recorded amendment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from panels.action_models import ActionSource
from panels.action_plans import ActionInput as PlanActionInput
from panels.action_plans import add_panel_action
from panels.case_models import Case, CaseParty
from panels.cases import add_case_event, case_item
from panels.meeting_room import conflicted_user_ids, get_agenda_item, quorum_status
from panels.meetings import MeetingStatus, format_day, local
from panels.models import AgendaItem, Decision, DecisionAction, DecisionAmendment, Meeting, Minutes, Panel, Referral
from panels.panel_config import DECISION_TYPES, DecisionType, decision_types_of, member_organisation_ids, require_chair
from panels.remedies import record_panel_remedy
from panels.vocabulary import CaseEventKind, CaseStatus
from sharing.access import denied
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, NotFound
from sharing.models import ConsentRecord, InformationItem, Organisation, OrganisationType, User
from sharing.permissions import Actor
from sharing.rules import consent_is_valid
from sharing.vocabulary import DataCategory, ItemKind


class MeetingNotQuorate(DomainError):
    """A decision cannot be recorded: the message says which organisations are missing."""


class MinutesLocked(DomainError):
    """The minutes are approved: decisions and minutes change only by amendment."""


LOCKED = "The minutes of this meeting are approved, so its decisions are locked. Record an amendment instead."


@dataclass
class ActionInput:
    owner_organisation_id: int
    description: str
    due_on: date
    owner_user_id: int | None = None


@dataclass
class DecisionInput:
    decision_type: str
    rationale: str
    conditions: str = ""
    dissent: str = ""
    review_on: date | None = None
    escalate_to_panel_id: int | None = None
    actions: list[ActionInput] = field(default_factory=list)


def minutes_approved(session: Session, meeting_id: int) -> bool:
    minutes = session.exec(select(Minutes).where(Minutes.meeting_id == meeting_id)).first()
    return minutes is not None and minutes.status == "approved"


def _housing_consent(session: Session, case: Case, panel: Panel, today: date) -> ConsentRecord | None:
    """A valid consent of a party of the case that covers Housing Solutions."""
    person_ids = list(session.exec(select(CaseParty.person_id).where(CaseParty.case_id == case.id)))
    if not person_ids:
        return None
    solutions_ids = set(
        session.exec(select(Organisation.id).where(Organisation.type == OrganisationType.HOUSING_SOLUTIONS)).all()
    )
    for consent in session.exec(
        select(ConsentRecord).where(col(ConsentRecord.person_id).in_(person_ids)).order_by(col(ConsentRecord.id).desc())
    ):
        covers = str(OrganisationType.HOUSING_SOLUTIONS) in consent.scope_organisation_types or bool(
            solutions_ids & set(consent.scope_organisation_ids)
        )
        if covers and consent_is_valid(consent, today):
            return consent
    return None


def _check_actions(session: Session, panel: Panel, meeting: Meeting, actions: list[ActionInput]) -> dict[str, str]:
    members = member_organisation_ids(session, panel)
    day = local(meeting.starts_at).date()
    for number, action in enumerate(actions, start=1):
        if not action.description.strip():
            return {"actions": f"Action {number}: say what is to be done."}
        if action.owner_organisation_id not in members:
            return {"actions": f"Action {number}: the owner must be an organisation on the panel."}
        if action.due_on < day:
            return {"actions": f"Action {number}: the due date cannot be before the meeting."}
        if action.owner_user_id is not None:
            owner = session.get(User, action.owner_user_id)
            if owner is None or owner.organisation_id != action.owner_organisation_id or not owner.is_active:
                return {"actions": f"Action {number}: the owner must be an active person from the owning organisation."}
    return {}


def _plan_action(
    session: Session, actor: Actor, case: Case, panel: Panel, meeting: Meeting, agreed: DecisionAction
) -> int | None:
    """The agreed action on the case's action plan, where its owner follows it up and the
    panel's next agenda carries the case forward while it is open."""
    action = add_panel_action(
        session=session, actor=actor, case=case,
        data=PlanActionInput(
            description=agreed.description, due_on=agreed.due_on, owner_organisation_id=agreed.owner_organisation_id,
            owner_user_id=agreed.owner_user_id, source=ActionSource.PANEL_DECISION, source_panel_id=panel.id,
            source_meeting_id=meeting.id,
        ),
    )  # fmt: skip
    return action.id


def _decision_fields(
    spec: DecisionType, decision: Decision, actions: list[ActionInput], names: dict[int, str]
) -> list[tuple[str, str, str, DataCategory]]:
    category = spec.category
    fields: list[tuple[str, str, str, DataCategory]] = [
        ("decision", "Decision", spec.label, category),
        ("rationale", "Reasons", decision.rationale, category),
    ]
    if decision.conditions:
        fields.append(("conditions", "Conditions", decision.conditions, category))
    if decision.review_on:
        fields.append(("review_on", "Review by", f"{decision.review_on.day} {decision.review_on:%B %Y}", category))
    if decision.dissent:
        fields.append(("dissent", "Dissent", decision.dissent, category))
    for number, action in enumerate(actions, start=1):
        fields.append(
            (
                f"action_{number}",
                f"Action {number}",
                f"{action.description.strip()} ({names.get(action.owner_organisation_id, '')}, "
                f"by {action.due_on.day} {action.due_on:%B %Y})",
                category,
            )
        )
    return fields


def record_decision(
    *, session: Session, actor: Actor, agenda_item_id: int, data: DecisionInput, now: datetime | None = None
) -> Decision:
    """Record the panel's decision on an agenda item (the chair or deputy, meeting quorate)."""
    item, meeting, panel = get_agenda_item(session, agenda_item_id)
    require_chair(session, actor, panel)
    now = now or utcnow()
    if minutes_approved(session, meeting.id):  # type: ignore[arg-type]
        raise MinutesLocked(LOCKED)
    if meeting.status != MeetingStatus.OPEN:
        raise InvalidInput({"meeting": "Decisions are recorded while the meeting is in progress."})
    if session.exec(select(Decision.id).where(Decision.agenda_item_id == agenda_item_id)).first() is not None:
        raise InvalidInput({"decision_type": "A decision is already recorded for this item; amend it instead."})
    excluded = conflicted_user_ids(session, agenda_item_id)
    if actor.user_id in excluded:
        raise denied(
            actor, "You declared an interest in this item, so another chair must record its decision.",
            reason="conflicted chair", subject_type="agenda_item", subject_id=agenda_item_id,
        )  # fmt: skip
    quorum = quorum_status(session, meeting.id, agenda_item_id=agenda_item_id)  # type: ignore[arg-type]
    if not quorum.met:
        raise MeetingNotQuorate(quorum.explanation)
    spec = DECISION_TYPES.get(data.decision_type)
    if spec is None or data.decision_type not in panel.decision_types:
        allowed = "; ".join(d.label for d in decision_types_of(panel))
        raise InvalidInput({"decision_type": f"The {panel.name} cannot make that decision. It may: {allowed}."})
    case = session.get(Case, item.case_id)
    assert case is not None
    errors: dict[str, str] = {}
    if not data.rationale.strip():
        errors["rationale"] = "Record the reasons for the decision."
    if spec.needs_conditions and not data.conditions.strip():
        errors["conditions"] = "Set out the conditions."
    if spec.needs_review_date and data.review_on is None:
        errors["review_on"] = "Say when the panel will review the case."
    elif data.review_on is not None and data.review_on <= local(meeting.starts_at).date():
        errors["review_on"] = "The review date must be after the meeting."
    if spec.needs_panel:
        target = session.get(Panel, data.escalate_to_panel_id) if data.escalate_to_panel_id else None
        if target is None or not target.active or target.id == panel.id:
            errors["escalate_to_panel_id"] = "Choose the panel the case is escalated to."
    errors |= _check_actions(session, panel, meeting, data.actions)
    consent: ConsentRecord | None = None
    if spec.needs_consent_to is not None and not errors:
        consent = _housing_consent(session, case, panel, local(now).date())
        if consent is None:
            errors["decision_type"] = (
                "A referral to Housing Solutions needs the tenant's consent: record a valid consent of a party "
                "of this case that covers Housing Solutions first."
            )
    if case.status == CaseStatus.CLOSED and spec.creates_intervention is not None:
        errors["decision_type"] = "This case is closed; reopen it before authorising enforcement."
    if errors:
        raise InvalidInput(errors)

    decision = Decision(
        agenda_item_id=agenda_item_id, meeting_id=meeting.id, panel_id=panel.id, case_id=case.id,  # type: ignore[arg-type]
        decision_type=spec.key, rationale=data.rationale.strip()[:4000], conditions=data.conditions.strip()[:4000],
        dissent=data.dissent.strip()[:2000], review_on=data.review_on,
        escalate_to_panel_id=data.escalate_to_panel_id if spec.needs_panel else None,
        consent_record_id=consent.id if consent else None, excluded_user_ids=sorted(excluded),
        recorded_by_user_id=actor.user_id, recorded_at=now,
    )  # fmt: skip
    session.add(decision)
    session.flush()
    if spec.creates_intervention is not None:
        assert decision.id is not None
        intervention = record_panel_remedy(
            session=session, actor=actor, decision_id=decision.id, today=local(now).date()
        )
        decision.intervention_id = intervention.id
    for action in data.actions:
        agreed = DecisionAction(
            decision_id=decision.id, owner_organisation_id=action.owner_organisation_id,  # type: ignore[arg-type]
            owner_user_id=action.owner_user_id, due_on=action.due_on, description=action.description.strip()[:2000],
        )  # fmt: skip
        if case.status != CaseStatus.CLOSED:
            agreed.action_id = _plan_action(session, actor, case, panel, meeting, agreed)
        session.add(agreed)
    names = {i: n for i, n in session.exec(select(Organisation.id, Organisation.name)).all() if i is not None}
    title = f"Decision of the {panel.name} on {format_day(meeting.starts_at)}: {case.reference}"
    words = case_item(
        session, case=case, actor=actor, kind=ItemKind.CASE_NOTE, title=title, category=spec.category,
        fields=_decision_fields(spec, decision, data.actions, names),
    )  # fmt: skip
    decision.item_id = words.id
    session.add(decision)
    item.status = "decided"
    session.add(item)
    if item.referral_id is not None:
        referral = session.get(Referral, item.referral_id)
        if referral is not None:
            referral.status = "heard"
            referral.heard_at = now
            session.add(referral)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.PANEL_DECISION,
        summary=f"{panel.name}, {format_day(meeting.starts_at)}: {spec.label}",
        subject_type="panel_decision", subject_id=decision.id, occurred_at=now,
    )  # fmt: skip
    session.flush()
    record_event(
        session, action=AuditAction.DECISION_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="panel_decision", subject_id=decision.id,
        detail={"type": spec.key, "case": case.reference, "excluded_user_ids": sorted(excluded),
                "actions": len(data.actions), "intervention": decision.intervention_id},
    )  # fmt: skip
    return decision


# --- Changing a decision -----------------------------------------------------------------------

AMENDABLE = {"rationale": "Reasons", "conditions": "Conditions", "dissent": "Dissent"}


def get_decision(session: Session, decision_id: int) -> tuple[Decision, Meeting, Panel]:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("That decision no longer exists.")
    _, meeting, panel = get_agenda_item(session, decision.agenda_item_id)
    return decision, meeting, panel


def amend_decision(
    *,
    session: Session,
    actor: Actor,
    decision_id: int,
    field_name: str,
    new_value: str,
    reason: str,
    now: datetime | None = None,
) -> DecisionAmendment:
    """Change a decision's reasons, conditions or dissent, recording who changed what and why
    (the only way to change a decision once the minutes are approved)."""
    decision, meeting, panel = get_decision(session, decision_id)
    require_chair(session, actor, panel)
    if field_name not in AMENDABLE:
        raise InvalidInput({"field_name": "Only the reasons, conditions or dissent can be amended."})
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the decision is amended."})
    spec = DECISION_TYPES[decision.decision_type]
    if field_name == "rationale" and not new_value.strip():
        raise InvalidInput({"new_value": "A decision must keep its reasons."})
    if field_name == "conditions" and spec.needs_conditions and not new_value.strip():
        raise InvalidInput({"new_value": "This decision must keep its conditions."})
    now = now or utcnow()
    old_value = str(getattr(decision, field_name))
    amendment = DecisionAmendment(
        decision_id=decision_id, field_name=field_name, old_value=old_value, new_value=new_value.strip()[:4000],
        reason=reason.strip()[:2000], amended_by_user_id=actor.user_id, amended_at=now,
    )  # fmt: skip
    session.add(amendment)
    setattr(decision, field_name, new_value.strip()[:4000])
    session.add(decision)
    session.flush()
    _rewrite_decision_item(session, decision, field_name, AMENDABLE[field_name], new_value.strip(), reason.strip(), now)
    case = session.get(Case, decision.case_id)
    assert case is not None
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.PANEL_DECISION,
        summary=f"{panel.name}, {format_day(meeting.starts_at)}: decision amended ({AMENDABLE[field_name].lower()})",
        subject_type="panel_decision", subject_id=decision.id, occurred_at=now,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.DECISION_AMENDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="panel_decision", subject_id=decision_id, reason=reason.strip()[:500],
        detail={"field": field_name, "amendment": amendment.id},
    )  # fmt: skip
    return amendment


def _rewrite_decision_item(
    session: Session, decision: Decision, key: str, label: str, value: str, reason: str, now: datetime
) -> None:
    """Keep the shared words of the decision in step, noting the amendment."""
    if decision.item_id is None:
        return
    item = session.get(InformationItem, decision.item_id)
    assert item is not None
    category = DECISION_TYPES[decision.decision_type].category
    content = [dict(f) for f in item.content if f["key"] != key]
    content.append({"key": key, "label": label, "value": value, "category": str(category)})
    number = sum(1 for f in content if str(f["key"]).startswith("amendment_")) + 1
    content.append(
        {
            "key": f"amendment_{number}",
            "label": f"Amendment {number}",
            "value": f"{label} amended on {format_day(now)}: {reason}",
            "category": str(category),
        }
    )
    item.content = content
    session.add(item)
    session.flush()


def assign_action_owner(
    *, session: Session, actor: Actor, decision_action_id: int, owner_user_id: int
) -> DecisionAction:
    """Name the person who owns an agreed action (needed before the minutes are approved)."""
    action = session.get(DecisionAction, decision_action_id)
    if action is None:
        raise NotFound("That action no longer exists.")
    _, meeting, panel = get_decision(session, action.decision_id)
    require_chair(session, actor, panel)
    if minutes_approved(session, meeting.id):  # type: ignore[arg-type]
        raise MinutesLocked(LOCKED)
    owner = session.get(User, owner_user_id)
    if owner is None or not owner.is_active or owner.organisation_id != action.owner_organisation_id:
        raise InvalidInput({"owner_user_id": "Choose an active person from the organisation that owns the action."})
    action.owner_user_id = owner_user_id
    session.add(action)
    session.flush()
    record_event(
        session, action=AuditAction.DECISION_ACTION_ASSIGNED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="decision_action", subject_id=decision_action_id, detail={"owner": owner_user_id},
    )  # fmt: skip
    return action


def decisions_of_meeting(session: Session, meeting_id: int) -> list[tuple[AgendaItem, Decision | None]]:
    items = session.exec(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(col(AgendaItem.position))
    ).all()
    decisions = {d.agenda_item_id: d for d in session.exec(select(Decision).where(Decision.meeting_id == meeting_id))}
    return [(item, decisions.get(item.id)) for item in items]  # type: ignore[arg-type]
