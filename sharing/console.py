"""What the information-sharing officer's console and the sharing screens list: disclosures,
the access log of a person, the agreement register and notices.  Every function checks a
permission first."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from sharing.access import require
from sharing.errors import InvalidInput
from sharing.models import (
    AccessLog,
    AgreementParty,
    ConsentRecord,
    Disclosure,
    InformationItem,
    Organisation,
    OrganisationNotice,
    Person,
    SharingAgreement,
    User,
)
from sharing.permissions import Actor, Permission
from sharing.vocabulary import (
    BASIS_LABELS,
    PURPOSE_LABELS,
    AgreementStatus,
    DisclosureStatus,
    LawfulBasis,
    Purpose,
)

STATUS_LABELS = {
    DisclosureStatus.REFUSED: "Refused",
    DisclosureStatus.AWAITING_APPROVAL: "Awaiting approval",
    DisclosureStatus.ACTIVE: "Shared",
    DisclosureStatus.EMERGENCY: "Emergency – review due",
    DisclosureStatus.CONSENT_WITHDRAWN_REVIEW: "Consent withdrawn – review",
    DisclosureStatus.REJECTED: "Not approved",
    DisclosureStatus.REVOKED: "Revoked",
}


@dataclass(frozen=True)
class DisclosureRow:
    id: int
    status: str
    status_label: str
    discloser: str
    recipient: str
    purpose: str
    basis: str
    what: str
    justification: str
    requested_by: str
    requested_at: datetime
    decided_by: str
    refusal_reason: str
    review_due_at: datetime | None
    consent_withdrawn: bool


@dataclass
class DisclosureFilter:
    status: str = ""
    organisation_id: int | None = None  # discloser or recipient
    basis: str = ""
    person_id: int | None = None
    since: date | None = None
    until: date | None = None


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all() if o.id is not None}
    users = {u.id: u.full_name for u in session.exec(select(User)).all() if u.id is not None}
    return orgs, users


def list_disclosures(
    *, session: Session, actor: Actor, filters: DisclosureFilter | None = None, limit: int = 500
) -> list[DisclosureRow]:
    """Disclosures for the console, newest first, filtered by status, organisation, basis,
    person and date."""
    require(actor, Permission.SHARING_CONSOLE_READ, subject_type="disclosure")
    f = filters or DisclosureFilter()
    query = select(Disclosure)
    if f.status:
        query = query.where(Disclosure.status == f.status)
    if f.organisation_id is not None:
        query = query.where(
            (col(Disclosure.discloser_organisation_id) == f.organisation_id)
            | (col(Disclosure.recipient_organisation_id) == f.organisation_id)
        )
    if f.basis:
        query = query.where(Disclosure.basis == f.basis)
    if f.person_id is not None:
        from sharing.models import DisclosureItem

        about = (
            select(DisclosureItem.disclosure_id)
            .join(InformationItem, col(InformationItem.id) == col(DisclosureItem.item_id))
            .where(InformationItem.person_id == f.person_id)
        )
        query = query.where(col(Disclosure.id).in_(about))
    rows = session.exec(query.order_by(col(Disclosure.id).desc()).limit(limit)).all()
    if f.since is not None:
        rows = [r for r in rows if r.requested_at.date() >= f.since]
    if f.until is not None:
        rows = [r for r in rows if r.requested_at.date() <= f.until]
    orgs, users = _names(session)
    withdrawn = {
        c.id for c in session.exec(select(ConsentRecord).where(col(ConsentRecord.withdrawn_on).is_not(None))).all()
    }
    return [
        DisclosureRow(
            id=r.id or 0,
            status=r.status,
            status_label=STATUS_LABELS.get(DisclosureStatus(r.status), r.status),
            discloser=orgs.get(r.discloser_organisation_id, ""),
            recipient=orgs.get(r.recipient_organisation_id, ""),
            purpose=PURPOSE_LABELS.get(Purpose(r.purpose), r.purpose),
            basis=BASIS_LABELS.get(LawfulBasis(r.basis), r.basis) + (" (emergency)" if r.emergency else ""),
            what=r.what_was_shared,
            justification=r.justification,
            requested_by=users.get(r.requested_by_user_id or 0, ""),
            requested_at=r.requested_at,
            decided_by=users.get(r.decided_by_user_id or 0, ""),
            refusal_reason=r.refusal_reason,
            review_due_at=r.review_due_at,
            consent_withdrawn=r.consent_id in withdrawn,
        )
        for r in rows
    ]


def rows_csv(rows: Sequence[Any], fields: Sequence[str]) -> str:
    """Any console view (rows of a dataclass) as CSV, for the information-sharing officer."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(row).items()})
    return buffer.getvalue()


def disclosures_csv(rows: Sequence[DisclosureRow]) -> str:
    return rows_csv(rows, [f for f in DisclosureRow.__dataclass_fields__ if f != "status"])


def access_log_csv(rows: Sequence[AccessRow]) -> str:
    return rows_csv(rows, list(AccessRow.__dataclass_fields__))


@dataclass(frozen=True)
class AccessRow:
    when: datetime
    who: str
    organisation: str
    item: str
    via: str
    outcome: str
    disclosure_id: int | None
    withheld: str


def access_log_for_person(*, session: Session, actor: Actor, person_id: int, limit: int = 500) -> list[AccessRow]:
    """Who looked at a person's information, when, under which disclosure, and every refusal."""
    require(actor, Permission.SHARING_CONSOLE_READ, subject_type="person", subject_id=person_id)
    orgs, users = _names(session)
    titles = dict(session.exec(select(InformationItem.id, InformationItem.title).where(
        InformationItem.person_id == person_id)).all())  # fmt: skip
    rows = session.exec(
        select(AccessLog).where(AccessLog.person_id == person_id).order_by(col(AccessLog.id).desc()).limit(limit)
    ).all()
    return [
        AccessRow(
            when=r.occurred_at,
            who=users.get(r.user_id or 0, "system"),
            organisation=orgs.get(r.organisation_id or 0, ""),
            item=titles.get(r.item_id, f"item {r.item_id}"),
            via=r.via,
            outcome=r.outcome,
            disclosure_id=r.disclosure_id,
            withheld=", ".join(r.withheld_fields),
        )
        for r in rows
    ]


def list_people_for_console(*, session: Session, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, controller) of every person, for choosing whose access log to open."""
    require(actor, Permission.SHARING_CONSOLE_READ, subject_type="person")
    orgs, _ = _names(session)
    people = session.exec(select(Person).order_by(col(Person.family_name), col(Person.given_name))).all()
    return [(p.id or 0, p.display_name, orgs.get(p.controller_organisation_id, "")) for p in people]


@dataclass(frozen=True)
class AgreementRow:
    id: int
    title: str
    reference: str
    status: str
    parties: str
    purposes: str
    starts_on: date
    ends_on: date
    review_on: date
    attention: str


def list_agreements(
    *, session: Session, actor: Actor, today: date, warning_days: int, status: str = "", words: str = ""
) -> list[AgreementRow]:
    """The register, with a note on agreements ending or due for review soon; only those in
    ``status`` (one of :class:`AgreementStatus`) if given, and only those whose title,
    reference or a party's name contains each of ``words`` (any case)."""
    require(actor, Permission.SHARING_AGREEMENTS_READ, subject_type="sharing_agreement")
    orgs, _ = _names(session)
    parties: dict[int, list[str]] = {}
    for party in session.exec(select(AgreementParty)).all():
        parties.setdefault(party.agreement_id, []).append(orgs.get(party.organisation_id, ""))
    query = select(SharingAgreement).order_by(col(SharingAgreement.reference))
    if status:
        if status not in set(AgreementStatus):
            raise InvalidInput({"status": "Choose a status from the list."})
        query = query.where(SharingAgreement.status == status)
    wanted = words.casefold().split()
    result = []
    for a in session.exec(query).all():
        names = sorted(parties.get(a.id or 0, []))
        text = " ".join((a.title, a.reference, *names)).casefold()
        if not all(w in text for w in wanted):
            continue
        attention = ""
        if a.status == "active":
            if (a.ends_on - today).days <= warning_days:
                attention = f"Ends on {a.ends_on:%-d %B %Y}"
            elif (a.review_on - today).days <= warning_days:
                attention = f"Review due {a.review_on:%-d %B %Y}"
        result.append(
            AgreementRow(
                id=a.id or 0,
                title=a.title,
                reference=a.reference,
                status=a.status,
                parties=", ".join(names),
                purposes=", ".join(PURPOSE_LABELS[Purpose(p)] for p in a.purposes),
                starts_on=a.starts_on,
                ends_on=a.ends_on,
                review_on=a.review_on,
                attention=attention,
            )
        )
    return result


def notices_for(*, session: Session, actor: Actor, limit: int = 20) -> list[OrganisationNotice]:
    """What the actor's organisation has been told (e.g. consent withdrawn for what it holds)."""
    if actor.organisation_id is None:
        return []
    return list(
        session.exec(
            select(OrganisationNotice)
            .where(OrganisationNotice.organisation_id == actor.organisation_id)
            .order_by(col(OrganisationNotice.id).desc())
            .limit(limit)
        )
    )


def owned_item_ids(*, session: Session, actor: Actor) -> list[int]:
    """Ids of the items the actor's organisation holds (to choose what to share); the content
    is read through ``sharing.reads.read_items``."""
    require(actor, Permission.SHARING_DISCLOSURES_REQUEST, subject_type="information_item")
    return [
        i
        for i in session.exec(
            select(InformationItem.id)
            .where(InformationItem.owner_organisation_id == actor.organisation_id)
            .order_by(col(InformationItem.id).desc())
        )
        if i is not None
    ]


def list_partner_organisations(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the other organisations, to choose a recipient."""
    require(actor, Permission.SHARING_DISCLOSURES_REQUEST, subject_type="organisation")
    orgs = session.exec(select(Organisation).where(col(Organisation.active).is_(True)).order_by(col(Organisation.name)))
    return [(o.id, o.name) for o in orgs if o.id is not None and o.id != actor.organisation_id]


def list_organisation_names(*, session: Session) -> list[tuple[int, str]]:
    """(id, name) of every organisation (not personal data), for filters."""
    return [(o.id, o.name) for o in session.exec(select(Organisation).order_by(col(Organisation.name))) if o.id]
