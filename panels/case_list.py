"""The case list: the cases an organisation leads, and those whose summary a partner has
been shown through a live disclosure.

The database picks and orders the page's cases (filters, sorting, paging, with the total);
what each row *shows* comes from the need-to-know chokepoint, ``sharing.reads.read_items``,
so a partner sees exactly what was disclosed and every view is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, case, cast, func, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from panels.case_models import Case
from panels.policy import get_case_policy
from panels.vocabulary import CaseStage, CaseStatus, CaseType
from sharing.access import require
from sharing.db import utcnow
from sharing.errors import InvalidInput
from sharing.models import ConsentRecord, Disclosure, DisclosureItem, User, UserRole
from sharing.permissions import ROLE_PERMISSIONS, Actor, Permission
from sharing.reads import ItemView, read_items
from sharing.vocabulary import LIVE_STATUSES

MAX_PAGE_SIZE = 100


class CaseSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    RISK = "risk"  # highest first
    FIRST_CONTACT = "first_contact"  # soonest deadline first
    REFERENCE = "reference"

    @property
    def label(self) -> str:
        return {
            CaseSort.NEWEST: "Newest first",
            CaseSort.OLDEST: "Oldest first",
            CaseSort.RISK: "Highest risk first",
            CaseSort.FIRST_CONTACT: "First contact due soonest",
            CaseSort.REFERENCE: "Reference",
        }[self]


class StatusFilter(StrEnum):
    OPEN = "open"  # open or awaiting closure approval
    CLOSED = "closed"
    ALL = "all"


@dataclass
class CaseFilters:
    status: str = StatusFilter.OPEN
    risk_rank: int | None = None
    stage: str | None = None
    case_type: str | None = None
    lead_officer_user_id: int | None = None
    overdue_first_contact: bool = False
    case_review_eligible: bool = False
    search: str = ""  # part of a reference


@dataclass(frozen=True)
class CaseRow:
    """One line of the list, as the actor's organisation may see it."""

    case_id: int
    reference: str
    status: str
    stage: str
    category: str
    types: str
    risk: str
    first_contact_due_at: datetime | None
    location: str
    area: str
    lead_organisation: str
    lead_officer: str
    overdue: bool
    case_review_eligible: bool
    is_lead: bool
    access: str  # owner, disclosed, partial


@dataclass(frozen=True)
class CasePage:
    rows: tuple[CaseRow, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def live_items_disclosed_to(organisation_id: int, today: date) -> SelectOfScalar[int]:
    """Ids of the items a live disclosure to ``organisation_id`` covers.

    "Live" exactly as ``sharing.reads`` means it: an active or emergency disclosure, not past
    its retention date, and any consent it rests on given, not expired and not withdrawn
    by ``today``.
    """
    consent_valid = (
        select(col(ConsentRecord.id))
        .where(
            col(ConsentRecord.id) == col(Disclosure.consent_id),
            col(ConsentRecord.given_on) <= today,
            or_(col(ConsentRecord.expires_on).is_(None), col(ConsentRecord.expires_on) >= today),
            or_(col(ConsentRecord.withdrawn_on).is_(None), col(ConsentRecord.withdrawn_on) > today),
        )
        .exists()
    )
    # The consent check as a correlated EXISTS, not an outer join: only disclosures that rest
    # on consent look their record up (a join makes PostgreSQL hash every consent record).
    return (
        select(col(DisclosureItem.item_id))
        .join(Disclosure, col(Disclosure.id) == col(DisclosureItem.disclosure_id))
        .where(
            col(Disclosure.recipient_organisation_id) == organisation_id,
            col(Disclosure.status).in_([str(s) for s in LIVE_STATUSES]),
            or_(col(Disclosure.retain_until).is_(None), col(Disclosure.retain_until) >= today),
            or_(col(Disclosure.consent_id).is_(None), consent_valid),
        )
    )


def summary_disclosed_to(organisation_id: int, today: date) -> ColumnElement[bool]:
    """Whether a live disclosure to ``organisation_id`` covers the case's summary item."""
    return col(Case.summary_item_id).in_(live_items_disclosed_to(organisation_id, today))


def _conditions(filters: CaseFilters, now: datetime) -> list[ColumnElement[bool]]:
    errors: dict[str, str] = {}
    if filters.status not in {s.value for s in StatusFilter}:
        errors["status"] = "Choose open, closed or all cases."
    if filters.stage is not None and filters.stage not in {s.value for s in CaseStage}:
        errors["stage"] = "Choose a stage from the list."
    if filters.case_type is not None and filters.case_type not in {t.value for t in CaseType}:
        errors["case_type"] = "Choose a type of behaviour from the list."
    if errors:
        raise InvalidInput(errors)
    conditions: list[ColumnElement[bool]] = []
    # Partners filter only on what they can see: every field of the summary item (reference,
    # status, stage, types, risk, first contact, lead) is ASB history, the summary's only
    # category, so a disclosure of the summary covers all of them.
    if filters.status == StatusFilter.OPEN:
        conditions.append(col(Case.status).in_([CaseStatus.OPEN, CaseStatus.CLOSURE_REQUESTED]))
    elif filters.status == StatusFilter.CLOSED:
        conditions.append(col(Case.status) == CaseStatus.CLOSED)
    if filters.risk_rank is not None:
        conditions.append(col(Case.risk_rank) == filters.risk_rank)
    if filters.stage is not None:
        conditions.append(col(Case.stage) == filters.stage)
    if filters.case_type is not None:
        # The JSON list as text contains the quoted value: the same on SQLite and PostgreSQL
        # (the value is one of CaseType's, so it holds no LIKE wildcards).
        conditions.append(cast(col(Case.types), String).like(f'%"{filters.case_type}"%'))
    if filters.lead_officer_user_id is not None:
        conditions.append(col(Case.lead_officer_user_id) == filters.lead_officer_user_id)
    if filters.overdue_first_contact:
        conditions.append(col(Case.first_contact_due_at) < now)
        conditions.append(col(Case.first_contact_made_at).is_(None))
    if filters.case_review_eligible:
        conditions.append(col(Case.case_review_eligible).is_(True))
    if filters.search.strip():
        conditions.append(col(Case.reference).icontains(filters.search.strip(), autoescape=True))
    return conditions


def _order(sort: CaseSort) -> list[Any]:
    if sort == CaseSort.OLDEST:
        return [col(Case.opened_at).asc(), col(Case.id).asc()]
    if sort == CaseSort.RISK:
        return [col(Case.risk_rank).desc(), col(Case.opened_at).desc(), col(Case.id).desc()]
    if sort == CaseSort.FIRST_CONTACT:
        # Cases without a deadline last, on either database.
        no_deadline = case((col(Case.first_contact_due_at).is_(None), 1), else_=0)
        return [no_deadline, col(Case.first_contact_due_at).asc(), col(Case.id).asc()]
    if sort == CaseSort.REFERENCE:
        return [col(Case.reference).asc()]
    return [col(Case.opened_at).desc(), col(Case.id).desc()]


def _parse_when(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _row(case_row: Any, view: ItemView, actor: Actor, now: datetime) -> CaseRow:
    """A row of the list from the case's columns (``id``, ``lead_organisation_id``,
    ``first_contact_made_at``, ``case_review_eligible``) and its summary as the reader sees it."""
    shown = {f.key: f for f in view.fields}

    def value(key: str) -> str:
        found = shown.get(key)
        return found.value if found else ""

    due_field = shown.get("first_contact_due")
    due = _parse_when(due_field.value) if due_field and not due_field.withheld else None
    assert case_row.id is not None
    return CaseRow(
        case_id=case_row.id,
        reference=view.case_reference or value("reference"),
        status=value("status"),
        stage=value("stage"),
        category=value("category"),
        types=value("types"),
        risk=value("risk"),
        first_contact_due_at=due,
        location=value("location"),
        area=value("area"),
        lead_organisation=value("lead_organisation"),
        lead_officer=value("lead_officer"),
        # Both flags are ASB history of a case whose summary the reader may see.
        overdue=due is not None and due < now and case_row.first_contact_made_at is None,
        case_review_eligible=case_row.case_review_eligible,
        is_lead=case_row.lead_organisation_id == actor.organisation_id,
        access=view.access,
    )


def list_cases(
    *,
    session: Session,
    actor: Actor,
    filters: CaseFilters | None = None,
    sort: CaseSort | str = CaseSort.NEWEST,
    page: int = 1,
    page_size: int = 25,
    now: datetime | None = None,
) -> CasePage:
    """One page of the cases the actor's organisation leads or has been shown.

    Each row is read through ``sharing.reads.read_items`` (``via="case list"``): partners see
    exactly what was disclosed, and every row shown is logged.
    """
    require(actor, Permission.CASES_CASES_READ, subject_type="case")
    filters = filters or CaseFilters()
    try:
        order = CaseSort(sort)
    except ValueError:
        raise InvalidInput({"sort": "Choose how to sort the list."}) from None
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    if actor.organisation_id is None:
        return CasePage(rows=(), total=0, page=page, page_size=page_size)
    now = now or utcnow()
    conditions = _conditions(filters, now)
    organisation_id = actor.organisation_id
    # The cases the organisation leads (its summary's owner: opening a case and passing its lead
    # keep them together), and those led by others whose summary a live disclosure shows it.
    # Two branches, so each walks its own index: the lead's cases newest first, the partner's
    # from its disclosures.
    owned = [col(Case.lead_organisation_id) == organisation_id, *conditions]
    shared = [
        col(Case.lead_organisation_id) != organisation_id,
        summary_disclosed_to(organisation_id, now.date()),
        *conditions,
    ]
    ordering = _order(order)
    # One query: each branch's first page * page_size cases, newest (or however sorted) first,
    # merged and sorted again; the branches' totals ride along (the lead's counted through its
    # index, the partner's counted in the same pass that picks its first rows).
    reach = page * page_size
    owned_rows = (
        select(col(Case.id).label("id"), cast(null(), Integer).label("shared_total"))
        .where(*owned)
        .order_by(*ordering)
        .limit(reach)
        .subquery()
    )
    shared_rows = (
        select(col(Case.id).label("id"), func.count().over().label("shared_total"))
        .where(*shared)
        .order_by(*ordering)
        .limit(reach)
        .subquery()
    )
    merged = union_all(
        select(owned_rows.c.id, owned_rows.c.shared_total), select(shared_rows.c.id, shared_rows.c.shared_total)
    ).subquery()
    owned_total = select(func.count()).select_from(Case).where(*owned).scalar_subquery()
    shared_total = func.coalesce(func.max(merged.c.shared_total).over(), 0)
    # Only the columns the rows need (not whole Case objects): the rest comes from the summary.
    found = session.execute(
        sa_select(
            col(Case.id),
            col(Case.summary_item_id),
            col(Case.lead_organisation_id),
            col(Case.first_contact_made_at),
            col(Case.case_review_eligible),
            (owned_total + shared_total).label("total"),
        )
        .join(merged, merged.c.id == col(Case.id))
        .order_by(*ordering)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    cases = found
    if found:
        total = found[0].total
    elif page == 1:
        total = 0  # nothing is visible: each branch returns its first rows whatever the page
    else:
        total = session.exec(
            select(owned_total + select(func.count()).select_from(Case).where(*shared).scalar_subquery())
        ).one()
    item_ids = [c.summary_item_id for c in cases if c.summary_item_id is not None]
    views = {v.id: v for v in read_items(session=session, actor=actor, item_ids=item_ids, via="case list")}
    rows = tuple(
        _row(c, views[c.summary_item_id], actor, now)
        for c in cases
        if c.summary_item_id is not None and c.summary_item_id in views
    )
    return CasePage(rows=rows, total=total, page=page, page_size=page_size)


# --- What the filters offer -----------------------------------------------------------------

NOT_ASSESSED = "Not assessed"


@dataclass(frozen=True)
class CaseListChoices:
    """The choices the list's filters offer the actor."""

    risk_levels: tuple[tuple[int, str], ...]  # (rank, label), highest first, then not assessed (0)
    lead_officers: tuple[tuple[int, str], ...]  # (user id, name): empty for a partner organisation


def case_list_choices(*, session: Session, actor: Actor) -> CaseListChoices:
    """The risk levels of the actor's organisation's scheme and, for an organisation that leads
    cases, its officers who may lead one (active accounts holding a case-managing role)."""
    require(actor, Permission.CASES_CASES_READ, subject_type="case")
    if actor.organisation_id is None:
        return CaseListChoices(risk_levels=(), lead_officers=())
    scheme = get_case_policy(session, actor.organisation_id).risk_scheme
    levels = sorted(scheme.levels, key=lambda level: level.rank, reverse=True)
    risk_levels = (*((level.rank, level.label) for level in levels), (0, NOT_ASSESSED))
    officers: tuple[tuple[int, str], ...] = ()
    if actor.can(Permission.CASES_CASES_MANAGE):
        managing = [str(role) for role, granted in ROLE_PERMISSIONS.items() if Permission.CASES_CASES_MANAGE in granted]
        users = session.exec(
            select(User)
            .join(UserRole, col(UserRole.user_id) == col(User.id))
            .where(
                User.organisation_id == actor.organisation_id,
                col(User.is_active).is_(True),
                col(UserRole.role).in_(managing),
            )
            .distinct()
        ).all()
        officers = tuple(sorted(((u.id, u.full_name) for u in users if u.id is not None), key=lambda o: o[1].lower()))
    return CaseListChoices(risk_levels=risk_levels, lead_officers=officers)
