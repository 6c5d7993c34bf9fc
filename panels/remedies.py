"""Interventions and legal remedies, with the clocks the law gives them (002, 000 §10.4).

What the law refuses is refused here, each with its reason, and every refused attempt is kept
on the audit trail although the action rolls back:

* a Neighbourhood Resolution Panel only for lower-risk cases, and only when every party agrees;
* a Community Protection Notice only after a Community Protection Warning to the same person,
  and only on someone aged 16 or over;
* a Demotion Order only after a Notice of Intention, and no sooner than 28 days after it;
* possession proceedings only on a Notice of Seeking Possession in force, after its notice period;
* a closure order only after a closure notice, and for no longer than the maximum.

On service the clocks are set from the organisation's :class:`panels.policy.LegalClocks`
(:func:`compute_clocks`) and :func:`clock_alerts` says what is coming up.  Recording one
moves the case on to stage 4 (interventions) or 5 (legal remedies) when it is earlier.

Interventions go with the case summary: a partner sees them only when the summary was shared
with them, and then without the free text or who they are served on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from panels.case_models import Case, CaseParty, Intervention
from panels.cases import add_case_event, case_for_update, read_case
from panels.meetings import format_day, get_meeting
from panels.models import Decision
from panels.panel_config import DECISION_TYPES, require_chair
from panels.policy import CasePolicy, LegalClocks, get_case_policy
from panels.stages import WrongCaseStatus, add_months, advance_to_stage, long_date
from panels.vocabulary import (
    CaseEventKind,
    CaseStage,
    CaseStatus,
    InterventionKind,
    InterventionStatus,
    PartyRole,
)
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, NotFound
from sharing.models import Person
from sharing.permissions import Actor
from sharing.vocabulary import WITHHELD

K = InterventionKind
S = InterventionStatus

# Served on a person (the rest are agreements, meetings or about premises).
PERSON_KINDS = frozenset(
    {
        K.WARNING_LETTER,
        K.ACCEPTABLE_BEHAVIOUR_CONTRACT,
        K.COMMUNITY_PROTECTION_WARNING,
        K.COMMUNITY_PROTECTION_NOTICE,
        K.CIVIL_INJUNCTION,
        K.CRIMINAL_BEHAVIOUR_ORDER,
        K.NOTICE_OF_SEEKING_POSSESSION,
        K.NOTICE_OF_INTENTION_DEMOTION,
        K.DEMOTION_ORDER,
        K.POSSESSION,
    }
)

# The step each one rests on.
PRIOR_KIND: dict[InterventionKind, InterventionKind] = {
    K.COMMUNITY_PROTECTION_NOTICE: K.COMMUNITY_PROTECTION_WARNING,
    K.DEMOTION_ORDER: K.NOTICE_OF_INTENTION_DEMOTION,
    K.POSSESSION: K.NOTICE_OF_SEEKING_POSSESSION,
    K.CLOSURE_ORDER: K.CLOSURE_NOTICE,
}

PRIOR_MISSING: dict[InterventionKind, str] = {
    K.COMMUNITY_PROTECTION_NOTICE: (
        "A Community Protection Notice needs a Community Protection Warning served on the same person first."
    ),
    K.DEMOTION_ORDER: (
        "A Demotion Order needs a Notice of Intention to apply for a Demotion Order served on this case first."
    ),
    K.POSSESSION: "Possession proceedings need a Notice of Seeking Possession in force on this case: serve one first.",
    K.CLOSURE_ORDER: "A closure order needs a closure notice served on this case first.",
}

IN_FORCE = frozenset({S.SERVED, S.BREACHED})
HOURS_PER_DAY = 24


class InterventionRefused(DomainError):
    """The law does not allow it (the message says why).  The attempt is audited."""


class DemotionOutcome(StrEnum):
    """How the 12 months of a Demotion Order end."""

    RESTORED_TO_SECURE = "restored_to_secure"
    POSSESSION = "possession"

    @property
    def label(self) -> str:
        return {
            DemotionOutcome.RESTORED_TO_SECURE: "Secure tenancy restored",
            DemotionOutcome.POSSESSION: "Possession sought",
        }[self]


@dataclass
class InterventionInput:
    """An intervention as recorded: ``planned`` (e.g. authorised by the Tenancy Enforcement
    Panel, ``authorised_by`` saying so) or ``served`` with its service date."""

    kind: str
    status: str = S.PLANNED
    served_on: date | None = None
    subject_person_id: int | None = None
    prior_intervention_id: int | None = None
    all_parties_consent: bool = False
    details: str = ""
    authorised_by: str = ""
    ends_on: date | None = None  # a closure order: the end date the court set


@dataclass
class InterventionUpdate:
    """A change of status: ``served`` (``happened_on`` is the service date), ``breached``,
    ``ended`` or ``withdrawn`` (``happened_on`` defaults to today), with a note."""

    status: str
    happened_on: date | None = None
    note: str = ""
    ends_on: date | None = None  # a closure order served now


@dataclass(frozen=True)
class Clocks:
    expires_on: date | None = None
    review_on: date | None = None
    review_request_by: date | None = None
    earliest_proceedings_on: date | None = None
    monitoring_ends_on: date | None = None


@dataclass(frozen=True)
class InterventionRead:
    id: int
    case_id: int
    kind: str
    kind_label: str
    is_legal_remedy: bool
    status: str
    status_label: str
    subject_person_id: int | None  # None for partners
    served_on: date | None
    expires_on: date | None
    review_on: date | None
    review_request_by: date | None
    earliest_proceedings_on: date | None
    monitoring_ends_on: date | None
    nosp_warning_on: date | None
    witnesses_alerted_at: datetime | None
    ended_on: date | None
    authorised_by: str
    details: str  # withheld from partners
    outcome: str  # withheld from partners
    alerts: tuple[str, ...]


# --- Pure rules ----------------------------------------------------------------------------


def age_on(born: date, day: date) -> int:
    """Whole years of age on ``day`` (someone born on 29 February is a year older on 1 March
    in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def compute_clocks(
    kind: InterventionKind, served_on: date, clocks: LegalClocks, *, ends_on: date | None = None
) -> Clocks:
    """The dates the law gives an intervention served on ``served_on``."""
    if kind == K.NOTICE_OF_SEEKING_POSSESSION:
        return Clocks(
            expires_on=add_months(served_on, clocks.nosp_valid_months),
            earliest_proceedings_on=served_on + timedelta(weeks=clocks.possession_notice_weeks),
        )
    if kind == K.NOTICE_OF_INTENTION_DEMOTION:
        return Clocks(
            review_request_by=served_on + timedelta(days=clocks.noi_review_request_days),
            earliest_proceedings_on=served_on + timedelta(days=clocks.noi_earliest_proceedings_days),
        )
    if kind == K.DEMOTION_ORDER:
        return Clocks(monitoring_ends_on=add_months(served_on, clocks.demotion_monitoring_months))
    if kind == K.CLOSURE_NOTICE:
        return Clocks(expires_on=served_on + timedelta(days=math.ceil(clocks.closure_notice_hours / HOURS_PER_DAY)))
    if kind == K.CLOSURE_ORDER:
        return Clocks(expires_on=ends_on or add_months(served_on, clocks.closure_order_max_months))
    return Clocks(review_on=add_months(served_on, clocks.intervention_review_months))


def nosp_warning_on(intervention: Intervention, clocks: LegalClocks) -> date | None:
    """From when to warn that a Notice of Seeking Possession is about to expire."""
    if intervention.kind != K.NOTICE_OF_SEEKING_POSSESSION or intervention.expires_on is None:
        return None
    return intervention.expires_on - timedelta(days=clocks.nosp_expiry_warning_days)


def clock_alerts(intervention: Intervention, today: date, clocks: LegalClocks) -> list[str]:
    """What is coming up (or overdue) on an intervention in force."""
    if intervention.status not in IN_FORCE or intervention.served_on is None:
        return []
    kind = InterventionKind(intervention.kind)
    alerts: list[str] = []
    expires = intervention.expires_on
    if kind == K.NOTICE_OF_SEEKING_POSSESSION and expires is not None:
        warn_from = nosp_warning_on(intervention, clocks)
        assert warn_from is not None
        if today > expires:
            alerts.append(f"{kind.label} expired on {long_date(expires)}: serve a new notice before seeking possession")
        elif today >= warn_from:
            if intervention.witnesses_alerted_at is None:
                alerts.append(f"{kind.label} expires on {long_date(expires)}: alert witnesses if appropriate")
            else:
                alerts.append(f"{kind.label} expires on {long_date(expires)} (witnesses alerted)")
    elif kind == K.NOTICE_OF_INTENTION_DEMOTION:
        if intervention.review_request_by is not None and today <= intervention.review_request_by:
            alerts.append(f"Tenant may request a review until {long_date(intervention.review_request_by)}")
        if intervention.earliest_proceedings_on is not None and today < intervention.earliest_proceedings_on:
            earliest = long_date(intervention.earliest_proceedings_on)
            alerts.append(f"Proceedings for a Demotion Order can start on {earliest}")
    elif kind == K.DEMOTION_ORDER and intervention.monitoring_ends_on is not None:
        ends = long_date(intervention.monitoring_ends_on)
        if today <= intervention.monitoring_ends_on:
            alerts.append(
                f"Demotion Order monitoring ends on {ends}: then restore the secure tenancy or seek possession"
            )
        else:
            alerts.append(
                f"Demotion Order monitoring ended on {ends}: record whether the secure tenancy was restored "
                "or possession sought"
            )
    elif kind == K.CLOSURE_NOTICE and expires is not None:
        if today <= expires:
            alerts.append(f"Closure notice expires on {long_date(expires)}: a closure order must be sought before then")
        else:
            alerts.append(f"Closure notice expired on {long_date(expires)}")
    elif kind == K.CLOSURE_ORDER and expires is not None:
        if today <= expires:
            alerts.append(f"Closure order ends on {long_date(expires)}")
        else:
            alerts.append(f"Closure order ended on {long_date(expires)}: record how it ended")
    elif intervention.review_on is not None:
        if today == intervention.review_on:
            alerts.append(f"{kind.label} review due today")
        elif today > intervention.review_on:
            alerts.append(f"{kind.label} review overdue since {long_date(intervention.review_on)}")
    return alerts


# --- Checks --------------------------------------------------------------------------------


def _refused(actor: Actor, case_id: int, kind: str, message: str) -> InterventionRefused:
    def _audit(session: Session) -> None:
        record_event(
            session, action=AuditAction.INTERVENTION_REFUSED, outcome=Outcome.DENIED, actor=actor,
            subject_type="case", subject_id=case_id, reason=message[:500], detail={"kind": kind},
        )  # fmt: skip

    return InterventionRefused(message, durable_effects=[_audit])


def _check_input(
    session: Session, case: Case, data: InterventionInput, today: date, *, subject_may_wait: bool = False
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in {k.value for k in InterventionKind}:
        errors["kind"] = "Choose an intervention or legal remedy from the list."
    if data.status not in (S.PLANNED, S.SERVED):
        errors["status"] = "Record it as planned or served; record a breach, its end or withdrawal afterwards."
    elif data.status == S.SERVED and data.served_on is None:
        errors["served_on"] = "Give the date it was served (or started)."
    elif data.status == S.PLANNED and data.served_on is not None:
        errors["served_on"] = "Leave the service date empty until it is served, or record it as served."
    if data.served_on is not None and data.served_on > today:
        errors["served_on"] = "The service date cannot be in the future."
    if data.kind in PERSON_KINDS and data.subject_person_id is None and not subject_may_wait:
        errors["subject_person_id"] = "Say who it is served on."
    elif data.subject_person_id is not None:
        party = session.exec(
            select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.person_id == data.subject_person_id)
        ).first()
        if party is None:
            errors["subject_person_id"] = "Add this person to the case before recording an intervention about them."
    if len(data.details) > 4000:
        errors["details"] = "Keep the details under 4,000 characters."
    if len(data.authorised_by) > 300:
        errors["authorised_by"] = "Keep who authorised it under 300 characters."
    return errors


def _qualifying_priors(
    session: Session, case_id: int, kind: InterventionKind, subject_person_id: int | None, by: date
) -> list[Intervention]:
    """Served, not withdrawn, earlier steps of the right kind (on the same person, for steps
    served on a person), newest first."""
    prior_kind = PRIOR_KIND[kind]
    query = select(Intervention).where(
        Intervention.case_id == case_id,
        Intervention.kind == prior_kind,
        col(Intervention.served_on).is_not(None),
        col(Intervention.served_on) <= by,
        Intervention.status != S.WITHDRAWN,
    )
    if prior_kind in PERSON_KINDS:
        query = query.where(Intervention.subject_person_id == subject_person_id)
    return list(session.exec(query.order_by(col(Intervention.served_on).desc(), col(Intervention.id).desc())))


def _check_law(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    kind: InterventionKind,
    subject_person_id: int | None,
    served_on: date | None,
    prior_intervention_id: int | None,
    all_parties_consent: bool,
    ends_on: date | None,
    policy: CasePolicy,
    today: date,
) -> Intervention | None:
    """Refuse (audited) what the law does not allow; returns the earlier step it rests on."""
    assert case.id is not None
    clocks = policy.clocks

    def refuse(message: str) -> InterventionRefused:
        assert case.id is not None
        return _refused(actor, case.id, kind, message)

    if kind == K.NEIGHBOURHOOD_RESOLUTION_PANEL:
        allowed = sorted(
            (level for level in policy.risk_scheme.levels if level.rank <= clocks.neighbourhood_resolution_max_rank),
            key=lambda level: level.rank,
        )
        allowed_labels = " or ".join(level.label for level in allowed)
        if case.risk_rank == 0:
            raise refuse(
                f"Assess the risk first: a Neighbourhood Resolution Panel is only for {allowed_labels} risk cases."
            )
        if case.risk_rank > clocks.neighbourhood_resolution_max_rank:
            raise refuse(
                f"A Neighbourhood Resolution Panel is only for {allowed_labels} risk cases; "
                f"this case is assessed {case.risk_label}."
            )
        if not all_parties_consent:
            raise refuse("Every party must agree to a Neighbourhood Resolution Panel: record that they all consent.")

    on = served_on or today
    if kind == K.COMMUNITY_PROTECTION_NOTICE:
        person = session.get(Person, subject_person_id) if subject_person_id is not None else None
        minimum = clocks.community_protection_notice_min_age
        if person is None or person.date_of_birth is None:
            raise refuse(
                "Record the person's date of birth: a Community Protection Notice can only be served on "
                f"someone aged {minimum} or over"
            )
        age = age_on(person.date_of_birth, on)
        if age < minimum:
            raise refuse(
                f"A Community Protection Notice can only be served on someone aged {minimum} or over; "
                f"this person is {age} on {long_date(on)}."
            )

    if kind not in PRIOR_KIND:
        return None
    candidates = _qualifying_priors(session, case.id, kind, subject_person_id, on)
    if kind == K.POSSESSION:
        candidates = [c for c in candidates if c.status in IN_FORCE]
    if prior_intervention_id is not None:
        candidates = [c for c in candidates if c.id == prior_intervention_id]
    if not candidates:
        raise refuse(PRIOR_MISSING[kind])
    prior = candidates[0]
    if kind == K.DEMOTION_ORDER and served_on is not None:
        earliest = prior.earliest_proceedings_on
        if earliest is not None and served_on < earliest:
            raise refuse(
                "Proceedings for a Demotion Order can start no sooner than "
                f"{clocks.noi_earliest_proceedings_days} days after the Notice of Intention was served "
                f"on {long_date(prior.served_on or earliest)}: not before {long_date(earliest)}."
            )
    if kind == K.POSSESSION:
        if prior.expires_on is not None and on > prior.expires_on:
            raise refuse(
                f"The Notice of Seeking Possession served on {long_date(prior.served_on or on)} expired on "
                f"{long_date(prior.expires_on)}: serve a new one before seeking possession."
            )
        earliest = prior.earliest_proceedings_on
        if served_on is not None and earliest is not None and served_on < earliest:
            raise refuse(
                f"Possession proceedings can start only after the {clocks.possession_notice_weeks}-week notice "
                f"period of the Notice of Seeking Possession: not before {long_date(earliest)}."
            )
    if kind == K.CLOSURE_ORDER and served_on is not None and ends_on is not None:
        longest = add_months(served_on, clocks.closure_order_max_months)
        if ends_on > longest:
            raise refuse(
                f"A closure order can last at most {clocks.closure_order_max_months} months: "
                f"it must end by {long_date(longest)}."
            )
        if ends_on <= served_on:
            raise refuse("A closure order must end after the day it is made.")
    return prior


def _apply_clocks(intervention: Intervention, clocks: LegalClocks, ends_on: date | None) -> None:
    assert intervention.served_on is not None
    dates = compute_clocks(InterventionKind(intervention.kind), intervention.served_on, clocks, ends_on=ends_on)
    intervention.expires_on = dates.expires_on
    intervention.review_on = dates.review_on
    intervention.review_request_by = dates.review_request_by
    intervention.earliest_proceedings_on = dates.earliest_proceedings_on
    intervention.monitoring_ends_on = dates.monitoring_ends_on


def _served_summary(intervention: Intervention) -> str:
    kind = InterventionKind(intervention.kind)
    assert intervention.served_on is not None
    parts = [f"{kind.label} served on {long_date(intervention.served_on)}"]
    if intervention.expires_on is not None:
        parts.append(f"expires on {long_date(intervention.expires_on)}")
    if intervention.review_request_by is not None:
        parts.append(f"review may be requested until {long_date(intervention.review_request_by)}")
    if intervention.earliest_proceedings_on is not None:
        parts.append(f"proceedings from {long_date(intervention.earliest_proceedings_on)}")
    if intervention.monitoring_ends_on is not None:
        parts.append(f"monitoring ends on {long_date(intervention.monitoring_ends_on)}")
    if intervention.review_on is not None:
        parts.append(f"review on {long_date(intervention.review_on)}")
    return "; ".join(parts)


def _advance_stage(session: Session, case: Case, actor: Actor, kind: InterventionKind) -> None:
    if kind.is_legal_remedy:
        advance_to_stage(
            session, case=case, actor=actor, to_stage=CaseStage.LEGAL_REMEDIES,
            reason=f"Legal remedy recorded: {kind.label}",
        )  # fmt: skip
    else:
        advance_to_stage(
            session, case=case, actor=actor, to_stage=CaseStage.INTERVENTIONS,
            reason=f"Intervention recorded: {kind.label}",
        )  # fmt: skip


def _open_case_for_intervention(session: Session, actor: Actor, case_id: int) -> Case:
    case = case_for_update(session, actor, case_id)
    if case.status == CaseStatus.CLOSED:
        raise WrongCaseStatus("This case is closed: reopen it before recording an intervention.")
    return case


# --- Services ------------------------------------------------------------------------------


def record_intervention(
    *, session: Session, actor: Actor, case_id: int, data: InterventionInput, today: date | None = None
) -> Intervention:
    """Record an intervention or legal remedy, planned or served, refusing (audited) what the
    law does not allow; on service its clocks are set.  The case moves on to stage 4 or 5 if
    it is earlier."""
    case = case_for_update(session, actor, case_id)
    return _record(session, actor, case, data, today or utcnow().date())


def record_panel_remedy(*, session: Session, actor: Actor, decision_id: int, today: date | None = None) -> Intervention:
    """The legal remedy a panel's decision authorised (e.g. a Notice of Seeking Possession
    authorised by the Tenancy Enforcement Panel), recorded as planned on the case by the same
    service as every other intervention: the law checked, the case moved on, its chronology.

    The panel's chair or deputy records it, only for the decision's own remedy: they need not
    work for the case's lead organisation, whose officer serves it.  It is served on the case's
    alleged perpetrator when the case has exactly one; otherwise the person is not named yet."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("That decision no longer exists.")
    meeting, panel = get_meeting(session, decision.meeting_id)
    require_chair(session, actor, panel)
    spec = DECISION_TYPES.get(decision.decision_type)
    if spec is None or spec.creates_intervention is None or decision.intervention_id is not None:
        raise InvalidInput({"decision_type": "That decision authorises no legal remedy, or it is already recorded."})
    case = session.get(Case, decision.case_id)
    assert case is not None
    perpetrators = list(
        session.exec(
            select(CaseParty.person_id).where(
                CaseParty.case_id == case.id, CaseParty.role == PartyRole.ALLEGED_PERPETRATOR
            )
        )
    )
    authorised_by = f"{panel.name}, {format_day(meeting.starts_at)}"
    data = InterventionInput(
        kind=spec.creates_intervention, status=S.PLANNED,
        subject_person_id=perpetrators[0] if len(perpetrators) == 1 else None,
        authorised_by=authorised_by, details=f"Authorised by the {panel.name} on {format_day(meeting.starts_at)}.",
    )  # fmt: skip
    return _record(session, actor, case, data, today or utcnow().date(), subject_may_wait=True)


def _record(
    session: Session, actor: Actor, case: Case, data: InterventionInput, day: date, *, subject_may_wait: bool = False
) -> Intervention:
    """Record an intervention on a case the actor may record it on."""
    assert case.id is not None
    case_id = case.id
    errors = _check_input(session, case, data, day, subject_may_wait=subject_may_wait)
    if errors:
        raise InvalidInput(errors)
    if case.status == CaseStatus.CLOSED:
        raise WrongCaseStatus("This case is closed: reopen it before recording an intervention.")
    kind = InterventionKind(data.kind)
    policy = get_case_policy(session, case.lead_organisation_id)
    prior = _check_law(
        session, actor=actor, case=case, kind=kind, subject_person_id=data.subject_person_id,
        served_on=data.served_on, prior_intervention_id=data.prior_intervention_id,
        all_parties_consent=data.all_parties_consent, ends_on=data.ends_on, policy=policy, today=day,
    )  # fmt: skip
    intervention = Intervention(
        case_id=case_id,
        kind=kind,
        status=data.status,
        subject_person_id=data.subject_person_id,
        prior_intervention_id=prior.id if prior is not None else None,
        served_on=data.served_on,
        all_parties_consent=data.all_parties_consent,
        details=data.details.strip(),
        authorised_by=data.authorised_by.strip(),
        recorded_by_user_id=actor.user_id,
    )
    if intervention.served_on is not None:
        _apply_clocks(intervention, policy.clocks, data.ends_on)
    session.add(intervention)
    session.flush()
    _advance_stage(session, case, actor, kind)
    if intervention.served_on is not None:
        summary = _served_summary(intervention)
    else:
        authorised = f" (authorised by {intervention.authorised_by})" if intervention.authorised_by else ""
        summary = f"{kind.label} planned{authorised}"
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.INTERVENTION, summary=summary,
        subject_type="intervention", subject_id=intervention.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.INTERVENTION_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="intervention", subject_id=intervention.id,
        detail={"case": case.reference, "kind": str(kind), "status": data.status,
                "prior": intervention.prior_intervention_id},
    )  # fmt: skip
    return intervention


def _intervention_for_update(session: Session, actor: Actor, intervention_id: int) -> tuple[Intervention, Case]:
    intervention = session.get(Intervention, intervention_id)
    if intervention is None:
        raise NotFound("That intervention no longer exists.")
    case = _open_case_for_intervention(session, actor, intervention.case_id)
    return intervention, case


def _audit_update(session: Session, actor: Actor, intervention: Intervention, before: str, **detail: object) -> None:
    record_event(
        session, action=AuditAction.INTERVENTION_UPDATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="intervention", subject_id=intervention.id,
        detail={"kind": intervention.kind, "from": before, "to": intervention.status, **detail},
    )  # fmt: skip


ALLOWED_FROM: dict[InterventionStatus, frozenset[InterventionStatus]] = {
    S.SERVED: frozenset({S.PLANNED}),
    S.BREACHED: frozenset({S.SERVED}),
    S.ENDED: frozenset({S.SERVED, S.BREACHED}),
    S.WITHDRAWN: frozenset({S.PLANNED, S.SERVED, S.BREACHED}),
}

NOTE_NEEDED: dict[InterventionStatus, str] = {
    S.BREACHED: "Say how it was breached.",
    S.ENDED: "Say how it ended (complied with, discharged, possession obtained...).",
    S.WITHDRAWN: "Say why it was withdrawn.",
}


def update_intervention(
    *, session: Session, actor: Actor, intervention_id: int, change: InterventionUpdate, today: date | None = None
) -> Intervention:
    """Record that a planned intervention was served (its clocks set, the law checked again
    on the service date), or that one was breached, ended or withdrawn."""
    intervention, case = _intervention_for_update(session, actor, intervention_id)
    day = today or utcnow().date()
    before = InterventionStatus(intervention.status)
    kind = InterventionKind(intervention.kind)
    errors: dict[str, str] = {}
    if change.status not in {s.value for s in ALLOWED_FROM}:
        errors["status"] = "Choose served, breached, ended or withdrawn."
    else:
        to = InterventionStatus(change.status)
        if before not in ALLOWED_FROM[to]:
            errors["status"] = f"A {kind.label} that is {before.label.lower()} cannot be marked {to.label.lower()}."
        elif to == S.ENDED and kind == K.DEMOTION_ORDER:
            errors["status"] = "A Demotion Order ends by restoring the secure tenancy or seeking possession."
        if to == S.SERVED and change.happened_on is None:
            errors["happened_on"] = "Give the date it was served (or started)."
        if to in NOTE_NEEDED and not change.note.strip():
            errors["note"] = NOTE_NEEDED[to]
    if change.happened_on is not None:
        if change.happened_on > day:
            errors["happened_on"] = "The date cannot be in the future."
        elif intervention.served_on is not None and change.happened_on < intervention.served_on:
            errors["happened_on"] = "The date is before it was served."
    if errors:
        raise InvalidInput(errors)
    to = InterventionStatus(change.status)
    when = change.happened_on or day
    note = change.note.strip()
    if to == S.SERVED:
        policy = get_case_policy(session, case.lead_organisation_id)
        prior = _check_law(
            session, actor=actor, case=case, kind=kind, subject_person_id=intervention.subject_person_id,
            served_on=when, prior_intervention_id=intervention.prior_intervention_id,
            all_parties_consent=intervention.all_parties_consent, ends_on=change.ends_on, policy=policy, today=day,
        )  # fmt: skip
        intervention.prior_intervention_id = prior.id if prior is not None else None
        intervention.served_on = when
        _apply_clocks(intervention, policy.clocks, change.ends_on)
        if note:
            intervention.details = f"{intervention.details}\n{note}".strip()[:4000]
        summary = _served_summary(intervention)
    elif to == S.BREACHED:
        intervention.outcome = f"Breached on {long_date(when)}: {note}"[:2000]
        summary = f"{kind.label} breached on {long_date(when)}"
    else:
        intervention.outcome = "\n".join(part for part in (intervention.outcome, note) if part)[:2000]
        intervention.ended_on = when
        summary = f"{kind.label} {to.label.lower()} on {long_date(when)}"
    intervention.status = to
    session.add(intervention)
    session.flush()
    _advance_stage(session, case, actor, kind)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.INTERVENTION, summary=summary,
        subject_type="intervention", subject_id=intervention.id,
    )  # fmt: skip
    _audit_update(session, actor, intervention, before, on=when.isoformat())
    return intervention


def end_demotion(
    *,
    session: Session,
    actor: Actor,
    intervention_id: int,
    outcome: str,
    note: str = "",
    ended_on: date | None = None,
    today: date | None = None,
) -> Intervention:
    """End a Demotion Order's monitoring: the secure tenancy restored (only once the
    monitoring period has run), or possession sought."""
    intervention, case = _intervention_for_update(session, actor, intervention_id)
    day = today or utcnow().date()
    when = ended_on or day
    if intervention.kind != K.DEMOTION_ORDER:
        raise InvalidInput({"intervention_id": "Only a Demotion Order ends this way."})
    errors: dict[str, str] = {}
    if outcome not in {o.value for o in DemotionOutcome}:
        errors["outcome"] = "Choose whether the secure tenancy was restored or possession sought."
    if intervention.status not in IN_FORCE:
        errors["status"] = "Only a Demotion Order in force can end this way."
    if when > day:
        errors["ended_on"] = "The date cannot be in the future."
    elif intervention.served_on is not None and when < intervention.served_on:
        errors["ended_on"] = "The date is before the Demotion Order was made."
    if errors:
        raise InvalidInput(errors)
    result = DemotionOutcome(outcome)
    ends = intervention.monitoring_ends_on
    if result == DemotionOutcome.RESTORED_TO_SECURE and ends is not None and when < ends:
        assert case.id is not None
        raise _refused(
            actor, case.id, intervention.kind,
            f"A demoted tenancy becomes secure again only when the monitoring ends, on {long_date(ends)}.",
        )  # fmt: skip
    before = intervention.status
    intervention.status = S.ENDED
    intervention.ended_on = when
    intervention.outcome = (result.label + (f": {note.strip()}" if note.strip() else ""))[:2000]
    session.add(intervention)
    session.flush()
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.INTERVENTION,
        summary=f"Demotion Order ended on {long_date(when)}: {result.label}",
        subject_type="intervention", subject_id=intervention.id,
    )  # fmt: skip
    _audit_update(session, actor, intervention, before, demotion_outcome=str(result))
    return intervention


def record_witnesses_alerted(
    *, session: Session, actor: Actor, intervention_id: int, now: datetime | None = None
) -> Intervention:
    """Record that witnesses were told an intervention in force (typically a Notice of Seeking
    Possession) is about to expire."""
    intervention, case = _intervention_for_update(session, actor, intervention_id)
    if intervention.status not in IN_FORCE:
        raise InvalidInput({"intervention_id": "Witnesses are alerted only about an intervention in force."})
    when = now or utcnow()
    intervention.witnesses_alerted_at = when
    session.add(intervention)
    session.flush()
    kind = InterventionKind(intervention.kind)
    summary = (
        f"Witnesses told the {kind.label} expires on {long_date(intervention.expires_on)}"
        if intervention.expires_on
        else f"Witnesses alerted about the {kind.label}"
    )
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.INTERVENTION, occurred_at=when, summary=summary,
        subject_type="intervention", subject_id=intervention.id,
    )  # fmt: skip
    _audit_update(session, actor, intervention, intervention.status, witnesses_alerted=when.isoformat())
    return intervention


def list_interventions(
    *, session: Session, actor: Actor, case_id: int, today: date | None = None
) -> list[InterventionRead]:
    """A case's interventions with their clocks and alerts, oldest first.

    Read through the case summary (``read_case``): partners see them only when the summary
    was shared with them, and then without the free text or who they are served on.
    """
    case, view = read_case(session, actor, case_id, via="interventions")
    owner = view.access == "owner"
    day = today or utcnow().date()
    clocks = get_case_policy(session, case.lead_organisation_id).clocks
    rows = session.exec(
        select(Intervention)
        .where(Intervention.case_id == case_id)
        .order_by(col(Intervention.created_at), col(Intervention.id))
    ).all()
    return [_read_model(row, clocks, day, owner) for row in rows]


def _read_model(row: Intervention, clocks: LegalClocks, today: date, owner: bool) -> InterventionRead:
    assert row.id is not None
    kind = InterventionKind(row.kind)
    shown: Callable[[str], str] = (lambda text: text) if owner else (lambda text: WITHHELD if text else "")
    return InterventionRead(
        id=row.id,
        case_id=row.case_id,
        kind=kind,
        kind_label=kind.label,
        is_legal_remedy=kind.is_legal_remedy,
        status=row.status,
        status_label=InterventionStatus(row.status).label,
        subject_person_id=row.subject_person_id if owner else None,
        served_on=row.served_on,
        expires_on=row.expires_on,
        review_on=row.review_on,
        review_request_by=row.review_request_by,
        earliest_proceedings_on=row.earliest_proceedings_on,
        monitoring_ends_on=row.monitoring_ends_on,
        nosp_warning_on=nosp_warning_on(row, clocks),
        witnesses_alerted_at=row.witnesses_alerted_at,
        ended_on=row.ended_on,
        authorised_by=row.authorised_by,
        details=shown(row.details),
        outcome=shown(row.outcome),
        alerts=tuple(clock_alerts(row, today, clocks)),
    )
