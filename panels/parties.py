"""The people in a case and who leads it.

* :func:`add_party` links a person on record to a case (victim, witness, alleged perpetrator,
  household member, representative) with their tenure, landlord, vulnerability and support.
* :func:`suggest_lead` applies Cambridge's "Allocating a lead officer" (002): a council
  tenant at standard risk goes to the Housing Officer, at any higher risk to an ASB Officer;
  every other tenure, temporary accommodation and street-based ASB is allocated by the team
  manager, considering the landlord and the other agencies involved.
* :func:`allocate_lead` passes the case to another officer, perhaps in another organisation.

A party's chronology line goes with the person's details item, so a partner sees that the
person was added only when that person's details were shared with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from panels.case_models import Case, CaseParty
from panels.cases import add_case_event, case_for_update, get_case, refresh_case_summary
from panels.policy import RiskScheme, get_case_policy
from panels.vocabulary import CaseEventKind, CaseStatus, PartyRole, Tenure
from sharing.access import denied, require
from sharing.accounts import roles_of
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.disclosures import item_categories
from sharing.errors import InvalidInput
from sharing.models import (
    AgreementParty,
    InformationItem,
    Organisation,
    OrganisationType,
    Person,
    Role,
    SharingAgreement,
    User,
)
from sharing.permissions import Actor, Permission, permissions_for
from sharing.register import person_details_item
from sharing.rules import agreement_gap
from sharing.vocabulary import DataCategory, Purpose

MAX_SUPPORT_SERVICES = 20

# --- Parties --------------------------------------------------------------------------------


@dataclass
class PartyInput:
    person_id: int
    role: str
    tenure: str = Tenure.NOT_KNOWN
    landlord: str = ""
    vulnerability: str = ""
    support_services: list[str] = field(default_factory=list)


def _check_party(session: Session, case_id: int, data: PartyInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    person = session.get(Person, data.person_id)
    if person is None or person.anonymised_at is not None:
        errors["person_id"] = "That person is not on record. Add them to the record first."
    if data.role not in {r.value for r in PartyRole}:
        errors["role"] = "Choose the person's part in the case (victim, witness, alleged perpetrator...)."
    elif person is not None:
        already = session.exec(
            select(CaseParty.id).where(
                CaseParty.case_id == case_id, CaseParty.person_id == data.person_id, CaseParty.role == data.role
            )
        ).first()
        if already is not None:
            errors["role"] = f"This person is already recorded as {PartyRole(data.role).label.lower()} on this case."
    if data.tenure not in {t.value for t in Tenure}:
        errors["tenure"] = "Choose the person's tenure (or 'Not known')."
    if len(data.landlord.strip()) > 200:
        errors["landlord"] = "Keep the landlord's name under 200 characters."
    if len(data.vulnerability.strip()) > 2000:
        errors["vulnerability"] = "Keep the vulnerability notes under 2,000 characters."
    services = [s.strip() for s in data.support_services if s.strip()]
    if len(services) > MAX_SUPPORT_SERVICES or any(len(s) > 200 for s in services):
        errors["support_services"] = f"List at most {MAX_SUPPORT_SERVICES} services, each under 200 characters."
    return errors


def add_party(*, session: Session, actor: Actor, case_id: int, data: PartyInput) -> CaseParty:
    """Link a person on record to a case led by the actor's organisation (audited, with a
    chronology line that partners see only if the person's details were shared with them)."""
    case = case_for_update(session, actor, case_id)
    errors = _check_party(session, case_id, data)
    if errors:
        raise InvalidInput(errors)
    details = person_details_item(session, data.person_id)
    party = CaseParty(
        case_id=case_id,
        person_id=data.person_id,
        role=data.role,
        tenure=data.tenure,
        landlord=data.landlord.strip(),
        vulnerability=data.vulnerability.strip(),
        support_services=list(dict.fromkeys(s.strip() for s in data.support_services if s.strip())),
        added_by_user_id=actor.user_id,
        added_at=utcnow(),
    )
    session.add(party)
    session.flush()
    role, tenure = PartyRole(data.role), Tenure(data.tenure)
    # No name in the line: it goes with the details item, which may be shared without identity.
    summary = f"{role.label} added to the case" + (f" ({tenure.label.lower()})" if tenure != Tenure.NOT_KNOWN else "")
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.PARTY_ADDED, summary=summary,
        item_id=details.id, subject_type="case_party", subject_id=party.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_PARTY_ADDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case_id,
        detail={"party_id": party.id, "person_id": data.person_id, "role": str(role), "tenure": str(tenure)},
    )  # fmt: skip
    return party


# --- Suggesting a lead officer (Cambridge, 002 "Allocating a lead officer") -----------------


@dataclass(frozen=True)
class LeadSuggestion:
    tenure: str  # a Tenure value, or "" for street-based ASB (no tenure involved)
    tenure_label: str
    risk_label: str
    risk_is_standard: bool
    lead: str  # who leads, in the procedure's words
    manager_allocates: bool
    organisation_type: OrganisationType | None  # where to look for the lead, when the procedure says
    landlord: str
    explanation: str


STREET_BASED = "Street-based (the wider community)"
MANAGER_ALLOCATES = "The team manager allocates the lead officer"


def lead_for(tenure: Tenure | None, *, risk_rank: int, scheme: RiskScheme, landlord: str = "") -> LeadSuggestion:
    """Who should lead, from the tenure of those involved and the risk.

    "Standard" is the scheme's lowest level, whatever the scheme calls it, so this works for
    Welwyn's Priority 1-4 as for Cambridge's High/Medium/Standard.  A case not yet assessed
    (rank 0) is treated as standard until it is.
    """
    lowest = min(level.rank for level in scheme.levels)
    level = next((lv for lv in scheme.levels if lv.rank == risk_rank), None)
    risk_label = level.label if level else "Not assessed"
    standard = risk_rank <= lowest
    unassessed = " The risk has not been assessed yet: it is treated as standard until it is." if not level else ""
    landlord = landlord.strip()
    considering_landlord = f", including the landlord ({landlord})" if landlord else ", including the landlord"

    def suggestion(
        lead: str, explanation: str, org_type: OrganisationType | None, *, manager: bool = False
    ) -> LeadSuggestion:
        return LeadSuggestion(
            tenure=str(tenure) if tenure else "",
            tenure_label=tenure.label if tenure else STREET_BASED,
            risk_label=risk_label,
            risk_is_standard=standard,
            lead=lead,
            manager_allocates=manager,
            organisation_type=org_type,
            landlord=landlord,
            explanation=explanation + unassessed,
        )

    if tenure == Tenure.COUNCIL_TENANT:
        if standard:
            return suggestion(
                "Housing Officer",
                f"A dispute involving a council tenant at {risk_label.lower()} risk is led by the Housing Officer "
                "for the tenancy.",
                OrganisationType.COUNCIL_HOUSING,
            )
        return suggestion(
            "ASB Officer",
            f"A dispute involving a council tenant at {risk_label.lower()} risk is referred to an ASB Officer "
            "in the council's ASB team.",
            OrganisationType.COUNCIL_ASB_TEAM,
        )
    if tenure is None:
        return suggestion(
            MANAGER_ALLOCATES,
            "ASB involving the wider community: the team manager allocates the most appropriate lead officer, "
            "considering the risk and the involvement of other agencies.",
            None,
            manager=True,
        )
    if tenure == Tenure.TEMPORARY_ACCOMMODATION:
        return suggestion(
            MANAGER_ALLOCATES,
            "ASB involving people in temporary accommodation: the team manager allocates the most appropriate "
            "lead officer, considering the risk and the involvement of other agencies, including housing "
            "solutions.",
            OrganisationType.HOUSING_SOLUTIONS,
            manager=True,
        )
    if tenure == Tenure.NOT_KNOWN:
        return suggestion(
            MANAGER_ALLOCATES,
            "The tenure of those involved is not known yet: find it out. Until then the team manager allocates "
            "the most appropriate lead officer, considering the risk and the agencies involved.",
            None,
            manager=True,
        )
    who = {
        Tenure.HOUSING_ASSOCIATION_TENANT: "a housing-association tenant",
        Tenure.LEASEHOLDER: "a leaseholder",
        Tenure.OWNER_OCCUPIER: "an owner-occupier",
        Tenure.PRIVATE_TENANT: "a private tenant",
    }[tenure]
    return suggestion(
        MANAGER_ALLOCATES,
        f"A dispute involving {who}: the team manager allocates the most appropriate lead officer, considering "
        f"the risk and the involvement of landlords{considering_landlord if tenure != Tenure.OWNER_OCCUPIER else ''} "
        "and other agencies.",
        OrganisationType.HOUSING_ASSOCIATION if tenure == Tenure.HOUSING_ASSOCIATION_TENANT else None,
        manager=True,
    )


# The tenure that decides the lead when a case has several parties: any council tenant
# brings the council's procedure; then the tenures whose landlord is an agency.
_TENURE_PRECEDENCE = (
    Tenure.COUNCIL_TENANT,
    Tenure.TEMPORARY_ACCOMMODATION,
    Tenure.HOUSING_ASSOCIATION_TENANT,
    Tenure.PRIVATE_TENANT,
    Tenure.LEASEHOLDER,
    Tenure.OWNER_OCCUPIER,
    Tenure.NOT_KNOWN,
)


def _deciding_party(parties: list[CaseParty]) -> CaseParty | None:
    for tenure in _TENURE_PRECEDENCE:
        for party in parties:
            if party.tenure == tenure:
                return party
    return None


def suggest_lead(
    *,
    session: Session,
    actor: Actor,
    case_id: int | None = None,
    tenure: Tenure | None = None,
    risk_level: str | None = None,
) -> LeadSuggestion:
    """Who should lead a case: from the case (its parties' tenure and its risk), or from a
    tenure (None: street-based) and a risk level key of the actor's organisation's scheme."""
    if case_id is not None:
        case = case_for_update(session, actor, case_id)
        scheme = get_case_policy(session, case.lead_organisation_id).risk_scheme
        parties = list(session.exec(select(CaseParty).where(CaseParty.case_id == case_id).order_by(col(CaseParty.id))))
        party = _deciding_party(parties)
        return lead_for(
            Tenure(party.tenure) if party else None,
            risk_rank=case.risk_rank,
            scheme=scheme,
            landlord=party.landlord if party else "",
        )
    require(actor, Permission.CASES_CASES_READ, subject_type="case")
    if actor.organisation_id is None:
        raise InvalidInput({"case_id": "Choose a case."})
    scheme = get_case_policy(session, actor.organisation_id).risk_scheme
    rank = 0
    if risk_level:
        level = next((lv for lv in scheme.levels if lv.key == risk_level), None)
        if level is None:
            raise InvalidInput({"risk_level": f"Choose a risk level of the {scheme.name} scheme."})
        rank = level.rank
    return lead_for(tenure, risk_rank=rank, scheme=scheme)


# --- Passing the case to another lead -------------------------------------------------------

NOT_LEAD_OR_MANAGER = "Only the case's lead officer or a team manager of the lead organisation can pass the case on."


def _case_items(session: Session, case: Case) -> list[InformationItem]:
    """The lead organisation's items of this case (the summary, reports, incidents...)."""
    return list(
        session.exec(
            select(InformationItem).where(
                InformationItem.owner_organisation_id == case.lead_organisation_id,
                InformationItem.case_reference == case.reference,
            )
        )
    )


def _transfer_gap(
    session: Session, old: Organisation, new: Organisation, categories: set[DataCategory], today: date
) -> str:
    """Empty when an active agreement lets ``old`` pass the case record to ``new``."""
    assert old.id is not None and new.id is not None
    agreements = session.exec(
        select(SharingAgreement)
        .join(AgreementParty, col(AgreementParty.agreement_id) == col(SharingAgreement.id))
        .where(AgreementParty.organisation_id == old.id)
    ).all()
    for agreement in agreements:
        parties = frozenset(
            session.exec(select(AgreementParty.organisation_id).where(AgreementParty.agreement_id == agreement.id))
        )
        gap = agreement_gap(
            agreement, party_ids=parties, discloser_id=old.id, recipient_id=new.id,
            purpose=Purpose.ASB_CASE_MANAGEMENT, categories=categories, today=today,
        )  # fmt: skip
        if gap is None:
            return ""
    return (
        f"No active information sharing agreement between {old.name} and {new.name} covers passing this case "
        "on for ASB case management."
    )


def allocate_lead(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    organisation_id: int,
    officer_user_id: int,
    reason: str,
    today: date | None = None,
) -> Case:
    """Make ``officer_user_id`` of ``organisation_id`` the case's lead.

    Only the current lead officer or a team manager of the lead organisation may.  When the
    lead passes to another organisation, the case's record (its summary and the items of
    the case the lead organisation holds) passes with it, which an active agreement
    between the two organisations must allow.  People's details stay with the organisation
    that holds them and are shared the usual way.
    """
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    leads = actor.user_id is not None and actor.user_id == case.lead_officer_user_id
    manages = Role.MANAGER in actor.roles and actor.organisation_id == case.lead_organisation_id
    if not (leads or manages or actor.is_system):
        raise denied(
            actor, NOT_LEAD_OR_MANAGER, reason="not the lead officer or a manager", subject_type="case",
            subject_id=case_id,
        )  # fmt: skip
    today = today or utcnow().date()
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "Say why the case is passing to this officer."
    if case.status == CaseStatus.CLOSED:
        errors["case"] = "This case is closed. It re-opens when a new report is received."
    new_org = session.get(Organisation, organisation_id)
    if new_org is None or not new_org.active:
        errors["organisation_id"] = "Choose an organisation in the directory."
    officer = session.get(User, officer_user_id)
    can_lead = (
        officer is not None
        and officer.id is not None
        and officer.is_active
        and officer.organisation_id == organisation_id
        and Permission.CASES_CASES_MANAGE in permissions_for(roles_of(session, officer.id))
    )
    if not can_lead:
        errors["officer_user_id"] = "Choose an officer of that organisation who can lead cases."
    elif officer_user_id == case.lead_officer_user_id and organisation_id == case.lead_organisation_id:
        errors["officer_user_id"] = "This officer already leads the case."
    if errors:
        raise InvalidInput(errors)
    assert new_org is not None and officer is not None
    old_org = session.get(Organisation, case.lead_organisation_id)
    assert old_org is not None
    moved: list[InformationItem] = []
    if organisation_id != case.lead_organisation_id:
        moved = _case_items(session, case)
        categories: set[DataCategory] = set()
        for item in moved:
            categories |= item_categories(item)
        gap = _transfer_gap(session, old_org, new_org, categories or {DataCategory.ASB_HISTORY}, today)
        if gap:
            raise InvalidInput({"organisation_id": gap})
        for item in moved:
            item.owner_organisation_id = organisation_id
            session.add(item)
    previous = {"organisation_id": case.lead_organisation_id, "officer_user_id": case.lead_officer_user_id}
    case.lead_organisation_id = organisation_id
    case.lead_officer_user_id = officer_user_id
    refresh_case_summary(session, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.LEAD_ALLOCATED,
        summary=f"Lead passed to {officer.full_name} ({new_org.name}): {reason.strip()}",
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_UPDATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case_id, reason=reason.strip()[:500],
        detail={"change": "lead", "from": previous,
                "to": {"organisation_id": organisation_id, "officer_user_id": officer_user_id},
                "items_transferred": sorted(i.id for i in moved if i.id is not None)},
    )  # fmt: skip
    return case
