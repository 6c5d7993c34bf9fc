"""Panels as data: who sits on a panel, who chairs it, when it meets (an RFC 5545 RRULE), what
makes it quorate, the purpose its packs are shared for, its agenda cut-off and pack lead time,
and which decisions it may make (keys of :data:`DECISION_TYPES`).

A council adds a Vulnerability Panel or a Senior Officers Panel by configuration alone: nothing
here names a particular panel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from dateutil.rrule import rrule, rrulestr
from sqlmodel import Session, col, select

from panels.models import Panel, PanelMember, PanelOrganisation
from panels.vocabulary import InterventionKind
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.directory import slugify
from sharing.errors import InvalidInput, NotFound
from sharing.models import Organisation, OrganisationType, Role, User, UserRole
from sharing.permissions import Actor, Permission
from sharing.vocabulary import DataCategory, Purpose

STANDARD_CONFIDENTIALITY_STATEMENT = (
    "What is said and shown at this meeting is confidential. It is shared only so that the "
    "partners can prevent anti-social behaviour and protect the people involved. Do not pass it "
    "on, copy it or keep it except as the information sharing agreement allows, and declare any "
    "interest you have in a case before it is discussed."
)

# Limits on a panel's numbers (the numbers themselves are each panel's configuration).
MAX_WORKING_DAYS = 30
MIN_DURATION_MINUTES = 15
MAX_DURATION_MINUTES = 600


# --- The catalogue of decisions a panel may make ---------------------------------------------


@dataclass(frozen=True)
class DecisionType:
    """A decision a panel may be configured to make, and what recording it requires or does."""

    key: str
    label: str
    # The kind of information the decision's words hold (who may see them is decided by it).
    category: DataCategory = DataCategory.ASB_HISTORY
    needs_conditions: bool = False
    needs_review_date: bool = False
    needs_panel: bool = False  # escalation names the panel escalated to
    # Only with a valid consent record of a party of the case covering this kind of organisation.
    needs_consent_to: OrganisationType | None = None
    # Authorising this creates the legal remedy on the case (planned, authorised by the panel).
    creates_intervention: InterventionKind | None = None


DECISION_TYPES: dict[str, DecisionType] = {
    d.key: d
    for d in (
        # Problem Solving Group (Cambridge 002; Reading 004 stage 5).
        DecisionType("action_plan", "Agree a multi-agency action plan"),
        DecisionType("escalate", "Escalate to another panel", needs_panel=True),
        DecisionType("refer_support_service", "Refer to a support service"),
        DecisionType("refer_neighbourhood_resolution", "Refer to the Neighbourhood Resolution Panel"),
        DecisionType("close_at_panel", "Close the case at panel"),
        DecisionType("keep_under_review", "Keep under review", needs_review_date=True),
        # Complex Case Panel (Dartford 000 §5.7).
        DecisionType("homelessness_prevention_plan", "Agree a homelessness-prevention plan", DataCategory.HOUSING),
        DecisionType(
            "refer_housing_solutions",
            "Refer to Housing Solutions (with the tenant's consent)",
            DataCategory.HOUSING,
            needs_consent_to=OrganisationType.HOUSING_SOLUTIONS,
        ),
        DecisionType("support_package", "Agree a support package", DataCategory.HOUSING),
        # Tenancy Enforcement Panel (Cambridge 002, footnote 6).
        DecisionType(
            "authorise_nosp",
            "Authorise a Notice of Seeking Possession",
            DataCategory.HOUSING,
            creates_intervention=InterventionKind.NOTICE_OF_SEEKING_POSSESSION,
        ),
        DecisionType(
            "authorise_notice_of_intention_demotion",
            "Authorise a Notice of Intention to apply for a Demotion Order",
            DataCategory.HOUSING,
            creates_intervention=InterventionKind.NOTICE_OF_INTENTION_DEMOTION,
        ),
        DecisionType("refuse_enforcement", "Refuse enforcement (with reasons)", DataCategory.HOUSING),
        DecisionType(
            "restore_secure_tenancy",
            "Restore a demoted tenancy to secure (with conditions)",
            DataCategory.HOUSING,
            needs_conditions=True,
        ),
        DecisionType("defer_for_evidence", "Defer for more evidence", DataCategory.HOUSING),
    )
}

# What the policies' panels decide; seeded for the demo and offered when a panel is set up.
PSG_DECISION_TYPES = (
    "action_plan",
    "escalate",
    "refer_support_service",
    "refer_neighbourhood_resolution",
    "close_at_panel",
    "keep_under_review",
)
CCP_DECISION_TYPES = (
    "homelessness_prevention_plan",
    "refer_housing_solutions",
    "support_package",
    "escalate",
    "keep_under_review",
)
TEP_DECISION_TYPES = (
    "authorise_nosp",
    "authorise_notice_of_intention_demotion",
    "refuse_enforcement",
    "restore_secure_tenancy",
    "defer_for_evidence",
)


# --- Cadence ---------------------------------------------------------------------------------

_TOO_FREQUENT = ("HOURLY", "MINUTELY", "SECONDLY")


def parse_start_time(value: str) -> time:
    """``HH:MM`` (24-hour clock) as a time; ValueError otherwise."""
    if not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise ValueError("use the 24-hour clock, e.g. 10:00")
    hours, minutes = (int(part) for part in value.strip().split(":"))
    if hours > 23 or minutes > 59:
        raise ValueError("use the 24-hour clock, e.g. 10:00")
    return time(hours, minutes)


def parse_cadence(rule: str, dtstart: datetime) -> rrule:
    """The recurrence an RRULE value describes from ``dtstart`` (naive local time).

    Raises ValueError with a reason a person can act on."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or any(c in text for c in "\r\n"):
        raise ValueError("give one rule such as FREQ=MONTHLY;BYDAY=2TU")
    parts = dict(part.split("=", 1) for part in text.upper().split(";") if "=" in part)
    if "FREQ" not in parts:
        raise ValueError("it must say how often (FREQ=WEEKLY or FREQ=MONTHLY, for example)")
    if parts["FREQ"] in _TOO_FREQUENT:
        raise ValueError("a panel cannot meet more often than daily")
    try:
        recurrence = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(str(error) or "the rule could not be read") from error
    if not isinstance(recurrence, rrule):
        raise ValueError("give one rule such as FREQ=MONTHLY;BYDAY=2TU")
    if recurrence.after(dtstart, inc=True) is None:
        raise ValueError("it never produces a meeting")
    return recurrence


# --- Input and validation --------------------------------------------------------------------


@dataclass
class PanelInput:
    name: str
    purpose: str = ""
    organisation_ids: list[int] = field(default_factory=list)
    member_user_ids: list[int] = field(default_factory=list)
    chair_user_id: int | None = None
    deputy_chair_user_id: int | None = None
    cadence_rrule: str = "FREQ=MONTHLY;BYDAY=2TU"
    cadence_starts_on: date | None = None
    start_time: str = "10:00"
    duration_minutes: int = 120
    venue: str = ""
    video_link: str = ""
    quorum_min_organisations: int = 2
    quorum_required_organisation_ids: list[int] = field(default_factory=list)
    sharing_purpose: str = Purpose.ASB_CASE_MANAGEMENT.value
    agenda_cutoff_working_days: int = 5
    pack_lead_working_days: int = 5
    decision_types: list[str] = field(default_factory=list)
    confidentiality_statement: str = ""


def _check(session: Session, data: PanelInput, panel_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "Give the panel its name."
    else:
        clash = session.exec(select(Panel).where(Panel.name == name)).first()
        if clash is not None and clash.id != panel_id:
            errors["name"] = "Another panel already has that name."
    organisation_ids = set(data.organisation_ids)
    known = (
        set(session.exec(select(Organisation.id).where(col(Organisation.id).in_(organisation_ids))))
        if organisation_ids
        else set()
    )
    if not organisation_ids:
        errors["organisation_ids"] = "Choose the organisations that sit on the panel."
    elif known != organisation_ids:
        errors["organisation_ids"] = "One of the organisations chosen no longer exists."
    users = {
        u.id: u
        for u in session.exec(
            select(User).where(
                col(User.id).in_(
                    [
                        *data.member_user_ids,
                        *(u for u in (data.chair_user_id, data.deputy_chair_user_id) if u is not None),
                    ]
                )
            )
        )
    }
    if any(
        (u := users.get(uid)) is None or not u.is_active or u.organisation_id not in organisation_ids
        for uid in data.member_user_ids
    ):
        errors["member_user_ids"] = "Named members must be active and work for an organisation on the panel."
    for key, user_id, who in (
        ("chair_user_id", data.chair_user_id, "chair"),
        ("deputy_chair_user_id", data.deputy_chair_user_id, "deputy chair"),
    ):
        if user_id is None:
            continue
        user = users.get(user_id)
        if user is None or not user.is_active or user.organisation_id not in organisation_ids:
            errors[key] = f"The {who} must be an active person from an organisation on the panel."
    if data.chair_user_id is None:
        errors["chair_user_id"] = "Choose who chairs the panel."
    elif data.deputy_chair_user_id == data.chair_user_id:
        errors["deputy_chair_user_id"] = "The deputy chair must be someone other than the chair."
    try:
        start = parse_start_time(data.start_time)
    except ValueError as error:
        errors["start_time"] = f"The start time is not valid: {error}."
        start = time(10, 0)
    first_day = data.cadence_starts_on or date(2000, 1, 1)
    try:
        parse_cadence(data.cadence_rrule, datetime.combine(first_day, start))
    except ValueError as error:
        errors["cadence_rrule"] = f"The meeting pattern is not valid: {error}."
    if not MIN_DURATION_MINUTES <= data.duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = (
            f"A meeting lasts between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} minutes."
        )
    if not data.venue.strip() and not data.video_link.strip():
        errors["venue"] = "Give a venue or a video link for the meetings."
    if data.video_link.strip() and not data.video_link.strip().startswith("https://"):
        errors["video_link"] = "The video link must be an https:// address."
    if organisation_ids and not 1 <= data.quorum_min_organisations <= len(organisation_ids):
        errors["quorum_min_organisations"] = (
            f"The quorum must be between 1 and the {len(organisation_ids)} organisations on the panel."
        )
    if not set(data.quorum_required_organisation_ids) <= organisation_ids:
        errors["quorum_required_organisation_ids"] = "Organisations that must be present must sit on the panel."
    if data.sharing_purpose not in {p.value for p in Purpose}:
        errors["sharing_purpose"] = "Choose the purpose the panel's packs are shared for."
    for key, value in (
        ("agenda_cutoff_working_days", data.agenda_cutoff_working_days),
        ("pack_lead_working_days", data.pack_lead_working_days),
    ):
        if not 0 <= value <= MAX_WORKING_DAYS:
            errors[key] = f"Give a number of working days from 0 to {MAX_WORKING_DAYS}."
    if not data.decision_types:
        errors["decision_types"] = "Choose the decisions the panel may make."
    elif unknown := [t for t in data.decision_types if t not in DECISION_TYPES]:
        errors["decision_types"] = f"These are not decisions the portal knows: {', '.join(unknown)}."
    return errors


def _apply(session: Session, panel: Panel, data: PanelInput) -> None:
    panel.name = data.name.strip()
    panel.purpose = data.purpose.strip()
    panel.chair_user_id = data.chair_user_id
    panel.deputy_chair_user_id = data.deputy_chair_user_id
    panel.cadence_rrule = data.cadence_rrule.strip().upper().removeprefix("RRULE:")
    panel.cadence_starts_on = data.cadence_starts_on
    start = parse_start_time(data.start_time)
    panel.start_time = f"{start:%H:%M}"
    panel.duration_minutes = data.duration_minutes
    panel.venue = data.venue.strip()
    panel.video_link = data.video_link.strip()
    panel.quorum_min_organisations = data.quorum_min_organisations
    panel.quorum_required_organisation_ids = sorted(set(data.quorum_required_organisation_ids))
    panel.sharing_purpose = data.sharing_purpose
    panel.agenda_cutoff_working_days = data.agenda_cutoff_working_days
    panel.pack_lead_working_days = data.pack_lead_working_days
    panel.decision_types = list(dict.fromkeys(data.decision_types))
    panel.confidentiality_statement = data.confidentiality_statement.strip()
    session.add(panel)
    session.flush()
    assert panel.id is not None
    for row in session.exec(select(PanelOrganisation).where(PanelOrganisation.panel_id == panel.id)).all():
        session.delete(row)
    for member in session.exec(select(PanelMember).where(PanelMember.panel_id == panel.id)).all():
        session.delete(member)
    session.flush()
    for organisation_id in sorted(set(data.organisation_ids)):
        session.add(PanelOrganisation(panel_id=panel.id, organisation_id=organisation_id))
    for user_id in sorted(set(data.member_user_ids)):
        session.add(PanelMember(panel_id=panel.id, user_id=user_id))
    session.flush()


def create_panel(*, session: Session, actor: Actor, data: PanelInput) -> Panel:
    """Set up a panel (administrators)."""
    require(actor, Permission.PANELS_PANELS_MANAGE, subject_type="panel")
    errors = _check(session, data, None)
    if errors:
        raise InvalidInput(errors)
    panel = Panel(name=data.name.strip(), slug=slugify(data.name.strip())[:80])
    _apply(session, panel, data)
    record_event(
        session, action=AuditAction.PANEL_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="panel", subject_id=panel.id, detail={"name": panel.name},
    )  # fmt: skip
    return panel


def update_panel(*, session: Session, actor: Actor, panel_id: int, data: PanelInput) -> Panel:
    """Change a panel's set-up (administrators).  Meetings already scheduled keep their times."""
    require(actor, Permission.PANELS_PANELS_MANAGE, subject_type="panel", subject_id=panel_id)
    panel = get_panel(session, panel_id)
    errors = _check(session, data, panel_id)
    if errors:
        raise InvalidInput(errors)
    before = panel_input_of(session, panel)
    _apply(session, panel, data)
    changed = sorted(k for k, v in vars(data).items() if getattr(before, k) != v)
    record_event(
        session, action=AuditAction.PANEL_UPDATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="panel", subject_id=panel.id, detail={"changed": changed},
    )  # fmt: skip
    return panel


def get_panel_set_up(*, session: Session, actor: Actor, panel_id: int) -> PanelInput:
    """A panel's set-up as the form changing it starts (administrators: those who may
    :func:`update_panel`)."""
    require(actor, Permission.PANELS_PANELS_MANAGE, subject_type="panel", subject_id=panel_id)
    return panel_input_of(session, get_panel(session, panel_id))


def panel_input_of(session: Session, panel: Panel) -> PanelInput:
    """A panel's set-up as the form edits it."""
    return PanelInput(
        name=panel.name,
        purpose=panel.purpose,
        organisation_ids=sorted(member_organisation_ids(session, panel)),
        member_user_ids=sorted(session.exec(select(PanelMember.user_id).where(PanelMember.panel_id == panel.id)).all()),
        chair_user_id=panel.chair_user_id,
        deputy_chair_user_id=panel.deputy_chair_user_id,
        cadence_rrule=panel.cadence_rrule,
        cadence_starts_on=panel.cadence_starts_on,
        start_time=panel.start_time,
        duration_minutes=panel.duration_minutes,
        venue=panel.venue,
        video_link=panel.video_link,
        quorum_min_organisations=panel.quorum_min_organisations,
        quorum_required_organisation_ids=list(panel.quorum_required_organisation_ids),
        sharing_purpose=panel.sharing_purpose,
        agenda_cutoff_working_days=panel.agenda_cutoff_working_days,
        pack_lead_working_days=panel.pack_lead_working_days,
        decision_types=list(panel.decision_types),
        confidentiality_statement=panel.confidentiality_statement,
    )


# --- Who sits on and chairs a panel ----------------------------------------------------------


def get_panel(session: Session, panel_id: int) -> Panel:
    panel = session.get(Panel, panel_id)
    if panel is None:
        raise NotFound("That panel no longer exists.")
    return panel


def member_organisation_ids(session: Session, panel: Panel) -> set[int]:
    return set(session.exec(select(PanelOrganisation.organisation_id).where(PanelOrganisation.panel_id == panel.id)))


def panel_people(session: Session, panel: Panel) -> list[int]:
    """Who is told about the panel's meetings: its chair and deputy and its named members; a
    panel that names nobody is attended by its member organisations' panel members."""
    people = [uid for uid in (panel.chair_user_id, panel.deputy_chair_user_id) if uid is not None]
    named: list[int] = list(session.exec(select(PanelMember.user_id).where(PanelMember.panel_id == panel.id)))
    if not named:
        named = [
            uid
            for uid in session.exec(
                select(User.id)
                .join(UserRole, col(UserRole.user_id) == col(User.id))
                .where(
                    col(User.organisation_id).in_(member_organisation_ids(session, panel)),
                    col(User.is_active).is_(True),
                    UserRole.role == Role.PANEL_MEMBER,
                )
                .order_by(col(User.id))
            )
            if uid is not None
        ]
    return list(dict.fromkeys([*people, *named]))


def is_chair(panel: Panel, actor: Actor) -> bool:
    """Whether the actor is the panel's chair or deputy chair."""
    return actor.user_id is not None and actor.user_id in (panel.chair_user_id, panel.deputy_chair_user_id)


def sits_on(session: Session, panel: Panel, actor: Actor) -> bool:
    """Whether the actor's organisation sits on the panel (or they chair it)."""
    return is_chair(panel, actor) or (
        actor.organisation_id is not None and actor.organisation_id in member_organisation_ids(session, panel)
    )


def require_chair(session: Session, actor: Actor, panel: Panel) -> None:
    """Only the panel's chair or deputy chair (or the portal's own scheduler) may do this."""
    require(actor, Permission.PANELS_MEETINGS_CHAIR, subject_type="panel", subject_id=panel.id)
    if actor.is_system or is_chair(panel, actor):
        return
    raise denied(
        actor, f"Only the chair or deputy chair of the {panel.name} can do that.",
        reason="not the panel's chair", subject_type="panel", subject_id=panel.id,
    )  # fmt: skip


def require_scheduler(session: Session, actor: Actor, panel: Panel) -> None:
    """Meetings are scheduled by an administrator or by the panel's chair or deputy."""
    if actor.can(Permission.PANELS_PANELS_MANAGE):
        return
    require_chair(session, actor, panel)


def require_member(session: Session, actor: Actor, panel: Panel) -> None:
    """The actor attends this panel: their organisation sits on it, or they chair it."""
    require(actor, Permission.PANELS_MEETINGS_ATTEND, subject_type="panel", subject_id=panel.id)
    if actor.is_system or sits_on(session, panel, actor):
        return
    raise denied(
        actor, f"Your organisation does not sit on the {panel.name}.",
        reason="not a member of the panel", subject_type="panel", subject_id=panel.id,
    )  # fmt: skip


def confidentiality_statement(panel: Panel) -> str:
    return panel.confidentiality_statement or STANDARD_CONFIDENTIALITY_STATEMENT


def decision_types_of(panel: Panel) -> list[DecisionType]:
    return [DECISION_TYPES[key] for key in panel.decision_types if key in DECISION_TYPES]
