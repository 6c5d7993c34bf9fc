"""Building blocks for the information-sharing tests: fresh organisations and people per test
(unique names, so tests never see each other's rows), agreements, consent, items, disclosures,
and reading back what a refused or denied action left on record after its rollback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from sharing.accounts import actor_for_user
from sharing.db import transaction, utcnow
from sharing.directory import create_organisation
from sharing.disclosures import DisclosureRefused, DisclosureRequest, request_disclosure
from sharing.models import (
    AccessLog,
    AuditEvent,
    Disclosure,
    DisclosureItem,
    Organisation,
    OrganisationType,
    Role,
    User,
    UserRole,
)
from sharing.permissions import SYSTEM_ACTOR, Actor
from sharing.reads import ItemView, read_items
from sharing.register import (
    AgreementInput,
    ConsentInput,
    ItemField,
    PersonInput,
    create_agreement,
    create_item,
    create_person,
    person_details_item,
    record_consent,
    set_agreement_status,
)
from sharing.vocabulary import (
    AgreementStatus,
    ConsentMethod,
    DataCategory,
    ItemKind,
    LawfulBasis,
    Purpose,
)
from tests.conftest import unique

JUSTIFICATION = (
    "The police need this to assess the risk of further offences and plan a joint visit; "
    "asking for consent would prejudice the investigation."
)


def today() -> date:
    """The date the services use (they read ``sharing.db.utcnow``)."""
    return utcnow().date()


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    type: OrganisationType


@dataclass
class Agency:
    """An organisation with a lead officer, an information-sharing officer and a panel member."""

    org: Org
    officer: Actor
    iso: Actor
    member: Actor


def make_org(
    session: Session, type: OrganisationType = OrganisationType.POLICE, prefix: str = "Org", *, quick: bool = False
) -> Org:
    """A new organisation; ``quick`` inserts the row directly (no audit row), for property tests."""
    if quick:
        name = unique(prefix)
        row = Organisation(name=name, slug=name.lower(), type=type)
        session.add(row)
        session.flush()
        assert row.id is not None
        return Org(row.id, name, type)
    read = create_organisation(session=session, actor=SYSTEM_ACTOR, name=unique(prefix), type=str(type))
    return Org(read.id, read.name, type)


def make_actor(session: Session, org: Org, *roles: Role, name: str = "Test Person") -> Actor:
    """An account (no password: it only acts through services), inserted directly for speed."""
    user = User(organisation_id=org.id, email=f"{unique('user')}@example.com", full_name=name)
    session.add(user)
    session.flush()
    assert user.id is not None
    for role in roles:
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    return actor_for_user(session, user)


def make_agency_in(session: Session, type: OrganisationType, prefix: str = "Org", *, quick: bool = False) -> Agency:
    org = make_org(session, type, prefix, quick=quick)
    return Agency(
        org=org,
        officer=make_actor(session, org, Role.LEAD_OFFICER, name="Lead Officer"),
        iso=make_actor(session, org, Role.INFORMATION_SHARING_OFFICER, name="Sharing Officer"),
        member=make_actor(session, org, Role.PANEL_MEMBER, name="Panel Member"),
    )


def make_agency(engine: Engine, type: OrganisationType = OrganisationType.POLICE, prefix: str = "Org") -> Agency:
    with transaction(engine) as session:
        return make_agency_in(session, type, prefix)


def make_agreement(
    engine: Engine,
    actor: Actor,
    parties: Sequence[Org],
    *,
    purposes: Sequence[Purpose] = tuple(Purpose),
    categories: Sequence[DataCategory] = tuple(DataCategory),
    bases: Sequence[LawfulBasis] = tuple(LawfulBasis),
    restrictions: dict[DataCategory, Sequence[Org]] | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    status: AgreementStatus = AgreementStatus.ACTIVE,
) -> int:
    start = starts_on or today() - timedelta(days=60)
    end = ends_on or today() + timedelta(days=300)
    with transaction(engine) as session:
        agreement = create_agreement(
            session=session,
            actor=actor,
            data=AgreementInput(
                title=unique("Agreement"),
                reference=unique("ISA"),
                party_ids=[p.id for p in parties],
                purposes=list(purposes),
                categories=list(categories),
                lawful_bases=list(bases),
                starts_on=start,
                ends_on=end,
                review_on=end,
                category_restrictions={str(c): [o.id for o in orgs] for c, orgs in (restrictions or {}).items()},
                signatories={p.id: (f"Signatory of {p.name}", "Director") for p in parties},
            ),
        )
        assert agreement.id is not None
        if status != AgreementStatus.DRAFT:
            set_agreement_status(session=session, actor=actor, agreement_id=agreement.id, status=status)
        return agreement.id


def set_status(engine: Engine, actor: Actor, agreement_id: int, status: AgreementStatus) -> None:
    with transaction(engine) as session:
        set_agreement_status(session=session, actor=actor, agreement_id=agreement_id, status=status)


@dataclass(frozen=True)
class PersonRef:
    id: int
    name: str
    details_item_id: int


def make_person(
    engine: Engine,
    officer: Actor,
    *,
    given_name: str = "Jo",
    confidential: bool = False,
    **details: Any,
) -> PersonRef:
    family = unique("Bloggs")
    values: dict[str, Any] = {
        "date_of_birth": date(1980, 5, 17),
        "address": "1 High Street, Eastbrook",
        "postcode": "eb1 1aa",
        "phone": "07700 900999",
        "email": "jo@example.com",
    }
    values.update(details)
    with transaction(engine) as session:
        person = create_person(
            session=session,
            actor=officer,
            data=PersonInput(given_name, family, is_confidential_complainant=confidential, **values),
        )
        assert person.id is not None
        item = person_details_item(session, person.id)
        assert item.id is not None
        return PersonRef(person.id, person.display_name, item.id)


def make_item(
    engine: Engine,
    officer: Actor,
    fields: Sequence[tuple[str, DataCategory]] = (("summary", DataCategory.ASB_HISTORY),),
    *,
    person_id: int | None = None,
    kind: ItemKind = ItemKind.CASE_NOTE,
    case_reference: str | None = None,
    title: str | None = None,
) -> int:
    with transaction(engine) as session:
        item = create_item(
            session=session,
            actor=officer,
            kind=kind,
            title=title or unique("Note"),
            category=fields[0][1],
            fields=[ItemField(key, key.title(), f"value of {key}", category) for key, category in fields],
            person_id=person_id,
            case_reference=case_reference,
        )
        assert item.id is not None
        return item.id


def make_consent(
    engine: Engine,
    officer: Actor,
    person_id: int,
    *,
    organisations: Sequence[Org] = (),
    types: Sequence[OrganisationType] = (),
    purposes: Sequence[Purpose] = (Purpose.ASB_CASE_MANAGEMENT,),
    categories: Sequence[DataCategory] = tuple(DataCategory),
    given_on: date | None = None,
    expires_on: date | None = None,
) -> int:
    with transaction(engine) as session:
        consent = record_consent(
            session=session,
            actor=officer,
            data=ConsentInput(
                person_id=person_id,
                method=ConsentMethod.VERBAL,
                purposes=list(purposes),
                categories=list(categories),
                given_on=given_on or today() - timedelta(days=10),
                organisation_ids=[o.id for o in organisations],
                organisation_types=list(types),
                expires_on=expires_on,
            ),
        )
        assert consent.id is not None
        return consent.id


def share(
    engine: Engine,
    actor: Actor,
    item_ids: Sequence[int],
    recipient: Org,
    *,
    basis: LawfulBasis = LawfulBasis.CONSENT,
    purpose: Purpose = Purpose.ASB_CASE_MANAGEMENT,
    justification: str | None = None,
    emergency: bool = False,
    categories: Sequence[DataCategory] | None = None,
) -> Disclosure:
    """Request a disclosure; a gateway basis gets a long enough justification unless told."""
    if justification is None:
        justification = JUSTIFICATION if basis.is_gateway else ""
    with transaction(engine) as session:
        return request_disclosure(
            session=session,
            actor=actor,
            request=DisclosureRequest(
                item_ids=list(item_ids),
                recipient_organisation_id=recipient.id,
                purpose=purpose,
                basis=basis,
                justification=justification,
                emergency=emergency,
                categories=list(categories) if categories is not None else None,
            ),
        )


@dataclass
class Refusal:
    message: str
    disclosure: Disclosure
    item_ids: list[int]
    audit: list[AuditEvent] = field(default_factory=list)


def last_disclosure_id(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(col(Disclosure.id)))).one() or 0


def refused_since(engine: Engine, since: int, requester: Actor) -> list[Refusal]:
    """The refused disclosures ``requester`` left on record after disclosure id ``since``."""
    with Session(engine) as session:
        rows = session.exec(
            select(Disclosure)
            .where(
                col(Disclosure.id) > since,
                Disclosure.requested_by_user_id == requester.user_id,
                Disclosure.status == "refused",
            )
            .order_by(col(Disclosure.id))
        ).all()
        found = []
        for row in rows:
            item_ids = sorted(
                session.exec(select(DisclosureItem.item_id).where(DisclosureItem.disclosure_id == row.id)).all()
            )
            audit = list(
                session.exec(
                    select(AuditEvent)
                    .where(AuditEvent.subject_type == "disclosure", AuditEvent.subject_id == str(row.id))
                    .order_by(col(AuditEvent.id))
                )
            )
            found.append(Refusal(row.refusal_reason, row, item_ids, audit))
        return found


def refuse(engine: Engine, actor: Actor, item_ids: Sequence[int], recipient: Org, **kwargs: Any) -> Refusal:
    """Ask for a share that must be refused; return what stayed on record (exactly one
    refused disclosure, whose reason is the error's message)."""
    since = last_disclosure_id(engine)
    try:
        share(engine, actor, item_ids, recipient, **kwargs)
    except DisclosureRefused as error:
        message = error.message
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("the share was allowed")
    refusals = refused_since(engine, since, actor)
    assert len(refusals) == 1, refusals
    refusal = refusals[0]
    assert refusal.message == message
    return refusal


def read(engine: Engine, actor: Actor, item_ids: Sequence[int], via: str = "test") -> list[ItemView]:
    with transaction(engine) as session:
        return read_items(session=session, actor=actor, item_ids=list(item_ids), via=via)


def shown(view: ItemView) -> dict[str, str]:
    """Field key -> value as the reader sees it."""
    return {f.key: f.value for f in view.fields}


def access_log(engine: Engine, actor: Actor, *, since: int = 0) -> list[AccessLog]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AccessLog)
                .where(col(AccessLog.id) > since, AccessLog.user_id == actor.user_id)
                .order_by(col(AccessLog.id))
            )
        )


def last_access_log_id(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(col(AccessLog.id)))).one() or 0


def load_disclosure(engine: Engine, disclosure_id: int | None) -> Disclosure:
    assert disclosure_id is not None
    with Session(engine) as session:
        row = session.get(Disclosure, disclosure_id)
        assert row is not None
        return row
