"""Need-to-know reads: the one chokepoint every list, detail page, search, pack and export
of case or person information goes through.

It decides what the actor's organisation may see of each item (its own records in full;
others' only the fields a live disclosure covers), fills every withheld field with
the withheld-field notice (``WITHHELD``), and writes each read and each refusal to the
access log (refusals to the audit trail as well).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import NotFound, PermissionDenied
from sharing.models import AccessLog, ConsentRecord, Disclosure, DisclosureItem, InformationItem, Organisation, Person
from sharing.permissions import Actor, Permission
from sharing.rules import consent_is_valid
from sharing.vocabulary import (
    CATEGORY_LABELS,
    LIVE_STATUSES,
    PERSON_FIELD_CATEGORIES,
    PERSON_FIELD_LABELS,
    WITHHELD,
    DataCategory,
    ItemKind,
    LawfulBasis,
)

NOT_SHARED = "This information has not been shared with your organisation."
IDENTITY_CATEGORIES = frozenset({DataCategory.IDENTITY, DataCategory.CONTACT})


@dataclass(frozen=True)
class FieldView:
    key: str
    label: str
    value: str
    withheld: bool


@dataclass(frozen=True)
class ItemView:
    id: int
    kind: str
    title: str
    owner_organisation: str
    category: str
    marking: str
    person_id: int | None
    case_reference: str | None
    access: str  # owner, disclosed, partial
    disclosure_ids: tuple[int, ...]
    fields: tuple[FieldView, ...]


def _person_fields(person: Person) -> list[tuple[str, str, str, DataCategory]]:
    values = {
        "name": person.display_name,
        "date_of_birth": person.date_of_birth.strftime("%-d %B %Y") if person.date_of_birth else "Not known",
        "address": ", ".join(p for p in (person.address, person.postcode) if p) or "Not known",
        "phone": person.phone or "Not known",
        "email": person.email or "Not known",
    }
    return [(key, PERSON_FIELD_LABELS[key], values[key], cat) for key, cat in PERSON_FIELD_CATEGORIES.items()]


def _fields(item: InformationItem, person: Person | None) -> list[tuple[str, str, str, DataCategory]]:
    if item.kind == ItemKind.PERSON_DETAILS and person is not None:
        return _person_fields(person)
    return [(f["key"], f["label"], f["value"], DataCategory(f.get("category") or item.category)) for f in item.content]


@dataclass(frozen=True)
class _Grant:
    disclosure_id: int
    categories: frozenset[DataCategory]
    consent_based: bool


def _live_grants(
    session: Session, organisation_id: int, item_ids: Sequence[int], today: date
) -> dict[int, list[_Grant]]:
    """Live disclosures to ``organisation_id`` covering each item (consent still valid)."""
    rows = session.exec(
        select(DisclosureItem.item_id, Disclosure, ConsentRecord)
        .join(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .outerjoin(ConsentRecord, col(ConsentRecord.id) == col(Disclosure.consent_id))
        .where(
            col(DisclosureItem.item_id).in_(list(item_ids)),
            Disclosure.recipient_organisation_id == organisation_id,
            col(Disclosure.status).in_([str(s) for s in LIVE_STATUSES]),
        )
    ).all()
    grants: dict[int, list[_Grant]] = {}
    for item_id, disclosure, consent in rows:
        if consent is not None and not consent_is_valid(consent, today):
            continue
        if disclosure.retain_until is not None and disclosure.retain_until < today:
            continue
        assert disclosure.id is not None
        grants.setdefault(item_id, []).append(
            _Grant(
                disclosure_id=disclosure.id,
                categories=frozenset(DataCategory(c) for c in disclosure.categories),
                consent_based=disclosure.basis == LawfulBasis.CONSENT,
            )
        )
    return grants


def _field_rule(grants: list[_Grant], person: Person | None) -> Callable[[DataCategory], bool]:
    """Whether a field of this category may be seen under these live grants."""
    covered: set[DataCategory] = set()
    for grant in grants:
        covered |= grant.categories
    consent_covered = {c for g in grants if g.consent_based for c in g.categories}
    confidential = person is not None and person.is_confidential_complainant

    def allowed(category: DataCategory) -> bool:
        if category not in covered:
            return False
        if confidential and category in IDENTITY_CATEGORIES:
            # A confidential complainant's identity goes only where their consent says.
            return category in consent_covered
        return True

    return allowed


def read_items(*, session: Session, actor: Actor, item_ids: Sequence[int], via: str) -> list[ItemView]:
    """What ``actor`` may see of these items, in the order asked; items they may not see at
    all are left out (and the refused attempt is logged)."""
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="information_item")
    if not item_ids:
        return []
    now = utcnow()
    today = now.date()
    items = {i.id: i for i in session.exec(select(InformationItem).where(col(InformationItem.id).in_(list(item_ids))))}
    person_ids = {i.person_id for i in items.values() if i.person_id is not None}
    people = {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(person_ids)))} if person_ids else {}
    owner_names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    foreign = [i for i in items.values() if i.owner_organisation_id != actor.organisation_id]
    grants = (
        _live_grants(session, actor.organisation_id, [i.id for i in foreign if i.id is not None], today)
        if foreign and actor.organisation_id is not None
        else {}
    )
    views: list[ItemView] = []
    disclosure_ids: tuple[int, ...]
    withheld_keys: list[str]
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None:
            continue
        person = people.get(item.person_id) if item.person_id is not None else None
        fields = _fields(item, person)
        if item.owner_organisation_id == actor.organisation_id:
            shown = [FieldView(k, label, value, False) for k, label, value, _ in fields]
            access, disclosure_ids, withheld_keys = "owner", (), []
            _log(session, actor, item, person, None, via, access, withheld_keys)
        else:
            item_grants = grants.get(item_id, [])
            if not item_grants:
                _log(session, actor, item, person, None, via, "denied", [f[0] for f in fields])
                record_event(
                    session, action=AuditAction.ITEM_READ_DENIED, outcome=Outcome.DENIED, actor=actor,
                    subject_type="information_item", subject_id=item_id, reason="not disclosed", detail={"via": via},
                )  # fmt: skip
                continue
            may_see = _field_rule(item_grants, person)
            shown = []
            withheld_keys = []
            for key, label, value, category in fields:
                allowed = may_see(category)
                shown.append(FieldView(key, label, value if allowed else WITHHELD, not allowed))
                if not allowed:
                    withheld_keys.append(key)
            access = "partial" if withheld_keys else "disclosed"
            disclosure_ids = tuple(sorted(g.disclosure_id for g in item_grants))
            _log(session, actor, item, person, disclosure_ids[0], via, access, withheld_keys)
        views.append(
            ItemView(
                id=item_id,
                kind=item.kind,
                title=item.title if access != "partial" or not _title_reveals(item, person) else _safe_title(item),
                owner_organisation=owner_names.get(item.owner_organisation_id, ""),
                category=CATEGORY_LABELS.get(DataCategory(item.category), item.category),
                marking=item.marking,
                person_id=item.person_id,
                case_reference=item.case_reference,
                access=access,
                disclosure_ids=disclosure_ids,
                fields=tuple(shown),
            )
        )
    session.flush()
    return views


def _title_reveals(item: InformationItem, person: Person | None) -> bool:
    return item.kind == ItemKind.PERSON_DETAILS and person is not None


def _safe_title(item: InformationItem) -> str:
    return "Personal details"


def _log(
    session: Session,
    actor: Actor,
    item: InformationItem,
    person: Person | None,
    disclosure_id: int | None,
    via: str,
    outcome: str,
    withheld: list[str],
) -> None:
    session.add(
        AccessLog(
            user_id=actor.user_id,
            organisation_id=actor.organisation_id,
            item_id=item.id,
            person_id=person.id if person else item.person_id,
            disclosure_id=disclosure_id,
            via=via[:60],
            outcome=outcome,
            withheld_fields=withheld,
        )
    )


def read_item(*, session: Session, actor: Actor, item_id: int, via: str) -> ItemView:
    """One item, or :class:`PermissionDenied` (logged) when nothing of it was shared."""
    item = session.get(InformationItem, item_id)
    if item is None:
        raise NotFound("That information no longer exists.")
    person_id = item.person_id
    views = read_items(session=session, actor=actor, item_ids=[item_id], via=via)
    if not views:
        # The refusal must stay on record although this action fails and rolls back.
        def _keep(durable: Session) -> None:
            durable.add(
                AccessLog(
                    user_id=actor.user_id, organisation_id=actor.organisation_id, item_id=item_id,
                    person_id=person_id, via=via[:60], outcome="denied",
                )
            )  # fmt: skip
            record_event(
                durable, action=AuditAction.ITEM_READ_DENIED, outcome=Outcome.DENIED, actor=actor,
                subject_type="information_item", subject_id=item_id, reason="not disclosed", detail={"via": via},
            )  # fmt: skip

        raise PermissionDenied(NOT_SHARED, durable_effects=[_keep])
    return views[0]


def visible_item_ids(
    *,
    session: Session,
    actor: Actor,
    person_id: int | None = None,
    case_reference: str | None = None,
    limit: int = 200,
) -> list[int]:
    """Ids of items the actor's organisation owns or has a live disclosure for, newest first.
    Only ids: the content is read through :func:`read_items`."""
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="information_item")
    today = utcnow().date()
    # Live as ``_live_grants`` means it: consent (if any) still valid, retention not passed.
    disclosed = (
        select(DisclosureItem.item_id)
        .join(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .outerjoin(ConsentRecord, col(ConsentRecord.id) == col(Disclosure.consent_id))
        .where(
            Disclosure.recipient_organisation_id == actor.organisation_id,
            col(Disclosure.status).in_([str(s) for s in LIVE_STATUSES]),
            or_(col(Disclosure.retain_until).is_(None), col(Disclosure.retain_until) >= today),
            or_(
                col(Disclosure.consent_id).is_(None),
                and_(
                    col(ConsentRecord.given_on) <= today,
                    or_(col(ConsentRecord.expires_on).is_(None), col(ConsentRecord.expires_on) >= today),
                    or_(col(ConsentRecord.withdrawn_on).is_(None), col(ConsentRecord.withdrawn_on) > today),
                ),
            ),
        )
    )
    query = select(InformationItem.id).where(
        or_(col(InformationItem.owner_organisation_id) == actor.organisation_id, col(InformationItem.id).in_(disclosed))
    )
    if person_id is not None:
        query = query.where(InformationItem.person_id == person_id)
    if case_reference is not None:
        query = query.where(InformationItem.case_reference == case_reference)
    return [i for i in session.exec(query.order_by(col(InformationItem.id).desc()).limit(limit)) if i is not None]


@dataclass(frozen=True)
class ItemVisibility:
    """What an organisation would see of an item: nothing, or these fields (and not those)."""

    item_id: int
    visible: bool
    shown_fields: tuple[str, ...]  # labels
    withheld_fields: tuple[str, ...]  # labels


def preview_visibility(
    session: Session, organisation_id: int, item_ids: Sequence[int], *, today: date | None = None
) -> dict[int, ItemVisibility]:
    """What ``organisation_id`` would see of each item under the same live-disclosure rule as
    :func:`read_items`, without reading anything as that organisation (so nothing is logged).
    Callers show it only to the items' owner (e.g. a lead officer previewing a panel pack)."""
    if not item_ids:
        return {}
    today = today or utcnow().date()
    items = {i.id: i for i in session.exec(select(InformationItem).where(col(InformationItem.id).in_(list(item_ids))))}
    person_ids = {i.person_id for i in items.values() if i.person_id is not None}
    people = {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(person_ids)))} if person_ids else {}
    foreign = [i.id for i in items.values() if i.id is not None and i.owner_organisation_id != organisation_id]
    grants = _live_grants(session, organisation_id, foreign, today) if foreign else {}
    result: dict[int, ItemVisibility] = {}
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None:
            continue
        person = people.get(item.person_id) if item.person_id is not None else None
        fields = _fields(item, person)
        if item.owner_organisation_id == organisation_id:
            result[item_id] = ItemVisibility(item_id, True, tuple(f[1] for f in fields), ())
            continue
        item_grants = grants.get(item_id, [])
        if not item_grants:
            result[item_id] = ItemVisibility(item_id, False, (), tuple(f[1] for f in fields))
            continue
        may_see = _field_rule(item_grants, person)
        result[item_id] = ItemVisibility(
            item_id,
            True,
            tuple(label for _, label, _, category in fields if may_see(category)),
            tuple(label for _, label, _, category in fields if not may_see(category)),
        )
    return result
