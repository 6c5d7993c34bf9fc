"""Tables owned by ``sharing/``: organisations, the people who sign in, their sessions and
external identities, and the append-only audit trail."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from sharing.db import utcnow
from sharing.types import UTCDateTime


def _utc_column(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class OrganisationType(StrEnum):
    """The kinds of partner agency a panel brings together."""

    COUNCIL_ASB_TEAM = "council_asb_team"
    COUNCIL_HOUSING = "council_housing"
    HOUSING_SOLUTIONS = "housing_solutions"
    LEGAL_SERVICES = "legal_services"
    ENVIRONMENTAL_HEALTH = "environmental_health"
    POLICE = "police"
    ADULT_SOCIAL_CARE = "adult_social_care"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    HEALTH = "health"
    HOUSING_ASSOCIATION = "housing_association"
    PROBATION = "probation"
    YOUTH_OFFENDING = "youth_offending"
    FIRE_AND_RESCUE = "fire_and_rescue"

    @property
    def label(self) -> str:
        return ORGANISATION_TYPE_LABELS[self]


ORGANISATION_TYPE_LABELS: dict[OrganisationType, str] = {
    OrganisationType.COUNCIL_ASB_TEAM: "Council ASB team",
    OrganisationType.COUNCIL_HOUSING: "Council housing",
    OrganisationType.HOUSING_SOLUTIONS: "Housing solutions",
    OrganisationType.LEGAL_SERVICES: "Legal services",
    OrganisationType.ENVIRONMENTAL_HEALTH: "Environmental health",
    OrganisationType.POLICE: "Police",
    OrganisationType.ADULT_SOCIAL_CARE: "Adult social care",
    OrganisationType.CHILDRENS_SOCIAL_CARE: "Children's social care",
    OrganisationType.HEALTH: "Health",
    OrganisationType.HOUSING_ASSOCIATION: "Housing association",
    OrganisationType.PROBATION: "Probation",
    OrganisationType.YOUTH_OFFENDING: "Youth offending",
    OrganisationType.FIRE_AND_RESCUE: "Fire and rescue",
}


class Role(StrEnum):
    """What a person may do in the portal; panel chairs are set per panel, not as a role."""

    ADMINISTRATOR = "administrator"
    LEAD_OFFICER = "lead_officer"
    PANEL_MEMBER = "panel_member"
    INFORMATION_SHARING_OFFICER = "information_sharing_officer"
    MANAGER = "manager"  # team manager: approves closures, sees the agency's workload

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ADMINISTRATOR: "Administrator",
    Role.LEAD_OFFICER: "Lead officer",
    Role.PANEL_MEMBER: "Panel member",
    Role.INFORMATION_SHARING_OFFICER: "Information-sharing officer",
    Role.MANAGER: "Team manager",
}


class Organisation(SQLModel, table=True):
    """A partner agency.  Its identity provider settings make "Sign in with <organisation>"."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    slug: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    type: OrganisationType = Field(sa_column=Column(String(40), nullable=False))
    active: bool = Field(default=True)
    sso_enabled: bool = Field(default=False)
    sso_discovery_url: str | None = Field(default=None, max_length=500)
    sso_client_id: str | None = Field(default=None, max_length=200)
    # Encrypted with the portal's secret key (see sharing.secrets), never stored in clear.
    sso_client_secret_encrypted: str | None = Field(default=None, max_length=2000)
    sso_allow_provisioning: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class User(SQLModel, table=True):
    """A person who signs in; belongs to exactly one organisation."""

    __tablename__ = "portal_user"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    full_name: str = Field(max_length=200)
    job_title: str | None = Field(default=None, max_length=200)
    password_hash: str | None = Field(default=None, max_length=300)
    totp_secret_encrypted: str | None = Field(default=None, max_length=500)
    totp_enabled: bool = Field(default=False)
    # The last TOTP time step accepted, so a code cannot be replayed within its window.
    totp_last_step: int | None = Field(default=None)
    is_active: bool = Field(default=True)
    is_demo: bool = Field(default=False)
    failed_attempts: int = Field(default=0)
    locked_until: datetime | None = _utc_column()
    last_sign_in_at: datetime | None = _utc_column()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="portal_user.id", primary_key=True)
    role: Role = Field(sa_column=Column(String(40), primary_key=True))


class ExternalIdentity(SQLModel, table=True):
    """A person's account at an organisation's identity provider, matched by issuer + subject."""

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_external_identity_issuer_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    linked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class UserSession(SQLModel, table=True):
    """A server-side session; the browser holds only a random token whose hash is stored here."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    method: str = Field(max_length=20)  # "password" or "sso"
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = _utc_column()
    end_reason: str | None = Field(default=None, max_length=40)
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=400)


class SignInTicket(SQLModel, table=True):
    """A one-time, short-lived proof that a sign-in succeeded, exchanged by the browser for a
    session cookie on a plain HTTP request (so the cookie can be HttpOnly)."""

    __tablename__ = "sign_in_ticket"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int = Field(foreign_key="portal_user.id")
    method: str = Field(max_length=20)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = _utc_column()


class AuditEvent(SQLModel, table=True):
    """One row of the append-only audit trail.

    Rows are never updated or deleted (database triggers refuse it).  Each row carries the
    hash of the previous row and its own, so any later change or removal breaks the chain.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_subject", "subject_type", "subject_id"),
        Index("ix_audit_event_actor", "actor_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    action: str = Field(sa_column=Column(String(80), nullable=False, index=True))
    outcome: str = Field(max_length=20)
    actor_user_id: int | None = Field(default=None)
    actor_organisation_id: int | None = Field(default=None)
    actor_label: str | None = Field(default=None, max_length=320)
    subject_type: str | None = Field(default=None, max_length=40)
    subject_id: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=500)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip_address: str | None = Field(default=None, max_length=64)
    # Unique, so two writers can never fork the chain from the same predecessor.
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))


class AuditChainHead(SQLModel, table=True):
    """A single row holding the newest audit hash.  Writers update it first, which takes the
    write lock on SQLite and a row lock on PostgreSQL, so appends are strictly one at a time."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int | None = Field(default=None)
    last_hash: str = Field(max_length=64)


# --- Information sharing -------------------------------------------------------------------


class Person(SQLModel, table=True):
    """A data subject (victim, witness, alleged perpetrator...).  Never a portal user."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    controller_organisation_id: int = Field(foreign_key="organisation.id", index=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: date | None = Field(default=None)
    address: str = Field(default="", max_length=500)
    postcode: str = Field(default="", max_length=12)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=320)
    is_vulnerable_adult: bool = Field(default=False)
    is_child: bool = Field(default=False)
    is_confidential_complainant: bool = Field(default=False)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    anonymised_at: datetime | None = _utc_column()

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class SharingAgreement(SQLModel, table=True):
    """An information sharing agreement (protocol) between partner organisations."""

    __tablename__ = "sharing_agreement"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    reference: str = Field(sa_column=Column(String(60), nullable=False, unique=True))
    status: str = Field(default="draft", max_length=20, index=True)
    purposes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Categories only some parties share: {"health": [org ids]}.  Absent means every party.
    category_restrictions: dict[str, list[int]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    lawful_bases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    starts_on: date
    ends_on: date
    review_on: date
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AgreementParty(SQLModel, table=True):
    __tablename__ = "agreement_party"

    agreement_id: int = Field(foreign_key="sharing_agreement.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    signatory_name: str = Field(default="", max_length=200)
    signatory_role: str = Field(default="", max_length=200)
    signed_on: date | None = Field(default=None)


class StoredDocument(SQLModel, table=True):
    """An uploaded file (e.g. a signed consent form), kept in the database with its checksum
    so it commits or rolls back with the record it belongs to."""

    __tablename__ = "stored_document"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ConsentRecord(SQLModel, table=True):
    """A person's consent to share, with its scope, and its withdrawal."""

    __tablename__ = "consent_record"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    given_by_representative: bool = Field(default=False)
    representative_name: str = Field(default="", max_length=200)
    representative_relationship: str = Field(default="", max_length=100)
    method: str = Field(max_length=20)
    scope_organisation_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scope_organisation_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scope_purposes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scope_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    given_on: date
    expires_on: date | None = Field(default=None)
    withdrawn_on: date | None = Field(default=None)
    withdrawal_method: str = Field(default="", max_length=200)
    withdrawn_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    form_document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    recorded_by_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class InformationItem(SQLModel, table=True):
    """One piece of case information, owned by one organisation.

    ``content`` is a list of fields ``{"key", "label", "value", "category"}``; a reader
    outside the owner sees a field only when a live disclosure covers its category.
    """

    __tablename__ = "information_item"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    owner_organisation_id: int = Field(foreign_key="organisation.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    case_reference: str | None = Field(default=None, max_length=40, index=True)
    title: str = Field(max_length=200)
    category: str = Field(max_length=40)
    marking: str = Field(default="OFFICIAL", max_length=30)
    content: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    # When the case this belongs to closed: the retention clock starts here.
    case_closed_on: date | None = Field(default=None)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Disclosure(SQLModel, table=True):
    """A decision to share (or not) some items with an organisation, with the fields the ICO's
    Data Sharing Code expects.  Refusals are kept too."""

    __tablename__ = "disclosure"
    __table_args__ = (Index("ix_disclosure_recipient_status", "recipient_organisation_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(max_length=30, index=True)
    discloser_organisation_id: int = Field(foreign_key="organisation.id")
    recipient_organisation_id: int = Field(foreign_key="organisation.id")
    purpose: str = Field(max_length=40)
    basis: str = Field(max_length=40)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    what_was_shared: str = Field(default="", max_length=1000)
    justification: str = Field(default="", max_length=4000)
    consent_id: int | None = Field(default=None, foreign_key="consent_record.id", index=True)
    agreement_id: int | None = Field(default=None, foreign_key="sharing_agreement.id")
    emergency: bool = Field(default=False)
    retain_until: date | None = Field(default=None)
    requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_at: datetime | None = _utc_column()
    refusal_reason: str = Field(default="", max_length=1000)
    review_due_at: datetime | None = _utc_column()
    reviewed_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    reviewed_at: datetime | None = _utc_column()
    review_note: str = Field(default="", max_length=2000)


class DisclosureItem(SQLModel, table=True):
    __tablename__ = "disclosure_item"
    __table_args__ = (Index("ix_disclosure_item_item", "item_id"),)

    disclosure_id: int = Field(foreign_key="disclosure.id", primary_key=True)
    item_id: int = Field(foreign_key="information_item.id", primary_key=True)


class AccessLog(SQLModel, table=True):
    """Every read of case or person information by anyone outside the owner, and every
    refused attempt (owner reads are logged too, for the subject's access history)."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_person", "person_id", "occurred_at"),
        Index("ix_access_log_item", "item_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = Field(default=None)
    organisation_id: int | None = Field(default=None)
    item_id: int | None = Field(default=None)
    person_id: int | None = Field(default=None)
    disclosure_id: int | None = Field(default=None)
    via: str = Field(max_length=60)
    outcome: str = Field(max_length=20)  # owner, disclosed, partial, denied
    withheld_fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class OrganisationNotice(SQLModel, table=True):
    """Something an organisation's people must be told in the portal (e.g. consent withdrawn
    for information they received)."""

    __tablename__ = "organisation_notice"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    message: str = Field(max_length=1000)
    disclosure_id: int | None = Field(default=None, foreign_key="disclosure.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SubjectAccessRequest(SQLModel, table=True):
    """A person's request to see what is held about them (UK GDPR Art. 15)."""

    __tablename__ = "subject_access_request"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    received_on: date
    identity_checked_on: date | None = Field(default=None)
    due_on: date
    extended_to: date | None = Field(default=None)
    extension_reason: str = Field(default="", max_length=1000)
    extension_recorded_on: date | None = Field(default=None)
    completed_on: date | None = Field(default=None)
    logged_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RetentionRule(SQLModel, table=True):
    """How long information of one category is kept after its case closes."""

    __tablename__ = "retention_rule"

    category: str = Field(sa_column=Column(String(40), primary_key=True))
    years_after_closure: int = Field(default=6)
    updated_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
