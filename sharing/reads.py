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
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    ARRAY,
    JSON,
    Connection,
    Date,
    Executable,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    union,
)
from sqlalchemy import select as sa_select
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.elements import BindParameter, UnaryExpression
from sqlmodel import Session, col, select

from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.errors import NotFound, PermissionDenied
from sharing.models import AccessLog, ConsentRecord, Disclosure, DisclosureItem, InformationItem, Organisation, Person
from sharing.permissions import Actor, Permission
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


class _PersonRow(Protocol):
    """The person columns :func:`read_items` selects alongside each item."""

    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    address: str | None
    postcode: str | None
    phone: str | None
    email: str | None


def _person_fields(person: _PersonRow) -> list[tuple[str, str, str, DataCategory]]:
    values = {
        "name": f"{person.given_name} {person.family_name}".strip(),  # as Person.display_name
        "date_of_birth": person.date_of_birth.strftime("%-d %B %Y") if person.date_of_birth else "Not known",
        "address": ", ".join(p for p in (person.address, person.postcode) if p) or "Not known",
        "phone": person.phone or "Not known",
        "email": person.email or "Not known",
    }
    return [(key, PERSON_FIELD_LABELS[key], values[key], cat) for key, cat in PERSON_FIELD_CATEGORIES.items()]


def _fields(
    kind: str, category: str, content: list[dict[str, str]], person: _PersonRow | None
) -> list[tuple[str, str, str, DataCategory]]:
    if kind == ItemKind.PERSON_DETAILS and person is not None:
        return _person_fields(person)
    return [(f["key"], f["label"], f["value"], _category(f.get("category") or category)) for f in content]


_CATEGORIES = {str(c): c for c in DataCategory}


def _category(value: str) -> DataCategory:
    """``DataCategory(value)``, without the enum lookup's cost on every field of every item."""
    return _CATEGORIES.get(value) or DataCategory(value)


# --- The statements --------------------------------------------------------------------------
#
# Built once per database dialect with named parameters (:org, :today, ...), so a read costs
# only their execution: building and compiling these expressions costs more than running them.

_ORG: BindParameter[Any] = bindparam("org")
_TODAY = bindparam("today", type_=Date())
# Written into the SQL (our own constants), not bound: no per-call expansion of the list.
_LIVE: list[ColumnElement[Any]] = [literal_column(f"'{s}'") for s in sorted(str(s) for s in LIVE_STATUSES)]


def _unindexed(column: Any) -> ColumnElement[Any]:
    """SQLite's ``+column``: the same value, but no index on it is used to find rows."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _live_disclosure(*, probe_by_item: bool) -> ColumnElement[bool]:
    """The rule, in SQL and only here, for when a disclosure gives organisation ``:org``
    access on ``:today``: a live status, retention not passed, and its consent (if it rests on
    one) valid as :func:`sharing.rules.consent_is_valid` judges it: given on or before today,
    not expired before today, not withdrawn on or before today.

    ``probe_by_item`` (SQLite only) when the query reaches disclosures through
    ``disclosure_item.item_id``, a few per item: it keeps SQLite from finding them through
    the recipient or status index instead (every live disclosure to the organisation, or to
    anyone, once per item), which it would do without statistics or with the rough ones
    ``ANALYZE`` leaves under ``analysis_limit``.
    """
    recipient: Any = col(Disclosure.recipient_organisation_id)
    status: Any = col(Disclosure.status)
    if probe_by_item:
        recipient, status = _unindexed(recipient), _unindexed(status)
    consent_valid = (
        select(ConsentRecord.id)
        .where(
            col(ConsentRecord.id) == col(Disclosure.consent_id),
            col(ConsentRecord.given_on) <= _TODAY,
            or_(col(ConsentRecord.expires_on).is_(None), col(ConsentRecord.expires_on) >= _TODAY),
            or_(col(ConsentRecord.withdrawn_on).is_(None), col(ConsentRecord.withdrawn_on) > _TODAY),
        )
        .exists()
    )
    return and_(
        recipient == _ORG,
        status.in_(_LIVE),
        or_(col(Disclosure.retain_until).is_(None), col(Disclosure.retain_until) >= _TODAY),
        or_(col(Disclosure.consent_id).is_(None), consent_valid),
    )


def _connection(session: Session) -> Connection:
    """The session's connection, for running these statements without the ORM's per-query
    overhead; pending changes are flushed first, as a query through the session would."""
    session.flush()
    return session.connection()


def _among_ids(column: Any, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the list ``:ids``, passed as one parameter (a JSON array on SQLite,
    an array on PostgreSQL): no statement rewritten per call, and no limit on its length."""
    among: ColumnElement[bool]
    if dialect == "sqlite":
        among = column.in_(sa_select(literal_column("value")).select_from(func.json_each(_IDS_JSON)))
    elif dialect == "postgresql":
        among = column == any_(_IDS_ARRAY)
    else:
        among = column.in_(bindparam("ids", expanding=True))
    return among


_IDS_JSON = bindparam("ids", type_=JSON())
_IDS_ARRAY = bindparam("ids", type_=ARRAY(Integer()))


@cache
def _read_statement(dialect: str, with_grants: bool) -> Executable:
    """Items ``:ids`` with their owner's name and their person's fields and, with grants, one
    row per live disclosure to ``:org`` of each item another organisation owns.  An item of
    another organisation's with disclosures to ``:org`` but none live has no row at all."""
    item = InformationItem
    columns: list[Any] = [
        *(col(c) for c in (item.id, item.kind, item.owner_organisation_id, item.person_id, item.case_reference)),
        *(col(c) for c in (item.title, item.category, item.marking, item.content)),
        col(Organisation.name).label("owner_name"),
        *(col(c) for c in (Person.given_name, Person.family_name, Person.date_of_birth, Person.address)),
        *(col(c) for c in (Person.postcode, Person.phone, Person.email, Person.is_confidential_complainant)),
        col(Person.id).label("person_found"),
    ]
    if with_grants:
        columns += [col(Disclosure.id).label("disclosure_id"), col(Disclosure.categories), col(Disclosure.basis)]
    query = (
        sa_select(*columns)
        .outerjoin(Organisation, col(Organisation.id) == col(item.owner_organisation_id))
        .outerjoin(Person, col(Person.id) == col(item.person_id))
        .where(_among_ids(col(item.id), dialect))
    )
    if not with_grants:
        return query
    return (
        query.outerjoin(
            DisclosureItem,
            and_(col(DisclosureItem.item_id) == col(item.id), col(item.owner_organisation_id) != _ORG),
        )
        .outerjoin(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .where(or_(col(DisclosureItem.item_id).is_(None), _live_disclosure(probe_by_item=dialect == "sqlite")))
    )


@cache
def _walk_statement(dialect: str, by_person: bool, by_case: bool, windowed: bool) -> Executable:
    """Visible ids newest first, up to ``:limit``: each item kept if ``:org`` owns it or a
    live disclosure to ``:org`` covers it (probed per item); optionally only ``:person``'s,
    ``:case``'s, or the newest ``:window`` ids."""
    item = InformationItem
    probe: Select[Any] = (
        sa_select(literal_column("1"))
        .select_from(DisclosureItem)
        .join(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .where(col(DisclosureItem.item_id) == col(item.id), _live_disclosure(probe_by_item=dialect == "sqlite"))
    )
    if dialect != "sqlite":
        # PostgreSQL would otherwise hash every live disclosure to the organisation on each
        # call; an OFFSET keeps the probe per item.
        probe = probe.offset(0)
    query = select(item.id).where(or_(col(item.owner_organisation_id) == _ORG, probe.exists()))
    if by_person:
        query = query.where(col(item.person_id) == bindparam("person"))
    if by_case:
        query = query.where(col(item.case_reference) == bindparam("case"))
    if windowed:
        newest = select(func.max(item.id)).scalar_subquery()
        query = query.where(col(item.id) > newest - bindparam("window"))
    return query.order_by(col(item.id).desc()).limit(bindparam("limit"))


@cache
def _merge_statement(dialect: str) -> Executable:
    """The newest ``:limit`` ids ``:org`` owns merged with the newest ``:limit`` it has a live
    disclosure for (found through the recipient index), newest ``:limit`` first."""
    owned = (
        select(col(InformationItem.id).label("id"))
        .where(col(InformationItem.owner_organisation_id) == _ORG)
        .order_by(col(InformationItem.id).desc())
        .limit(bindparam("limit"))
        .subquery()
    )
    disclosed = (
        select(col(DisclosureItem.item_id).label("id"))
        .distinct()
        .join(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .where(_live_disclosure(probe_by_item=False))
        .order_by(col(DisclosureItem.item_id).desc())
        .limit(bindparam("limit"))
        .subquery()
    )
    merged = union(select(owned.c.id), select(disclosed.c.id)).subquery()
    return sa_select(merged.c.id).order_by(merged.c.id.desc()).limit(bindparam("limit"))


_INSERT_LOG = insert(AccessLog.__table__)  # type: ignore[attr-defined]


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grant:
    disclosure_id: int
    categories: frozenset[DataCategory]
    consent_based: bool


def _items_with_live_grants(
    session: Session, organisation_id: int | None, item_ids: Sequence[int], today: date
) -> tuple[dict[int, Any], dict[int, list[_Grant]]]:
    """The items (with owner name and person), and the live disclosures to
    ``organisation_id`` covering each of the others' items among them."""
    connection = _connection(session)
    dialect = connection.dialect.name
    wanted = list(set(item_ids))
    params = {"ids": wanted, "org": organisation_id, "today": today}
    items: dict[int, Any] = {}
    grants: dict[int, list[_Grant]] = {}
    for row in connection.execute(_read_statement(dialect, True), params):
        items[row.id] = row
        if row.disclosure_id is not None:
            grants.setdefault(row.id, []).append(
                _Grant(
                    disclosure_id=row.disclosure_id,
                    categories=frozenset(_category(c) for c in row.categories),
                    consent_based=row.basis == LawfulBasis.CONSENT,
                )
            )
    missing = [i for i in wanted if i not in items]
    if missing:
        # Gone, or another organisation's with no live disclosure to this one (a refusal).
        for row in connection.execute(_read_statement(dialect, False), {"ids": missing}):
            items[row.id] = row
    return items, grants


def _field_rule(grants: list[_Grant], confidential: bool) -> Callable[[DataCategory], bool]:
    """Whether a field of this category may be seen under these live grants."""
    covered: set[DataCategory] = set()
    for grant in grants:
        covered |= grant.categories
    consent_covered = {c for g in grants if g.consent_based for c in g.categories}

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
    items, grants = _items_with_live_grants(session, actor.organisation_id, item_ids, utcnow().date())
    views: list[ItemView] = []
    log: list[dict[str, Any]] = []
    disclosure_ids: tuple[int, ...]
    withheld_keys: list[str]
    for item_id in item_ids:
        row = items.get(item_id)
        if row is None:
            continue
        person = row if row.person_found is not None else None
        fields = _fields(row.kind, row.category, row.content, person)
        if row.owner_organisation_id == actor.organisation_id:
            shown = [FieldView(k, label, value, False) for k, label, value, _ in fields]
            access, disclosure_ids, withheld_keys = "owner", (), []
            log.append(_log_row(actor, row, None, via, access, withheld_keys))
        else:
            item_grants = grants.get(item_id, [])
            if not item_grants:
                log.append(_log_row(actor, row, None, via, "denied", [f[0] for f in fields]))
                record_event(
                    session, action=AuditAction.ITEM_READ_DENIED, outcome=Outcome.DENIED, actor=actor,
                    subject_type="information_item", subject_id=item_id, reason="not disclosed", detail={"via": via},
                )  # fmt: skip
                continue
            may_see = _field_rule(item_grants, person is not None and bool(row.is_confidential_complainant))
            shown = []
            withheld_keys = []
            for key, label, value, category in fields:
                allowed = may_see(category)
                shown.append(FieldView(key, label, value if allowed else WITHHELD, not allowed))
                if not allowed:
                    withheld_keys.append(key)
            access = "partial" if withheld_keys else "disclosed"
            disclosure_ids = tuple(sorted(g.disclosure_id for g in item_grants))
            log.append(_log_row(actor, row, disclosure_ids[0], via, access, withheld_keys))
        views.append(
            ItemView(
                id=item_id,
                kind=row.kind,
                title=row.title if access != "partial" or not _title_reveals(row.kind, person) else _safe_title(),
                owner_organisation=row.owner_name or "",
                category=CATEGORY_LABELS.get(_category(row.category), row.category),
                marking=row.marking,
                person_id=row.person_id,
                case_reference=row.case_reference,
                access=access,
                disclosure_ids=disclosure_ids,
                fields=tuple(shown),
            )
        )
    if log:
        # Every read and refusal of this call in one multi-row INSERT, in the order asked.
        occurred_at = utcnow()
        session.connection().execute(_INSERT_LOG, [{"occurred_at": occurred_at, **entry} for entry in log])
    session.flush()
    return views


def _title_reveals(kind: str, person: _PersonRow | None) -> bool:
    return kind == ItemKind.PERSON_DETAILS and person is not None


def _safe_title() -> str:
    return "Personal details"


def _log_row(
    actor: Actor, item: Any, disclosure_id: int | None, via: str, outcome: str, withheld: list[str]
) -> dict[str, Any]:
    """One access-log row (its person is the item's: the subject's access history)."""
    return {
        "user_id": actor.user_id,
        "organisation_id": actor.organisation_id,
        "item_id": item.id,
        "person_id": item.person_id,
        "disclosure_id": disclosure_id,
        "via": via[:60],
        "outcome": outcome,
        "withheld_fields": withheld,
    }


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


# How many of the newest ids the unfiltered walk of visible_item_ids looks at, per row asked
# for, before it merges the organisation's newest own and disclosed items instead.
WALK_PER_ROW = 5
WALK_MIN = 1000


def visible_item_ids(
    *,
    session: Session,
    actor: Actor,
    person_id: int | None = None,
    case_reference: str | None = None,
    limit: int = 200,
) -> list[int]:
    """Ids of items the actor's organisation owns or has a live disclosure for, newest first.
    Only ids: the content is read through :func:`read_items`.

    Items are walked newest first, each kept if the organisation owns it or a live disclosure
    to it covers it (a probe of the item's few disclosures), until ``limit`` are found; a
    person or case narrows the walk to their items.  Unfiltered, the walk looks at the newest
    ``max(WALK_MIN, WALK_PER_ROW * limit)`` ids only: for an organisation that sees few
    recent items, its newest own and newest disclosed items are merged instead, which costs
    about as much as it has live disclosures.
    """
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="information_item")
    if actor.organisation_id is None or limit <= 0:
        return []
    connection = _connection(session)
    dialect = connection.dialect.name
    params: dict[str, Any] = {"org": actor.organisation_id, "today": utcnow().date(), "limit": limit}
    if person_id is not None or case_reference is not None:
        params.update(person=person_id, case=case_reference)
        walk = _walk_statement(dialect, person_id is not None, case_reference is not None, False)
        return list(connection.execute(walk, params).scalars())
    params["window"] = max(WALK_MIN, WALK_PER_ROW * limit)
    ids = list(connection.execute(_walk_statement(dialect, False, False, True), params).scalars())
    if len(ids) == limit:
        return ids
    return list(connection.execute(_merge_statement(dialect), params).scalars())


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
    items, grants = _items_with_live_grants(session, organisation_id, item_ids, today or utcnow().date())
    result: dict[int, ItemVisibility] = {}
    for item_id in item_ids:
        row = items.get(item_id)
        if row is None:
            continue
        person = row if row.person_found is not None else None
        fields = _fields(row.kind, row.category, row.content, person)
        if row.owner_organisation_id == organisation_id:
            result[item_id] = ItemVisibility(item_id, True, tuple(f[1] for f in fields), ())
            continue
        item_grants = grants.get(item_id, [])
        if not item_grants:
            result[item_id] = ItemVisibility(item_id, False, (), tuple(f[1] for f in fields))
            continue
        may_see = _field_rule(item_grants, person is not None and bool(row.is_confidential_complainant))
        result[item_id] = ItemVisibility(
            item_id,
            True,
            tuple(label for _, label, _, category in fields if may_see(category)),
            tuple(label for _, label, _, category in fields if not may_see(category)),
        )
    return result
