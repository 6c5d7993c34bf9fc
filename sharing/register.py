"""People (data subjects), information sharing agreements, consent and information items."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.models import (
    AgreementParty,
    ConsentRecord,
    Disclosure,
    InformationItem,
    Organisation,
    OrganisationNotice,
    OrganisationType,
    Person,
    SharingAgreement,
    StoredDocument,
)
from sharing.permissions import Actor, Permission
from sharing.vocabulary import (
    AgreementStatus,
    ConsentMethod,
    DataCategory,
    DisclosureStatus,
    ItemKind,
    LawfulBasis,
    Marking,
    Purpose,
)

# Signed consent forms: what may be uploaded, and how big.
ALLOWED_DOCUMENT_TYPES = {
    "application/pdf": b"%PDF",
    "image/png": b"\x89PNG",
    "image/jpeg": b"\xff\xd8\xff",
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


# --- People --------------------------------------------------------------------------------


@dataclass
class PersonInput:
    given_name: str
    family_name: str
    date_of_birth: date | None = None
    address: str = ""
    postcode: str = ""
    phone: str = ""
    email: str = ""
    is_vulnerable_adult: bool = False
    is_child: bool = False
    is_confidential_complainant: bool = False


def create_person(*, session: Session, actor: Actor, data: PersonInput) -> Person:
    """Record a data subject; the actor's organisation becomes the controller, and a
    person-details item is created so every later read goes through the sharing rules."""
    require(actor, Permission.SHARING_PEOPLE_CREATE, subject_type="person")
    errors: dict[str, str] = {}
    if not data.given_name.strip():
        errors["given_name"] = "Enter the person's first name."
    if not data.family_name.strip():
        errors["family_name"] = "Enter the person's last name (or 'Unknown')."
    if data.date_of_birth is not None and data.date_of_birth > utcnow().date():
        errors["date_of_birth"] = "The date of birth cannot be in the future."
    if errors:
        raise InvalidInput(errors)
    assert actor.organisation_id is not None
    person = Person(
        controller_organisation_id=actor.organisation_id,
        given_name=data.given_name.strip(),
        family_name=data.family_name.strip(),
        date_of_birth=data.date_of_birth,
        address=data.address.strip(),
        postcode=data.postcode.strip().upper(),
        phone=data.phone.strip(),
        email=data.email.strip(),
        is_vulnerable_adult=data.is_vulnerable_adult,
        is_child=data.is_child,
        is_confidential_complainant=data.is_confidential_complainant,
        created_by_user_id=actor.user_id,
    )
    session.add(person)
    session.flush()
    session.add(
        InformationItem(
            kind=ItemKind.PERSON_DETAILS,
            owner_organisation_id=actor.organisation_id,
            person_id=person.id,
            title=f"Personal details of {person.display_name}",
            category=DataCategory.IDENTITY,
            marking=Marking.OFFICIAL_SENSITIVE,
            created_by_user_id=actor.user_id,
        )
    )
    record_event(
        session, action=AuditAction.PERSON_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="person", subject_id=person.id,
    )  # fmt: skip
    session.flush()
    return person


def person_details_item(session: Session, person_id: int) -> InformationItem:
    item = session.exec(
        select(InformationItem).where(
            InformationItem.person_id == person_id, InformationItem.kind == ItemKind.PERSON_DETAILS
        )
    ).first()
    if item is None:
        raise NotFound("That person is not on record.")
    return item


# --- Information items ---------------------------------------------------------------------


@dataclass
class ItemField:
    key: str
    label: str
    value: str
    category: DataCategory


def create_item(
    *,
    session: Session,
    actor: Actor,
    kind: ItemKind,
    title: str,
    category: DataCategory,
    fields: list[ItemField],
    person_id: int | None = None,
    case_reference: str | None = None,
    marking: Marking = Marking.OFFICIAL,
) -> InformationItem:
    """Record a piece of case information owned by the actor's organisation."""
    require(actor, Permission.SHARING_ITEMS_CREATE, subject_type="information_item")
    if not title.strip():
        raise InvalidInput({"title": "Give the information a short title."})
    if person_id is not None and session.get(Person, person_id) is None:
        raise InvalidInput({"person_id": "Choose a person who is on record."})
    assert actor.organisation_id is not None
    item = InformationItem(
        kind=kind,
        owner_organisation_id=actor.organisation_id,
        person_id=person_id,
        case_reference=case_reference,
        title=title.strip(),
        category=category,
        marking=marking,
        content=[{"key": f.key, "label": f.label, "value": f.value, "category": str(f.category)} for f in fields],
        created_by_user_id=actor.user_id,
    )
    session.add(item)
    session.flush()
    record_event(
        session, action=AuditAction.ITEM_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="information_item", subject_id=item.id, detail={"kind": str(kind), "category": str(category)},
    )  # fmt: skip
    return item


# --- Agreements ----------------------------------------------------------------------------


@dataclass
class AgreementInput:
    title: str
    reference: str
    party_ids: list[int]
    purposes: list[Purpose]
    categories: list[DataCategory]
    lawful_bases: list[LawfulBasis]
    starts_on: date
    ends_on: date
    review_on: date
    category_restrictions: dict[str, list[int]] = field(default_factory=dict)
    signatories: dict[int, tuple[str, str]] = field(default_factory=dict)  # org id -> (name, role)


def create_agreement(*, session: Session, actor: Actor, data: AgreementInput) -> SharingAgreement:
    """Add an agreement to the register, as a draft."""
    require(actor, Permission.SHARING_AGREEMENTS_MANAGE, subject_type="sharing_agreement")
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = "Give the agreement its title."
    if not data.reference.strip():
        errors["reference"] = "Give the agreement a reference, e.g. ECSP-ISA-2026."
    elif session.exec(select(SharingAgreement).where(SharingAgreement.reference == data.reference.strip())).first():
        errors["reference"] = "Another agreement already has this reference."
    if len(set(data.party_ids)) < 2:
        errors["party_ids"] = "An agreement needs at least two organisations."
    if not data.purposes:
        errors["purposes"] = "Choose at least one purpose."
    if not data.categories:
        errors["categories"] = "Choose the kinds of information it covers."
    if not data.lawful_bases:
        errors["lawful_bases"] = "Choose the lawful bases it allows."
    if data.ends_on < data.starts_on:
        errors["ends_on"] = "The end date must be after the start date."
    if errors:
        raise InvalidInput(errors)
    agreement = SharingAgreement(
        title=data.title.strip(),
        reference=data.reference.strip(),
        status=AgreementStatus.DRAFT,
        purposes=sorted(str(p) for p in set(data.purposes)),
        categories=sorted(str(c) for c in set(data.categories)),
        category_restrictions={k: sorted(set(v)) for k, v in data.category_restrictions.items()},
        lawful_bases=sorted(str(b) for b in set(data.lawful_bases)),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        review_on=data.review_on,
        created_by_user_id=actor.user_id,
    )
    session.add(agreement)
    session.flush()
    assert agreement.id is not None
    for org_id in sorted(set(data.party_ids)):
        name, role = data.signatories.get(org_id, ("", ""))
        session.add(
            AgreementParty(agreement_id=agreement.id, organisation_id=org_id, signatory_name=name, signatory_role=role)
        )
    record_event(
        session, action=AuditAction.AGREEMENT_CREATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="sharing_agreement", subject_id=agreement.id, detail={"reference": agreement.reference},
    )  # fmt: skip
    session.flush()
    return agreement


def set_agreement_status(
    *, session: Session, actor: Actor, agreement_id: int, status: AgreementStatus, reason: str = ""
) -> SharingAgreement:
    """Activate, suspend or expire an agreement.  Suspension stops new disclosures at once."""
    require(actor, Permission.SHARING_AGREEMENTS_MANAGE, subject_type="sharing_agreement", subject_id=agreement_id)
    agreement = session.get(SharingAgreement, agreement_id)
    if agreement is None:
        raise NotFound("That agreement is not in the register.")
    if status == AgreementStatus.ACTIVE:
        parties = session.exec(select(AgreementParty).where(AgreementParty.agreement_id == agreement_id)).all()
        unsigned = [p for p in parties if not p.signatory_name]
        if unsigned:
            raise InvalidInput({"status": "Every party needs a named signatory before the agreement can be active."})
    previous = agreement.status
    agreement.status = status
    session.add(agreement)
    record_event(
        session, action=AuditAction.AGREEMENT_STATUS_CHANGED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="sharing_agreement", subject_id=agreement_id, reason=reason or None,
        detail={"from": previous, "to": str(status)},
    )  # fmt: skip
    return agreement


def expiring_agreements(*, session: Session, actor: Actor, within_days: int, today: date) -> list[SharingAgreement]:
    """Active agreements that end or are due for review within ``within_days``."""
    require(actor, Permission.SHARING_AGREEMENTS_READ, subject_type="sharing_agreement")
    horizon = today + timedelta(days=within_days)
    rows = session.exec(select(SharingAgreement).where(SharingAgreement.status == AgreementStatus.ACTIVE)).all()
    return [a for a in rows if a.ends_on <= horizon or a.review_on <= horizon]


# --- Consent -------------------------------------------------------------------------------


@dataclass
class ConsentInput:
    person_id: int
    method: ConsentMethod
    purposes: list[Purpose]
    categories: list[DataCategory]
    given_on: date
    organisation_ids: list[int] = field(default_factory=list)
    organisation_types: list[OrganisationType] = field(default_factory=list)
    expires_on: date | None = None
    representative_name: str = ""
    representative_relationship: str = ""


def store_document(
    *, session: Session, actor: Actor, filename: str, content_type: str, content: bytes
) -> StoredDocument:
    """Keep an uploaded file after checking its size and that it really is what it says."""
    if len(content) == 0:
        raise InvalidInput({"document": "The file is empty."})
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidInput({"document": f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."})
    magic = ALLOWED_DOCUMENT_TYPES.get(content_type)
    if magic is None or not content.startswith(magic):
        raise InvalidInput({"document": "Upload the signed form as a PDF, PNG or JPEG file."})
    document = StoredDocument(
        filename=filename[:255],
        content_type=content_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_user_id=actor.user_id,
    )
    session.add(document)
    session.flush()
    return document


def _require_controller(session: Session, actor: Actor, person_id: int) -> None:
    """Consent is recorded and withdrawn by the organisation that holds the person's record."""
    person = session.get(Person, person_id)
    if person is not None and person.controller_organisation_id != actor.organisation_id:
        raise denied(
            actor,
            "Only the organisation that holds this person's record can record or withdraw their consent.",
            reason="not the controller of the person's record",
            subject_type="person",
            subject_id=person_id,
        )


def record_consent(
    *, session: Session, actor: Actor, data: ConsentInput, form: StoredDocument | None = None
) -> ConsentRecord:
    """Record what a person (or their representative) agreed to be shared, with whom and why."""
    require(actor, Permission.SHARING_CONSENT_RECORD, subject_type="person", subject_id=data.person_id)
    _require_controller(session, actor, data.person_id)
    errors: dict[str, str] = {}
    if session.get(Person, data.person_id) is None:
        errors["person_id"] = "Choose a person who is on record."
    if not data.organisation_ids and not data.organisation_types:
        errors["organisations"] = "Say which organisations (or kinds of organisation) the consent covers."
    if not data.purposes:
        errors["purposes"] = "Say what the information may be used for."
    if not data.categories:
        errors["categories"] = "Say which kinds of information may be shared."
    if data.expires_on is not None and data.expires_on < data.given_on:
        errors["expires_on"] = "Consent cannot end before it was given."
    if bool(data.representative_name.strip()) != bool(data.representative_relationship.strip()):
        errors["representative_relationship"] = "Give both the representative's name and their relationship."
    if data.method == ConsentMethod.SIGNED_FORM and form is None:
        errors["document"] = "Attach the signed consent form."
    if errors:
        raise InvalidInput(errors)
    consent = ConsentRecord(
        person_id=data.person_id,
        given_by_representative=bool(data.representative_name.strip()),
        representative_name=data.representative_name.strip(),
        representative_relationship=data.representative_relationship.strip(),
        method=data.method,
        scope_organisation_ids=sorted(set(data.organisation_ids)),
        scope_organisation_types=sorted(str(t) for t in set(data.organisation_types)),
        scope_purposes=sorted(str(p) for p in set(data.purposes)),
        scope_categories=sorted(str(c) for c in set(data.categories)),
        given_on=data.given_on,
        expires_on=data.expires_on,
        form_document_id=form.id if form else None,
        recorded_by_user_id=actor.user_id,
        recorded_by_organisation_id=actor.organisation_id,
    )
    session.add(consent)
    session.flush()
    record_event(
        session, action=AuditAction.CONSENT_RECORDED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="person", subject_id=data.person_id, detail={"consent_id": consent.id},
    )  # fmt: skip
    return consent


def withdraw_consent(*, session: Session, actor: Actor, consent_id: int, withdrawn_on: date, how: str) -> list[int]:
    """Withdraw consent.  New consent-based disclosures are blocked at once; existing ones that
    rested on it stop giving access, are flagged for review, and their recipients are told.
    Returns the ids of the disclosures flagged."""
    consent = session.get(ConsentRecord, consent_id)
    if consent is None:
        raise NotFound("That consent record no longer exists.")
    require(actor, Permission.SHARING_CONSENT_RECORD, subject_type="person", subject_id=consent.person_id)
    _require_controller(session, actor, consent.person_id)
    if consent.withdrawn_on is not None:
        raise InvalidInput({"consent": "This consent has already been withdrawn."})
    if not how.strip():
        raise InvalidInput({"how": "Say how the person withdrew consent (e.g. phone call to the ASB team)."})
    if withdrawn_on > utcnow().date():
        # A later date would leave the consent authorising new shares until then.
        raise InvalidInput({"withdrawn_on": "Give the date the person withdrew consent: it cannot be in the future."})
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_method = how.strip()
    consent.withdrawn_by_user_id = actor.user_id
    session.add(consent)
    record_event(
        session, action=AuditAction.CONSENT_WITHDRAWN, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="person", subject_id=consent.person_id, detail={"consent_id": consent_id},
    )  # fmt: skip
    return _flag_resting_disclosures(session, actor, [consent_id], "has been withdrawn")


def _flag_resting_disclosures(session: Session, actor: Actor, consent_ids: list[int], what: str) -> list[int]:
    """Stop the live disclosures that rested on these consents, flag them for review and tell
    their recipients in the portal."""
    flagged: list[int] = []
    resting = session.exec(
        select(Disclosure).where(
            col(Disclosure.consent_id).in_(consent_ids),
            col(Disclosure.status).in_([DisclosureStatus.ACTIVE, DisclosureStatus.EMERGENCY]),
        )
    ).all()
    for disclosure in resting:
        assert disclosure.id is not None
        disclosure.status = DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
        session.add(disclosure)
        session.add(
            OrganisationNotice(
                organisation_id=disclosure.recipient_organisation_id,
                disclosure_id=disclosure.id,
                message=(
                    f"Consent behind disclosure {disclosure.id} ({disclosure.what_was_shared}) {what}. "
                    "You can no longer see that information; do not use copies you hold until the sharing "
                    "officer has reviewed it."
                ),
            )
        )
        record_event(
            session, action=AuditAction.DISCLOSURE_CONSENT_WITHDRAWN, outcome=Outcome.SUCCESS, actor=actor,
            subject_type="disclosure", subject_id=disclosure.id, reason=f"consent {what}",
        )  # fmt: skip
        flagged.append(disclosure.id)
    return flagged


def flag_expired_consent(*, session: Session, actor: Actor, today: date) -> list[int]:
    """Treat disclosures resting on consent that has run out like withdrawn ones: flagged for
    review, recipients told.  (Reads stop at expiry anyway; this makes it visible.)  Run by the
    sharing console on load and by ``portal-admin flag-expired-consent``; idempotent."""
    require(actor, Permission.SHARING_CONSOLE_READ, subject_type="consent_record")
    expired = [
        c.id
        for c in session.exec(
            select(ConsentRecord).where(
                col(ConsentRecord.expires_on).is_not(None), col(ConsentRecord.expires_on) < today
            )
        )
        if c.id is not None
    ]
    return _flag_resting_disclosures(session, actor, expired, "has expired") if expired else []


def organisation_of(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("That organisation no longer exists.")
    return org


__all__ = [
    "AgreementInput",
    "ConsentInput",
    "ItemField",
    "PermissionDenied",
    "PersonInput",
    "create_agreement",
    "create_item",
    "create_person",
    "expiring_agreements",
    "organisation_of",
    "person_details_item",
    "record_consent",
    "set_agreement_status",
    "store_document",
    "withdraw_consent",
]


@dataclass(frozen=True)
class ConsentRead:
    id: int
    summary: str
    given_on: date
    expires_on: date | None
    withdrawn_on: date | None
    method: str
    representative: str
    has_form: bool


def list_consents(*, session: Session, actor: Actor, person_id: int) -> list[ConsentRead]:
    """A person's consent records, for the organisation that controls the person's record."""
    require(actor, Permission.SHARING_CONSENT_RECORD, subject_type="person", subject_id=person_id)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not on record.")
    if person.controller_organisation_id != actor.organisation_id:
        raise PermissionDenied("Only the organisation that holds this person's record can see their consent.")
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    from sharing.vocabulary import CATEGORY_LABELS, PURPOSE_LABELS

    result = []
    for c in session.exec(
        select(ConsentRecord).where(ConsentRecord.person_id == person_id).order_by(col(ConsentRecord.id).desc())
    ):
        who = [orgs.get(i, "") for i in c.scope_organisation_ids] + [
            OrganisationType(t).label for t in c.scope_organisation_types
        ]
        summary = (
            f"Share {', '.join(CATEGORY_LABELS[DataCategory(x)] for x in c.scope_categories)} "
            f"with {', '.join(who)} for {', '.join(PURPOSE_LABELS[Purpose(p)] for p in c.scope_purposes)}"
        )
        result.append(
            ConsentRead(
                id=c.id or 0,
                summary=summary,
                given_on=c.given_on,
                expires_on=c.expires_on,
                withdrawn_on=c.withdrawn_on,
                method=c.method,
                representative=(
                    f"{c.representative_name} ({c.representative_relationship})" if c.given_by_representative else ""
                ),
                has_form=c.form_document_id is not None,
            )
        )
    return result


def controlled_person_ids(*, session: Session, actor: Actor) -> list[int]:
    """People whose record the actor's organisation holds (their details are read through
    ``sharing.reads.read_items``)."""
    require(actor, Permission.SHARING_CONSENT_RECORD, subject_type="person")
    return [
        p
        for p in session.exec(
            select(Person.id)
            .where(Person.controller_organisation_id == actor.organisation_id, col(Person.anonymised_at).is_(None))
            .order_by(col(Person.id).desc())
        )
        if p is not None
    ]
