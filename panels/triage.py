"""Reports of anti-social behaviour and their triage.

A report is recorded as received (who reported, how, when, what happened, where); its
contents go into an information item (a case note) owned by the organisation that received
it, so partners see it only through a disclosure.  Triage then decides one of:

* **not ASB** (000 §7, 001 §7, 004 §4): the reason and the advice given, which defaults to
  the policy's words for that reason;
* **log only**: anonymous reports are logged and get no feedback (000 §8.12, 001 §10);
* **open a case**, linking the report and its reporter as a party;
* **add to an existing case**: a new report on a closed case re-opens it (000 §14.3).

An anonymous report can only be logged or opened as a case (there is nobody to advise or
contact).  A third-party report on the victim's behalf needs the victim's consent on record
before anything is discussed with the person who made it (000 §8.11, 001 §9).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from panels.case_models import Case, CaseParty, CaseReport, StageMove
from panels.cases import (
    CaseInput,
    add_case_event,
    case_for_update,
    open_case,
    refresh_case_summary,
)
from panels.parties import PartyInput, add_party
from panels.vocabulary import (
    CaseEventKind,
    CaseStage,
    CaseStatus,
    NotAsbReason,
    PartyRole,
    ReportChannel,
    TriageOutcome,
)
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, NotFound
from sharing.models import ConsentRecord, InformationItem, Person
from sharing.permissions import Actor, Permission
from sharing.reads import read_items
from sharing.register import ItemField, create_item
from sharing.rules import consent_is_valid
from sharing.vocabulary import DataCategory, ItemKind, Marking, Purpose

VICTIM_CONSENT_NEEDED = "Record the victim's consent before discussing the report with the person who made it."
NOT_YOUR_REPORT = "Only the organisation that received this report can triage it."
ANONYMOUS_OUTCOMES = frozenset({TriageOutcome.LOG_ONLY, TriageOutcome.CASE_OPENED})
REOPEN_REASON = "New report received"


class VictimConsentNeeded(DomainError):
    """A third party reported on the victim's behalf and the victim's consent is not on
    record (valid today, for ASB case management).  The refusal is audited."""


# --- Recording a report ---------------------------------------------------------------------


@dataclass
class ReportInput:
    channel: str
    what_happened: str
    received_at: datetime | None = None  # default: now
    occurred_at: datetime | None = None
    location: str = ""
    # Who reported: a person on record, or a name; neither for an anonymous report.
    reporter_person_id: int | None = None
    reporter_name: str = ""
    # A third-party report: the victim on whose behalf it is made (on record).
    victim_person_id: int | None = None


def is_anonymous(report: CaseReport) -> bool:
    return report.reporter_person_id is None and not report.reporter_name


def _when(moment: datetime | None) -> str:
    return moment.strftime("%-d %B %Y, %H:%M") if moment else "Not known"


def _person(session: Session, person_id: int | None) -> Person | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    return person if person is not None and person.anonymised_at is None else None


def _check_report(session: Session, data: ReportInput, received_at: datetime, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.channel not in {c.value for c in ReportChannel}:
        errors["channel"] = "Choose how the report was made."
    if not data.what_happened.strip():
        errors["what_happened"] = "Say what happened."
    elif len(data.what_happened.strip()) > 4000:
        errors["what_happened"] = "Keep the account under 4,000 characters; attach anything longer as evidence."
    if len(data.location.strip()) > 300:
        errors["location"] = "Keep the location under 300 characters."
    has_reporter = data.reporter_person_id is not None or bool(data.reporter_name.strip())
    if data.channel == ReportChannel.ANONYMOUS and has_reporter:
        errors["reporter_name"] = "An anonymous report does not name the person reporting. Choose another channel."
    elif data.channel != ReportChannel.ANONYMOUS and not has_reporter:
        errors["reporter_name"] = "Give the name of the person reporting, or record the report as anonymous."
    if data.reporter_person_id is not None and _person(session, data.reporter_person_id) is None:
        errors["reporter_person_id"] = "Choose a person who is on record."
    if len(data.reporter_name.strip()) > 200:
        errors["reporter_name"] = "Keep the name under 200 characters."
    if data.channel == ReportChannel.THIRD_PARTY:
        if data.victim_person_id is None or _person(session, data.victim_person_id) is None:
            errors["victim_person_id"] = "Choose the victim the report is made for (add them to the record first)."
        elif data.victim_person_id == data.reporter_person_id:
            errors["victim_person_id"] = "The victim cannot be the third party reporting on their behalf."
    elif data.victim_person_id is not None:
        errors["victim_person_id"] = "Only a report made by a third party on the victim's behalf names the victim."
    if received_at > now:
        errors["received_at"] = "A report cannot be received in the future."
    if data.occurred_at is not None and data.occurred_at > received_at:
        errors["occurred_at"] = "What was reported cannot have happened after the report was made."
    return errors


def _report_fields(
    report: CaseReport, reporter: str, victim: str, triage: str = "Awaiting triage", advice: str = ""
) -> list[ItemField]:
    asb = DataCategory.ASB_HISTORY
    fields = [
        ItemField("channel", "How it was reported", ReportChannel(report.channel).label, asb),
        ItemField("reporter", "Reported by", reporter, DataCategory.IDENTITY),
    ]
    if victim:
        fields.append(ItemField("on_behalf_of", "On behalf of", victim, DataCategory.IDENTITY))
    fields += [
        ItemField("received_at", "Received", _when(report.received_at), asb),
        ItemField("occurred_at", "When it happened", _when(report.occurred_at), asb),
        ItemField("what_happened", "What happened", report.what_happened, asb),
        ItemField("location", "Where", report.location or "Not recorded", asb),
        ItemField("triage", "Triage", triage, asb),
    ]
    if advice:
        fields.append(ItemField("advice", "Advice given", advice, asb))
    return fields


def record_report(*, session: Session, actor: Actor, data: ReportInput, now: datetime | None = None) -> CaseReport:
    """Record a report as received by the actor's organisation, awaiting triage (audited)."""
    require(actor, Permission.CASES_REPORTS_RECORD, subject_type="case_report")
    now = now or utcnow()
    received_at = data.received_at or now
    errors = _check_report(session, data, received_at, now)
    if errors:
        raise InvalidInput(errors)
    assert actor.organisation_id is not None
    reporter = _person(session, data.reporter_person_id)
    victim = _person(session, data.victim_person_id)
    report = CaseReport(
        organisation_id=actor.organisation_id,
        channel=data.channel,
        received_at=received_at,
        reporter_person_id=data.reporter_person_id,
        reporter_name=data.reporter_name.strip() or (reporter.display_name if reporter else ""),
        victim_person_id=data.victim_person_id,
        occurred_at=data.occurred_at,
        what_happened=data.what_happened.strip(),
        location=data.location.strip(),
        triage_outcome=TriageOutcome.PENDING,
        recorded_by_user_id=actor.user_id,
    )
    item = create_item(
        session=session, actor=actor, kind=ItemKind.CASE_NOTE,
        title=f"Report received {received_at.strftime('%-d %B %Y')}", category=DataCategory.ASB_HISTORY,
        fields=_report_fields(report, report.reporter_name or "Anonymous", victim.display_name if victim else ""),
        # Whose report it is: the victim's when a third party made it, else the reporter's.
        person_id=data.victim_person_id or data.reporter_person_id, marking=Marking.OFFICIAL_SENSITIVE,
    )  # fmt: skip
    report.item_id = item.id
    session.add(report)
    session.flush()
    record_event(
        session, action=AuditAction.REPORT_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case_report", subject_id=report.id,
        detail={"channel": data.channel, "anonymous": is_anonymous(report), "item_id": item.id},
    )  # fmt: skip
    return report


# --- Triage ---------------------------------------------------------------------------------


@dataclass
class TriageDecision:
    outcome: str  # a TriageOutcome other than pending
    not_asb_reason: str | None = None  # not ASB: why
    advice: str | None = None  # not ASB: the advice given (default: the reason's advice)
    case: CaseInput | None = None  # open a case: category, types, location, area
    case_id: int | None = None  # add to an existing case
    reporter_role: str = PartyRole.VICTIM  # the reporter's part in the case (not for a third party)


def victim_consent(session: Session, report: CaseReport, now: datetime) -> ConsentRecord | None:
    """The victim's newest consent valid on the day that covers ASB case management."""
    if report.victim_person_id is None:
        return None
    for consent in session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.person_id == report.victim_person_id)
        .order_by(col(ConsentRecord.id).desc())
    ):
        if consent_is_valid(consent, now.date()) and str(Purpose.ASB_CASE_MANAGEMENT) in consent.scope_purposes:
            return consent
    return None


def _consent_refusal(actor: Actor, report: CaseReport, outcome: str) -> VictimConsentNeeded:
    # Plain values: the row is gone with the rolled-back session when this runs.
    report_id, victim_id = report.id, report.victim_person_id

    def _audit(durable: Session) -> None:
        record_event(
            durable, action=AuditAction.REPORT_TRIAGED, outcome=Outcome.FAILURE, actor=actor,
            subject_type="case_report", subject_id=report_id, reason="victim consent not recorded",
            detail={"outcome": str(outcome), "victim_person_id": victim_id},
        )  # fmt: skip

    return VictimConsentNeeded(VICTIM_CONSENT_NEEDED, durable_effects=[_audit])


def get_report(session: Session, report_id: int) -> CaseReport:
    report = session.get(CaseReport, report_id)
    if report is None:
        raise NotFound("That report no longer exists.")
    return report


def _check_decision(report: CaseReport, decision: TriageDecision) -> TriageOutcome:
    try:
        outcome = TriageOutcome(decision.outcome)
    except ValueError:
        outcome = TriageOutcome.PENDING
    if outcome == TriageOutcome.PENDING:
        raise InvalidInput({"outcome": "Choose what to do with the report."})
    if is_anonymous(report) and outcome not in ANONYMOUS_OUTCOMES:
        raise InvalidInput({"outcome": "An anonymous report can only be logged, or opened as a case."})
    if outcome == TriageOutcome.LOG_ONLY and not is_anonymous(report):
        raise InvalidInput(
            {"outcome": "Only anonymous reports are logged without action: decide whether this one is ASB."}
        )
    if decision.reporter_role not in {r.value for r in PartyRole}:
        raise InvalidInput({"reporter_role": "Choose the reporter's part in the case."})
    return outcome


def triage_report(
    *, session: Session, actor: Actor, report_id: int, decision: TriageDecision, now: datetime | None = None
) -> CaseReport:
    """Decide what becomes of a report (audited; the case's chronology records it too)."""
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case_report", subject_id=report_id)
    report = get_report(session, report_id)
    if report.organisation_id != actor.organisation_id and not actor.is_system:
        raise denied(
            actor, NOT_YOUR_REPORT, reason="not the receiving organisation", subject_type="case_report",
            subject_id=report_id,
        )  # fmt: skip
    if report.triage_outcome != TriageOutcome.PENDING:
        raise InvalidInput({"outcome": "This report has already been triaged."})
    outcome = _check_decision(report, decision)
    now = now or utcnow()
    if report.channel == ReportChannel.THIRD_PARTY:
        consent = victim_consent(session, report, now)
        if consent is None:
            raise _consent_refusal(actor, report, outcome)
        report.victim_consent_id = consent.id

    case: Case | None = None
    advice = ""
    if outcome == TriageOutcome.NOT_ASB:
        try:
            reason = NotAsbReason(decision.not_asb_reason or "")
        except ValueError:
            raise InvalidInput({"not_asb_reason": "Choose why this is not anti-social behaviour."}) from None
        advice = (decision.advice or "").strip() or reason.advice
        if len(advice) > 2000:
            raise InvalidInput({"advice": "Keep the advice under 2,000 characters."})
        report.not_asb_reason = reason
        report.advice_given = advice
    elif outcome == TriageOutcome.CASE_OPENED:
        if decision.case is None:
            raise InvalidInput({"case": "Give the case's category, types of behaviour and location."})
        data = decision.case
        if not data.location.strip() and report.location:
            data = replace(data, location=report.location)
        case = open_case(session=session, actor=actor, data=data)
    elif outcome == TriageOutcome.ADDED_TO_CASE:
        if decision.case_id is None:
            raise InvalidInput({"case_id": "Choose the case to add the report to."})
        case = case_for_update(session, actor, decision.case_id)
        if case.status == CaseStatus.CLOSED:
            _reopen(session, actor, case, now)

    report.triage_outcome = outcome
    report.triaged_by_user_id = actor.user_id
    report.triaged_at = now
    if case is not None:
        _link_to_case(session, actor, report, case, outcome, decision.reporter_role)
    _rewrite_item(session, report, outcome, advice)
    session.add(report)
    session.flush()
    record_event(
        session, action=AuditAction.REPORT_TRIAGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case_report", subject_id=report.id,
        detail={"outcome": str(outcome), "case_id": case.id if case else None,
                "not_asb_reason": report.not_asb_reason or None,
                "victim_consent_id": report.victim_consent_id},
    )  # fmt: skip
    return report


def _reopen(session: Session, actor: Actor, case: Case, now: datetime) -> None:
    """A new report on a closed case re-opens it, back to investigation (000 §14.3)."""
    assert case.id is not None
    session.add(
        StageMove(
            case_id=case.id, from_stage=case.stage, to_stage=CaseStage.INVESTIGATION, reason=REOPEN_REASON,
            moved_by_user_id=actor.user_id, moved_at=now,
        )
    )  # fmt: skip
    case.status = CaseStatus.OPEN
    case.closed_at = None
    case.stage = CaseStage.INVESTIGATION
    case.stage_changed_at = now
    refresh_case_summary(session, case)
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.REOPENED,
        summary="Case re-opened: a new report was received", occurred_at=now,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.CASE_REOPENED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, reason=REOPEN_REASON,
    )  # fmt: skip


def _link_to_case(
    session: Session, actor: Actor, report: CaseReport, case: Case, outcome: TriageOutcome, reporter_role: str
) -> None:
    assert case.id is not None
    report.case_id = case.id
    if report.item_id is not None:
        item = session.get(InformationItem, report.item_id)
        assert item is not None
        item.case_reference = case.reference
        session.add(item)
    channel = ReportChannel(report.channel).label.lower()
    excerpt = report.what_happened if len(report.what_happened) <= 200 else report.what_happened[:197] + "..."
    # The report's own lines go with its item: partners see them only if the report was shared.
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.REPORT, summary=f"Report received ({channel}): {excerpt}",
        item_id=report.item_id, subject_type="case_report", subject_id=report.id, occurred_at=report.received_at,
    )  # fmt: skip
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.TRIAGE,
        summary="Report triaged: case opened" if outcome == TriageOutcome.CASE_OPENED
        else "Report triaged: added to this case",
        item_id=report.item_id, subject_type="case_report", subject_id=report.id, occurred_at=report.triaged_at,
    )  # fmt: skip
    people: list[tuple[int, PartyRole]] = []
    if report.channel == ReportChannel.THIRD_PARTY:
        assert report.victim_person_id is not None
        people.append((report.victim_person_id, PartyRole.VICTIM))
        if report.reporter_person_id is not None:
            people.append((report.reporter_person_id, PartyRole.REPRESENTATIVE))
    elif report.reporter_person_id is not None:
        people.append((report.reporter_person_id, PartyRole(reporter_role)))
    for person_id, role in people:
        linked = session.exec(
            select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.person_id == person_id)
        ).first()
        if linked is None:
            add_party(session=session, actor=actor, case_id=case.id, data=PartyInput(person_id=person_id, role=role))


def _rewrite_item(session: Session, report: CaseReport, outcome: TriageOutcome, advice: str) -> None:
    if report.item_id is None:
        return
    item = session.get(InformationItem, report.item_id)
    assert item is not None
    by_key = {f["key"]: f for f in item.content}
    triage = outcome.label
    if outcome == TriageOutcome.NOT_ASB and report.not_asb_reason:
        triage = f"{outcome.label}: {NotAsbReason(report.not_asb_reason).label}"
    content = [dict(f) for f in item.content]
    for entry in content:
        if entry["key"] == "triage":
            entry["value"] = triage
    if advice and "advice" not in by_key:
        asb = str(DataCategory.ASB_HISTORY)
        content.append({"key": "advice", "label": "Advice given", "value": advice, "category": asb})
    item.content = content
    session.add(item)


# --- Awaiting triage ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    report_id: int
    channel: str
    received_at: datetime
    anonymous: bool
    third_party: bool
    reporter: str  # as the chokepoint shows it
    what_happened: str
    location: str


def list_reports_awaiting_triage(
    *, session: Session, actor: Actor, limit: int = 100, newest_first: bool = False
) -> list[ReportRow]:
    """The actor's organisation's reports not yet triaged, oldest first (or newest first); the
    contents are read through the need-to-know chokepoint (and logged)."""
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case_report")
    order = (
        [col(CaseReport.received_at).desc(), col(CaseReport.id).desc()]
        if newest_first
        else [col(CaseReport.received_at), col(CaseReport.id)]
    )
    reports = list(
        session.exec(
            select(CaseReport)
            .where(CaseReport.organisation_id == actor.organisation_id, CaseReport.triage_outcome == "pending")
            .order_by(*order)
            .limit(limit)
        )
    )
    item_ids = [r.item_id for r in reports if r.item_id is not None]
    views = {v.id: v for v in read_items(session=session, actor=actor, item_ids=item_ids, via="triage queue")}
    rows = []
    for report in reports:
        view = views.get(report.item_id) if report.item_id is not None else None
        if view is None or report.id is None:
            continue
        shown = {f.key: f.value for f in view.fields}
        rows.append(
            ReportRow(
                report_id=report.id,
                channel=ReportChannel(report.channel).label,
                received_at=report.received_at,
                anonymous=is_anonymous(report),
                third_party=report.channel == ReportChannel.THIRD_PARTY,
                reporter=shown.get("reporter", ""),
                what_happened=shown.get("what_happened", ""),
                location=shown.get("location", ""),
            )
        )
    return rows


# --- Recently triaged -----------------------------------------------------------------------


@dataclass(frozen=True)
class TriagedRow:
    report_id: int
    channel: str
    received_at: datetime
    triaged_at: datetime | None
    outcome: str  # as recorded on the report, with the reason when it was not ASB
    reporter: str  # as the chokepoint shows it
    what_happened: str
    case_id: int | None
    case_reference: str


def list_recently_triaged(*, session: Session, actor: Actor, limit: int = 20) -> list[TriagedRow]:
    """The actor's organisation's most recently triaged reports, newest decision first; the
    contents are read through the need-to-know chokepoint (and logged)."""
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case_report")
    reports = list(
        session.exec(
            select(CaseReport)
            .where(CaseReport.organisation_id == actor.organisation_id, CaseReport.triage_outcome != "pending")
            .order_by(col(CaseReport.triaged_at).desc(), col(CaseReport.id).desc())
            .limit(limit)
        )
    )
    item_ids = [r.item_id for r in reports if r.item_id is not None]
    views = {v.id: v for v in read_items(session=session, actor=actor, item_ids=item_ids, via="triage queue")}
    rows = []
    for report in reports:
        view = views.get(report.item_id) if report.item_id is not None else None
        if view is None or report.id is None:
            continue
        shown = {f.key: f.value for f in view.fields}
        rows.append(
            TriagedRow(
                report_id=report.id,
                channel=ReportChannel(report.channel).label,
                received_at=report.received_at,
                triaged_at=report.triaged_at,
                outcome=shown.get("triage", "") or TriageOutcome(report.triage_outcome).label,
                reporter=shown.get("reporter", ""),
                what_happened=shown.get("what_happened", ""),
                case_id=report.case_id,
                case_reference=view.case_reference or "",
            )
        )
    return rows
