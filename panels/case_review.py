"""ASB Case Review (Community Trigger): the threshold check and the applications.

The check (:func:`check_case_review`) is pure: given a council's :class:`CaseReviewPolicy`,
the facts of a case's incidents and a date, it says whether any of the council's thresholds
is met and why (or why not), in sentences an officer can read to the applicant.

How the windows are counted (every edge is inclusive):

* A rule's window runs from ``on`` minus ``window_months`` calendar months to ``on`` itself,
  both days included: on 21 November 2026 a 6-month window starts on 21 May 2026, and an
  incident on 21 May counts while one on 20 May does not.  Calendar months come from
  ``dateutil.relativedelta``: a day the earlier month lacks becomes its last day (the window
  of 31 August starts on 28 or 29 February).
* ``reported_within_months``: an incident counts when it was reported on or before the same
  day that many months after it happened (an incident of 3 March reported on 3 April counts,
  on 4 April it does not).
* Only incidents known on ``on`` count: those reported on or before it, that happened on or
  before it.  The check of an application received on a past date is therefore repeatable.
* ``last_incident_within_months`` (Reading) gates every rule: the latest incident must have
  happened on or after ``on`` minus that many months.
* Rules about the same perpetrator count only incidents with an alleged perpetrator on record;
  rules about who reported (one person, or a group) only incidents whose reporter is known.
  Reporters are the same person when they are the same person on record, or failing that
  when their names match ignoring case, spacing and punctuation.

The applications: logging one (:func:`record_case_review_application`) stores what the check
said on the day it was received; the threshold decision and the review's outcome follow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseReviewApplication, Incident
from panels.cases import add_case_event, case_for_update
from panels.policy import CaseReviewPolicy, ThresholdRule, get_case_policy
from panels.vocabulary import CaseEventKind, CaseReviewOutcome
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import Person
from sharing.permissions import Actor, Permission
from sharing.reads import read_items
from sharing.register import person_details_item
from sharing.vocabulary import WITHHELD

SUBJECT_TYPE = "case_review_application"


# --- Dates ----------------------------------------------------------------------------------


def local_date(moment: datetime) -> date:
    """The calendar day of ``moment`` where the portal is used (``Settings.timezone``)."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


def local_today(now: datetime | None = None) -> date:
    return local_date(now or utcnow())


def long_date(day: date) -> str:
    """``21 November 2026``."""
    return f"{day.day} {day:%B %Y}"


def _span(start: date, end: date) -> str:
    """``21 May and 21 November 2026`` (the year once when both days share it)."""
    if start.year == end.year:
        return f"{start.day} {start:%B} and {long_date(end)}"
    return f"{long_date(start)} and {long_date(end)}"


def _months(n: int) -> str:
    return "a month" if n == 1 else f"{n} months"


def months_before(day: date, months: int) -> date:
    """``day`` less whole calendar months (a missing day becomes the month's last)."""
    result: date = day - relativedelta(months=months)
    return result


def months_after(day: date, months: int) -> date:
    result: date = day + relativedelta(months=months)
    return result


# --- The facts the check reads -----------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFact:
    """What the check needs of one incident.  ``reporter`` and ``perpetrator`` are keys that
    are equal for the same person (see :func:`reporter_key`, :func:`perpetrator_key`)."""

    occurred_on: date
    reported_on: date
    reporter: str | None = None
    perpetrator: str | None = None
    is_hate: bool = False


def reporter_key(person_id: int | None, name: str = "") -> str | None:
    """``person:12`` for a person on record, else ``name:jo bloggs`` (case, spacing and
    punctuation ignored), else None (not known)."""
    if person_id is not None:
        return f"person:{person_id}"
    words = re.sub(r"[^\w]+", " ", name.casefold()).split()
    return "name:" + " ".join(words) if words else None


def perpetrator_key(person_id: int | None) -> str | None:
    return f"person:{person_id}" if person_id is not None else None


def incident_fact(incident: Incident) -> IncidentFact:
    return IncidentFact(
        occurred_on=local_date(incident.occurred_at),
        reported_on=local_date(incident.reported_at),
        reporter=reporter_key(incident.reported_by_person_id, incident.reported_by_name),
        perpetrator=perpetrator_key(incident.perpetrator_person_id),
        is_hate=incident.is_hate,
    )


# --- The check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCheck:
    """One threshold rule's result: how many qualifying incidents the best group had."""

    key: str
    label: str
    met: bool
    counted: int
    needed: int
    reason: str


@dataclass(frozen=True)
class CaseReviewCheck:
    on: date
    policy_name: str
    met: bool
    rules: tuple[RuleCheck, ...]
    gate: str = ""  # the last-incident gate's sentence, when the policy has one

    @property
    def reasons(self) -> list[str]:
        """Every sentence of the check, the gate first."""
        return ([self.gate] if self.gate else []) + [rule.reason for rule in self.rules]


@dataclass(frozen=True)
class _Group:
    incidents: int
    reporters: int


def _groups(rule: ThresholdRule, facts: list[IncidentFact]) -> list[_Group]:
    by_key: dict[tuple[str | None, str | None], list[IncidentFact]] = {}
    for fact in facts:
        key = (fact.perpetrator if rule.same_perpetrator else None, fact.reporter if rule.from_one_reporter else None)
        by_key.setdefault(key, []).append(fact)
    return [_Group(len(group), len({f.reporter for f in group if f.reporter})) for group in by_key.values()]


def _check_rule(rule: ThresholdRule, known: list[IncidentFact], on: date, gate_ok: bool, gate_note: str) -> RuleCheck:
    start = months_before(on, rule.window_months)
    candidates = [f for f in known if start <= f.occurred_on <= on and (f.is_hate or not rule.hate_only)]
    if rule.reported_within_months is not None:
        limit = rule.reported_within_months
        in_time = [f for f in candidates if f.reported_on <= months_after(f.occurred_on, limit)]
    else:
        in_time = candidates
    late = len(candidates) - len(in_time)
    counted = in_time
    if rule.same_perpetrator:
        counted = [f for f in counted if f.perpetrator]
    if rule.from_one_reporter or rule.min_reporters is not None:
        counted = [f for f in counted if f.reporter]

    def group_met(group: _Group) -> bool:
        return group.incidents >= rule.min_incidents and (
            rule.min_reporters is None or group.reporters >= rule.min_reporters
        )

    groups = _groups(rule, counted) or [_Group(0, 0)]
    best = max(groups, key=lambda g: (group_met(g), g.incidents, g.reporters))
    enough = group_met(best)

    noun = "hate incidents" if rule.hate_only else "incidents"
    about = " about the same alleged perpetrator" if rule.same_perpetrator else ""
    if rule.from_one_reporter:
        by = " from one person"
    elif rule.min_reporters is not None and enough:
        by = f" from {best.reporters} different people"
    else:
        by = ""
    within = (
        f", each reported within {_months(rule.reported_within_months)}"
        if rule.reported_within_months is not None
        else ""
    )
    span = _span(start, on)
    if enough and gate_ok:
        reason = f"{best.incidents} {noun}{about}{by} between {span}{within}: threshold met"
    elif enough:
        reason = f"{best.incidents} {noun}{about}{by} between {span}{within}, but {gate_note}: threshold not met"
    elif best.incidents >= rule.min_incidents:
        # Enough incidents, too few people reporting them.
        people = "1 person" if best.reporters == 1 else f"{best.reporters} people"
        reason = (
            f"{best.incidents} {noun}{about} between {span}{within}, but reported by {people} "
            f"(a group of at least {rule.min_reporters} needed): threshold not met"
        )
    else:
        reason = (
            f"{best.incidents} of the {rule.min_incidents} {noun} needed{about}{by} between {span}{within}: "
            "threshold not met"
        )
        if late:
            reason += (
                f" ({late} more reported too late to count)" if late > 1 else " (1 more reported too late to count)"
            )
    return RuleCheck(
        key=rule.key,
        label=rule.label,
        met=enough and gate_ok,
        counted=best.incidents,
        needed=rule.min_incidents,
        reason=reason,
    )


def check_case_review(policy: CaseReviewPolicy, incidents: Sequence[IncidentFact], on: date) -> CaseReviewCheck:
    """Whether ``incidents`` meet any of ``policy``'s thresholds on ``on``, with a sentence per
    rule (see the module's docstring for exactly which incidents count)."""
    known = [f for f in incidents if f.occurred_on <= on and f.reported_on <= on]
    gate_ok, gate, gate_note = True, "", ""
    if policy.last_incident_within_months is not None:
        within = _months(policy.last_incident_within_months)
        last = max((f.occurred_on for f in known), default=None)
        if last is None:
            gate_ok = False
            gate_note = f"no incident is recorded by {long_date(on)}"
            gate = f"No incident is recorded by {long_date(on)}: the threshold cannot be met"
        elif last < months_before(on, policy.last_incident_within_months):
            gate_ok = False
            gate_note = f"the last incident, on {long_date(last)}, was more than {within} before {long_date(on)}"
            gate = (
                f"The last incident, on {long_date(last)}, was more than {within} before {long_date(on)}: "
                "the threshold cannot be met"
            )
        else:
            gate = f"The last incident, on {long_date(last)}, was within {within} of {long_date(on)}"
    rules = tuple(_check_rule(rule, known, on, gate_ok, gate_note) for rule in policy.rules)
    return CaseReviewCheck(
        on=on, policy_name=policy.name, met=gate_ok and any(r.met for r in rules), rules=rules, gate=gate
    )


def case_review_status(*, session: Session, case: Case, on: date | None = None) -> CaseReviewCheck:
    """The check for ``case`` on ``on`` (today where the portal is used), against its lead
    organisation's policy.  Internal: it reads every incident of the case to decide, and
    shows nothing of them."""
    incidents = session.exec(select(Incident).where(Incident.case_id == case.id)).all()
    policy = get_case_policy(session, case.lead_organisation_id).case_review
    return check_case_review(policy, [incident_fact(i) for i in incidents], on or local_today())


# --- Applications -------------------------------------------------------------------------------


def _application(session: Session, actor: Actor, application_id: int) -> tuple[CaseReviewApplication, Case]:
    application = session.get(CaseReviewApplication, application_id)
    if application is None:
        raise NotFound("That ASB Case Review application is not on record.")
    case = case_for_update(session, actor, application.case_id, Permission.CASES_CASE_REVIEW_MANAGE)
    return application, case


def _not_after_today(errors: dict[str, str], name: str, value: date, what: str, today: date) -> None:
    if value > today:
        errors[name] = f"The date {what} cannot be in the future."


def record_case_review_application(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    received_on: date,
    applicant_person_id: int | None = None,
    applicant_name: str = "",
    today: date | None = None,
) -> CaseReviewApplication:
    """Log an ASB Case Review application received on ``received_on`` by the case's lead
    organisation, with what the threshold check says on that day."""
    case = case_for_update(session, actor, case_id, Permission.CASES_CASE_REVIEW_MANAGE)
    today = today or local_today()
    errors: dict[str, str] = {}
    name = applicant_name.strip()
    if applicant_person_id is None and not name:
        errors["applicant"] = "Say who applied: choose the person or type their name."
    elif applicant_person_id is not None and name:
        errors["applicant"] = "Choose the person on record or type a name, not both."
    elif applicant_person_id is not None and session.get(Person, applicant_person_id) is None:
        errors["applicant"] = "That person is not on record."
    elif len(name) > 200:
        errors["applicant"] = "Keep the applicant's name to 200 characters."
    _not_after_today(errors, "received_on", received_on, "the application was received", today)
    if errors:
        raise InvalidInput(errors)
    check = case_review_status(session=session, case=case, on=received_on)
    application = CaseReviewApplication(
        case_id=case_id,
        received_on=received_on,
        applicant_person_id=applicant_person_id,
        applicant_name=name,
        status=CaseReviewOutcome.AWAITING_DECISION,
        threshold_check=check.reasons,
        recorded_by_user_id=actor.user_id,
    )
    session.add(application)
    session.flush()
    verdict = "met" if check.met else "not met"
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.CASE_REVIEW_APPLICATION,
        summary=f"ASB Case Review application received on {long_date(received_on)} "
        f"(the portal's check: threshold {verdict})",
        subject_type=SUBJECT_TYPE, subject_id=application.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_REVIEW_APPLIED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=application.id,
        detail={"case": case.reference, "received_on": received_on.isoformat(), "check_met": check.met},
    )  # fmt: skip
    return application


def decide_case_review_threshold(
    *,
    session: Session,
    actor: Actor,
    application_id: int,
    met: bool,
    decided_on: date,
    reason: str = "",
    today: date | None = None,
) -> CaseReviewApplication:
    """Record whether the application meets the threshold (a reason is required when it does
    not: the applicant must be told why)."""
    application, case = _application(session, actor, application_id)
    if application.status != CaseReviewOutcome.AWAITING_DECISION:
        raise InvalidInput({"application": "The threshold has already been decided for this application."})
    today = today or local_today()
    errors: dict[str, str] = {}
    why = reason.strip()
    if not met and not why:
        errors["reason"] = "Say why the threshold is not met; the applicant must be told."
    elif len(why) > 2000:
        errors["reason"] = "Keep the reason to 2000 characters."
    if decided_on < application.received_on:
        errors["decided_on"] = (
            f"The decision cannot be before the application was received ({long_date(application.received_on)})."
        )
    else:
        _not_after_today(errors, "decided_on", decided_on, "of the decision", today)
    if errors:
        raise InvalidInput(errors)
    outcome = CaseReviewOutcome.THRESHOLD_MET if met else CaseReviewOutcome.THRESHOLD_NOT_MET
    application.status = outcome
    application.threshold_decided_on = decided_on
    application.threshold_reason = why
    session.add(application)
    session.flush()
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.CASE_REVIEW_DECISION,
        summary=f"ASB Case Review: {outcome.label.lower()} (decided on {long_date(decided_on)})",
        subject_type=SUBJECT_TYPE, subject_id=application.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_REVIEW_DECIDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=application.id, reason=why or None,
        detail={"case": case.reference, "met": met, "decided_on": decided_on.isoformat()},
    )  # fmt: skip
    return application


def complete_case_review(
    *,
    session: Session,
    actor: Actor,
    application_id: int,
    completed_on: date,
    outcome: str,
    today: date | None = None,
) -> CaseReviewApplication:
    """Record the review's outcome (only once the threshold has been found met)."""
    application, case = _application(session, actor, application_id)
    if application.status == CaseReviewOutcome.REVIEW_COMPLETED:
        raise InvalidInput({"application": "This ASB Case Review has already been completed."})
    if application.status != CaseReviewOutcome.THRESHOLD_MET:
        raise InvalidInput({"application": "A review can only be completed once the threshold has been found met."})
    today = today or local_today()
    errors: dict[str, str] = {}
    text = outcome.strip()
    if not text:
        errors["outcome"] = "Say what the review concluded and what will happen next."
    elif len(text) > 4000:
        errors["outcome"] = "Keep the outcome to 4000 characters."
    decided_on = application.threshold_decided_on or application.received_on
    if completed_on < decided_on:
        errors["completed_on"] = (
            f"The review cannot be completed before the threshold was decided ({long_date(decided_on)})."
        )
    else:
        _not_after_today(errors, "completed_on", completed_on, "the review was completed", today)
    if errors:
        raise InvalidInput(errors)
    application.status = CaseReviewOutcome.REVIEW_COMPLETED
    application.review_completed_on = completed_on
    application.review_outcome = text
    session.add(application)
    session.flush()
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.CASE_REVIEW_DECISION,
        summary=f"ASB Case Review completed on {long_date(completed_on)}",
        subject_type=SUBJECT_TYPE, subject_id=application.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_REVIEW_COMPLETED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=application.id,
        detail={"case": case.reference, "completed_on": completed_on.isoformat()},
    )  # fmt: skip
    return application


@dataclass(frozen=True)
class CaseReviewApplicationRead:
    id: int
    case_id: int
    received_on: date
    applicant: str
    status: str
    status_label: str
    threshold_check: tuple[str, ...]
    threshold_decided_on: date | None
    threshold_reason: str
    review_completed_on: date | None
    review_outcome: str


def list_case_review_applications(*, session: Session, actor: Actor, case_id: int) -> list[CaseReviewApplicationRead]:
    """A case's applications, newest first, for the lead organisation (applications name the
    applicant and are not shared with partners).  An applicant on record is named as the
    need-to-know reads show them."""
    case_for_update(session, actor, case_id, Permission.CASES_CASES_READ)
    rows = session.exec(
        select(CaseReviewApplication)
        .where(CaseReviewApplication.case_id == case_id)
        .order_by(col(CaseReviewApplication.received_on).desc(), col(CaseReviewApplication.id).desc())
    ).all()
    details = {
        person_id: person_details_item(session, person_id).id
        for person_id in sorted({r.applicant_person_id for r in rows if r.applicant_person_id is not None})
    }
    views = read_items(
        session=session, actor=actor, item_ids=[i for i in details.values() if i is not None],
        via="case review applications",
    )  # fmt: skip
    names = {view.person_id: next((f.value for f in view.fields if f.key == "name"), WITHHELD) for view in views}
    result = []
    for row in rows:
        assert row.id is not None
        if row.applicant_person_id is not None:
            applicant = names.get(row.applicant_person_id, WITHHELD)
        else:
            applicant = row.applicant_name
        result.append(
            CaseReviewApplicationRead(
                id=row.id,
                case_id=row.case_id,
                received_on=row.received_on,
                applicant=applicant,
                status=row.status,
                status_label=CaseReviewOutcome(row.status).label,
                threshold_check=tuple(row.threshold_check),
                threshold_decided_on=row.threshold_decided_on,
                threshold_reason=row.threshold_reason,
                review_completed_on=row.review_completed_on,
                review_outcome=row.review_outcome,
            )
        )
    return result
