"""Subject access requests (UK GDPR Art. 15): logging a request and its deadline, the identity
check, extensions, completion, and the export of everything held about the person.

A request is answered by one organisation (the one whose information-sharing officer logs
it; the person's controller when the system logs it).  Its deadline is a number of calendar
months after receipt (``Settings.sar_due_months``): a month after 31 January is 28 (or 29)
February.  It may be extended by up to ``Settings.sar_max_extension_months``, with a reason,
but only while the first deadline has not passed.

The export is the information-sharing officer's own action on their organisation's full
records, so it reads the tables directly rather than through ``sharing.reads`` (whose job is
to hide what another organisation has not shared), and writes an access-log row for every
item it includes and an audit event.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from fpdf import FPDF
from sqlmodel import Session, col, select

from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.console import STATUS_LABELS
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import (
    AccessLog,
    ConsentRecord,
    Disclosure,
    DisclosureItem,
    InformationItem,
    Organisation,
    Person,
    SharingAgreement,
    StoredDocument,
    SubjectAccessRequest,
    User,
)
from sharing.permissions import Actor, Permission
from sharing.vocabulary import (
    BASIS_LABELS,
    CATEGORY_LABELS,
    PERSON_FIELD_CATEGORIES,
    PERSON_FIELD_LABELS,
    PURPOSE_LABELS,
    DataCategory,
    DisclosureStatus,
    ItemKind,
    LawfulBasis,
    Purpose,
)

EXPORT_VIA = "subject access export"
SUBJECT_TYPE = "subject_access_request"


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; a day the target month lacks becomes its last day
    (31 January + 1 month = 28 February, or 29 in a leap year)."""
    result: date = day + relativedelta(months=months)
    return result


def sar_due_on(received_on: date) -> date:
    """When a request received on ``received_on`` must be answered (before any extension)."""
    return add_months(received_on, get_settings().sar_due_months)


# --- Logging and tracking ------------------------------------------------------------------


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not on record.")
    return person


def _holds_anything(session: Session, organisation_id: int, person: Person) -> bool:
    if person.controller_organisation_id == organisation_id:
        return True
    return (
        session.exec(
            select(InformationItem.id).where(
                InformationItem.person_id == person.id, InformationItem.owner_organisation_id == organisation_id
            )
        ).first()
        is not None
    )


def _check_today(errors: dict[str, str], name: str, value: date, what: str) -> None:
    if value > utcnow().date():
        errors[name] = f"The date {what} cannot be in the future."


def log_sar(
    *,
    session: Session,
    actor: Actor,
    person_id: int,
    received_on: date,
    identity_checked_on: date | None = None,
) -> SubjectAccessRequest:
    """Record a subject access request received on ``received_on``; it is due
    ``Settings.sar_due_months`` calendar months later."""
    require(actor, Permission.SHARING_SAR_MANAGE, subject_type="person", subject_id=person_id)
    person = _person(session, person_id)
    if actor.is_system:
        organisation_id = person.controller_organisation_id
    else:
        if actor.organisation_id is None or not _holds_anything(session, actor.organisation_id, person):
            raise denied(
                actor,
                "Your organisation holds no information about this person, so it cannot answer their request.",
                reason="holds nothing about the person",
                subject_type="person",
                subject_id=person_id,
            )
        organisation_id = actor.organisation_id
    errors: dict[str, str] = {}
    _check_today(errors, "received_on", received_on, "the request was received")
    if identity_checked_on is not None:
        _check_today(errors, "identity_checked_on", identity_checked_on, "of the identity check")
    if errors:
        raise InvalidInput(errors)
    sar = SubjectAccessRequest(
        person_id=person_id,
        organisation_id=organisation_id,
        received_on=received_on,
        identity_checked_on=identity_checked_on,
        due_on=sar_due_on(received_on),
        logged_by_user_id=actor.user_id,
    )
    session.add(sar)
    session.flush()
    record_event(
        session, action=AuditAction.SAR_LOGGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=sar.id,
        detail={"person_id": person_id, "received_on": received_on.isoformat(), "due_on": sar.due_on.isoformat()},
    )  # fmt: skip
    return sar


def _sar_for(session: Session, actor: Actor, sar_id: int) -> SubjectAccessRequest:
    require(actor, Permission.SHARING_SAR_MANAGE, subject_type=SUBJECT_TYPE, subject_id=sar_id)
    sar = session.get(SubjectAccessRequest, sar_id)
    if sar is None:
        raise NotFound("That subject access request is not on record.")
    if not actor.is_system and sar.organisation_id != actor.organisation_id:
        raise denied(
            actor,
            "That request is being answered by another organisation.",
            reason="another organisation's request",
            subject_type=SUBJECT_TYPE,
            subject_id=sar_id,
        )
    return sar


def record_identity_check(*, session: Session, actor: Actor, sar_id: int, checked_on: date) -> SubjectAccessRequest:
    """Record the date the requester's identity was confirmed."""
    sar = _sar_for(session, actor, sar_id)
    errors: dict[str, str] = {}
    _check_today(errors, "checked_on", checked_on, "of the identity check")
    if sar.completed_on is not None:
        errors["checked_on"] = "This request has already been completed."
    if errors:
        raise InvalidInput(errors)
    sar.identity_checked_on = checked_on
    session.add(sar)
    record_event(
        session, action=AuditAction.SAR_IDENTITY_CHECKED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=sar_id, detail={"checked_on": checked_on.isoformat()},
    )  # fmt: skip
    return sar


def extend_sar(
    *, session: Session, actor: Actor, sar_id: int, months: int, reason: str, today: date
) -> SubjectAccessRequest:
    """Extend the deadline by ``months`` calendar months beyond the first deadline.

    Allowed only on or before the first deadline, by at most
    ``Settings.sar_max_extension_months`` in all, with a reason (e.g. the request is complex).
    A later extension may only move the deadline further out, within the same limit.
    """
    sar = _sar_for(session, actor, sar_id)
    settings = get_settings()
    limit = settings.sar_max_extension_months
    errors: dict[str, str] = {}
    if sar.completed_on is not None:
        errors["months"] = "This request has already been completed."
    elif today > sar.due_on:
        errors["months"] = (
            f"The deadline can only be extended within the first month: it was due on {sar.due_on:%-d %B %Y}."
        )
    elif not 1 <= months <= limit:
        errors["months"] = f"Extend by between 1 and {limit} month{'' if limit == 1 else 's'}."
    if not reason.strip():
        errors["reason"] = "Say why the request needs more time (e.g. it is complex or one of several)."
    if errors:
        raise InvalidInput(errors)
    new_deadline = add_months(sar.received_on, settings.sar_due_months + months)
    if sar.extended_to is not None and new_deadline <= sar.extended_to:
        raise InvalidInput({"months": f"The deadline is already {sar.extended_to:%-d %B %Y}."})
    previous = sar.extended_to
    sar.extended_to = new_deadline
    sar.extension_reason = reason.strip()[:1000]
    sar.extension_recorded_on = today
    session.add(sar)
    record_event(
        session, action=AuditAction.SAR_EXTENDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=sar_id, reason=sar.extension_reason,
        detail={
            "months": months,
            "due_on": sar.due_on.isoformat(),
            "extended_to": new_deadline.isoformat(),
            "previously_extended_to": previous.isoformat() if previous else None,
        },
    )  # fmt: skip
    return sar


def complete_sar(*, session: Session, actor: Actor, sar_id: int, completed_on: date) -> SubjectAccessRequest:
    """Record that the response was sent."""
    sar = _sar_for(session, actor, sar_id)
    errors: dict[str, str] = {}
    if sar.completed_on is not None:
        errors["completed_on"] = "This request has already been completed."
    elif completed_on < sar.received_on:
        errors["completed_on"] = "A request cannot be completed before it was received."
    else:
        _check_today(errors, "completed_on", completed_on, "of completion")
    if errors:
        raise InvalidInput(errors)
    sar.completed_on = completed_on
    session.add(sar)
    deadline = sar.extended_to or sar.due_on
    record_event(
        session, action=AuditAction.SAR_COMPLETED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type=SUBJECT_TYPE, subject_id=sar_id,
        detail={"completed_on": completed_on.isoformat(), "deadline": deadline.isoformat(),
                "late": completed_on > deadline},
    )  # fmt: skip
    return sar


@dataclass(frozen=True)
class SarRow:
    """A request as the information-sharing officer's list shows it.  The person's name is
    not here: read it through ``sharing.reads.read_items`` with ``person_details_item_id``."""

    id: int
    person_id: int
    person_details_item_id: int | None
    organisation_id: int
    received_on: date
    identity_checked_on: date | None
    due_on: date
    extended_to: date | None
    deadline: date
    extension_reason: str
    completed_on: date | None
    completed: bool
    overdue: bool
    completed_late: bool
    days_left: int | None  # None once completed; negative when overdue


def list_sars(
    *, session: Session, actor: Actor, today: date, open_only: bool = False, person_id: int | None = None
) -> list[SarRow]:
    """The actor's organisation's requests (every organisation's for the system), the
    earliest deadline first, each flagged when overdue."""
    require(actor, Permission.SHARING_SAR_MANAGE, subject_type=SUBJECT_TYPE)
    query = select(SubjectAccessRequest)
    if not actor.is_system:
        query = query.where(SubjectAccessRequest.organisation_id == actor.organisation_id)
    if open_only:
        query = query.where(col(SubjectAccessRequest.completed_on).is_(None))
    if person_id is not None:
        query = query.where(SubjectAccessRequest.person_id == person_id)
    sars = session.exec(query.order_by(col(SubjectAccessRequest.id))).all()
    details: dict[int, int] = {}
    person_ids = {s.person_id for s in sars}
    if person_ids:
        for item_id, owner_id, pid in session.exec(
            select(InformationItem.id, InformationItem.owner_organisation_id, InformationItem.person_id).where(
                col(InformationItem.person_id).in_(person_ids), InformationItem.kind == ItemKind.PERSON_DETAILS
            )
        ).all():
            if item_id is not None and pid is not None and (actor.is_system or owner_id == actor.organisation_id):
                details.setdefault(pid, item_id)
    rows = []
    for s in sars:
        deadline = s.extended_to or s.due_on
        done = s.completed_on is not None
        rows.append(
            SarRow(
                id=s.id or 0,
                person_id=s.person_id,
                person_details_item_id=details.get(s.person_id),
                organisation_id=s.organisation_id,
                received_on=s.received_on,
                identity_checked_on=s.identity_checked_on,
                due_on=s.due_on,
                extended_to=s.extended_to,
                deadline=deadline,
                extension_reason=s.extension_reason,
                completed_on=s.completed_on,
                completed=done,
                overdue=not done and today > deadline,
                completed_late=s.completed_on is not None and s.completed_on > deadline,
                days_left=None if done else (deadline - today).days,
            )
        )
    rows.sort(key=lambda r: (r.completed, r.deadline, r.id))
    return rows


# --- The export ----------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _label(labels: dict[Any, str], enum: Any, value: str) -> str:
    try:
        return labels[enum(value)]
    except (ValueError, KeyError):
        return value


def _person_fields(person: Person) -> list[dict[str, str]]:
    values = {
        "name": person.display_name,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "address": ", ".join(p for p in (person.address, person.postcode) if p),
        "phone": person.phone,
        "email": person.email,
    }
    return [
        {"key": key, "label": PERSON_FIELD_LABELS[key], "value": values[key], "category": str(category)}
        for key, category in PERSON_FIELD_CATEGORIES.items()
    ]


def _person_section(person: Person, controller: str) -> dict[str, Any]:
    return {
        "id": person.id,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": _iso(person.date_of_birth),
        "address": person.address,
        "postcode": person.postcode,
        "phone": person.phone,
        "email": person.email,
        "is_vulnerable_adult": person.is_vulnerable_adult,
        "is_child": person.is_child,
        "is_confidential_complainant": person.is_confidential_complainant,
        "controller_organisation": controller,
        "recorded_at": _iso(person.created_at),
        "anonymised_at": _iso(person.anonymised_at),
    }


def _collect(session: Session, actor: Actor, person: Person) -> tuple[dict[str, Any], list[InformationItem]]:
    """Everything in scope for the export as plain data, and the items it covers."""
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all() if o.id is not None}
    users = {u.id: u.full_name for u in session.exec(select(User)).all() if u.id is not None}

    def org(organisation_id: int | None) -> str:
        return orgs.get(organisation_id or 0, "")

    def user(user_id: int | None) -> str:
        return users.get(user_id or 0, "")

    scope_org = None if actor.is_system else actor.organisation_id
    query = select(InformationItem).where(InformationItem.person_id == person.id)
    if scope_org is not None:
        query = query.where(InformationItem.owner_organisation_id == scope_org)
    items = list(session.exec(query.order_by(col(InformationItem.id))).all())
    item_ids = [i.id for i in items if i.id is not None]
    includes_person = scope_org is None or scope_org == person.controller_organisation_id

    documents: dict[int, StoredDocument] = {}
    document_ids = {i.document_id for i in items if i.document_id is not None}
    if document_ids:
        documents = {
            d.id: d
            for d in session.exec(select(StoredDocument).where(col(StoredDocument.id).in_(document_ids))).all()
            if d.id is not None
        }

    information = []
    for item in items:
        fields = _person_fields(person) if item.kind == ItemKind.PERSON_DETAILS else [dict(f) for f in item.content]
        document = documents.get(item.document_id or 0)
        information.append(
            {
                "id": item.id,
                "kind": item.kind,
                "title": item.title,
                "category": item.category,
                "category_label": _label(CATEGORY_LABELS, DataCategory, item.category),
                "marking": item.marking,
                "case_reference": item.case_reference,
                "owner_organisation_id": item.owner_organisation_id,
                "owner_organisation": org(item.owner_organisation_id),
                "created_at": _iso(item.created_at),
                "created_by": user(item.created_by_user_id),
                "case_closed_on": _iso(item.case_closed_on),
                "fields": fields,
                "document": (
                    {
                        "filename": document.filename,
                        "content_type": document.content_type,
                        "size_bytes": document.size_bytes,
                        "sha256": document.sha256,
                    }
                    if document is not None
                    else None
                ),
            }
        )

    links: dict[int, list[int]] = {}
    if item_ids:
        for disclosure_id, item_id in session.exec(
            select(DisclosureItem.disclosure_id, DisclosureItem.item_id).where(
                col(DisclosureItem.item_id).in_(item_ids)
            )
        ).all():
            links.setdefault(disclosure_id, []).append(item_id)
    agreements: dict[int, str] = {}
    disclosures = []
    if links:
        rows = session.exec(
            select(Disclosure).where(col(Disclosure.id).in_(list(links))).order_by(col(Disclosure.requested_at))
        ).all()
        agreement_ids = {d.agreement_id for d in rows if d.agreement_id is not None}
        if agreement_ids:
            agreements = {
                a.id: a.reference
                for a in session.exec(select(SharingAgreement).where(col(SharingAgreement.id).in_(agreement_ids)))
                if a.id is not None
            }
        for d in rows:
            disclosures.append(
                {
                    "id": d.id,
                    "item_ids": sorted(links.get(d.id or 0, [])),
                    "status": d.status,
                    "status_label": _label(STATUS_LABELS, DisclosureStatus, d.status),
                    "discloser_organisation": org(d.discloser_organisation_id),
                    "recipient_organisation": org(d.recipient_organisation_id),
                    "purpose": d.purpose,
                    "purpose_label": _label(PURPOSE_LABELS, Purpose, d.purpose),
                    "basis": d.basis,
                    "basis_label": _label(BASIS_LABELS, LawfulBasis, d.basis),
                    "emergency": d.emergency,
                    "categories": list(d.categories),
                    "what_was_shared": d.what_was_shared,
                    "justification": d.justification,
                    "consent_id": d.consent_id,
                    "agreement": agreements.get(d.agreement_id or 0),
                    "requested_by": user(d.requested_by_user_id),
                    "requested_at": _iso(d.requested_at),
                    "decided_by": user(d.decided_by_user_id),
                    "decided_at": _iso(d.decided_at),
                    "refusal_reason": d.refusal_reason,
                    "retain_until": _iso(d.retain_until),
                    "reviewed_by": user(d.reviewed_by_user_id),
                    "reviewed_at": _iso(d.reviewed_at),
                    "review_note": d.review_note,
                }
            )

    consent_query = select(ConsentRecord).where(ConsentRecord.person_id == person.id)
    if scope_org is not None and not includes_person:
        consent_query = consent_query.where(ConsentRecord.recorded_by_organisation_id == scope_org)
    consents = [
        {
            "id": c.id,
            "method": c.method,
            "given_on": _iso(c.given_on),
            "expires_on": _iso(c.expires_on),
            "withdrawn_on": _iso(c.withdrawn_on),
            "withdrawal_method": c.withdrawal_method,
            "given_by_representative": c.given_by_representative,
            "representative_name": c.representative_name,
            "representative_relationship": c.representative_relationship,
            "organisations": [org(i) for i in c.scope_organisation_ids],
            "organisation_types": list(c.scope_organisation_types),
            "purposes": [_label(PURPOSE_LABELS, Purpose, p) for p in c.scope_purposes],
            "categories": [_label(CATEGORY_LABELS, DataCategory, x) for x in c.scope_categories],
            "recorded_by": user(c.recorded_by_user_id),
            "recorded_by_organisation": org(c.recorded_by_organisation_id),
            "recorded_at": _iso(c.created_at),
            "signed_form_held": c.form_document_id is not None,
        }
        for c in session.exec(consent_query.order_by(col(ConsentRecord.id))).all()
    ]

    access: list[dict[str, Any]] = []
    if item_ids:
        log_query = select(AccessLog).where(col(AccessLog.item_id).in_(item_ids))
        access = [
            {
                "when": _iso(r.occurred_at),
                "who": user(r.user_id) or ("system" if r.user_id is None else f"user {r.user_id}"),
                "organisation": org(r.organisation_id),
                "item_id": r.item_id,
                "via": r.via,
                "outcome": r.outcome,
                "disclosure_id": r.disclosure_id,
                "withheld_fields": list(r.withheld_fields),
            }
            for r in session.exec(log_query.order_by(col(AccessLog.occurred_at), col(AccessLog.id))).all()
        ]

    sar_query = select(SubjectAccessRequest).where(SubjectAccessRequest.person_id == person.id)
    if scope_org is not None:
        sar_query = sar_query.where(SubjectAccessRequest.organisation_id == scope_org)
    requests = [
        {
            "id": s.id,
            "received_on": _iso(s.received_on),
            "identity_checked_on": _iso(s.identity_checked_on),
            "due_on": _iso(s.due_on),
            "extended_to": _iso(s.extended_to),
            "extension_reason": s.extension_reason,
            "completed_on": _iso(s.completed_on),
            "organisation": org(s.organisation_id),
        }
        for s in session.exec(sar_query.order_by(col(SubjectAccessRequest.id))).all()
    ]

    data = {
        "format": "asb-panel-portal subject access export",
        "version": 1,
        "person_id": person.id,
        "generated_at": _iso(utcnow()),
        "prepared_by": "the portal administrator" if actor.is_system else (actor.full_name or actor.label),
        "organisation": org(scope_org) if scope_org is not None else "all organisations in the portal",
        "person": _person_section(person, org(person.controller_organisation_id)) if includes_person else None,
        "information": information,
        "disclosures": disclosures,
        "consent": consents,
        "access_log": access,
        "subject_access_requests": requests,
    }
    return data, items


# The core PDF fonts cover Windows-1252; anything else is replaced, these by their nearest.
_PDF_REPLACEMENTS = {"\N{MINUS SIGN}": "-", "\N{NON-BREAKING HYPHEN}": "-", "\N{NARROW NO-BREAK SPACE}": " "}


def _pdf_safe(text: str) -> str:
    for char, replacement in _PDF_REPLACEMENTS.items():
        text = text.replace(char, replacement)
    return text.encode("cp1252", errors="replace").decode("cp1252")


def _when(value: str | None) -> str:
    if not value:
        return "not recorded"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if "T" not in value:
        return f"{moment:%-d %B %Y}"
    return f"{moment:%-d %B %Y at %H:%M} UTC"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


class _Report:
    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.core_fonts_encoding = "windows-1252"
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_title("Subject access export")
        self.pdf.add_page()

    def heading(self, text: str, size: int = 14) -> None:
        self.pdf.ln(2)
        self.pdf.set_font("Helvetica", "B", size)
        self.pdf.multi_cell(0, size * 0.5, _pdf_safe(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def line(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        self.pdf.multi_cell(0, 5, _pdf_safe(text), new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: Iterable[tuple[str, Any]]) -> None:
        for name, value in rows:
            shown = value if isinstance(value, str) else ("" if value is None else str(value))
            self.line(f"{name}: {shown or 'not recorded'}")
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _pdf(data: dict[str, Any]) -> bytes:
    report = _Report()
    report.heading("What we hold about you: subject access export", 16)
    report.line(
        f"Prepared on {_when(data['generated_at'])} by {data['prepared_by']} for {data['organisation']}. "
        "It lists your personal details, every piece of information recorded about you, every time it was "
        "shared or a request to share it was refused, the consent you gave, and who looked at it."
    )
    person = data["person"]
    report.heading("Your details")
    if person is None:
        report.line("Your personal details are held by another organisation, which can give you them.")
    else:
        report.pairs(
            [
                ("Name", f"{person['given_name']} {person['family_name']}".strip()),
                ("Date of birth", _when(person["date_of_birth"]) if person["date_of_birth"] else ""),
                ("Address", ", ".join(p for p in (person["address"], person["postcode"]) if p)),
                ("Phone", person["phone"]),
                ("Email", person["email"]),
                ("Recorded as a vulnerable adult", _yes(person["is_vulnerable_adult"])),
                ("Recorded as a child", _yes(person["is_child"])),
                ("Your identity is kept from others in the case", _yes(person["is_confidential_complainant"])),
                ("Record held by", person["controller_organisation"]),
                ("Recorded on", _when(person["recorded_at"])),
            ]
        )

    report.heading("Information recorded about you")
    if not data["information"]:
        report.line("None.")
    for item in data["information"]:
        report.heading(f"{item['title']} (record {item['id']})", 11)
        report.pairs(
            [
                ("Kind", item["kind"].replace("_", " ")),
                ("Kind of information", item["category_label"]),
                ("Recorded by", f"{item['created_by'] or 'not recorded'}, {item['owner_organisation']}"),
                ("Recorded on", _when(item["created_at"])),
                ("Case reference", item["case_reference"] or "none"),
                ("Case closed on", _when(item["case_closed_on"]) if item["case_closed_on"] else "still open"),
            ]
        )
        for field in item["fields"]:
            report.line(f"{field.get('label') or field.get('key')}: {field.get('value') or '(blank)'}")
        if item["document"] is not None:
            report.line(f"Attached document: {item['document']['filename']}")
        report.pdf.ln(2)

    report.heading("When it was shared, or sharing was refused")
    if not data["disclosures"]:
        report.line("Nothing recorded about you has been shared or asked for.")
    for d in data["disclosures"]:
        report.heading(f"Decision {d['id']}: {d['status_label']}", 11)
        report.pairs(
            [
                ("Records", ", ".join(str(i) for i in d["item_ids"])),
                ("From", d["discloser_organisation"]),
                ("To", d["recipient_organisation"]),
                ("Purpose", d["purpose_label"]),
                ("Basis", d["basis_label"] + (" (emergency)" if d["emergency"] else "")),
                ("Kinds of information", ", ".join(_label(CATEGORY_LABELS, DataCategory, c) for c in d["categories"])),
                ("What", d["what_was_shared"]),
                ("Why", d["justification"] or "given with consent"),
                ("Asked for by", d["requested_by"]),
                ("Asked for on", _when(d["requested_at"])),
                ("Decided by", d["decided_by"]),
                ("Decided on", _when(d["decided_at"])),
                ("Reason it was refused", d["refusal_reason"] or "not refused"),
                ("May be kept until", _when(d["retain_until"]) if d["retain_until"] else "not set"),
            ]
        )

    report.heading("Your consent")
    if not data["consent"]:
        report.line("No consent is recorded.")
    for c in data["consent"]:
        who = ", ".join([*c["organisations"], *(t.replace("_", " ") for t in c["organisation_types"])])
        report.pairs(
            [
                ("Given on", _when(c["given_on"])),
                ("How", c["method"].replace("_", " ")),
                ("For", ", ".join(c["purposes"])),
                ("Kinds of information", ", ".join(c["categories"])),
                ("With", who),
                ("Ends on", _when(c["expires_on"]) if c["expires_on"] else "no end date"),
                ("Withdrawn on", _when(c["withdrawn_on"]) if c["withdrawn_on"] else "not withdrawn"),
                (
                    "Given for you by",
                    f"{c['representative_name']} ({c['representative_relationship']})"
                    if c["given_by_representative"]
                    else "you",
                ),
                ("Recorded by", f"{c['recorded_by']}, {c['recorded_by_organisation']}"),
            ]
        )

    report.heading("Who looked at it")
    if not data["access_log"]:
        report.line("No one has looked at it.")
    for a in data["access_log"]:
        outcome = {
            "owner": "read in full by the organisation that holds it",
            "disclosed": "read, as shared",
            "partial": "read in part (some details withheld)",
            "denied": "refused: it had not been shared with them",
        }.get(a["outcome"], a["outcome"])
        report.line(
            f"{_when(a['when'])}: {a['who']} ({a['organisation'] or 'portal'}), record {a['item_id']}, {outcome}"
        )

    report.heading("Your requests to see your information")
    for s in data["subject_access_requests"]:
        deadline = s["extended_to"] or s["due_on"]
        report.line(
            f"Received {_when(s['received_on'])}; due {_when(deadline)}"
            + (f" (extended: {s['extension_reason']})" if s["extended_to"] else "")
            + (f"; answered {_when(s['completed_on'])}" if s["completed_on"] else "")
        )
    if not data["subject_access_requests"]:
        report.line("None recorded.")
    return report.output()


def export_filenames(person_id: int) -> tuple[str, str]:
    return f"subject-access-{person_id}.json", f"subject-access-{person_id}.pdf"


def build_sar_export(*, session: Session, actor: Actor, person_id: int) -> bytes:
    """A ZIP of ``subject-access-<id>.json`` (machine-readable) and ``subject-access-<id>.pdf``
    (the same in plain words): the person's details, every item about them held by the actor's
    organisation (by every organisation for the system), every disclosure of those items,
    their consent records and the access log.  Each item included is logged as read."""
    require(actor, Permission.SHARING_SAR_MANAGE, subject_type="person", subject_id=person_id)
    person = _person(session, person_id)
    if not actor.is_system and (
        actor.organisation_id is None or not _holds_anything(session, actor.organisation_id, person)
    ):
        raise denied(
            actor,
            "Your organisation holds no information about this person.",
            reason="holds nothing about the person",
            subject_type="person",
            subject_id=person_id,
        )
    data, items = _collect(session, actor, person)
    json_name, pdf_name = export_filenames(person_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(json_name, json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr(pdf_name, _pdf(data))
    _log_reads(session, actor, person_id, items)
    record_event(
        session, action=AuditAction.SAR_EXPORTED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="person", subject_id=person_id,
        detail={
            "items": len(items),
            "disclosures": len(data["disclosures"]),
            "consent_records": len(data["consent"]),
            "access_log_entries": len(data["access_log"]),
            "scope": "all organisations" if actor.is_system else f"organisation {actor.organisation_id}",
        },
    )  # fmt: skip
    session.flush()
    return buffer.getvalue()


def _log_reads(session: Session, actor: Actor, person_id: int, items: Sequence[InformationItem]) -> None:
    for item in items:
        session.add(
            AccessLog(
                user_id=actor.user_id,
                organisation_id=actor.organisation_id,
                item_id=item.id,
                person_id=person_id,
                via=EXPORT_VIA,
                outcome="owner" if item.owner_organisation_id == actor.organisation_id else "system",
                withheld_fields=[],
            )
        )


__all__ = [
    "EXPORT_VIA",
    "SarRow",
    "add_months",
    "build_sar_export",
    "complete_sar",
    "export_filenames",
    "extend_sar",
    "list_sars",
    "log_sar",
    "record_identity_check",
    "sar_due_on",
]
