"""Disclosures: deciding whether information may be shared, recording every decision (refusals
too) with what the ICO's Data Sharing Code asks for, second-person approval of legal gateways,
and retrospective review of emergency shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from sharing.models import (
    AgreementParty,
    ConsentRecord,
    Disclosure,
    DisclosureItem,
    InformationItem,
    Organisation,
    Person,
    Role,
    SharingAgreement,
)
from sharing.permissions import Actor, Permission
from sharing.rules import OrgRef, add_working_days, agreement_gap, agreement_is_in_force, consent_gap
from sharing.vocabulary import (
    PERSON_FIELD_CATEGORIES,
    DataCategory,
    DisclosureStatus,
    ItemKind,
    LawfulBasis,
    Purpose,
)


class DisclosureRefused(DomainError):
    """The share is not allowed; the message says exactly why.  The refusal is recorded."""


def item_categories(item: InformationItem) -> set[DataCategory]:
    """Every category of information an item holds (its fields', or its own)."""
    if item.kind == ItemKind.PERSON_DETAILS:
        return set(PERSON_FIELD_CATEGORIES.values())
    found = {DataCategory(f["category"]) for f in item.content if f.get("category")}
    return found or {DataCategory(item.category)}


@dataclass
class DisclosureRequest:
    item_ids: list[int]
    recipient_organisation_id: int
    purpose: Purpose
    basis: LawfulBasis
    justification: str = ""
    emergency: bool = False
    retain_until: date | None = None
    categories: list[DataCategory] | None = None  # None: everything the items hold


def _org(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("That organisation no longer exists.")
    return org


def _covering_agreement(
    session: Session,
    *,
    discloser: Organisation,
    recipient: Organisation,
    purpose: Purpose,
    categories: set[DataCategory],
    basis: LawfulBasis,
    today: date,
) -> tuple[SharingAgreement | None, str]:
    """The agreement that covers the share, or None and the reason in plain words."""
    assert discloser.id is not None and recipient.id is not None
    candidates = session.exec(
        select(SharingAgreement)
        .join(AgreementParty, col(AgreementParty.agreement_id) == col(SharingAgreement.id))
        .where(AgreementParty.organisation_id == discloser.id)
    ).all()
    best_gap: DataCategory | str | None = "parties"
    for agreement in candidates:
        assert agreement.id is not None
        parties = frozenset(
            session.exec(select(AgreementParty.organisation_id).where(AgreementParty.agreement_id == agreement.id))
        )
        gap = agreement_gap(
            agreement, party_ids=parties, discloser_id=discloser.id, recipient_id=recipient.id,
            purpose=purpose, categories=categories, today=today,
        )  # fmt: skip
        if gap is None:
            if str(basis) not in agreement.lawful_bases:
                best_gap = "basis"
                continue
            return agreement, ""
        if isinstance(gap, DataCategory) or best_gap == "parties":
            best_gap = gap
    between = f"between {discloser.name} and {recipient.name}"
    if isinstance(best_gap, DataCategory):
        return None, f"No active agreement {between} covers '{best_gap.label}' data for '{purpose.label}'."
    if best_gap == "purpose":
        return None, f"No active agreement {between} covers sharing for '{purpose.label}'."
    if best_gap == "basis":
        return None, f"The agreement {between} does not allow sharing on the basis of {basis.label}."
    return None, f"There is no active information sharing agreement {between}."


def _consent_for(
    session: Session,
    *,
    person: Person,
    recipient: Organisation,
    purpose: Purpose,
    categories: set[DataCategory],
    today: date,
) -> tuple[ConsentRecord | None, str]:
    consents = session.exec(
        select(ConsentRecord).where(ConsentRecord.person_id == person.id).order_by(col(ConsentRecord.id).desc())
    ).all()
    assert recipient.id is not None
    ref = OrgRef(recipient.id, recipient.name, str(recipient.type))
    worst: DataCategory | str | None = "none"
    for consent in consents:
        gap = consent_gap(consent, recipient=ref, purpose=purpose, categories=categories, today=today)
        if gap is None:
            return consent, ""
        if worst == "none" or isinstance(gap, DataCategory):
            worst = gap
    name = person.display_name
    if worst == "none":
        return None, f"{name} has not given consent to share their information."
    if worst == "not_valid":
        return None, f"{name}'s consent has been withdrawn or has expired."
    if worst == "recipient":
        return None, f"{name}'s consent does not cover sharing with {recipient.name}."
    if worst == "purpose":
        return None, f"{name}'s consent does not cover sharing for '{purpose.label}'."
    assert isinstance(worst, DataCategory)
    return None, f"{name}'s consent does not cover sharing '{worst.label}' data with {recipient.name}."


NOT_YOURS = "You can only share information your own organisation holds."


def _refusal_recorder(disclosure: Disclosure, item_ids: list[int], actor: Actor) -> Callable[[Session], None]:
    """The durable effect that keeps a refused disclosure, its items and its audit row."""
    reason = disclosure.refusal_reason
    unique_item_ids = sorted(set(item_ids))

    def _record_refusal(durable: Session) -> None:
        refused = Disclosure.model_validate(disclosure.model_dump())
        durable.add(refused)
        durable.flush()
        for item_id in unique_item_ids:
            durable.add(DisclosureItem(disclosure_id=refused.id, item_id=item_id))  # type: ignore[arg-type]
        record_event(
            durable, action=AuditAction.DISCLOSURE_REFUSED, outcome=Outcome.DENIED, actor=actor,
            subject_type="disclosure", subject_id=refused.id, reason=reason[:500],
        )  # fmt: skip

    return _record_refusal


def request_disclosure(*, session: Session, actor: Actor, request: DisclosureRequest) -> Disclosure:
    """Decide a share and record the decision.

    Allowed only when an active agreement covers both organisations, the purpose and every
    category, and either valid consent covers recipient, purpose and categories, or a legal
    gateway is recorded with a justification (then it waits for a second person's approval),
    or it is an emergency share under a gateway (live at once, reviewed within the configured
    number of working days).  A refusal raises :class:`DisclosureRefused` and is recorded.
    """
    require(actor, Permission.SHARING_DISCLOSURES_REQUEST, subject_type="disclosure")
    return _decide(session, actor, request)


NOT_SAID_BY_YOU = "Only what you said yourself can be recorded as what you told the meeting."


def record_spoken_disclosure(*, session: Session, actor: Actor, request: DisclosureRequest) -> Disclosure:
    """Record information the actor told a panel meeting as a disclosure from their
    organisation, decided by the same rules as :func:`request_disclosure` (a refusal is
    recorded: it shows something was said without a basis).

    It needs only :attr:`Permission.PANELS_MEETINGS_SHARE_VERBALLY`, so a partner at the panel
    can record what they said, and it shares nothing but the record of what they said: items
    the actor wrote themselves.  Callers check that the actor was at the meeting."""
    require(actor, Permission.PANELS_MEETINGS_SHARE_VERBALLY, subject_type="disclosure")
    authors = set(
        session.exec(
            select(InformationItem.created_by_user_id).where(col(InformationItem.id).in_(request.item_ids))
        ).all()
    )
    if actor.user_id is None or authors != {actor.user_id}:
        raise denied(actor, NOT_SAID_BY_YOU, reason="not the speaker's own words", subject_type="disclosure")
    return _decide(session, actor, request)


def _decide(session: Session, actor: Actor, request: DisclosureRequest) -> Disclosure:
    """The share decided and recorded, for an actor already allowed to ask for it."""
    settings = get_settings()
    now = utcnow()
    today = now.date()
    if not request.item_ids:
        raise InvalidInput({"items": "Choose what to share."})
    items = session.exec(select(InformationItem).where(col(InformationItem.id).in_(request.item_ids))).all()
    if len(items) != len(set(request.item_ids)):
        raise InvalidInput({"items": "Some of that information no longer exists."})
    foreign = any(item.owner_organisation_id != actor.organisation_id for item in items)
    if foreign and actor.organisation_id is None:
        raise PermissionDenied(NOT_YOURS)
    assert actor.organisation_id is not None
    discloser = _org(session, actor.organisation_id)
    recipient = _org(session, request.recipient_organisation_id)
    if foreign:
        # Refused like any other share, so the attempt stays on record.
        attempt = Disclosure(
            status=DisclosureStatus.REFUSED,
            discloser_organisation_id=discloser.id,  # type: ignore[arg-type]
            recipient_organisation_id=recipient.id,  # type: ignore[arg-type]
            purpose=request.purpose,
            basis=request.basis,
            categories=sorted({str(c) for item in items for c in item_categories(item)}),
            what_was_shared="; ".join(sorted(item.title for item in items))[:1000],
            justification=request.justification.strip(),
            emergency=request.emergency,
            requested_by_user_id=actor.user_id,
            requested_at=now,
            decided_at=now,
            refusal_reason=NOT_YOURS,
        )
        raise PermissionDenied(NOT_YOURS, durable_effects=[_refusal_recorder(attempt, request.item_ids, actor)])
    if recipient.id == discloser.id:
        raise InvalidInput({"recipient": "Choose another organisation to share with."})
    held: set[DataCategory] = set()
    for item in items:
        held |= item_categories(item)
    categories = set(request.categories) & held if request.categories else held
    if not categories:
        raise InvalidInput({"categories": "Choose at least one kind of information to share."})
    justification = request.justification.strip()
    if request.basis.is_gateway and len(justification) < settings.disclosure_justification_min_chars:
        raise InvalidInput(
            {
                "justification": (
                    "Explain why sharing without consent is necessary and proportionate "
                    f"(at least {settings.disclosure_justification_min_chars} characters)."
                )
            }
        )
    if request.emergency and not request.basis.is_gateway:
        raise InvalidInput({"emergency": "An emergency share must rest on a legal gateway, not consent."})
    what = "; ".join(sorted(item.title for item in items))[:1000]
    retain_until = request.retain_until or date(today.year + settings.disclosure_retention_years, today.month, 1)

    disclosure = Disclosure(
        status=DisclosureStatus.REFUSED,
        discloser_organisation_id=discloser.id,  # type: ignore[arg-type]
        recipient_organisation_id=recipient.id,  # type: ignore[arg-type]
        purpose=request.purpose,
        basis=request.basis,
        categories=sorted(str(c) for c in categories),
        what_was_shared=what,
        justification=justification,
        emergency=request.emergency,
        retain_until=retain_until,
        requested_by_user_id=actor.user_id,
        requested_at=now,
    )

    agreement, reason = _covering_agreement(
        session, discloser=discloser, recipient=recipient, purpose=request.purpose,
        categories=categories, basis=request.basis, today=today,
    )  # fmt: skip
    consent: ConsentRecord | None = None
    people = sorted({item.person_id for item in items if item.person_id is not None})
    if agreement is not None and request.basis == LawfulBasis.CONSENT and len(people) > 1:
        # A disclosure rests on one consent record: withdrawing any one person's consent must
        # be able to stop it, so each person's information is shared separately.
        reason = "Share each person's information separately when consent is the basis."
    elif agreement is not None and request.basis == LawfulBasis.CONSENT:
        for person_id in people:
            person = session.get(Person, person_id)
            assert person is not None
            consent, reason = _consent_for(
                session, person=person, recipient=recipient, purpose=request.purpose,
                categories=categories, today=today,
            )  # fmt: skip
            if consent is None:
                break
        else:
            if consent is None:
                reason = "Consent can only be the basis when the information is about a person on record."
    if reason:
        disclosure.refusal_reason = reason
        disclosure.decided_at = now
        raise DisclosureRefused(reason, durable_effects=[_refusal_recorder(disclosure, request.item_ids, actor)])

    assert agreement is not None
    disclosure.agreement_id = agreement.id
    if request.basis == LawfulBasis.CONSENT:
        assert consent is not None
        disclosure.consent_id = consent.id
        disclosure.status = DisclosureStatus.ACTIVE
        disclosure.decided_by_user_id = actor.user_id
        disclosure.decided_at = now
        action = AuditAction.DISCLOSURE_APPROVED
    elif request.emergency:
        disclosure.status = DisclosureStatus.EMERGENCY
        disclosure.decided_by_user_id = actor.user_id
        disclosure.decided_at = now
        disclosure.review_due_at = add_working_days(now, settings.emergency_review_working_days)
        action = AuditAction.DISCLOSURE_EMERGENCY
    else:
        disclosure.status = DisclosureStatus.AWAITING_APPROVAL
        action = AuditAction.DISCLOSURE_REQUESTED
    session.add(disclosure)
    session.flush()
    assert disclosure.id is not None
    for item in items:
        session.add(DisclosureItem(disclosure_id=disclosure.id, item_id=item.id))  # type: ignore[arg-type]
    record_event(
        session, action=action, outcome=Outcome.SUCCESS, actor=actor, subject_type="disclosure",
        subject_id=disclosure.id,
        detail={"recipient": recipient.id, "basis": str(request.basis), "purpose": str(request.purpose)},
    )  # fmt: skip
    session.flush()
    return disclosure


def _for_decision(session: Session, actor: Actor, disclosure_id: int) -> Disclosure:
    require(actor, Permission.SHARING_DISCLOSURES_APPROVE, subject_type="disclosure", subject_id=disclosure_id)
    if Role.INFORMATION_SHARING_OFFICER not in actor.roles:
        raise _decision_denied(
            actor, disclosure_id, "Only an information-sharing officer can approve sharing without consent.", "not ISO"
        )
    disclosure = session.get(Disclosure, disclosure_id)
    if disclosure is None:
        raise NotFound("That disclosure no longer exists.")
    if disclosure.requested_by_user_id == actor.user_id:
        raise _decision_denied(
            actor, disclosure_id, "A second person must approve this: you asked for it yourself.", "own request"
        )
    return disclosure


def _decision_denied(actor: Actor, disclosure_id: int, message: str, reason: str) -> PermissionDenied:
    """A refused approval or review, audited although the action rolls back."""

    def _audit(durable: Session) -> None:
        record_event(
            durable, action=AuditAction.PERMISSION_DENIED, outcome=Outcome.DENIED, actor=actor,
            subject_type="disclosure", subject_id=disclosure_id, reason=reason,
        )  # fmt: skip

    return PermissionDenied(message, durable_effects=[_audit])


def decide_disclosure(
    *, session: Session, actor: Actor, disclosure_id: int, approve: bool, note: str = ""
) -> Disclosure:
    """The second person's decision on a share under a legal gateway."""
    disclosure = _for_decision(session, actor, disclosure_id)
    if disclosure.status != DisclosureStatus.AWAITING_APPROVAL:
        raise InvalidInput({"disclosure": "This disclosure is not waiting for approval."})
    if not approve and not note.strip():
        raise InvalidInput({"note": "Say why you are not approving it; the requester will see this."})
    if approve:
        agreement = session.get(SharingAgreement, disclosure.agreement_id) if disclosure.agreement_id else None
        if agreement is None or not agreement_is_in_force(agreement, utcnow().date()):
            raise InvalidInput(
                {"disclosure": "The agreement this share rests on is no longer active, so it cannot be approved."}
            )
    disclosure.status = DisclosureStatus.ACTIVE if approve else DisclosureStatus.REJECTED
    disclosure.decided_by_user_id = actor.user_id
    disclosure.decided_at = utcnow()
    disclosure.review_note = note.strip()
    session.add(disclosure)
    record_event(
        session, action=AuditAction.DISCLOSURE_APPROVED if approve else AuditAction.DISCLOSURE_REJECTED,
        outcome=Outcome.SUCCESS, actor=actor, subject_type="disclosure", subject_id=disclosure_id,
        reason=note.strip() or None,
    )  # fmt: skip
    return disclosure


def review_emergency_disclosure(
    *, session: Session, actor: Actor, disclosure_id: int, upheld: bool, note: str
) -> Disclosure:
    """The retrospective review of an emergency share: upheld (stays live) or revoked."""
    disclosure = _for_decision(session, actor, disclosure_id)
    if disclosure.status != DisclosureStatus.EMERGENCY:
        raise InvalidInput({"disclosure": "This is not an emergency share awaiting review."})
    if not note.strip():
        raise InvalidInput({"note": "Record the outcome of your review."})
    disclosure.status = DisclosureStatus.ACTIVE if upheld else DisclosureStatus.REVOKED
    disclosure.reviewed_by_user_id = actor.user_id
    disclosure.reviewed_at = utcnow()
    disclosure.review_note = note.strip()
    session.add(disclosure)
    record_event(
        session, action=AuditAction.DISCLOSURE_REVIEWED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="disclosure", subject_id=disclosure_id, detail={"upheld": upheld},
    )  # fmt: skip
    return disclosure


def overdue_emergency_reviews(session: Session, now: datetime) -> list[Disclosure]:
    return list(
        session.exec(
            select(Disclosure).where(
                Disclosure.status == DisclosureStatus.EMERGENCY, col(Disclosure.review_due_at) < now
            )
        )
    )
