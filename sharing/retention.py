"""Retention: how long each category of information is kept after its case closes, which
records have passed that, and their disposal (deletion or anonymisation).

Disposal is irreversible, so it takes an information-sharing officer of the organisation that
owns the record, an explicit confirmation, and a record whose retention period has ended.  It
leaves a tombstone in the audit trail: what kind of record it was, its category, its owner and
its dates, and never anything about the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound
from sharing.models import (
    ConsentRecord,
    Disclosure,
    DisclosureItem,
    InformationItem,
    Organisation,
    OrganisationNotice,
    Person,
    RetentionRule,
    Role,
    StoredDocument,
    User,
)
from sharing.permissions import Actor, Permission
from sharing.vocabulary import CATEGORY_LABELS, DataCategory

ANONYMISED = "[anonymised]"
ANONYMISED_NAME = "Anonymised"
MIN_RETENTION_YEARS = 1
MAX_RETENTION_YEARS = 100

CATEGORY_VALUES = frozenset(str(c) for c in DataCategory)

DisposalAction = Literal["delete", "anonymise"]
DISPOSAL_ACTIONS: tuple[DisposalAction, ...] = ("delete", "anonymise")


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February becomes 28 February in a common year)."""
    result: date = day + relativedelta(years=years)
    return result


def is_anonymised(item: InformationItem) -> bool:
    """Whether the item's words have already been replaced by the anonymised marker."""
    return item.title == ANONYMISED and all(f.get("value") == ANONYMISED for f in item.content)


# --- Rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRuleRow:
    category: str
    label: str
    years_after_closure: int
    updated_by: str
    updated_at: datetime | None  # None: no rule stored, the default applies


def _rules(session: Session) -> dict[str, int]:
    return {r.category: r.years_after_closure for r in session.exec(select(RetentionRule)).all()}


def _category_label(category: str) -> str:
    return CATEGORY_LABELS[DataCategory(category)] if category in CATEGORY_VALUES else category


def _years_for(rules: dict[str, int], category: str) -> int:
    return rules.get(category, get_settings().retention_default_years)


def list_retention_rules(*, session: Session, actor: Actor) -> list[RetentionRuleRow]:
    """Every category with the years its information is kept after the case closes."""
    require(actor, Permission.SHARING_RETENTION_MANAGE, subject_type="retention_rule")
    stored = {r.category: r for r in session.exec(select(RetentionRule)).all()}
    users = {u.id: u.full_name for u in session.exec(select(User)).all() if u.id is not None}
    categories = [str(c) for c in DataCategory] + sorted(set(stored) - CATEGORY_VALUES)
    rows = []
    for category in categories:
        rule = stored.get(category)
        rows.append(
            RetentionRuleRow(
                category=category,
                label=_category_label(category),
                years_after_closure=rule.years_after_closure if rule else get_settings().retention_default_years,
                updated_by=users.get(rule.updated_by_user_id or 0, "") if rule else "",
                updated_at=rule.updated_at if rule else None,
            )
        )
    return rows


def set_retention_period(*, session: Session, actor: Actor, category: str, years: int) -> RetentionRule:
    """Keep information of ``category`` for ``years`` after its case closes."""
    require(actor, Permission.SHARING_RETENTION_MANAGE, subject_type="retention_rule", subject_id=str(category))
    errors: dict[str, str] = {}
    if str(category) not in CATEGORY_VALUES:
        errors["category"] = "Choose one of the kinds of information the portal records."
    if isinstance(years, bool) or not isinstance(years, int) or not MIN_RETENTION_YEARS <= years <= MAX_RETENTION_YEARS:
        errors["years"] = f"Give a whole number of years from {MIN_RETENTION_YEARS} to {MAX_RETENTION_YEARS}."
    if errors:
        raise InvalidInput(errors)
    key = str(category)
    rule = session.get(RetentionRule, key)
    previous = rule.years_after_closure if rule else None
    if rule is None:
        rule = RetentionRule(category=key, years_after_closure=years)
    rule.years_after_closure = years
    rule.updated_by_user_id = actor.user_id
    rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    record_event(
        session, action=AuditAction.RETENTION_RULE_CHANGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="retention_rule", subject_id=key, detail={"category": key, "from": previous, "to": years},
    )  # fmt: skip
    return rule


# --- What is due ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionDue:
    """A record whose retention period has ended.  No title or content: those are read
    through ``sharing.reads.read_items`` when the officer opens it."""

    item_id: int
    kind: str
    category: str
    category_label: str
    owner_organisation_id: int
    owner_organisation: str
    person_id: int | None
    case_reference: str | None
    created_at: datetime
    case_closed_on: date
    retention_years: int
    retain_until: date


def records_past_retention(*, session: Session, actor: Actor, today: date) -> list[RetentionDue]:
    """Records (of the actor's organisation; every organisation's for the system) whose case
    closed at least the category's retention period before ``today``, not yet anonymised,
    the longest overdue first."""
    require(actor, Permission.SHARING_RETENTION_MANAGE, subject_type="information_item")
    query = select(InformationItem).where(col(InformationItem.case_closed_on).is_not(None))
    if not actor.is_system:
        query = query.where(InformationItem.owner_organisation_id == actor.organisation_id)
    rules = _rules(session)
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all() if o.id is not None}
    due = []
    for item in session.exec(query.order_by(col(InformationItem.id))).all():
        assert item.case_closed_on is not None and item.id is not None
        years = _years_for(rules, item.category)
        until = add_years(item.case_closed_on, years)
        if until > today or is_anonymised(item):
            continue
        due.append(
            RetentionDue(
                item_id=item.id,
                kind=item.kind,
                category=item.category,
                category_label=_category_label(item.category),
                owner_organisation_id=item.owner_organisation_id,
                owner_organisation=orgs.get(item.owner_organisation_id, ""),
                person_id=item.person_id,
                case_reference=item.case_reference,
                created_at=item.created_at,
                case_closed_on=item.case_closed_on,
                retention_years=years,
                retain_until=until,
            )
        )
    due.sort(key=lambda d: (d.retain_until, d.item_id))
    return due


# --- Disposal ------------------------------------------------------------------------------


def _require_officer(actor: Actor, *, subject_type: str, subject_id: int) -> None:
    require(actor, Permission.SHARING_RETENTION_MANAGE, subject_type=subject_type, subject_id=subject_id)
    if Role.INFORMATION_SHARING_OFFICER not in actor.roles:
        raise denied(
            actor,
            "Only an information-sharing officer can dispose of records.",
            reason="not an information-sharing officer",
            subject_type=subject_type,
            subject_id=subject_id,
        )


def _drop_document_if_unused(session: Session, document_id: int | None, *, keep_item_id: int | None = None) -> bool:
    """Delete a stored document nothing else refers to; whether it was deleted."""
    if document_id is None:
        return False
    other_item = session.exec(
        select(InformationItem.id).where(
            InformationItem.document_id == document_id, col(InformationItem.id) != (keep_item_id or 0)
        )
    ).first()
    consent = session.exec(select(ConsentRecord.id).where(ConsentRecord.form_document_id == document_id)).first()
    if other_item is not None or consent is not None:
        return False
    document = session.get(StoredDocument, document_id)
    if document is None:
        return False
    session.delete(document)
    return True


def _replace_title(text: str, title: str, note: str) -> str:
    """``what_was_shared`` lists item titles joined by "; ": put ``note`` where ``title`` was."""
    if not title:
        return text
    parts = text.split("; ")
    if title in parts:
        return "; ".join(note if part == title else part for part in parts)
    return text.replace(title, note)


def _scrub_disclosures(session: Session, item: InformationItem, note: str) -> list[int]:
    """Put ``note`` in place of the item's title wherever a disclosure (or a notice about one)
    repeats it; returns the ids of the disclosures that included the item."""
    disclosure_ids = sorted(
        session.exec(select(DisclosureItem.disclosure_id).where(DisclosureItem.item_id == item.id)).all()
    )
    if not disclosure_ids:
        return []
    for disclosure in session.exec(select(Disclosure).where(col(Disclosure.id).in_(disclosure_ids))).all():
        disclosure.what_was_shared = _replace_title(disclosure.what_was_shared, item.title, note)[:1000]
        session.add(disclosure)
    for notice in session.exec(
        select(OrganisationNotice).where(col(OrganisationNotice.disclosure_id).in_(disclosure_ids))
    ).all():
        notice.message = _replace_title(notice.message, item.title, note)[:1000]
        session.add(notice)
    return disclosure_ids


def dispose_of_record(
    *,
    session: Session,
    actor: Actor,
    item_id: int,
    action: DisposalAction,
    confirm: bool,
    today: date | None = None,
) -> None:
    """Delete or anonymise a record whose retention period has ended.

    Only with ``confirm=True``, by an information-sharing officer of the owning organisation.
    ``"delete"`` removes the record and its links to disclosures (the disclosures stay, their
    description saying the record was deleted); ``"anonymise"`` replaces its title and every
    field value with ``[anonymised]`` and removes any attached document.  A person's details
    record keeps pointing at the person, whose own details are blanked by
    :func:`anonymise_person` once nothing else about them is left.  Either leaves a tombstone
    audit event with no personal data.
    """
    _require_officer(actor, subject_type="information_item", subject_id=item_id)
    item = session.get(InformationItem, item_id)
    if item is None:
        raise NotFound("That record no longer exists.")
    if item.owner_organisation_id != actor.organisation_id:
        raise denied(
            actor,
            "Only the organisation that holds this record can dispose of it.",
            reason="another organisation's record",
            subject_type="information_item",
            subject_id=item_id,
        )
    if action not in DISPOSAL_ACTIONS:
        raise InvalidInput({"action": "Choose whether to delete or anonymise the record."})
    if not confirm:
        raise InvalidInput(
            {"confirm": "Confirm that you want to dispose of this record: it cannot be undone."},
            message="Nothing was changed: disposal needs your confirmation.",
        )
    today = today or utcnow().date()
    years = _years_for(_rules(session), item.category)
    if item.case_closed_on is None:
        raise InvalidInput({"item": "This record's case is still open, so its retention period has not started."})
    until = add_years(item.case_closed_on, years)
    if until > today:
        raise InvalidInput({"item": f"This record must be kept until {until:%-d %B %Y}."})
    if action == "anonymise" and is_anonymised(item):
        raise InvalidInput({"action": "This record has already been anonymised."})

    tombstone = {
        "item_id": item_id,
        "kind": item.kind,
        "category": item.category,
        "owner_organisation_id": item.owner_organisation_id,
        "created_at": item.created_at.isoformat(),
        "case_closed_on": item.case_closed_on.isoformat(),
        "retention_years": years,
        "retain_until": until.isoformat(),
        "disposed_on": today.isoformat(),
    }
    document_id = item.document_id
    if action == "delete":
        note = f"[record {item_id} deleted on {today.isoformat()} under the retention policy]"
        disclosure_ids = _scrub_disclosures(session, item, note)
        for link in session.exec(select(DisclosureItem).where(DisclosureItem.item_id == item_id)).all():
            session.delete(link)
        session.flush()
        session.delete(item)
        session.flush()
        document_removed = _drop_document_if_unused(session, document_id)
        audit_action = AuditAction.RETENTION_DELETED
    else:
        note = f"[record {item_id} anonymised on {today.isoformat()}]"
        disclosure_ids = _scrub_disclosures(session, item, note)
        item.title = ANONYMISED
        item.content = [{**f, "value": ANONYMISED} for f in item.content]
        item.document_id = None
        session.add(item)
        session.flush()
        document_removed = _drop_document_if_unused(session, document_id)
        audit_action = AuditAction.RETENTION_ANONYMISED
    record_event(
        session, action=audit_action, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="information_item", subject_id=item_id, reason="retention period ended",
        detail={**tombstone, "disclosure_ids": disclosure_ids, "document_removed": document_removed},
    )  # fmt: skip
    session.flush()


def anonymise_person(*, session: Session, actor: Actor, person_id: int, confirm: bool) -> Person:
    """Blank a person's own details once every record about them has been deleted or
    anonymised: names become "Anonymised", every other detail is cleared, and their consent
    records lose representatives' names and signed forms.  Leaves a tombstone audit event."""
    _require_officer(actor, subject_type="person", subject_id=person_id)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not on record.")
    if person.controller_organisation_id != actor.organisation_id:
        raise denied(
            actor,
            "Only the organisation that holds this person's record can anonymise it.",
            reason="another organisation's person",
            subject_type="person",
            subject_id=person_id,
        )
    if not confirm:
        raise InvalidInput(
            {"confirm": "Confirm that you want to anonymise this person: it cannot be undone."},
            message="Nothing was changed: anonymising needs your confirmation.",
        )
    if person.anonymised_at is not None:
        raise InvalidInput({"person": "This person has already been anonymised."})
    remaining = [
        i
        for i in session.exec(select(InformationItem).where(InformationItem.person_id == person_id))
        if not is_anonymised(i)
    ]
    if remaining:
        raise InvalidInput(
            {
                "person": (
                    f"{len(remaining)} record{'' if len(remaining) == 1 else 's'} about this person "
                    f"{'is' if len(remaining) == 1 else 'are'} still held; dispose of "
                    f"{'it' if len(remaining) == 1 else 'them'} first."
                )
            }
        )
    now = utcnow()
    recorded_on = person.created_at.date().isoformat()
    person.given_name = ANONYMISED_NAME
    person.family_name = ANONYMISED_NAME
    person.date_of_birth = None
    person.address = ""
    person.postcode = ""
    person.phone = ""
    person.email = ""
    person.is_vulnerable_adult = False
    person.is_child = False
    person.is_confidential_complainant = False
    person.anonymised_at = now
    session.add(person)
    consents = session.exec(select(ConsentRecord).where(ConsentRecord.person_id == person_id)).all()
    forms_removed = 0
    for consent in consents:
        form_id = consent.form_document_id
        consent.representative_name = ""
        consent.representative_relationship = ""
        consent.withdrawal_method = ANONYMISED if consent.withdrawal_method else ""
        consent.form_document_id = None
        session.add(consent)
        session.flush()
        forms_removed += int(_drop_document_if_unused(session, form_id))
    record_event(
        session, action=AuditAction.PERSON_ANONYMISED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="person", subject_id=person_id, reason="retention period ended",
        detail={
            "person_id": person_id,
            "controller_organisation_id": person.controller_organisation_id,
            "recorded_on": recorded_on,
            "anonymised_on": now.date().isoformat(),
            "consent_records": len(consents),
            "forms_removed": forms_removed,
        },
    )  # fmt: skip
    session.flush()
    return person


__all__ = [
    "ANONYMISED",
    "ANONYMISED_NAME",
    "DisposalAction",
    "RetentionDue",
    "RetentionRuleRow",
    "add_years",
    "anonymise_person",
    "dispose_of_record",
    "is_anonymised",
    "list_retention_rules",
    "records_past_retention",
    "set_retention_period",
]
