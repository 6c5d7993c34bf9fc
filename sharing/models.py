"""Tables owned by ``sharing/``: organisations, the people who sign in, their sessions and
external identities, and the append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
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

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ADMINISTRATOR: "Administrator",
    Role.LEAD_OFFICER: "Lead officer",
    Role.PANEL_MEMBER: "Panel member",
    Role.INFORMATION_SHARING_OFFICER: "Information-sharing officer",
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
