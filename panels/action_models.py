"""Tables of action plans, reminders, notifications, email and the scheduler.

* ``action_plan`` / ``case_action`` / ``case_action_update``: Welwyn's Case Action Plan (003 §8.5):
  what the agencies *and* the complainant will do, by when, and what became of it.  The plan's
  information item (owned by the case's lead organisation) carries the actions' wording for
  partners, who see it only through a disclosure; an action's owner sees their own action.
* ``case_contact``: each contact with the victim, for the contact cadence (001 §11, 004 §9).
* ``reminder``: one row per reminder ever raised, under a unique *dedupe key*
  (``action:42:due:2026-12-01``), so a sweep run twice raises nothing twice.
* ``notification`` / ``notification_preference`` / ``email_outbox``: what people are told, in the
  portal and by email.  Email is written to the outbox in the same transaction as the change
  that caused it and sent after commit.
* ``scheduler_lock`` / ``scheduler_job_run``: who runs the scheduled jobs, and every run.
* ``apscheduler_jobs``: APScheduler's own job store table, declared here (with APScheduler
  3.11's exact columns) so the migration creates it; the job store's own ``CREATE TABLE IF NOT
  EXISTS`` then finds it present.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sharing.db import utcnow
from sharing.types import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- Vocabulary ------------------------------------------------------------------------------


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return _LABELS.get(self, self.value.replace("_", " ").capitalize())


class ActionParty(_Labelled):
    """Who undertakes the action: an agency, or the complainant (Welwyn's plan lists both)."""

    AGENCY = "agency"
    COMPLAINANT = "complainant"


class ActionSource(_Labelled):
    PANEL_DECISION = "panel_decision"
    CASE_OFFICER = "case_officer"
    CASE_REVIEW = "case_review"


class ActionStatus(_Labelled):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_POSSIBLE = "not_possible"  # not possible due to a change in circumstance
    NOT_UNDERTAKEN = "not_undertaken"  # not undertaken by the agency

    @property
    def is_open(self) -> bool:
        return self in OPEN_ACTION_STATUSES


OPEN_ACTION_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})


class ContactMethod(_Labelled):
    PHONE = "phone"
    HOME_VISIT = "home_visit"
    OFFICE_VISIT = "office_visit"
    EMAIL = "email"
    LETTER = "letter"
    TEXT_MESSAGE = "text_message"


class ReminderKind(_Labelled):
    ACTION_ASSIGNED = "action_assigned"
    ACTION_UPDATED = "action_updated"
    ACTION_DUE = "action_due"
    ACTION_OVERDUE = "action_overdue"
    ACTIONS_ESCALATED = "actions_escalated"  # the weekly digest to the owner's managers
    FIRST_CONTACT_DUE = "first_contact_due"
    FIRST_CONTACT_OVERDUE = "first_contact_overdue"
    VICTIM_CONTACT_DUE = "victim_contact_due"
    VICTIM_CONTACT_OVERDUE = "victim_contact_overdue"
    VICTIM_UPDATE_DUE = "victim_update_due"
    VICTIM_UPDATE_OVERDUE = "victim_update_overdue"
    PLAN_AGREEMENT_DUE = "plan_agreement_due"
    PLAN_AGREEMENT_OVERDUE = "plan_agreement_overdue"
    PLAN_REVIEW_DUE = "plan_review_due"
    PLAN_REVIEW_OVERDUE = "plan_review_overdue"
    STAGE_REVIEW_DUE = "stage_review_due"
    STAGE_REVIEW_OVERDUE = "stage_review_overdue"
    ENQUIRY_LIMIT_DUE = "enquiry_limit_due"
    ENQUIRY_LIMIT_PASSED = "enquiry_limit_passed"
    INTERVENTION_EXPIRING = "intervention_expiring"
    REVIEW_REQUEST_PERIOD_ENDS = "review_request_period_ends"
    PROCEEDINGS_POSSIBLE = "proceedings_possible"
    MONITORING_ENDING = "monitoring_ending"
    AGREEMENT_REVIEW_DUE = "agreement_review_due"
    AGREEMENT_ENDING = "agreement_ending"
    SAR_DUE_SOON = "sar_due_soon"
    SAR_OVERDUE = "sar_overdue"
    RETENTION_DUE = "retention_due"
    AGENDA_PUBLISHED = "agenda_published"
    MEETING_REMINDER = "meeting_reminder"


class EmailMode(_Labelled):
    """How a person wants their notifications by email."""

    IMMEDIATE = "immediate"
    DAILY_DIGEST = "daily_digest"


class EmailState(_Labelled):
    """Where a notification stands with email."""

    PENDING = "pending"  # waiting for the daily digest
    QUEUED = "queued"  # in the outbox
    SKIPPED = "skipped"  # read in the portal before the digest went, or no address


class OutboxStatus(_Labelled):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; sent or not is decided by the next step
    SENT = "sent"
    FAILED = "failed"  # gave up after the most attempts


class JobOutcome(_Labelled):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # the same slot was already completed by another run
    INTERRUPTED = "interrupted"  # its process stopped before it finished (nothing of it was kept)


_LABELS: dict[StrEnum, str] = {
    ActionSource.PANEL_DECISION: "Panel decision",
    ActionSource.CASE_OFFICER: "Case officer",
    ActionSource.CASE_REVIEW: "Case review",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.NOT_POSSIBLE: "Not possible due to a change in circumstance",
    ActionStatus.NOT_UNDERTAKEN: "Not undertaken by the agency",
    ContactMethod.HOME_VISIT: "Home visit",
    ContactMethod.OFFICE_VISIT: "Office visit",
    ContactMethod.TEXT_MESSAGE: "Text message",
    EmailMode.IMMEDIATE: "Email each notification as it happens",
    EmailMode.DAILY_DIGEST: "One email a day with everything new",
}


# --- Action plans ----------------------------------------------------------------------------


class ActionPlan(SQLModel, table=True):
    """A case's action plan (one per case, created when first used)."""

    __tablename__ = "action_plan"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id", unique=True)
    # The information item partners read the plan through (owned by the lead organisation).
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    due_to_agree_by: date  # working days after the report (ContactCadence)
    agreed_on: date | None = Field(default=None)
    agreed_recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    last_reviewed_on: date | None = Field(default=None)
    reviewed_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = _created()


class CaseAction(SQLModel, table=True):
    """One thing an agency or the complainant will do, by when."""

    __tablename__ = "case_action"
    __table_args__ = (
        Index("ix_case_action_owner_user", "owner_user_id", "status", "due_on"),
        Index("ix_case_action_owner_org", "owner_organisation_id", "status", "due_on"),
        Index("ix_case_action_source", "source_panel_id", "source_meeting_id"),
        Index("ix_case_action_open_due", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="action_plan.id", index=True)
    case_id: int = Field(foreign_key="asb_case.id", index=True)
    number: int  # 1, 2, 3... within the plan
    description: str = Field(max_length=2000)
    party: str = Field(max_length=20)
    owner_organisation_id: int = Field(foreign_key="organisation.id")
    owner_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    due_on: date
    source: str = Field(max_length=20)
    # The panel and meeting that agreed it (no foreign keys: meetings live elsewhere).
    source_panel_id: int | None = Field(default=None)
    source_meeting_id: int | None = Field(default=None)
    status: str = Field(default="open", max_length=20)
    completed_at: datetime | None = _utc()
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = _created()
    updated_at: datetime = _created()


class CaseActionUpdate(SQLModel, table=True):
    """Progress on an action: its new status and the evidence of what was done."""

    __tablename__ = "case_action_update"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="case_action.id", index=True)
    kind: str = Field(default="update", max_length=20)  # added, assigned, update
    status_from: str = Field(default="", max_length=20)
    status_to: str = Field(default="", max_length=20)
    note: str = Field(default="", max_length=4000)
    document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    by_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    at: datetime = _created()


class CaseContact(SQLModel, table=True):
    """A contact with the victim (or complainant): the contact cadence runs from the latest."""

    __tablename__ = "case_contact"
    __table_args__ = (Index("ix_case_contact_case", "case_id", "contacted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id")
    contacted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    method: str = Field(max_length=20)
    # Reading (004 §9): victims are updated on progress at least monthly.
    progress_update: bool = Field(default=False)
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    recorded_at: datetime = _created()


# --- Reminders and notifications -------------------------------------------------------------


class Reminder(SQLModel, table=True):
    """A reminder raised once, under its dedupe key; the notifications it made point back here."""

    __tablename__ = "reminder"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    kind: str = Field(max_length=40)
    due_on: date | None = Field(default=None)
    case_id: int | None = Field(default=None, foreign_key="asb_case.id", index=True)
    subject_type: str = Field(default="", max_length=40)
    subject_id: int | None = Field(default=None)
    recipient_user_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()


class Notification(SQLModel, table=True):
    """Something one person is told in the portal.  Title and body carry no personal data
    beyond a case reference; the link leads to the page that shows the rest (through the
    sharing rules)."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_recipient", "recipient_user_id", "read_at", "id"),
        Index("ix_notification_email", "email_state", "recipient_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_user_id: int = Field(foreign_key="portal_user.id")
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=1000)
    link_path: str = Field(default="", max_length=300)
    case_reference: str = Field(default="", max_length=40)
    reminder_id: int | None = Field(default=None, foreign_key="reminder.id")
    created_at: datetime = _created()
    read_at: datetime | None = _utc()
    email_state: str = Field(default="pending", max_length=20)
    email_outbox_id: int | None = Field(default=None, foreign_key="email_outbox.id")


class NotificationPreference(SQLModel, table=True):
    """How a person wants notifications by email (absent: immediately)."""

    __tablename__ = "notification_preference"

    user_id: int = Field(foreign_key="portal_user.id", primary_key=True)
    email_mode: str = Field(default="immediate", max_length=20)
    updated_at: datetime = _created()


class EmailOutbox(SQLModel, table=True):
    """An email to send.  Written in the transaction that caused it; a sender sends it after
    commit and marks it sent.  ``dedupe_key`` stops the same email being queued twice."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_status", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True, unique=True))
    recipient_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _created()
    claimed_by: str = Field(default="", max_length=120)
    claimed_at: datetime | None = _utc()
    sent_at: datetime | None = _utc()
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = _created()


# --- The scheduler ---------------------------------------------------------------------------


class SchedulerLock(SQLModel, table=True):
    """Who runs the scheduled jobs.  On SQLite this row *is* the lock (a lease the holder
    renews); on PostgreSQL the lock is an advisory lock and this row only shows who holds it."""

    __tablename__ = "scheduler_lock"

    name: str = Field(sa_column=Column(String(80), primary_key=True))
    holder_id: str = Field(max_length=120)
    lease_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    acquired_at: datetime = _created()
    heartbeat_at: datetime = _created()


class JobRun(SQLModel, table=True):
    """One run of a scheduled job.  ``slot`` names the period the run is for (e.g. the
    quarter-hour of a sweep, the day of a digest); ``completed_slot`` is set to it, in the
    same transaction as the job's effects, when the run succeeds, and is unique per job, so
    no period's effects are ever committed twice."""

    __tablename__ = "scheduler_job_run"
    __table_args__ = (
        UniqueConstraint("job_id", "completed_slot", name="uq_scheduler_job_run_completed_slot"),
        Index("ix_scheduler_job_run_job", "job_id", "slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=80)
    slot: str = Field(max_length=40)
    completed_slot: str | None = Field(default=None, max_length=40)
    holder_id: str = Field(max_length=120)
    started_at: datetime = _created()
    finished_at: datetime | None = _utc()
    outcome: str = Field(default="running", max_length=20)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str = Field(default="", max_length=4000)


class ApschedulerJob(SQLModel, table=True):
    """APScheduler 3.11's ``SQLAlchemyJobStore`` table, exactly as the job store declares it.
    Only APScheduler writes it; the admin page reads ``next_run_time`` from it."""

    __tablename__ = "apscheduler_jobs"

    id: str = Field(sa_column=Column(String(191), primary_key=True))
    next_run_time: float | None = Field(default=None, sa_column=Column(Float(25), index=True))
    job_state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
