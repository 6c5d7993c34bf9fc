"""The case record's core: opening a case, who may change it, the chronology, and the summary
item through which partners see it.

Every other case service (triage, risk, incidents, stages, case review, interventions) builds
on these helpers:

* :func:`case_for_update` is the write check: the permission, and the actor's organisation
  must lead the case (partners adding incidents use :func:`case_for_partner_entry`).
* :func:`read_case` is the read check: it reads the case's summary item through
  ``sharing.reads`` (the chokepoint, which decides, withholds and logs).
* :func:`add_case_event` writes a chronology line tied to the item that decides who sees it.
* :func:`refresh_case_summary` rewrites the summary item after any change to the case row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from panels.case_models import Case, CaseEvent
from panels.policy import get_case_policy
from panels.vocabulary import CaseCategory, CaseEventKind, CaseStage, CaseStatus, CaseType
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import InformationItem, Organisation, User
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, read_item
from sharing.vocabulary import DataCategory, ItemKind, Marking

NOT_YOUR_CASE = "Only the organisation leading this case can change it."


# --- Write and read checks ------------------------------------------------------------------


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("That case no longer exists.")
    return case


def case_for_update(
    session: Session, actor: Actor, case_id: int, permission: Permission = Permission.CASES_CASES_MANAGE
) -> Case:
    """The case, if ``actor`` holds ``permission`` and works for its lead organisation;
    otherwise :class:`PermissionDenied` (audited)."""
    require(actor, permission, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    if case.lead_organisation_id != actor.organisation_id and not actor.is_system:
        raise denied(actor, NOT_YOUR_CASE, reason="not the lead organisation", subject_type="case", subject_id=case_id)
    return case


def read_case(session: Session, actor: Actor, case_id: int, *, via: str) -> tuple[Case, ItemView]:
    """The case and what ``actor`` may see of its summary, through the need-to-know chokepoint.

    Raises :class:`PermissionDenied` (logged and audited) when the summary was not shared with
    the actor's organisation.  Callers show the *view*, never the case row's fields, to anyone
    outside the lead organisation.
    """
    require(actor, Permission.CASES_CASES_READ, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    assert case.summary_item_id is not None
    view = read_item(session=session, actor=actor, item_id=case.summary_item_id, via=via)
    return case, view


# --- Chronology -----------------------------------------------------------------------------


def add_case_event(
    session: Session,
    *,
    case: Case,
    actor: Actor,
    kind: CaseEventKind,
    summary: str,
    item_id: int | None = None,
    subject_type: str = "",
    subject_id: int | None = None,
    occurred_at: datetime | None = None,
) -> CaseEvent:
    """Append a chronology line.  Without ``item_id`` it goes with the case summary."""
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        occurred_at=occurred_at or utcnow(),
        kind=kind,
        summary=summary[:1000],
        item_id=item_id if item_id is not None else case.summary_item_id,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_user_id=actor.user_id,
        actor_organisation_id=actor.organisation_id,
    )
    session.add(event)
    session.flush()
    return event


# --- Items owned by the case's lead organisation ---------------------------------------------


def case_item(
    session: Session,
    *,
    case: Case,
    actor: Actor,
    kind: ItemKind,
    title: str,
    category: DataCategory,
    fields: list[tuple[str, str, str, DataCategory]],
    person_id: int | None = None,
    marking: Marking = Marking.OFFICIAL_SENSITIVE,
) -> InformationItem:
    """An information item of this case, owned by its lead organisation whoever entered it
    (a partner's incident becomes part of the lead's record)."""
    item = InformationItem(
        kind=kind,
        owner_organisation_id=case.lead_organisation_id,
        person_id=person_id,
        case_reference=case.reference,
        title=title[:200],
        category=category,
        marking=marking,
        content=[{"key": k, "label": label, "value": v, "category": str(c)} for k, label, v, c in fields],
        created_by_user_id=actor.user_id,
    )
    session.add(item)
    session.flush()
    record_event(
        session, action=AuditAction.ITEM_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="information_item", subject_id=item.id,
        detail={"kind": str(kind), "category": str(category), "case": case.reference},
    )  # fmt: skip
    return item


def _summary_fields(session: Session, case: Case) -> list[tuple[str, str, str, DataCategory]]:
    lead = session.get(Organisation, case.lead_organisation_id)
    officer = session.get(User, case.lead_officer_user_id) if case.lead_officer_user_id else None
    asb = DataCategory.ASB_HISTORY
    due = case.first_contact_due_at.isoformat() if case.first_contact_due_at else ""
    return [
        ("reference", "Reference", case.reference, asb),
        ("status", "Status", CaseStatus(case.status).label, asb),
        ("stage", "Stage", CaseStage(case.stage).label, asb),
        ("category", "Category", CaseCategory(case.category).label, asb),
        ("types", "Types", ", ".join(CaseType(t).label for t in case.types) or "Not recorded", asb),
        ("risk", "Risk", case.risk_label + (f" (score {case.risk_score})" if case.risk_score is not None else ""), asb),
        ("first_contact_due", "First contact due", due, asb),
        ("location", "Location", case.location or "Not recorded", asb),
        ("area", "Area", case.area or "Not recorded", asb),
        ("lead_organisation", "Lead organisation", lead.name if lead else "", asb),
        ("lead_officer", "Lead officer", officer.full_name if officer else "Not allocated", asb),
    ]


def refresh_case_summary(session: Session, case: Case) -> None:
    """Rewrite the summary item from the case row (call after every change to the case)."""
    case.updated_at = utcnow()
    session.add(case)
    if case.summary_item_id is None:
        return
    item = session.get(InformationItem, case.summary_item_id)
    assert item is not None
    item.content = [
        {"key": k, "label": label, "value": v, "category": str(c)} for k, label, v, c in _summary_fields(session, case)
    ]
    item.title = f"Case {case.reference}"
    item.case_closed_on = case.closed_at.date() if case.closed_at else None
    session.add(item)
    session.flush()


# --- Opening a case -------------------------------------------------------------------------


@dataclass
class CaseInput:
    category: str
    types: list[str] = field(default_factory=list)
    location: str = ""
    area: str = ""
    lead_officer_user_id: int | None = None


def _check_case_input(session: Session, actor: Actor, data: CaseInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.category not in {c.value for c in CaseCategory}:
        errors["category"] = "Choose personal, nuisance or environmental."
    if not data.types:
        errors["types"] = "Tick at least one type of behaviour."
    elif any(t not in {c.value for c in CaseType} for t in data.types):
        errors["types"] = "One of the types ticked is not on the list."
    if not data.location.strip():
        errors["location"] = "Say where it is happening (a street or an address)."
    if data.lead_officer_user_id is not None:
        officer = session.get(User, data.lead_officer_user_id)
        if officer is None or not officer.is_active or officer.organisation_id != actor.organisation_id:
            errors["lead_officer_user_id"] = "Choose a lead officer from your own organisation."
    return errors


def next_case_reference(session: Session, prefix: str, year: int) -> str:
    """``PREFIX-YYYY-NNNN``, one more than the highest so far this year.  References already
    written on information items (records kept before the case existed here, demo data) are
    never reused, so a new case never shares its reference with someone else's records."""
    stem = f"{prefix}-{year}-"
    on_cases = session.exec(select(func.max(col(Case.reference))).where(col(Case.reference).startswith(stem))).one()
    on_items = session.exec(
        select(func.max(col(InformationItem.case_reference))).where(
            col(InformationItem.case_reference).startswith(stem)
        )
    ).one()
    numbers = [int(tail) for r in (on_cases, on_items) if r and (tail := r[len(stem) :]).isdigit()]
    number = max(numbers, default=0) + 1
    return f"{stem}{number:04d}"


def open_case(*, session: Session, actor: Actor, data: CaseInput) -> Case:
    """Open a case led by the actor's organisation (the lead officer defaults to the actor)."""
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case")
    errors = _check_case_input(session, actor, data)
    if errors:
        raise InvalidInput(errors)
    assert actor.organisation_id is not None
    policy = get_case_policy(session, actor.organisation_id)
    now = utcnow()
    case = Case(
        reference=next_case_reference(session, policy.reference_prefix, now.year),
        lead_organisation_id=actor.organisation_id,
        lead_officer_user_id=data.lead_officer_user_id or actor.user_id,
        category=data.category,
        types=sorted(set(data.types)),
        location=data.location.strip(),
        area=data.area.strip(),
        status=CaseStatus.OPEN,
        stage=CaseStage.ENQUIRY,
        stage_changed_at=now,
        domestic_abuse=CaseType.DOMESTIC_ABUSE in data.types,
        opened_at=now,
        opened_by_user_id=actor.user_id,
    )
    session.add(case)
    session.flush()
    summary = case_item(
        session, case=case, actor=actor, kind=ItemKind.CASE_SUMMARY, title=f"Case {case.reference}",
        category=DataCategory.ASB_HISTORY, fields=[],
    )  # fmt: skip
    case.summary_item_id = summary.id
    refresh_case_summary(session, case)
    add_case_event(session, case=case, actor=actor, kind=CaseEventKind.CASE_OPENED, summary="Case opened")
    record_event(
        session, action=AuditAction.CASE_OPENED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, detail={"reference": case.reference},
    )  # fmt: skip
    return case
