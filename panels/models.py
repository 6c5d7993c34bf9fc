"""Tables owned by ``panels/``: panels as data (members, chair, cadence, quorum, the decisions
each may make), their meetings, referrals, agendas, attendance, declarations of interest,
the chair's running notes, decisions with their agreed actions and amendments, minutes, and
calendar feed secrets.

Case information said or decided at a panel is kept in ``information_item`` rows owned by the
case's lead organisation (``item_id`` columns), so partners see it only through a disclosure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from sharing.db import utcnow
from sharing.types import UTCDateTime


def _utc(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Panel(SQLModel, table=True):
    """A multi-agency panel a council runs (Problem Solving Group, Complex Case Panel, ...)."""

    __tablename__ = "panel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    slug: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    purpose: str = Field(default="", max_length=2000)
    chair_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    deputy_chair_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # When it meets: an RFC 5545 RRULE (e.g. FREQ=MONTHLY;BYDAY=2TU) from ``cadence_starts_on``,
    # at ``start_time`` (HH:MM, local time) for ``duration_minutes``.
    cadence_rrule: str = Field(default="FREQ=MONTHLY;BYDAY=2TU", max_length=500)
    cadence_starts_on: date | None = Field(default=None)
    start_time: str = Field(default="10:00", max_length=5)
    duration_minutes: int = Field(default=120)
    venue: str = Field(default="", max_length=300)
    video_link: str = Field(default="", max_length=500)
    # Quorum: at least this many member organisations present, and these ones among them.
    quorum_min_organisations: int = Field(default=2)
    quorum_required_organisation_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sharing_purpose: str = Field(default="asb_case_management", max_length=40)
    agenda_cutoff_working_days: int = Field(default=5)
    pack_lead_working_days: int = Field(default=5)
    decision_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidentiality_statement: str = Field(default="", max_length=2000)  # empty: the standard statement


class PanelOrganisation(SQLModel, table=True):
    """An organisation that sits on a panel."""

    __tablename__ = "panel_organisation"

    panel_id: int = Field(foreign_key="panel.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)


class PanelMember(SQLModel, table=True):
    """A named person who sits on a panel (beside the organisations that do)."""

    __tablename__ = "panel_member"

    panel_id: int = Field(foreign_key="panel.id", primary_key=True)
    user_id: int = Field(foreign_key="portal_user.id", primary_key=True)


class Meeting(SQLModel, table=True):
    """One meeting of a panel.  ``occurrence_at`` is the slot of the cadence it was generated
    for (kept when it is moved, so generating again never duplicates or resurrects it)."""

    __tablename__ = "panel_meeting"
    __table_args__ = (
        UniqueConstraint("panel_id", "occurrence_at", name="uq_panel_meeting_occurrence"),
        Index("ix_panel_meeting_panel_starts", "panel_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id")
    occurrence_at: datetime | None = _utc()  # None for an ad hoc meeting
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    venue: str = Field(default="", max_length=300)
    video_link: str = Field(default="", max_length=500)
    status: str = Field(default="scheduled", max_length=20)  # scheduled, open, closed, cancelled
    ad_hoc: bool = Field(default=False)
    sequence: int = Field(default=0)  # iCalendar SEQUENCE: goes up each time it changes
    note: str = Field(default="", max_length=1000)  # why it was added, moved or cancelled
    cancelled_at: datetime | None = _utc()
    cancelled_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    agenda_published_at: datetime | None = _utc()
    opened_at: datetime | None = _utc()
    closed_at: datetime | None = _utc()
    current_agenda_item_id: int | None = Field(default=None)
    created_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    created_at: datetime = _created()


class Referral(SQLModel, table=True):
    """A case referred to a panel by its lead organisation.  What was said (reason, decision
    sought, evidence) is the case item ``item_id``; the row holds where the referral stands."""

    __tablename__ = "panel_referral"
    __table_args__ = (Index("ix_panel_referral_case", "case_id"), Index("ix_panel_referral_meeting", "meeting_id"))

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="asb_case.id")
    panel_id: int = Field(foreign_key="panel.id")
    meeting_id: int = Field(foreign_key="panel_meeting.id")
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    status: str = Field(default="submitted", max_length=20)  # submitted, accepted, deferred, declined, heard
    referred_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    referred_by_organisation_id: int = Field(foreign_key="organisation.id")
    referred_at: datetime = _created()
    decided_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_at: datetime | None = _utc()
    decision_reason: str = Field(default="", max_length=2000)
    heard_at: datetime | None = _utc()


class AgendaItem(SQLModel, table=True):
    """A case on a meeting's agenda: referred, due for review, or carried forward."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id", name="uq_agenda_item_meeting_case"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    case_id: int = Field(foreign_key="asb_case.id")
    referral_id: int | None = Field(default=None, foreign_key="panel_referral.id")
    source: str = Field(max_length=20)  # referral, review, carried_forward
    position: int
    status: str = Field(default="waiting", max_length=20)  # waiting, decided
    added_at: datetime = _created()


class Attendance(SQLModel, table=True):
    """Who was at a meeting (present, apologies, absent), and when they accepted the
    confidentiality statement."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_meeting_attendance_user"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    user_id: int = Field(foreign_key="portal_user.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    status: str = Field(max_length=20)  # present, apologies, absent
    joined_at: datetime | None = _utc()
    confidentiality_accepted_at: datetime | None = _utc()
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    recorded_at: datetime = _created()


class InterestDeclaration(SQLModel, table=True):
    """A member's declared conflict of interest in one agenda item: they do not see its
    content and take no part in its decision."""

    __tablename__ = "interest_declaration"
    __table_args__ = (UniqueConstraint("agenda_item_id", "user_id", name="uq_interest_declaration_user"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id")
    user_id: int = Field(foreign_key="portal_user.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    reason: str = Field(max_length=1000)
    declared_at: datetime = _created()


class VerbalDisclosure(SQLModel, table=True):
    """Information said at a meeting, recorded on the spot as a disclosure to each
    organisation present (``disclosure_id`` None when the share was refused)."""

    __tablename__ = "verbal_disclosure"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id")
    item_id: int = Field(foreign_key="information_item.id")
    recipient_organisation_id: int = Field(foreign_key="organisation.id")
    disclosure_id: int | None = Field(default=None, foreign_key="disclosure.id")
    refusal: str = Field(default="", max_length=1000)
    said_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    said_at: datetime = _created()


class MeetingNote(SQLModel, table=True):
    """One entry in the chair's running notes of a meeting, about an agenda item (or about the
    meeting as a whole when ``agenda_item_id`` is None).  Notes are never changed: a
    correction is a new note naming the one it replaces in ``corrects_note_id`` (each note is
    replaced at most once), so every earlier wording stays on record."""

    __tablename__ = "meeting_note"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_item.id")
    text: str = Field(max_length=4000)
    corrects_note_id: int | None = Field(default=None, foreign_key="meeting_note.id", unique=True)
    written_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    written_at: datetime = _created()


class Decision(SQLModel, table=True):
    """What a panel decided about one agenda item.  ``item_id`` is the case item carrying the
    decision's words, through which partners see it."""

    __tablename__ = "panel_decision"
    __table_args__ = (Index("ix_panel_decision_case", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", unique=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", index=True)
    panel_id: int = Field(foreign_key="panel.id")
    case_id: int = Field(foreign_key="asb_case.id")
    decision_type: str = Field(max_length=60)
    rationale: str = Field(max_length=4000)
    conditions: str = Field(default="", max_length=4000)
    dissent: str = Field(default="", max_length=2000)
    review_on: date | None = Field(default=None)
    escalate_to_panel_id: int | None = Field(default=None, foreign_key="panel.id")
    consent_record_id: int | None = Field(default=None, foreign_key="consent_record.id")
    intervention_id: int | None = Field(default=None, foreign_key="intervention.id")
    excluded_user_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    item_id: int | None = Field(default=None, foreign_key="information_item.id")
    recorded_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    recorded_at: datetime = _created()


class DecisionAction(SQLModel, table=True):
    """An action agreed with a decision: who does what by when.  ``action_id`` links it to the
    action plan once that exists."""

    __tablename__ = "decision_action"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="panel_decision.id", index=True)
    owner_organisation_id: int = Field(foreign_key="organisation.id")
    owner_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    due_on: date
    description: str = Field(max_length=2000)
    action_id: int | None = Field(default=None)


class DecisionAmendment(SQLModel, table=True):
    """A change to a recorded decision: what, from what to what, by whom and why."""

    __tablename__ = "decision_amendment"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="panel_decision.id", index=True)
    field_name: str = Field(max_length=40)
    old_value: str = Field(default="", max_length=4000)
    new_value: str = Field(default="", max_length=4000)
    reason: str = Field(max_length=2000)
    amended_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    amended_at: datetime = _created()


class Minutes(SQLModel, table=True):
    """A meeting's minutes: drafted, circulated for comment, approved (then locked)."""

    __tablename__ = "meeting_minutes"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="panel_meeting.id", unique=True)
    status: str = Field(default="draft", max_length=20)  # draft, circulated, approved
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    drafted_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    drafted_at: datetime = _created()
    circulated_at: datetime | None = _utc()
    approved_by_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    approved_at: datetime | None = _utc()


class MinutesComment(SQLModel, table=True):
    __tablename__ = "minutes_comment"

    id: int | None = Field(default=None, primary_key=True)
    minutes_id: int = Field(foreign_key="meeting_minutes.id", index=True)
    user_id: int = Field(foreign_key="portal_user.id")
    comment: str = Field(max_length=2000)
    created_at: datetime = _created()


class CalendarFeedSecret(SQLModel, table=True):
    """A person's calendar feed.  The token in the feed's address is derived from ``nonce``
    and the portal's secret key; only its hash is kept to look it up.  A reset changes the
    nonce, so the old address stops working."""

    __tablename__ = "calendar_feed_secret"

    user_id: int = Field(foreign_key="portal_user.id", primary_key=True)
    nonce: str = Field(max_length=64)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = _created()
