"""The words of information sharing: purposes, data categories, lawful bases, markings.

Each enum carries the label a housing officer reads; refusal messages are built from them.
"""

from __future__ import annotations

from enum import StrEnum

WITHHELD = "Withheld \N{EN DASH} not shared with your organisation"


class Purpose(StrEnum):
    ASB_CASE_MANAGEMENT = "asb_case_management"
    SAFEGUARDING = "safeguarding"
    HOMELESSNESS_PREVENTION = "homelessness_prevention"
    TENANCY_ENFORCEMENT = "tenancy_enforcement"

    @property
    def label(self) -> str:
        return PURPOSE_LABELS[self]


PURPOSE_LABELS = {
    Purpose.ASB_CASE_MANAGEMENT: "ASB case management",
    Purpose.SAFEGUARDING: "safeguarding",
    Purpose.HOMELESSNESS_PREVENTION: "homelessness prevention",
    Purpose.TENANCY_ENFORCEMENT: "tenancy enforcement",
}


class DataCategory(StrEnum):
    IDENTITY = "identity"
    CONTACT = "contact"
    ASB_HISTORY = "asb_history"
    ALLEGATIONS_OF_CRIME = "allegations_of_crime"
    HEALTH = "health"
    SAFEGUARDING = "safeguarding"
    HOUSING = "housing"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    DataCategory.IDENTITY: "identity",
    DataCategory.CONTACT: "contact",
    DataCategory.ASB_HISTORY: "ASB history",
    DataCategory.ALLEGATIONS_OF_CRIME: "allegations of crime",
    DataCategory.HEALTH: "health",
    DataCategory.SAFEGUARDING: "safeguarding",
    DataCategory.HOUSING: "housing and tenancy",
}


class LawfulBasis(StrEnum):
    """Consent, or one of the legal gateways for sharing without it."""

    CONSENT = "consent"
    CRIME_AND_DISORDER_S115 = "crime_and_disorder_s115"
    SAFEGUARDING_CHILD = "safeguarding_child"
    SAFEGUARDING_ADULT = "safeguarding_adult"
    PREVENTION_DETECTION_OF_CRIME = "prevention_detection_of_crime"
    VITAL_INTERESTS = "vital_interests"

    @property
    def label(self) -> str:
        return BASIS_LABELS[self]

    @property
    def is_gateway(self) -> bool:
        return self is not LawfulBasis.CONSENT


BASIS_LABELS = {
    LawfulBasis.CONSENT: "consent",
    LawfulBasis.CRIME_AND_DISORDER_S115: "Crime and Disorder Act 1998 s.115",
    LawfulBasis.SAFEGUARDING_CHILD: "safeguarding a child (Children Act 1989/2004)",
    LawfulBasis.SAFEGUARDING_ADULT: "safeguarding an adult (Care Act 2014 s.42)",
    LawfulBasis.PREVENTION_DETECTION_OF_CRIME: "prevention or detection of crime (DPA 2018 Sch. 2 para 2)",
    LawfulBasis.VITAL_INTERESTS: "risk to life (vital interests)",
}


class Marking(StrEnum):
    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


class ConsentMethod(StrEnum):
    SIGNED_FORM = "signed_form"
    VERBAL = "verbal"
    ELECTRONIC = "electronic"


class ItemKind(StrEnum):
    PERSON_DETAILS = "person_details"
    CASE_NOTE = "case_note"
    INCIDENT = "incident"
    RISK_ASSESSMENT = "risk_assessment"
    DOCUMENT = "document"
    CASE_SUMMARY = "case_summary"
    ACTION_PLAN = "action_plan"


class DisclosureStatus(StrEnum):
    """Where a disclosure stands.  Only ACTIVE and EMERGENCY give the recipient access."""

    REFUSED = "refused"
    AWAITING_APPROVAL = "awaiting_approval"
    ACTIVE = "active"
    EMERGENCY = "emergency"  # went through at once; retrospective review due
    CONSENT_WITHDRAWN_REVIEW = "consent_withdrawn_review"
    REJECTED = "rejected"  # the second person did not approve
    REVOKED = "revoked"


LIVE_STATUSES = frozenset({DisclosureStatus.ACTIVE, DisclosureStatus.EMERGENCY})

# Which category each field of a person's details belongs to: a recipient sees a field only
# when a live disclosure covers its category.
PERSON_FIELD_CATEGORIES: dict[str, DataCategory] = {
    "name": DataCategory.IDENTITY,
    "date_of_birth": DataCategory.IDENTITY,
    "address": DataCategory.CONTACT,
    "phone": DataCategory.CONTACT,
    "email": DataCategory.CONTACT,
}
PERSON_FIELD_LABELS = {
    "name": "Name",
    "date_of_birth": "Date of birth",
    "address": "Address",
    "phone": "Phone",
    "email": "Email",
}
