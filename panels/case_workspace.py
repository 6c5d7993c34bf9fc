"""Everything the case page shows, read in one go: the case page read model (summary, parties,
chronology), the header facts (status, stage, risk, first-contact deadline, ASB Case Review
flag, stage alerts), the risk questionnaire of the lead organisation's scheme, the risk
assessments, the incident diary, the interventions, the ASB Case Review check and
applications, and the choices the page's forms offer.

Every read goes through the services that read through the need-to-know chokepoint, so a
partner sees only what was disclosed to their organisation (and each read is logged).  The
lead organisation's own working facts (first-contact status, the case review check, stage
alerts, closure request, lead suggestion, applications) are read for the lead organisation
only; a partner's header is taken from the case summary as it was shared with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from panels.case_page import CasePageRead, PartyRead, get_case_page
from panels.case_review import (
    CaseReviewApplicationRead,
    CaseReviewCheck,
    case_review_status,
    list_case_review_applications,
    local_today,
)
from panels.cases import get_case
from panels.incidents import IncidentRead, list_incidents
from panels.parties import LeadSuggestion, suggest_lead
from panels.policy import RiskScheme, get_case_policy
from panels.remedies import InterventionRead, list_interventions
from panels.risk import FirstContactStatus, RiskAssessmentRead, first_contact_status, list_risk_assessments
from panels.stages import stage_alerts
from panels.vocabulary import CaseStage, CaseStatus, ClosureReason
from sharing.db import utcnow
from sharing.models import User
from sharing.permissions import Actor, Permission
from sharing.reads import read_items
from sharing.register import controlled_person_ids, person_details_item
from sharing.vocabulary import WITHHELD


@dataclass(frozen=True)
class CaseHeader:
    """What the top of the case page says.  For a partner every value comes from the shared
    case summary; ``first_contact_status`` and the case review flag are the lead's only."""

    status: str  # a CaseStatus value ("" when the reader only has the summary's words)
    status_label: str
    stage: str  # a CaseStage value ("" likewise)
    stage_label: str
    risk_label: str
    risk_rank: int  # 0: not assessed (or not known to the reader)
    top_rank: int  # the most serious level of the scheme
    first_contact_due_at: datetime | None
    first_contact_status: str  # a FirstContactStatus value, "" for partners
    case_review_met: bool
    case_review_reasons: tuple[str, ...]
    alerts: tuple[str, ...]


@dataclass(frozen=True)
class ClosureRead:
    """Where the case stands on closure (the lead organisation only)."""

    requested: bool
    reason_label: str
    note: str
    requested_by: str
    requested_by_reader: bool  # the reader asked for it, so cannot approve it
    closed_at: datetime | None


@dataclass(frozen=True)
class PersonOption:
    person_id: int
    name: str


@dataclass(frozen=True)
class CaseWorkspace:
    page: CasePageRead
    header: CaseHeader
    is_lead: bool  # the reader's organisation leads the case
    can_manage: bool
    can_approve_closure: bool
    can_record_incidents: bool
    can_manage_case_review: bool
    scheme: RiskScheme | None  # the questionnaire, for those who may assess risk
    lead_suggestion: LeadSuggestion | None
    assessments: tuple[RiskAssessmentRead, ...]
    incidents: tuple[IncidentRead, ...]
    interventions: tuple[InterventionRead, ...]
    case_review: CaseReviewCheck | None
    applications: tuple[CaseReviewApplicationRead, ...]
    closure: ClosureRead | None
    people: tuple[PersonOption, ...]  # the organisation's people, to add to the case or name in forms


def _summary_value(page: CasePageRead, key: str) -> str:
    found = next((f for f in page.summary if f.key == key), None)
    return found.value if found is not None else ""


def _parse_due(raw: str) -> datetime | None:
    if not raw or raw == WITHHELD:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _partner_header(page: CasePageRead, top_rank: int) -> CaseHeader:
    return CaseHeader(
        status="",
        status_label=_summary_value(page, "status"),
        stage="",
        stage_label=_summary_value(page, "stage"),
        risk_label=_summary_value(page, "risk"),
        risk_rank=0,
        top_rank=top_rank,
        first_contact_due_at=_parse_due(_summary_value(page, "first_contact_due")),
        first_contact_status="",
        case_review_met=False,
        case_review_reasons=(),
        alerts=(),
    )


def _people(session: Session, actor: Actor) -> tuple[PersonOption, ...]:
    """The people whose record the reader's organisation holds, named as the chokepoint
    shows them."""
    ids = controlled_person_ids(session=session, actor=actor)
    item_ids = [item_id for item_id in (person_details_item(session, i).id for i in ids) if item_id is not None]
    views = read_items(session=session, actor=actor, item_ids=item_ids, via="case page forms")
    options = [
        PersonOption(view.person_id, next((f.value for f in view.fields if f.key == "name"), WITHHELD))
        for view in views
        if view.person_id is not None
    ]
    return tuple(sorted(options, key=lambda p: p.name.casefold()))


def _name_of(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return user.full_name if user is not None else ""


def get_case_workspace(*, session: Session, actor: Actor, case_id: int, now: datetime | None = None) -> CaseWorkspace:
    """The case page for ``actor``: :class:`PermissionDenied` (logged and audited) when the
    case summary was not shared with their organisation."""
    page = get_case_page(session=session, actor=actor, case_id=case_id)
    case = get_case(session, case_id)
    now = now or utcnow()
    today: date = local_today(now)
    policy = get_case_policy(session, case.lead_organisation_id)
    top_rank = max(level.rank for level in policy.risk_scheme.levels)
    is_lead = case.lead_organisation_id == actor.organisation_id
    can_manage = page.can_manage
    open_case = case.status != CaseStatus.CLOSED

    assessments = tuple(list_risk_assessments(session=session, actor=actor, case_id=case_id))
    incidents = tuple(list_incidents(session=session, actor=actor, case_id=case_id))
    interventions = tuple(list_interventions(session=session, actor=actor, case_id=case_id, today=today))

    if not is_lead:
        return CaseWorkspace(
            page=page,
            header=_partner_header(page, top_rank),
            is_lead=False,
            can_manage=False,
            can_approve_closure=False,
            can_record_incidents=actor.can(Permission.CASES_INCIDENTS_RECORD),
            can_manage_case_review=False,
            scheme=None,
            lead_suggestion=None,
            assessments=assessments,
            incidents=incidents,
            interventions=interventions,
            case_review=None,
            applications=(),
            closure=None,
            people=(),
        )

    check = case_review_status(session=session, case=case, on=today)
    header = CaseHeader(
        status=case.status,
        status_label=CaseStatus(case.status).label,
        stage=case.stage,
        stage_label=CaseStage(case.stage).label,
        risk_label=case.risk_label + (f" (score {case.risk_score})" if case.risk_score is not None else ""),
        risk_rank=case.risk_rank,
        top_rank=top_rank,
        first_contact_due_at=case.first_contact_due_at,
        first_contact_status=str(first_contact_status(case, now)),
        case_review_met=check.met,
        case_review_reasons=tuple(rule.reason for rule in check.rules if rule.met) if check.met else (),
        alerts=tuple(stage_alerts(case, today, policy)),
    )
    closure = ClosureRead(
        requested=case.status == CaseStatus.CLOSURE_REQUESTED,
        reason_label=ClosureReason(case.closure_reason).label if case.closure_reason else "",
        note=case.closure_note,
        requested_by=_name_of(session, case.closure_requested_by_user_id),
        requested_by_reader=actor.user_id is not None and actor.user_id == case.closure_requested_by_user_id,
        closed_at=case.closed_at,
    )
    may_name_people = actor.can(Permission.SHARING_CONSENT_RECORD)
    return CaseWorkspace(
        page=page,
        header=header,
        is_lead=True,
        can_manage=can_manage,
        can_approve_closure=actor.can(Permission.CASES_CLOSURE_APPROVE),
        can_record_incidents=actor.can(Permission.CASES_INCIDENTS_RECORD) and open_case,
        can_manage_case_review=actor.can(Permission.CASES_CASE_REVIEW_MANAGE),
        scheme=policy.risk_scheme if can_manage else None,
        lead_suggestion=suggest_lead(session=session, actor=actor, case_id=case_id) if can_manage else None,
        assessments=assessments,
        incidents=incidents,
        interventions=interventions,
        case_review=check,
        applications=tuple(list_case_review_applications(session=session, actor=actor, case_id=case_id)),
        closure=closure,
        people=_people(session, actor) if may_name_people else (),
    )


def party_people(page: CasePageRead) -> list[PartyRead]:
    """The case's parties, one per person (a person may hold several roles), for choosing who
    an intervention is about."""
    seen: dict[int, PartyRead] = {}
    for party in page.parties:
        seen.setdefault(party.person_id, party)
    return list(seen.values())


__all__ = [
    "CaseHeader",
    "CaseWorkspace",
    "ClosureRead",
    "FirstContactStatus",
    "PersonOption",
    "get_case_workspace",
    "party_people",
]
