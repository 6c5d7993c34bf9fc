"""The words of case work, drawn from the councils' ASB policies (DOMAIN.md §3).

Each enum's ``label`` is what an officer reads on screen; the stored value never changes.
"""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return _LABELS.get(self, self.value.replace("_", " ").capitalize())


class ReportChannel(_Labelled):
    """How a report reached the team."""

    PHONE = "phone"
    EMAIL = "email"
    ONLINE = "online"
    IN_PERSON = "in_person"
    THIRD_PARTY = "third_party"  # someone reporting on the victim's behalf
    ANONYMOUS = "anonymous"


class TriageOutcome(_Labelled):
    PENDING = "pending"
    NOT_ASB = "not_asb"
    LOG_ONLY = "log_only"  # anonymous reports: logged, no feedback
    CASE_OPENED = "case_opened"
    ADDED_TO_CASE = "added_to_case"  # a further report on an existing (perhaps closed) case


class NotAsbReason(_Labelled):
    """What the policies say is not anti-social behaviour, each with the advice given."""

    BABIES_CRYING = "babies_crying"
    COOKING_SMELLS = "cooking_smells"
    CHILDREN_PLAYING = "children_playing"
    HOUSEHOLD_NOISE = "household_noise"
    ONE_OFF_PARTY = "one_off_party"
    LIFESTYLE_CLASH = "lifestyle_clash"
    BOUNDARY_DISPUTE = "boundary_dispute"
    PARKING_DISPUTE = "parking_dispute"
    DIY_OR_GARDENING = "diy_or_gardening"
    OTHER = "other"

    @property
    def advice(self) -> str:
        return NOT_ASB_ADVICE[self]


NOT_ASB_ADVICE: dict[NotAsbReason, str] = {
    NotAsbReason.BABIES_CRYING: "A baby crying is normal household noise and is not anti-social behaviour.",
    NotAsbReason.COOKING_SMELLS: "Cooking smells are part of everyday life and are not anti-social behaviour.",
    NotAsbReason.CHILDREN_PLAYING: (
        "Children playing, ball games and young people gathering socially are not anti-social behaviour "
        "unless they are causing a nuisance."
    ),
    NotAsbReason.HOUSEHOLD_NOISE: (
        "Day-to-day noise (washing machines, toilets flushing, footsteps, vacuuming) is not anti-social "
        "behaviour. Environmental Health can advise on statutory noise nuisance."
    ),
    NotAsbReason.ONE_OFF_PARTY: (
        "A one-off party is not anti-social behaviour. If it happens again, keep a diary and report it."
    ),
    NotAsbReason.LIFESTYLE_CLASH: (
        "Differences in lifestyle or the hours people keep are not anti-social behaviour. Mediation may help: "
        "we can give details of the local mediation service."
    ),
    NotAsbReason.BOUNDARY_DISPUTE: (
        "Boundary and shared-driveway disputes are civil matters. Citizens Advice can help, or a solicitor."
    ),
    NotAsbReason.PARKING_DISPUTE: (
        "Parking outside your home is not anti-social behaviour. Obstruction is a matter for the police or "
        "the highways authority."
    ),
    NotAsbReason.DIY_OR_GARDENING: (
        "DIY, car repairs at reasonable hours, gardening and lawn-mowing are not anti-social behaviour."
    ),
    NotAsbReason.OTHER: "This is not anti-social behaviour; the officer's advice is recorded with the report.",
}


class PartyRole(_Labelled):
    VICTIM = "victim"
    WITNESS = "witness"
    ALLEGED_PERPETRATOR = "alleged_perpetrator"
    HOUSEHOLD_MEMBER = "household_member"
    REPRESENTATIVE = "representative"


class Tenure(_Labelled):
    COUNCIL_TENANT = "council_tenant"
    HOUSING_ASSOCIATION_TENANT = "housing_association_tenant"
    LEASEHOLDER = "leaseholder"
    OWNER_OCCUPIER = "owner_occupier"
    PRIVATE_TENANT = "private_tenant"
    TEMPORARY_ACCOMMODATION = "temporary_accommodation"
    NOT_KNOWN = "not_known"


class CaseCategory(_Labelled):
    """Home Office categories (000 §6.2)."""

    PERSONAL = "personal"
    NUISANCE = "nuisance"
    ENVIRONMENTAL = "environmental"


class CaseType(_Labelled):
    NOISE = "noise"
    VIOLENCE_OR_THREATS = "violence_or_threats"
    HARASSMENT = "harassment"
    HATE_INCIDENT = "hate_incident"
    DRUGS = "drugs"
    CRIMINAL_DAMAGE = "criminal_damage"
    VEHICLE_NUISANCE = "vehicle_nuisance"
    FLY_TIPPING = "fly_tipping"
    ANIMALS = "animals"
    EXPLOITATION = "exploitation"
    DOMESTIC_ABUSE = "domestic_abuse"
    SEXUAL_HARASSMENT = "sexual_harassment"


class CaseStage(_Labelled):
    """Reading's six stages (004 §8)."""

    ENQUIRY = "enquiry"
    INVESTIGATION = "investigation"
    REVIEW = "review"
    INTERVENTIONS = "interventions"
    LEGAL_REMEDIES = "legal_remedies"
    CLOSURE = "closure"

    @property
    def number(self) -> int:
        return list(CaseStage).index(self) + 1


class CaseStatus(_Labelled):
    OPEN = "open"
    CLOSURE_REQUESTED = "closure_requested"  # awaiting a manager's approval
    CLOSED = "closed"


class ClosureReason(_Labelled):
    """Reasons for closing a case from the policies' lists (000 §14.2, 001 §17, 004 stage 6)."""

    RESOLVED = "resolved"
    NO_FURTHER_INCIDENTS = "no_further_incidents"
    NO_CONTACT_FROM_COMPLAINANT = "no_contact_from_complainant"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    COMPLAINANT_WITHDREW = "complainant_withdrew"
    PERPETRATOR_MOVED = "perpetrator_moved"
    LEGAL_ACTION_CONCLUDED = "legal_action_concluded"
    REFERRED_TO_OTHER_AGENCY = "referred_to_other_agency"
    NOT_ASB = "not_asb"


class InterventionKind(_Labelled):
    """Interventions and legal remedies (DOMAIN.md §3)."""

    WARNING_LETTER = "warning_letter"
    ACCEPTABLE_BEHAVIOUR_CONTRACT = "acceptable_behaviour_contract"
    GOOD_NEIGHBOUR_AGREEMENT = "good_neighbour_agreement"
    MEDIATION = "mediation"
    NEIGHBOURHOOD_RESOLUTION_PANEL = "neighbourhood_resolution_panel"
    COMMUNITY_PROTECTION_WARNING = "community_protection_warning"
    COMMUNITY_PROTECTION_NOTICE = "community_protection_notice"
    CIVIL_INJUNCTION = "civil_injunction"
    CRIMINAL_BEHAVIOUR_ORDER = "criminal_behaviour_order"
    CLOSURE_NOTICE = "closure_notice"
    CLOSURE_ORDER = "closure_order"
    NOTICE_OF_SEEKING_POSSESSION = "notice_of_seeking_possession"
    NOTICE_OF_INTENTION_DEMOTION = "notice_of_intention_demotion"
    DEMOTION_ORDER = "demotion_order"
    POSSESSION = "possession"

    @property
    def is_legal_remedy(self) -> bool:
        return self in LEGAL_REMEDIES


LEGAL_REMEDIES = frozenset(
    {
        InterventionKind.CIVIL_INJUNCTION,
        InterventionKind.CRIMINAL_BEHAVIOUR_ORDER,
        InterventionKind.CLOSURE_NOTICE,
        InterventionKind.CLOSURE_ORDER,
        InterventionKind.NOTICE_OF_SEEKING_POSSESSION,
        InterventionKind.NOTICE_OF_INTENTION_DEMOTION,
        InterventionKind.DEMOTION_ORDER,
        InterventionKind.POSSESSION,
    }
)


class InterventionStatus(_Labelled):
    PLANNED = "planned"
    SERVED = "served"  # in force
    EXPIRED = "expired"
    BREACHED = "breached"
    ENDED = "ended"  # discharged, restored to secure, possession obtained...
    WITHDRAWN = "withdrawn"


class CaseReviewOutcome(_Labelled):
    """An ASB Case Review (Community Trigger) application, from threshold to outcome."""

    AWAITING_DECISION = "awaiting_decision"
    THRESHOLD_MET = "threshold_met"
    THRESHOLD_NOT_MET = "threshold_not_met"
    REVIEW_COMPLETED = "review_completed"


class CaseEventKind(_Labelled):
    """What a chronology entry records."""

    REPORT = "report"
    TRIAGE = "triage"
    CASE_OPENED = "case_opened"
    PARTY_ADDED = "party_added"
    LEAD_ALLOCATED = "lead_allocated"
    RISK_ASSESSED = "risk_assessed"
    RISK_RAISED = "risk_raised"
    FIRST_CONTACT = "first_contact"
    INCIDENT = "incident"
    EVIDENCE = "evidence"
    STAGE_MOVED = "stage_moved"
    STAGE_REVIEW = "stage_review"  # the regular review of a case's progress (stage 3)
    CLOSURE_REQUESTED = "closure_requested"
    CLOSURE_REFUSED = "closure_refused"
    CLOSED = "closed"
    REOPENED = "reopened"
    CLOSURE_PROPOSED = "closure_proposed"
    CASE_REVIEW_FLAGGED = "case_review_flagged"
    CASE_REVIEW_LAPSED = "case_review_lapsed"
    CASE_REVIEW_APPLICATION = "case_review_application"
    CASE_REVIEW_DECISION = "case_review_decision"
    INTERVENTION = "intervention"
    DISCLOSURE = "disclosure"
    PANEL_DECISION = "panel_decision"
    PANEL_REFERRAL = "panel_referral"
    ACTION = "action"
    NOTE = "note"


_LABELS: dict[StrEnum, str] = {
    ReportChannel.IN_PERSON: "In person",
    ReportChannel.THIRD_PARTY: "Third party on the victim's behalf",
    TriageOutcome.NOT_ASB: "Not anti-social behaviour",
    TriageOutcome.LOG_ONLY: "Log only (anonymous)",
    NotAsbReason.HOUSEHOLD_NOISE: "Normal household noise",
    NotAsbReason.ONE_OFF_PARTY: "One-off party",
    NotAsbReason.BOUNDARY_DISPUTE: "Boundary dispute",
    NotAsbReason.PARKING_DISPUTE: "Parking dispute",
    NotAsbReason.DIY_OR_GARDENING: "DIY, car repairs or gardening",
    PartyRole.ALLEGED_PERPETRATOR: "Alleged perpetrator",
    Tenure.HOUSING_ASSOCIATION_TENANT: "Housing-association tenant",
    Tenure.OWNER_OCCUPIER: "Owner-occupier",
    CaseType.VIOLENCE_OR_THREATS: "Violence or threats",
    CaseType.HARASSMENT: "Harassment or intimidation",
    CaseType.CRIMINAL_DAMAGE: "Criminal damage or graffiti",
    CaseType.FLY_TIPPING: "Fly-tipping",
    CaseType.EXPLOITATION: "Exploitation or cuckooing",
    CaseType.DOMESTIC_ABUSE: "Domestic abuse (own procedure)",
    CaseStage.ENQUIRY: "1 Initial enquiry and assessment",
    CaseStage.INVESTIGATION: "2 Case investigation",
    CaseStage.REVIEW: "3 Case review",
    CaseStage.INTERVENTIONS: "4 Interventions",
    CaseStage.LEGAL_REMEDIES: "5 Legal remedies",
    CaseStage.CLOSURE: "6 Closure",
    CaseStatus.CLOSURE_REQUESTED: "Closure awaiting approval",
    CaseEventKind.STAGE_REVIEW: "Case progress review",
    ClosureReason.RESOLVED: "Resolved: the behaviour has stopped",
    ClosureReason.NO_FURTHER_INCIDENTS: "No further incidents reported",
    ClosureReason.NO_CONTACT_FROM_COMPLAINANT: "Complainant has not responded or provided information",
    ClosureReason.INSUFFICIENT_EVIDENCE: "Insufficient evidence to take further action",
    ClosureReason.COMPLAINANT_WITHDREW: "Complainant withdrew the complaint",
    ClosureReason.PERPETRATOR_MOVED: "Alleged perpetrator has moved away",
    ClosureReason.LEGAL_ACTION_CONCLUDED: "Legal action concluded",
    ClosureReason.REFERRED_TO_OTHER_AGENCY: "Referred to the agency best placed to deal with it",
    ClosureReason.NOT_ASB: "Not anti-social behaviour",
    InterventionKind.ACCEPTABLE_BEHAVIOUR_CONTRACT: "Acceptable Behaviour Contract",
    InterventionKind.GOOD_NEIGHBOUR_AGREEMENT: "Good Neighbour Agreement",
    InterventionKind.NEIGHBOURHOOD_RESOLUTION_PANEL: "Neighbourhood Resolution Panel",
    InterventionKind.COMMUNITY_PROTECTION_WARNING: "Community Protection Warning",
    InterventionKind.COMMUNITY_PROTECTION_NOTICE: "Community Protection Notice",
    InterventionKind.CIVIL_INJUNCTION: "Civil injunction",
    InterventionKind.CRIMINAL_BEHAVIOUR_ORDER: "Criminal Behaviour Order",
    InterventionKind.NOTICE_OF_SEEKING_POSSESSION: "Notice of Seeking Possession",
    InterventionKind.NOTICE_OF_INTENTION_DEMOTION: "Notice of Intention to apply for a Demotion Order",
    InterventionKind.DEMOTION_ORDER: "Demotion Order",
    InterventionKind.POSSESSION: "Possession proceedings",
    CaseReviewOutcome.THRESHOLD_MET: "Threshold met",
    CaseReviewOutcome.THRESHOLD_NOT_MET: "Threshold not met",
}
