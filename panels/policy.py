"""Every policy number of case work, per organisation, seeded with the policies' defaults.

Councils differ: Cambridge scores risk into High/Medium/Standard, Welwyn uses Priority 1-4;
Dartford and Reading set different ASB Case Review thresholds.  All of it is data here
(``CasePolicy``), stored per organisation in ``organisation_policy`` and validated on the way
in, so a council changes a number without a code change.  ``get_case_policy`` returns the
defaults for an organisation that has not set its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel

from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput
from sharing.permissions import Actor, Permission
from sharing.types import UTCDateTime

# --- Risk schemes ---------------------------------------------------------------------------


class RiskOption(BaseModel):
    key: str
    label: str
    points: int = Field(ge=0)


class RiskQuestion(BaseModel):
    key: str
    label: str
    options: list[RiskOption] = Field(min_length=1)


class RiskLevelRule(BaseModel):
    """A level (band) of a scheme: reached at ``min_score``; ``rank`` orders levels (higher is
    more serious) so a repeat assessment can tell whether risk went up."""

    key: str
    label: str
    min_score: int
    rank: int
    first_contact_working_days: int = Field(ge=0)
    acknowledge_working_days: int | None = Field(default=None, ge=0)


class RiskScheme(BaseModel):
    key: str
    name: str
    questions: list[RiskQuestion]
    levels: list[RiskLevelRule] = Field(min_length=1)
    # Case types that set a level whatever the score (e.g. violence -> high).
    override_types: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> RiskScheme:
        keys = {level.key for level in self.levels}
        for case_type, level in self.override_types.items():
            if level not in keys:
                raise ValueError(f"override for {case_type!r} names an unknown level {level!r}")
        if min(level.min_score for level in self.levels) > 0:
            raise ValueError("the lowest level must start at a score of 0")
        return self

    def level(self, key: str) -> RiskLevelRule:
        for level in self.levels:
            if level.key == key:
                return level
        raise KeyError(key)


def _questionnaire() -> list[RiskQuestion]:
    """Cambridge's five headings (002 "Risk assessment"): type, duration, frequency, impact,
    vulnerability.  The points are the defaults a council can change."""
    return [
        RiskQuestion(
            key="type",
            label="What kind of behaviour is it?",
            options=[
                RiskOption(key="environmental", label="Environmental (litter, fly-tipping, graffiti)", points=2),
                RiskOption(key="nuisance", label="Nuisance (noise, rowdy behaviour, vehicles)", points=4),
                RiskOption(key="personal", label="Targeted at a person or household", points=8),
                RiskOption(key="criminal", label="Criminal activity (drugs, damage)", points=8),
                RiskOption(key="threats", label="Threats, intimidation or violence", points=12),
            ],
        ),
        RiskQuestion(
            key="duration",
            label="How long has it been happening?",
            options=[
                RiskOption(key="under_week", label="Less than a week", points=1),
                RiskOption(key="weeks", label="One to four weeks", points=2),
                RiskOption(key="months", label="One to six months", points=4),
                RiskOption(key="over_six_months", label="More than six months", points=6),
            ],
        ),
        RiskQuestion(
            key="frequency",
            label="How often does it happen?",
            options=[
                RiskOption(key="once", label="Once", points=1),
                RiskOption(key="weekly", label="About weekly", points=2),
                RiskOption(key="several_weekly", label="Several times a week", points=4),
                RiskOption(key="daily", label="Every day", points=6),
            ],
        ),
        RiskQuestion(
            key="impact",
            label="What impact is it having on the person reporting?",
            options=[
                RiskOption(key="little", label="Little or none", points=1),
                RiskOption(key="moderate", label="Upsetting or disturbing sleep", points=4),
                RiskOption(key="significant", label="Affecting health, work or family life", points=8),
                RiskOption(key="severe", label="Afraid to leave or stay in the home", points=12),
            ],
        ),
        RiskQuestion(
            key="vulnerability",
            label="Care and support needs or vulnerabilities of those involved",
            options=[
                RiskOption(key="none", label="None known", points=0),
                RiskOption(key="some", label="Some (age, health, isolation)", points=4),
                RiskOption(key="significant", label="Significant (vulnerable adult, child, disability)", points=8),
            ],
        ),
    ]


SERIOUS_TYPES = ("violence_or_threats", "hate_incident", "domestic_abuse", "sexual_harassment")

CAMBRIDGE_SCHEME = RiskScheme(
    key="cambridge",
    name="High / Medium / Standard (Cambridge)",
    questions=_questionnaire(),
    levels=[
        RiskLevelRule(key="high", label="High", min_score=32, rank=3, first_contact_working_days=1),
        RiskLevelRule(key="medium", label="Medium", min_score=20, rank=2, first_contact_working_days=3),
        RiskLevelRule(key="standard", label="Standard", min_score=0, rank=1, first_contact_working_days=5),
    ],
    override_types=dict.fromkeys(SERIOUS_TYPES, "high"),
)

WELWYN_SCHEME = RiskScheme(
    key="welwyn",
    name="Priority 1-4 (Welwyn Hatfield)",
    questions=_questionnaire(),
    levels=[
        RiskLevelRule(
            key="p1", label="Priority 1", min_score=32, rank=4, first_contact_working_days=3, acknowledge_working_days=1
        ),
        RiskLevelRule(
            key="p2", label="Priority 2", min_score=20, rank=3, first_contact_working_days=5, acknowledge_working_days=1
        ),
        RiskLevelRule(
            key="p3", label="Priority 3", min_score=8, rank=2, first_contact_working_days=10, acknowledge_working_days=3
        ),
        RiskLevelRule(
            key="p4", label="Priority 4", min_score=0, rank=1, first_contact_working_days=10, acknowledge_working_days=3
        ),
    ],
    override_types={**dict.fromkeys(SERIOUS_TYPES, "p1"), "harassment": "p1"},
)

BUILT_IN_SCHEMES = {CAMBRIDGE_SCHEME.key: CAMBRIDGE_SCHEME, WELWYN_SCHEME.key: WELWYN_SCHEME}


# --- Stages, cadence, case review, legal clocks ----------------------------------------------


class StagePolicy(BaseModel):
    """Reading's stages (004 §8) and the closure rule (003 §8.5)."""

    enquiry_max_days: int = Field(default=28, ge=1)
    first_review_after_months: int = Field(default=2, ge=1)
    review_every_months: int = Field(default=1, ge=1)
    propose_closure_after_quiet_months: int = Field(default=3, ge=1)


class ContactCadence(BaseModel):
    """West Kent (001 §11), Reading (004 §9) and Welwyn (003 §8.5)."""

    victim_contact_every_days: int = Field(default=14, ge=1)
    victim_update_every_days: int = Field(default=30, ge=1)
    action_plan_review_every_months: int = Field(default=3, ge=1)
    action_plan_agreed_within_working_days: int = Field(default=10, ge=1)
    # Lists show actions due within this many days as "due soon".
    action_due_soon_days: int = Field(default=7, ge=0)
    # Actions overdue by more than this go to the owner organisation's managers each week.
    action_escalation_overdue_days: int = Field(default=14, ge=1)


class ThresholdRule(BaseModel):
    """One way to meet the ASB Case Review threshold: at least ``min_incidents`` incidents in
    the ``window_months`` before the application (or today).

    ``reported_within_months``: an incident counts only if reported that soon after it happened.
    ``same_perpetrator``: the incidents must concern one alleged perpetrator.
    ``from_one_reporter``: they must come from one person; ``min_reporters``: from a group of at
    least that many different people.  ``hate_only``: only hate incidents count.
    """

    key: str
    label: str
    min_incidents: int = Field(ge=1)
    window_months: int = Field(ge=1)
    reported_within_months: int | None = Field(default=None, ge=1)
    same_perpetrator: bool = False
    from_one_reporter: bool = False
    min_reporters: int | None = Field(default=None, ge=2)
    hate_only: bool = False


class CaseReviewPolicy(BaseModel):
    name: str
    rules: list[ThresholdRule] = Field(min_length=1)
    # Reading: the last incident must be within this of the application.
    last_incident_within_months: int | None = Field(default=None, ge=1)


DARTFORD_CASE_REVIEW = CaseReviewPolicy(
    name="Dartford: 3 incidents in 6 months",
    rules=[
        ThresholdRule(
            key="three_in_six_months",
            label="3 incidents in the last 6 months, each reported within 1 month of happening",
            min_incidents=3,
            window_months=6,
            reported_within_months=1,
        )
    ],
)

READING_CASE_REVIEW = CaseReviewPolicy(
    name="Reading: person, group or hate thresholds",
    last_incident_within_months=1,
    rules=[
        ThresholdRule(
            key="one_person",
            label="3 or more incidents about the same perpetrator reported by one person in 6 months",
            min_incidents=3,
            window_months=6,
            same_perpetrator=True,
            from_one_reporter=True,
        ),
        ThresholdRule(
            key="group",
            label="5 or more incidents reported by a group in 6 months",
            min_incidents=5,
            window_months=6,
            min_reporters=2,
        ),
        ThresholdRule(
            key="hate",
            label="5 or more hate incidents about the same perpetrator in 3 months",
            min_incidents=5,
            window_months=3,
            same_perpetrator=True,
            hate_only=True,
        ),
    ],
)


class LegalClocks(BaseModel):
    """The clocks of interventions and legal remedies (002, 000 §10.4)."""

    nosp_valid_months: int = Field(default=12, ge=1)
    nosp_expiry_warning_days: int = Field(default=30, ge=1)
    noi_review_request_days: int = Field(default=14, ge=1)
    noi_earliest_proceedings_days: int = Field(default=28, ge=1)
    demotion_monitoring_months: int = Field(default=12, ge=1)
    possession_notice_weeks: int = Field(default=4, ge=1)
    community_protection_notice_min_age: int = Field(default=16, ge=10)
    closure_notice_hours: int = Field(default=48, ge=1)
    closure_order_max_months: int = Field(default=6, ge=1)
    # Neighbourhood Resolution Panel: only cases at or below this risk rank (Cambridge: medium).
    neighbourhood_resolution_max_rank: int = Field(default=2, ge=1)
    intervention_review_months: int = Field(default=3, ge=1)


class CasePolicy(BaseModel):
    reference_prefix: str = Field(default="ASB", min_length=1, max_length=10)
    risk_scheme: RiskScheme = CAMBRIDGE_SCHEME
    stages: StagePolicy = StagePolicy()
    cadence: ContactCadence = ContactCadence()
    case_review: CaseReviewPolicy = DARTFORD_CASE_REVIEW
    clocks: LegalClocks = LegalClocks()


DEFAULT_POLICY = CasePolicy()


class OrganisationPolicy(SQLModel, table=True):
    """An organisation's own case-work policy numbers (absent: the defaults)."""

    __tablename__ = "organisation_policy"

    organisation_id: int = SQLField(foreign_key="organisation.id", primary_key=True)
    policy: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by_user_id: int | None = SQLField(default=None, foreign_key="portal_user.id")
    updated_at: datetime = SQLField(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def get_case_policy(session: Session, organisation_id: int) -> CasePolicy:
    """The organisation's policy, or the defaults when it has not set its own."""
    row = session.get(OrganisationPolicy, organisation_id)
    if row is None or not row.policy:
        return DEFAULT_POLICY
    return CasePolicy.model_validate(row.policy)


def set_case_policy(
    *, session: Session, actor: Actor, organisation_id: int, policy: CasePolicy | dict[str, Any]
) -> CasePolicy:
    """Replace an organisation's policy numbers (administrators), audited with what changed."""
    require(actor, Permission.ADMIN_POLICY_WRITE, subject_type="organisation", subject_id=organisation_id)
    try:
        checked = policy if isinstance(policy, CasePolicy) else CasePolicy.model_validate(policy)
    except ValueError as error:
        raise InvalidInput({"policy": f"The policy is not valid: {error}"}) from error
    row = session.get(OrganisationPolicy, organisation_id)
    before = row.policy if row is not None else {}
    if row is None:
        row = OrganisationPolicy(organisation_id=organisation_id)
    row.policy = checked.model_dump(mode="json")
    row.updated_by_user_id = actor.user_id
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record_event(
        session, action=AuditAction.POLICY_CHANGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="organisation", subject_id=organisation_id,
        detail={"risk_scheme": checked.risk_scheme.key, "case_review": checked.case_review.name,
                "previous_risk_scheme": (before.get("risk_scheme") or {}).get("key") if before else None},
    )  # fmt: skip
    return checked
