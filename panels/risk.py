"""Risk assessment of a case and the first-contact deadline it sets.

The scoring is a pure rule over the organisation's *risk scheme* (``panels.policy``): the
score is the sum of the points of the answers chosen; the level is the highest band the score
reaches; certain case types (violence, hate, domestic abuse, sexual harassment for Cambridge)
put the case at a set level whatever the score, when that level is the higher.  Cambridge's
High/Medium/Standard, Welwyn's Priority 1-4 and any council's own scheme all go through the
same code: the scheme is data.

The services keep every assessment (a repeat never overwrites an earlier one), put the latest
result on the case, and set the first-contact deadline: the first assessment sets it from the
time the case's first report was received (or the case opened) by the level's number of
working days (``panels.working_days``); a later assessment that raises the level brings the
deadline forward if first contact has not been made yet, never back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from panels.case_models import Case, CaseReport, RiskAssessment
from panels.cases import add_case_event, case_for_update, case_item, get_case, refresh_case_summary
from panels.policy import RiskLevelRule, RiskScheme, get_case_policy
from panels.vocabulary import CaseEventKind, CaseType
from panels.working_days import local_zone, working_day_deadline
from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, read_items
from sharing.vocabulary import DataCategory, ItemKind

# --- Scoring (pure) -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerChosen:
    question_key: str
    question_label: str
    option_key: str
    option_label: str
    points: int


@dataclass(frozen=True)
class RiskResult:
    """What a questionnaire scores under a scheme.

    ``score_level`` is the band the score alone reaches; ``level`` is the result after any
    case-type override (the same as ``score_level`` unless an override ranks higher, in which
    case ``override_reason`` says why in plain words).
    """

    scheme_key: str
    score: int
    level: RiskLevelRule
    score_level: RiskLevelRule
    override_reason: str
    answers: tuple[AnswerChosen, ...]

    @property
    def overridden(self) -> bool:
        return bool(self.override_reason)


def _type_label(case_type: str) -> str:
    """The case type in plain words, without the label's aside ("Domestic abuse", not
    "Domestic abuse (own procedure)")."""
    try:
        label = CaseType(case_type).label
    except ValueError:
        label = case_type.replace("_", " ").capitalize()
    return label.split(" (", 1)[0]


def describe_level(level: RiskLevelRule) -> str:
    """How a level reads in a sentence: "high risk" for a one-word band, the label itself
    ("Priority 1") otherwise."""
    return level.label if " " in level.label.strip() else f"{level.label.lower()} risk"


def _check_answers(scheme: RiskScheme, answers: Mapping[str, str]) -> tuple[list[AnswerChosen], dict[str, str]]:
    chosen: list[AnswerChosen] = []
    errors: dict[str, str] = {}
    for question in scheme.questions:
        answer = (answers.get(question.key) or "").strip()
        if not answer:
            errors[question.key] = f"Choose an answer for '{question.label}'"
            continue
        option = next((o for o in question.options if o.key == answer), None)
        if option is None:
            errors[question.key] = f"Choose one of the listed answers for '{question.label}'"
            continue
        chosen.append(AnswerChosen(question.key, question.label, option.key, option.label, option.points))
    known = {q.key for q in scheme.questions}
    for key in answers:
        if key not in known:
            errors[key] = f"'{key}' is not a question of the {scheme.name} risk assessment"
    return chosen, errors


def score_assessment(scheme: RiskScheme, answers: Mapping[str, str], case_types: Iterable[str]) -> RiskResult:
    """Score ``answers`` (question key -> option key) under ``scheme`` for a case of
    ``case_types``.  Raises :class:`InvalidInput` naming every unanswered, unknown or
    wrongly answered question."""
    chosen, errors = _check_answers(scheme, answers)
    if errors:
        raise InvalidInput(errors, "Answer every question of the risk assessment.")
    score = sum(answer.points for answer in chosen)
    reached = [level for level in scheme.levels if level.min_score <= score]
    score_level = max(reached, key=lambda level: (level.min_score, level.rank))
    level, reason = score_level, ""
    overrides: dict[str, RiskLevelRule] = {
        case_type: scheme.level(scheme.override_types[case_type])
        for case_type in dict.fromkeys(case_types)
        if case_type in scheme.override_types
    }
    if overrides:
        highest = max(overrides.values(), key=lambda rule: rule.rank)
        if highest.rank > score_level.rank:
            level = highest
            because = [_type_label(t) for t, rule in overrides.items() if rule.key == highest.key]
            reason = f"{', '.join(because)}: {describe_level(highest)} whatever the score"
    return RiskResult(
        scheme_key=scheme.key,
        score=score,
        level=level,
        score_level=score_level,
        override_reason=reason,
        answers=tuple(chosen),
    )


# --- First contact ----------------------------------------------------------------------------


class FirstContactStatus(StrEnum):
    """Where a case stands against its first-contact deadline (the words the UI shows)."""

    NOT_SET = "not set"  # not assessed yet, so no deadline
    DUE = "due"
    OVERDUE = "overdue"
    MET_ON_TIME = "met on time"
    MET_LATE = "met late"


def first_contact_status(case: Case, now: datetime) -> FirstContactStatus:
    """Due / overdue / met on time / met late (or not set before the first assessment)."""
    due, made = case.first_contact_due_at, case.first_contact_made_at
    if made is not None:
        return FirstContactStatus.MET_LATE if due is not None and made > due else FirstContactStatus.MET_ON_TIME
    if due is None:
        return FirstContactStatus.NOT_SET
    return FirstContactStatus.OVERDUE if now > due else FirstContactStatus.DUE


def first_report_received_at(session: Session, case: Case) -> datetime:
    """When the case's first report was received, or when the case opened if it has none."""
    first = session.exec(
        select(CaseReport.received_at)
        .where(CaseReport.case_id == case.id)
        .order_by(col(CaseReport.received_at), col(CaseReport.id))
    ).first()
    return first if first is not None else case.opened_at


def _when(moment: datetime) -> str:
    local = moment.astimezone(local_zone())
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def _by_end_of(moment: datetime) -> str:
    local = moment.astimezone(local_zone())
    return f"the end of {local:%A} {local.day} {local:%B %Y}"


# --- Assessing risk ---------------------------------------------------------------------------


def latest_assessment(session: Session, case_id: int) -> RiskAssessment | None:
    return session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case_id)
        .order_by(col(RiskAssessment.assessed_at).desc(), col(RiskAssessment.id).desc())
    ).first()


def _change(previous: RiskAssessment | None, *, comparable: bool, raised: bool, lowered: bool) -> str:
    if previous is None:
        return "first"
    if not comparable:
        return "scheme_changed"
    return "raised" if raised else "lowered" if lowered else "same"


def assess_risk(
    *, session: Session, actor: Actor, case_id: int, answers: Mapping[str, str], now: datetime | None = None
) -> RiskAssessment:
    """Assess a case's risk under its lead organisation's scheme and keep the assessment.

    The case takes the new result.  The first assessment sets the first-contact deadline; a
    repeat that raises the level records that the risk was raised and brings the deadline
    forward if first contact is still to be made and the new deadline is earlier; a repeat
    that lowers it is kept and noted, and the deadline stays as it was.
    """
    case = case_for_update(session, actor, case_id)
    assert case.id is not None
    now = now or utcnow()
    scheme = get_case_policy(session, case.lead_organisation_id).risk_scheme
    result = score_assessment(scheme, answers, case.types)
    level = result.level
    previous = latest_assessment(session, case.id)
    comparable = previous is not None and previous.scheme == scheme.key
    raised = comparable and previous is not None and level.rank > previous.rank
    lowered = comparable and previous is not None and level.rank < previous.rank

    due = working_day_deadline(first_report_received_at(session, case), level.first_contact_working_days)
    if previous is None:
        case.first_contact_due_at = due
        deadline_note = f"first contact due by {_by_end_of(due)}"
    elif (
        not lowered
        and case.first_contact_made_at is None
        and (case.first_contact_due_at is None or due < case.first_contact_due_at)
    ):
        case.first_contact_due_at = due
        deadline_note = f"first contact now due by {_by_end_of(due)}"
    else:
        deadline_note = ""

    fields: list[tuple[str, str, str, DataCategory]] = [
        ("score", "Score", str(result.score), DataCategory.ASB_HISTORY),
        ("level", "Risk level", level.label, DataCategory.ASB_HISTORY),
    ]
    if result.override_reason:
        fields.append(("override", "Why this level", result.override_reason, DataCategory.ASB_HISTORY))
    fields += [(a.question_key, a.question_label, a.option_label, DataCategory.ASB_HISTORY) for a in result.answers]
    item = case_item(
        session, case=case, actor=actor, kind=ItemKind.RISK_ASSESSMENT,
        title=f"Risk assessment of case {case.reference}: {level.label}",
        category=DataCategory.ASB_HISTORY, fields=fields,
    )  # fmt: skip
    assessment = RiskAssessment(
        case_id=case.id,
        scheme=scheme.key,
        answers={a.question_key: a.option_key for a in result.answers},
        score=result.score,
        level=level.key,
        level_label=level.label,
        rank=level.rank,
        override_reason=result.override_reason[:300],
        first_contact_due_at=due,
        item_id=item.id,
        assessed_by_user_id=actor.user_id,
        assessed_at=now,
    )
    session.add(assessment)
    session.flush()

    previous_label = previous.level_label if previous is not None else case.risk_label
    case.risk_scheme = scheme.key
    case.risk_level = level.key
    case.risk_label = level.label
    case.risk_rank = level.rank
    case.risk_score = result.score

    why = result.override_reason or f"score {result.score}"
    summary = f"Risk assessed: {level.label} (score {result.score})"
    if result.override_reason:
        summary += f"; {result.override_reason}"
    if lowered:
        summary += f"; lower than the previous assessment ({previous_label}), kept and noted"
    elif previous is not None and not comparable:
        summary += f"; assessed under {scheme.name}"
    if deadline_note:
        summary += f"; {deadline_note}"
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.RISK_ASSESSED, summary=summary, item_id=item.id,
        subject_type="risk_assessment", subject_id=assessment.id, occurred_at=now,
    )  # fmt: skip
    if raised:
        add_case_event(
            session, case=case, actor=actor, kind=CaseEventKind.RISK_RAISED,
            summary=f"Risk raised from {previous_label} to {level.label}: {why}", item_id=item.id,
            subject_type="risk_assessment", subject_id=assessment.id, occurred_at=now,
        )  # fmt: skip
    record_event(
        session, action=AuditAction.RISK_ASSESSED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id,
        detail={
            "reference": case.reference, "assessment_id": assessment.id, "scheme": scheme.key,
            "score": result.score, "level": level.key, "overridden": result.overridden,
            "previous_level": previous.level if previous is not None else None,
            "change": _change(previous, comparable=comparable, raised=raised, lowered=lowered),
            "first_contact_due_at": case.first_contact_due_at.isoformat() if case.first_contact_due_at else None,
        },
    )  # fmt: skip
    refresh_case_summary(session, case)
    return assessment


# --- First contact ----------------------------------------------------------------------------

NOTE_MAX = 900


def record_first_contact(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    contacted_at: datetime,
    note: str,
    now: datetime | None = None,
) -> Case:
    """Record when the first contact with the person reporting was made, and how."""
    case = case_for_update(session, actor, case_id)
    now = now or utcnow()
    errors: dict[str, str] = {}
    if contacted_at.tzinfo is None:
        errors["contacted_at"] = "Give the date and time of first contact."
    elif case.first_contact_made_at is not None:
        errors["contacted_at"] = f"First contact was already recorded, on {_when(case.first_contact_made_at)}."
    elif contacted_at > now:
        errors["contacted_at"] = "The time of first contact cannot be in the future."
    elif contacted_at < case.opened_at:
        errors["contacted_at"] = (
            f"The time of first contact cannot be before the case was opened, on {_when(case.opened_at)}."
        )
    if not note.strip():
        errors["note"] = "Say how contact was made and with whom (for example, a phone call with the victim)."
    elif len(note.strip()) > NOTE_MAX:
        errors["note"] = f"Keep the note to {NOTE_MAX} characters or fewer."
    if errors:
        raise InvalidInput(errors)
    case.first_contact_made_at = contacted_at
    status = first_contact_status(case, now)
    due = case.first_contact_due_at
    timing = "" if due is None else f" ({status}: due by {_by_end_of(due)})"
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.FIRST_CONTACT,
        summary=f"First contact made{timing}: {note.strip()}", occurred_at=contacted_at,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.FIRST_CONTACT_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id,
        detail={"reference": case.reference, "contacted_at": contacted_at.isoformat(),
                "due_at": due.isoformat() if due else None, "status": str(status)},
    )  # fmt: skip
    refresh_case_summary(session, case)
    return case


# --- Reading assessments ----------------------------------------------------------------------


@dataclass(frozen=True)
class RiskAssessmentRead:
    """One assessment as the reader may see it: the fields are the chokepoint's view."""

    id: int
    assessed_at: datetime
    view: ItemView


def list_risk_assessments(*, session: Session, actor: Actor, case_id: int) -> list[RiskAssessmentRead]:
    """The case's risk assessments, newest first, as far as the actor may see them: the lead
    organisation sees them all; a partner only those disclosed to it (the rest are left out,
    and the refusals logged, by ``sharing.reads``)."""
    require(actor, Permission.CASES_CASES_READ, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    rows = session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case.id, col(RiskAssessment.item_id).is_not(None))
        .order_by(col(RiskAssessment.assessed_at).desc(), col(RiskAssessment.id).desc())
    ).all()
    by_item = {row.item_id: row for row in rows}
    views = read_items(
        session=session, actor=actor, item_ids=[row.item_id for row in rows if row.item_id], via="risk assessments"
    )
    found: list[RiskAssessmentRead] = []
    for view in views:
        row = by_item[view.id]
        assert row.id is not None
        found.append(RiskAssessmentRead(id=row.id, assessed_at=row.assessed_at, view=view))
    return found


__all__ = [
    "AnswerChosen",
    "FirstContactStatus",
    "RiskAssessmentRead",
    "RiskResult",
    "assess_risk",
    "describe_level",
    "first_contact_status",
    "first_report_received_at",
    "latest_assessment",
    "list_risk_assessments",
    "record_first_contact",
    "score_assessment",
]
