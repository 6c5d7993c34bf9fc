"""Tables of case work: reports, cases, parties, risk assessments, incidents, evidence, stage
moves, ASB Case Review applications, interventions and the chronology.

What partners may see is decided by the information-sharing rules, so every record that holds
case or person information points at the ``information_item`` whose disclosure governs it:
the case's *summary item* (reference, category, types, location, stage, risk, lead) for the
case itself, its stage moves and interventions; one item per report, incident and risk
assessment.  The lead organisation owns those items; partners see them only through a live
disclosure, read through ``sharing.reads``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, text
from sqlmodel import Field, SQLModel

from sharing.db import utcnow
from sharing.types import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CaseReport(SQLModel, table=True):
    """A report of anti-social behaviour as received, before and after triage."""

    __tablename__ = "case_report"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)  # who received it
    channel: str = Field(max_length=20)
    received_at: datetime = _created()
    # Who reported: a person on record, or only a name (None for an anonymous report).
    reporter_person_id: int | None = Field(default=None, foreign_key="person.id")
    reporter_name: str = Field(default="", max_length=200)
    # A third party reporting on the victim's behalf: the victim, and their consent to discuss it.
    victim_person_id: int | None = Field(default=None, foreign_key="person.id")
    victim_consent_id: int | None = Field(default=None, foreign_key="consent_record.id")
    occurred_at: datetime | None = _utc()
    what_happened: str = Field(max_length=4000)
    location: str = Field(default="", max_length=300)
    triage_outcome: str = Field(default="pending", max_length=20, index=True)
    not_asb_reason: str = Field(default="", max_length=40)
    advice_given: str = Field(default="", max_length=2000)
    triaged_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    triaged_at: datetime | None = _utc()
    case_id: int | None = Field(default=None, foreign_key="asb_case.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")


class Case(SQLModel, table=True):
    """An anti-social behaviour case, led by one organisation and one lead officer."""

    __tablename__ = "asb_case"
    __table_args__ = (
        Index("ix_asb_case_lead_status", "lead_organisation_id", "status", "id"),
        # The case list walks an organisation's cases newest first.
        Index("ix_asb_case_lead_opened", "lead_organisation_id", "opened_at", "id"),
        Index("ix_asb_case_risk", "risk_rank", "id"),
        Index("ix_asb_case_first_contact", "first_contact_due_at"),
        # Cases still waiting for first contact with the victim (the "first contact overdue"
        # list, the reminders sweep): a few hundred among a hundred thousand.
        Index(
            "ix_asb_case_awaiting_contact",
            "first_contact_due_at",
            postgresql_where=text("first_contact_made_at IS NULL"),
            sqlite_where=text("first_contact_made_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    summary_item_id: int | None = Field(default=None, foreign_key="information_item.id", index=True)
    lead_organisation_id: int = Field(foreign_key="organisation.id")
    lead_officer_user_id: int | None = Field(default=None, foreign_key="portal_user.id", index=True)
    category: str = Field(max_length=20)
    types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    location: str = Field(default="", max_length=300)
    area: str = Field(default="", max_length=100, index=True)
    status: str = Field(default="open", max_length=20)
    stage: str = Field(default="enquiry", max_length=20, index=True)
    stage_changed_at: datetime = _created()
    # The latest risk assessment's result (repeat assessments are kept in risk_assessment).
    risk_scheme: str = Field(default="", max_length=40)
    risk_level: str = Field(default="", max_length=20)
    risk_label: str = Field(default="Not assessed", max_length=40)
    risk_rank: int = Field(default=0)
    risk_score: int | None = Field(default=None)
    first_contact_due_at: datetime | None = _utc()
    first_contact_made_at: datetime | None = _utc()
    last_incident_at: datetime | None = _utc()
    next_review_on: date | None = Field(default=None)
    domestic_abuse: bool = Field(default=False)  # routed to its own procedure
    case_review_eligible: bool = Field(default=False, index=True)
    case_review_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    closure_proposed_at: datetime | None = _utc()
    closure_reason: str = Field(default="", max_length=40)
    closure_note: str = Field(default="", max_length=2000)
    closure_requested_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    closure_requested_at: datetime | None = _utc()
    closure_approved_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    closed_at: datetime | None = _utc()
    victim_told_of_case_review_at: datetime | None = _utc()
    opened_at: datetime = _created()
    opened_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    updated_at: datetime = _created()


class CaseParty(SQLModel, table=True):
    """A person's part in a case, with their tenure, vulnerability and support."""

    __tablename__ = "case_party"
    __table_args__ = (Index("ix_case_party_case", "case_id"), Index("ix_case_party_person", "person_id"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id")
    person_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=30)
    tenure: str = Field(default="not_known", max_length=40)
    landlord: str = Field(default="", max_length=200)
    vulnerability: str = Field(default="", max_length=2000)
    support_services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    added_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    added_at: datetime = _created()


class RiskAssessment(SQLModel, table=True):
    """One risk assessment; repeats are kept, the case carries the latest."""

    __tablename__ = "risk_assessment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id", index=True)
    scheme: str = Field(max_length=40)
    answers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    score: int
    level: str = Field(max_length=20)
    level_label: str = Field(max_length=40)
    rank: int
    override_reason: str = Field(default="", max_length=300)  # e.g. "hate incident: high whatever the score"
    first_contact_due_at: datetime | None = _utc()
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    assessed_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    assessed_at: datetime = _created()


class Incident(SQLModel, table=True):
    """An entry in the case's incident diary."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_case_occurred", "case_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id")
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reported_at: datetime = _created()
    what_happened: str = Field(max_length=4000)
    reported_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    reported_by_name: str = Field(default="", max_length=200)
    perpetrator_person_id: int | None = Field(default=None, foreign_key="person.id")
    is_hate: bool = Field(default=False)
    police_called: bool = Field(default=False)
    crime_reference: str = Field(default="", max_length=60)
    effect_on_victim: str = Field(default="", max_length=2000)
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    entered_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    entered_by_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")


class IncidentEvidence(SQLModel, table=True):
    """A photo, recording or letter attached to an incident (the file is a stored document
    with its SHA-256)."""

    __tablename__ = "incident_evidence"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    document_id: int = Field(foreign_key="stored_document.id")
    kind: str = Field(max_length=20)  # photo, recording, letter, other
    description: str = Field(default="", max_length=500)
    added_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    added_at: datetime = _created()


class StageMove(SQLModel, table=True):
    __tablename__ = "case_stage_move"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id", index=True)
    from_stage: str = Field(max_length=20)
    to_stage: str = Field(max_length=20)
    reason: str = Field(max_length=2000)
    moved_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    moved_at: datetime = _created()


class CaseReviewApplication(SQLModel, table=True):
    """An ASB Case Review (Community Trigger) application and what became of it."""

    __tablename__ = "case_review_application"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id", index=True)
    received_on: date
    applicant_person_id: int | None = Field(default=None, foreign_key="person.id")
    applicant_name: str = Field(default="", max_length=200)
    status: str = Field(default="awaiting_decision", max_length=30)
    # What the portal's threshold check said when the application was logged.
    threshold_check: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    threshold_decided_on: date | None = Field(default=None)
    threshold_reason: str = Field(default="", max_length=2000)
    review_completed_on: date | None = Field(default=None)
    review_outcome: str = Field(default="", max_length=4000)
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = _created()


class Intervention(SQLModel, table=True):
    """An intervention or legal remedy with the dates the law gives it."""

    __tablename__ = "intervention"
    __table_args__ = (Index("ix_intervention_case", "case_id"), Index("ix_intervention_expires", "expires_on"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id")
    kind: str = Field(max_length=40)
    status: str = Field(default="planned", max_length=20)
    subject_person_id: int | None = Field(default=None, foreign_key="person.id")
    # The earlier step this one rests on (a Community Protection Warning for a Notice, a Notice
    # of Intention for a Demotion Order).
    prior_intervention_id: int | None = Field(default=None, foreign_key="intervention.id")
    served_on: date | None = Field(default=None)
    expires_on: date | None = Field(default=None)
    review_on: date | None = Field(default=None)
    review_request_by: date | None = Field(default=None)  # Notice of Intention: 14 days
    earliest_proceedings_on: date | None = Field(default=None)  # 28 days / 4 weeks
    monitoring_ends_on: date | None = Field(default=None)  # Demotion Order: 12 months
    expiry_warned_at: datetime | None = _utc()
    witnesses_alerted_at: datetime | None = _utc()
    all_parties_consent: bool = Field(default=False)  # Neighbourhood Resolution Panel
    details: str = Field(default="", max_length=4000)
    outcome: str = Field(default="", max_length=2000)
    ended_on: date | None = Field(default=None)
    authorised_by: str = Field(default="", max_length=300)  # e.g. "Tenancy Enforcement Panel, 9 June 2026"
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = _created()


class CaseEvent(SQLModel, table=True):
    """One line of a case's chronology.  ``item_id`` is the information item whose disclosure
    decides who may see the line (the case summary for case-level events)."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id")
    occurred_at: datetime = _created()
    kind: str = Field(max_length=30)
    summary: str = Field(max_length=1000)
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    subject_type: str = Field(default="", max_length=40)
    subject_id: int | None = Field(default=None)
    actor_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    actor_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
