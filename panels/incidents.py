"""The incident diary of a case and the evidence attached to its incidents.

Officers of the lead organisation record incidents; so may a partner whose organisation can
see the case (its summary was disclosed to them): the police attending a call, a housing
association's officer.  Each incident's content is an information item owned by the case's
lead organisation, so the diary is read through the need-to-know chokepoint and partners see
only the incidents disclosed to them (a partner's own entry included: once entered, it is
part of the lead's record).

Recording an incident re-runs the ASB Case Review check (:mod:`panels.case_review`) and
flags the case when it newly meets its council's threshold.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, or_, select

from panels.case_models import Case, Incident, IncidentEvidence
from panels.case_review import (
    CaseReviewCheck,
    IncidentFact,
    case_review_status,
    check_case_review,
    incident_fact,
    local_date,
    long_date,
)
from panels.cases import add_case_event, get_case, read_case, refresh_case_summary
from panels.cases import case_item as new_case_item
from panels.policy import get_case_policy
from panels.vocabulary import CaseEventKind, CaseStatus
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from sharing.models import Organisation, Person, StoredDocument
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, read_item, read_items
from sharing.vocabulary import DataCategory, ItemKind

DIARY_VIA = "incident diary"
EVIDENCE_VIA = "evidence download"
NOT_SHARED_WITH_YOU = (
    "Only the organisation leading this case, or a partner it has shared the case with, can add to its incident diary."
)
# How long after an incident it may still be entered in the diary.  A check on the entry, not
# a council's policy number: anything older belongs in the case's history notes.
OLDEST_INCIDENT_YEARS = 2
CRIME_REFERENCE = re.compile(r"[A-Za-z0-9/-]{1,60}")


# --- Who may add to the diary ---------------------------------------------------------------------


def case_for_partner_entry(session: Session, actor: Actor, case_id: int) -> Case:
    """The case, if ``actor`` may add to its diary: an officer of the lead organisation, or a
    partner whose organisation may read the case's summary.  Anyone else is refused (audited,
    with the refused read on the access log)."""
    require(actor, Permission.CASES_INCIDENTS_RECORD, subject_type="case", subject_id=case_id)
    case = get_case(session, case_id)
    if actor.is_system or case.lead_organisation_id == actor.organisation_id:
        return case
    try:
        read_case(session, actor, case_id, via=DIARY_VIA)
    except PermissionDenied as refusal:
        error = denied(
            actor, NOT_SHARED_WITH_YOU, reason="case not shared with the organisation", subject_type="case",
            subject_id=case_id,
        )  # fmt: skip
        error.durable_effects = refusal.durable_effects + error.durable_effects
        raise error from refusal
    return case


# --- Recording an incident ------------------------------------------------------------------------


@dataclass
class IncidentInput:
    """An incident as told.  Naive times are taken as local time (``Settings.timezone``).
    ``reported_at`` is when it was reported to us (default: now)."""

    occurred_at: datetime | None
    what_happened: str
    reported_by_person_id: int | None = None
    reported_by_name: str = ""
    perpetrator_person_id: int | None = None
    is_hate: bool = False
    police_called: bool = False
    crime_reference: str = ""
    effect_on_victim: str = ""
    reported_at: datetime | None = None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


def _local_text(moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(get_settings().timezone))
    return f"{long_date(local.date())} at {local:%H:%M}"


def _check_incident(session: Session, data: IncidentInput, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    reported_at = _aware(data.reported_at) if data.reported_at is not None else now
    if data.reported_at is not None and reported_at > now:
        errors["reported_at"] = "The date it was reported cannot be in the future."
    if data.occurred_at is None:
        errors["occurred_at"] = "Say when it happened (the date and roughly the time)."
    else:
        occurred_at = _aware(data.occurred_at)
        if occurred_at > now:
            errors["occurred_at"] = "The incident cannot have happened in the future."
        elif occurred_at < reported_at - relativedelta(years=OLDEST_INCIDENT_YEARS):
            errors["occurred_at"] = (
                f"This is more than {OLDEST_INCIDENT_YEARS} years before it was reported. "
                "Record it in the case history instead."
            )
        elif "reported_at" not in errors and occurred_at > reported_at:
            errors["reported_at"] = "It cannot have been reported before it happened."
    if not data.what_happened.strip():
        errors["what_happened"] = "Describe what happened."
    elif len(data.what_happened.strip()) > 4000:
        errors["what_happened"] = "Keep the description to 4000 characters (add more as a note)."
    name = data.reported_by_name.strip()
    if data.reported_by_person_id is None and not name:
        errors["reported_by"] = "Say who reported it: choose the person or type their name."
    elif data.reported_by_person_id is not None and name:
        errors["reported_by"] = "Choose the person on record or type a name, not both."
    elif data.reported_by_person_id is not None and session.get(Person, data.reported_by_person_id) is None:
        errors["reported_by"] = "That person is not on record."
    elif len(name) > 200:
        errors["reported_by"] = "Keep the name to 200 characters."
    if data.perpetrator_person_id is not None and session.get(Person, data.perpetrator_person_id) is None:
        errors["perpetrator_person_id"] = "That person is not on record."
    reference = data.crime_reference.strip()
    if reference and not CRIME_REFERENCE.fullmatch(reference):
        errors["crime_reference"] = (
            "A crime reference is letters, digits, slashes and dashes only (at most 60), e.g. 37/12345/26."
        )
    if len(data.effect_on_victim.strip()) > 2000:
        errors["effect_on_victim"] = "Keep this to 2000 characters."
    return errors


def _person_name(session: Session, person_id: int | None) -> str:
    person = session.get(Person, person_id) if person_id is not None else None
    return person.display_name if person else ""


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def record_incident(
    *, session: Session, actor: Actor, case_id: int, data: IncidentInput, now: datetime | None = None
) -> Incident:
    """Add an incident to the case's diary, then re-run the ASB Case Review check.

    The content becomes an information item of the case (allegations of crime when the police
    were called or gave a crime reference, otherwise ASB history) owned by the lead
    organisation, whoever entered it.  A new incident means the case is active, so any
    proposal to close it for want of reports is cleared.
    """
    case = case_for_partner_entry(session, actor, case_id)
    if case.status == CaseStatus.CLOSED:
        raise InvalidInput({"case": "This case is closed. Re-open it to add incidents."})
    now = now or utcnow()
    errors = _check_incident(session, data, now)
    if errors:
        raise InvalidInput(errors)
    assert data.occurred_at is not None
    occurred_at = _aware(data.occurred_at)
    reported_at = _aware(data.reported_at) if data.reported_at is not None else now
    reference = data.crime_reference.strip()
    crime = data.police_called or bool(reference)
    category = DataCategory.ALLEGATIONS_OF_CRIME if crime else DataCategory.ASB_HISTORY
    entered_by = session.get(Organisation, actor.organisation_id) if actor.organisation_id is not None else None
    reporter = _person_name(session, data.reported_by_person_id) or data.reported_by_name.strip()
    perpetrator = _person_name(session, data.perpetrator_person_id)
    police = _yes_no(data.police_called) + (f", crime reference {reference}" if reference else "")
    identity = DataCategory.IDENTITY
    item = new_case_item(
        session, case=case, actor=actor, kind=ItemKind.INCIDENT,
        title=f"Incident on {long_date(local_date(occurred_at))} ({case.reference})",
        category=category, person_id=data.reported_by_person_id,
        fields=[
            ("occurred_at", "When it happened", _local_text(occurred_at), category),
            ("reported_at", "When it was reported", _local_text(reported_at), category),
            ("what_happened", "What happened", data.what_happened.strip(), category),
            ("reported_by", "Reported by", reporter, identity),
            ("perpetrator", "Alleged perpetrator", perpetrator or "Not known", identity),
            ("hate_incident", "Hate incident", _yes_no(data.is_hate), category),
            ("police", "Police called", police, category),
            ("effect_on_victim", "Effect on the victim", data.effect_on_victim.strip() or "Not recorded", category),
            ("entered_by", "Entered by", entered_by.name if entered_by else "Portal", category),
        ],
    )  # fmt: skip
    incident = Incident(
        case_id=case_id,
        occurred_at=occurred_at,
        reported_at=reported_at,
        what_happened=data.what_happened.strip(),
        reported_by_person_id=data.reported_by_person_id,
        reported_by_name="" if data.reported_by_person_id is not None else data.reported_by_name.strip(),
        perpetrator_person_id=data.perpetrator_person_id,
        is_hate=data.is_hate,
        police_called=data.police_called,
        crime_reference=reference,
        effect_on_victim=data.effect_on_victim.strip(),
        item_id=item.id,
        entered_by_user_id=actor.user_id,
        entered_by_organisation_id=actor.organisation_id,
    )
    session.add(incident)
    session.flush()
    if case.last_incident_at is None or occurred_at > case.last_incident_at:
        case.last_incident_at = occurred_at
    case.closure_proposed_at = None
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.INCIDENT,
        summary=f"Incident on {_local_text(occurred_at)} recorded"
        + (" (hate incident)" if data.is_hate else "") + (" (police called)" if data.police_called else ""),
        item_id=item.id, subject_type="incident", subject_id=incident.id, occurred_at=now,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.INCIDENT_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="incident", subject_id=incident.id,
        detail={"case": case.reference, "item": item.id, "partner": case.lead_organisation_id != actor.organisation_id},
    )  # fmt: skip
    _update_case_review_flag(session, case, actor, now)
    refresh_case_summary(session, case)
    return incident


def _update_case_review_flag(session: Session, case: Case, actor: Actor, now: datetime) -> None:
    check = case_review_status(session=session, case=case, on=local_date(now))
    _apply_case_review_check(session, case, actor, now, check)


def _apply_case_review_check(session: Session, case: Case, actor: Actor, now: datetime, check: CaseReviewCheck) -> bool:
    """Store the check on the case; a change of whether the threshold is met goes in the
    chronology and the audit trail.  Returns whether anything changed."""
    newly = check.met and not case.case_review_eligible
    lapsed = case.case_review_eligible and not check.met
    if case.case_review_eligible == check.met and list(case.case_review_reasons) == list(check.reasons):
        return False
    case.case_review_eligible = check.met
    case.case_review_reasons = check.reasons
    session.add(case)
    if newly:
        add_case_event(
            session, case=case, actor=actor, kind=CaseEventKind.CASE_REVIEW_FLAGGED,
            summary="The case now meets the ASB Case Review threshold: "
            + "; ".join(rule.reason for rule in check.rules if rule.met),
            occurred_at=now,
        )  # fmt: skip
        record_event(
            session, action=AuditAction.CASE_REVIEW_FLAGGED, outcome=Outcome.SUCCESS, actor=actor,
            subject_type="case", subject_id=case.id,
            detail={"reference": case.reference, "rules": [r.key for r in check.rules if r.met]},
        )  # fmt: skip
    elif lapsed:
        add_case_event(
            session, case=case, actor=actor, kind=CaseEventKind.CASE_REVIEW_LAPSED,
            summary="The case no longer meets the ASB Case Review threshold: its incidents have fallen outside "
            "the periods its council counts",
            occurred_at=now,
        )  # fmt: skip
        record_event(
            session, action=AuditAction.CASE_REVIEW_LAPSED, outcome=Outcome.SUCCESS, actor=actor,
            subject_type="case", subject_id=case.id, detail={"reference": case.reference},
        )  # fmt: skip
    return True


def refresh_case_review_flags(*, session: Session, actor: Actor, now: datetime | None = None) -> list[int]:
    """Re-run the ASB Case Review check on every open case it could have changed for (a daily
    job): time passing takes incidents out of the counted periods, so a flagged case can
    lapse; and a council that changes its thresholds sees its cases flagged by the new ones.

    Only cases flagged now, or with an incident inside the longest period any lead
    organisation's policy counts, are looked at; their incidents are read in one query.
    Returns the ids of the cases whose flag or reasons changed.
    """
    require(actor, Permission.CASES_CASES_MANAGE, subject_type="case")
    now = now or utcnow()
    today = local_date(now)
    leads = session.exec(
        select(Case.lead_organisation_id).where(Case.status != CaseStatus.CLOSED).distinct()
    ).all()  # fmt: skip
    policies = {org_id: get_case_policy(session, org_id).case_review for org_id in leads}
    if not policies:
        return []
    longest = max(
        max(rule.window_months for rule in policy.rules) + (policy.last_incident_within_months or 0)
        for policy in policies.values()
    )
    since = datetime.combine(today - relativedelta(months=longest), datetime.min.time(), tzinfo=UTC)
    cases = session.exec(
        select(Case)
        .where(Case.status != CaseStatus.CLOSED)
        .where(or_(col(Case.case_review_eligible).is_(True), col(Case.last_incident_at) >= since))
        .order_by(col(Case.id))
    ).all()
    if not cases:
        return []
    facts: dict[int, list[IncidentFact]] = {}
    for chunk_start in range(0, len(cases), 500):
        ids = [c.id for c in cases[chunk_start : chunk_start + 500]]
        for incident in session.exec(select(Incident).where(col(Incident.case_id).in_(ids))):
            facts.setdefault(incident.case_id, []).append(incident_fact(incident))
    changed = []
    for case in cases:
        assert case.id is not None
        check = check_case_review(policies[case.lead_organisation_id], facts.get(case.id, []), today)
        if _apply_case_review_check(session, case, actor, now, check):
            changed.append(case.id)
    return changed


# --- Evidence -------------------------------------------------------------------------------------


class EvidenceKind(StrEnum):
    """What may be attached to an incident, and what each must really be."""

    PHOTO = "photo"
    RECORDING = "recording"
    LETTER = "letter"

    @property
    def label(self) -> str:
        return EVIDENCE_DESCRIPTIONS[self]


EVIDENCE_DESCRIPTIONS = {
    EvidenceKind.PHOTO: "a photo (JPEG or PNG)",
    EvidenceKind.RECORDING: "a recording (MP3, M4A or WAV)",
    EvidenceKind.LETTER: "a letter (PDF)",
}


def _file_format(content: bytes) -> str | None:
    """The content type ``content`` really is, from its first bytes (None: none we accept)."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"ID3") or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if content[4:8] == b"ftyp":
        return "audio/mp4"
    if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        return "audio/wav"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


EVIDENCE_FORMATS: dict[EvidenceKind, frozenset[str]] = {
    EvidenceKind.PHOTO: frozenset({"image/jpeg", "image/png"}),
    EvidenceKind.RECORDING: frozenset({"audio/mpeg", "audio/mp4", "audio/wav"}),
    EvidenceKind.LETTER: frozenset({"application/pdf"}),
}


def _check_evidence(kind: str, filename: str, content: bytes, description: str) -> tuple[EvidenceKind, str]:
    """The kind and the content type the file really is, or :class:`InvalidInput`.  The
    content decides, not the type the browser claimed."""
    if kind not in {k.value for k in EvidenceKind}:
        raise InvalidInput({"kind": "Choose photo, recording or letter."})
    evidence_kind = EvidenceKind(kind)
    errors: dict[str, str] = {}
    limit_mb = get_settings().evidence_max_mb
    detected = _file_format(content)
    if not filename.strip():
        errors["file"] = "Choose a file to upload."
    elif not content:
        errors["file"] = "The file is empty."
    elif len(content) > limit_mb * 1024 * 1024:
        errors["file"] = f"The file is larger than {limit_mb} MB."
    elif detected not in EVIDENCE_FORMATS[evidence_kind]:
        errors["file"] = f"This file does not look like {evidence_kind.label}."
    if len(description.strip()) > 500:
        errors["description"] = "Keep the description to 500 characters."
    if errors:
        raise InvalidInput(errors)
    assert detected is not None
    return evidence_kind, detected


def add_evidence(
    *,
    session: Session,
    actor: Actor,
    incident_id: int,
    kind: str,
    filename: str,
    content_type: str,
    content: bytes,
    description: str = "",
) -> IncidentEvidence:
    """Attach a photo, recording or letter to an incident, kept with its SHA-256.

    The lead organisation may attach to any incident; a partner (still able to see the case)
    to the incidents it entered.  ``content_type`` is what the browser claimed; the file is
    stored under the type its content really is.
    """
    require(actor, Permission.CASES_INCIDENTS_RECORD, subject_type="incident", subject_id=incident_id)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("That incident is not on record.")
    case = case_for_partner_entry(session, actor, incident.case_id)
    partner = not actor.is_system and case.lead_organisation_id != actor.organisation_id
    if partner and incident.entered_by_organisation_id != actor.organisation_id:
        raise denied(
            actor, "Partners can add evidence only to incidents their organisation entered.",
            reason="another organisation's incident", subject_type="incident", subject_id=incident_id,
        )  # fmt: skip
    evidence_kind, detected = _check_evidence(kind, filename, content, description)
    checksum = hashlib.sha256(content).hexdigest()
    document = StoredDocument(
        filename=filename.strip()[:255],
        content_type=detected,
        size_bytes=len(content),
        sha256=checksum,
        content=content,
        uploaded_by_user_id=actor.user_id,
    )
    session.add(document)
    session.flush()
    assert document.id is not None
    evidence = IncidentEvidence(
        incident_id=incident_id,
        document_id=document.id,
        kind=evidence_kind,
        description=description.strip(),
        added_by_user_id=actor.user_id,
    )
    session.add(evidence)
    session.flush()
    noun = {EvidenceKind.PHOTO: "Photo", EvidenceKind.RECORDING: "Recording", EvidenceKind.LETTER: "Letter"}
    add_case_event(
        session, case=case, actor=actor, kind=CaseEventKind.EVIDENCE,
        summary=f"{noun[evidence_kind]} added to the incident on {long_date(local_date(incident.occurred_at))}"
        + (f": {description.strip()}" if description.strip() else ""),
        item_id=incident.item_id, subject_type="incident_evidence", subject_id=evidence.id,
    )  # fmt: skip
    record_event(
        session, action=AuditAction.EVIDENCE_ADDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="incident_evidence", subject_id=evidence.id,
        detail={"incident": incident_id, "case": case.reference, "kind": str(evidence_kind), "document": document.id,
                "sha256": checksum, "size_bytes": len(content), "claimed_type": content_type[:100]},
    )  # fmt: skip
    return evidence


@dataclass(frozen=True)
class EvidenceFile:
    """A stored evidence file, ready to send to the reader who was allowed it."""

    filename: str
    content_type: str
    content: bytes


def download_evidence(*, session: Session, actor: Actor, evidence_id: int) -> EvidenceFile:
    """The file attached to an incident, for a reader who may see the whole incident.

    The incident is read through the need-to-know chokepoint (so the download is in the access
    log); a partner to whom any part of the incident is withheld gets no file either, since a
    photo or recording can show what the withheld fields hide.  The file is checked against
    the SHA-256 taken when it was added and refused if it no longer matches.
    """
    require(actor, Permission.CASES_CASES_READ, subject_type="incident_evidence", subject_id=evidence_id)
    evidence = session.get(IncidentEvidence, evidence_id)
    incident = session.get(Incident, evidence.incident_id) if evidence is not None else None
    if evidence is None or incident is None or incident.item_id is None:
        raise NotFound("That evidence is not on record.")
    view = read_item(session=session, actor=actor, item_id=incident.item_id, via=EVIDENCE_VIA)
    if any(field.withheld for field in view.fields):
        raise denied(
            actor, "Part of this incident is not shared with your organisation, so its evidence is not either.",
            reason="incident partly withheld", subject_type="incident_evidence", subject_id=evidence_id,
        )  # fmt: skip
    document = session.get(StoredDocument, evidence.document_id)
    if document is None:
        raise NotFound("That evidence file is no longer stored.")
    checksum = hashlib.sha256(document.content).hexdigest()
    if checksum != document.sha256:
        expected, document_id = document.sha256, document.id

        def _keep(durable: Session) -> None:
            record_event(
                durable, action=AuditAction.EVIDENCE_DOWNLOADED, outcome=Outcome.FAILURE, actor=actor,
                subject_type="incident_evidence", subject_id=evidence_id, reason="checksum mismatch",
                detail={"document": document_id, "expected": expected, "found": checksum},
            )  # fmt: skip

        raise DomainError(
            "This file has changed since it was added, so it cannot be trusted as evidence. "
            "Tell your information governance team.",
            durable_effects=[_keep],
        )
    record_event(
        session, action=AuditAction.EVIDENCE_DOWNLOADED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="incident_evidence", subject_id=evidence_id,
        detail={"incident": incident.id, "document": document.id, "sha256": checksum, "access": view.access},
    )  # fmt: skip
    return EvidenceFile(filename=document.filename, content_type=document.content_type, content=document.content)


# --- Reading the diary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRead:
    id: int
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    description: str


@dataclass(frozen=True)
class IncidentRead:
    """An incident as the reader may see it: ``view`` holds its fields (withheld ones show
    the withheld notice), ``evidence`` what is attached."""

    id: int
    case_id: int
    view: ItemView
    evidence: tuple[EvidenceRead, ...]


def list_incidents(*, session: Session, actor: Actor, case_id: int) -> list[IncidentRead]:
    """The case's incidents the actor may see, newest first, read through the need-to-know
    chokepoint (partners see only the incidents disclosed to them)."""
    require(actor, Permission.CASES_CASES_READ, subject_type="case", subject_id=case_id)
    get_case(session, case_id)
    incidents = session.exec(
        select(Incident)
        .where(Incident.case_id == case_id, col(Incident.item_id).is_not(None))
        .order_by(col(Incident.occurred_at).desc(), col(Incident.id).desc())
    ).all()
    views = {
        view.id: view
        for view in read_items(
            session=session,
            actor=actor,
            item_ids=[i.item_id for i in incidents if i.item_id is not None],
            via=DIARY_VIA,
        )
    }
    shown = [i for i in incidents if i.item_id in views]
    evidence: dict[int, list[EvidenceRead]] = {}
    if shown:
        rows = session.exec(
            select(IncidentEvidence, StoredDocument)
            .join(StoredDocument, col(StoredDocument.id) == col(IncidentEvidence.document_id))
            .where(col(IncidentEvidence.incident_id).in_([i.id for i in shown]))
            .order_by(col(IncidentEvidence.id))
        ).all()
        for row, document in rows:
            assert row.id is not None
            evidence.setdefault(row.incident_id, []).append(
                EvidenceRead(
                    id=row.id, kind=row.kind, filename=document.filename, content_type=document.content_type,
                    size_bytes=document.size_bytes, sha256=document.sha256, description=row.description,
                )
            )  # fmt: skip
    result = []
    for incident in shown:
        assert incident.id is not None and incident.item_id is not None
        result.append(
            IncidentRead(
                id=incident.id,
                case_id=case_id,
                view=views[incident.item_id],
                evidence=tuple(evidence.get(incident.id, [])),
            )
        )
    return result
