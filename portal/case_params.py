"""What the browser sends for case work, turned into service inputs.

* The case list's filters, sorting and page live in the query string, so a reload or a
  shared link shows the same list.  Values that are not on the lists (an old link, a typing
  slip) are dropped rather than refused: the list then shows more, never an error page.
* The report form's times come from ``datetime-local`` inputs, in the portal's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from panels.case_list import CaseFilters, CaseSort, StatusFilter
from panels.vocabulary import CaseStage, CaseType

MAX_SEARCH = 40
TRUE_VALUES = frozenset({"1", "on", "true", "yes"})


@dataclass
class ListQuery:
    """One view of the case list: what to show, in which order, which page."""

    filters: CaseFilters = field(default_factory=CaseFilters)
    sort: CaseSort = CaseSort.NEWEST
    page: int = 1

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the list beyond the default (open cases)."""
        return self.filters != CaseFilters()


def _positive_int(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _choice(raw: str, allowed: set[str]) -> str | None:
    raw = raw.strip()
    return raw if raw in allowed else None


def parse_list_query(values: Mapping[str, Any]) -> ListQuery:
    """A list view from query parameters or from the filter form (same names).

    ``risk`` (a rank; 0 is not assessed), ``stage``, ``type``, ``officer`` (a user id),
    ``status`` (open, closed, all), ``overdue`` and ``review`` (ticked), ``q`` (part of a
    reference), ``sort``, ``page``.
    """

    def text(key: str) -> str:
        value = values.get(key, "")
        return value if isinstance(value, str) else ""

    status = _choice(text("status"), {s.value for s in StatusFilter}) or StatusFilter.OPEN
    risk_raw = text("risk").strip()
    risk = int(risk_raw) if risk_raw.isdigit() and len(risk_raw) < 4 else None
    filters = CaseFilters(
        status=status,
        risk_rank=risk,
        stage=_choice(text("stage"), {s.value for s in CaseStage}),
        case_type=_choice(text("type"), {t.value for t in CaseType}),
        lead_officer_user_id=_positive_int(text("officer")),
        overdue_first_contact=text("overdue").strip().lower() in TRUE_VALUES,
        case_review_eligible=text("review").strip().lower() in TRUE_VALUES,
        search=text("q").strip()[:MAX_SEARCH],
    )
    sort_raw = _choice(text("sort"), {s.value for s in CaseSort})
    page = _positive_int(text("page")) or 1
    return ListQuery(filters=filters, sort=CaseSort(sort_raw) if sort_raw else CaseSort.NEWEST, page=max(1, page))


def query_params(query: ListQuery) -> dict[str, str]:
    """The query parameters of a list view, leaving out every default (a short, stable URL)."""
    f = query.filters
    params: dict[str, str] = {}
    if f.status != StatusFilter.OPEN:
        params["status"] = str(f.status)
    if f.risk_rank is not None:
        params["risk"] = str(f.risk_rank)
    if f.stage:
        params["stage"] = f.stage
    if f.case_type:
        params["type"] = f.case_type
    if f.lead_officer_user_id is not None:
        params["officer"] = str(f.lead_officer_user_id)
    if f.overdue_first_contact:
        params["overdue"] = "1"
    if f.case_review_eligible:
        params["review"] = "1"
    if f.search.strip():
        params["q"] = f.search.strip()
    if query.sort != CaseSort.NEWEST:
        params["sort"] = str(query.sort)
    if query.page > 1:
        params["page"] = str(query.page)
    return params


def list_url(path: str, query: ListQuery) -> str:
    """``path`` with the list view's query string (none for the default view)."""
    params = query_params(query)
    return f"{path}?{urlencode(params)}" if params else path


def at_page(query: ListQuery, page: int) -> ListQuery:
    return ListQuery(filters=query.filters, sort=query.sort, page=max(1, page))


def showing(page: int, page_size: int, shown: int, total: int) -> str:
    """ "Showing 26–50 of 123" (an en dash, as printed)."""
    if total == 0 or shown == 0:
        return f"Showing 0 of {total}"
    first = (page - 1) * page_size + 1
    return f"Showing {first}–{first + shown - 1} of {total}"


# --- Local times from the report form --------------------------------------------------------


def parse_local_datetime(raw: str, timezone: str) -> datetime | None:
    """A ``datetime-local`` value (``2026-06-10T14:05``) in ``timezone``, as UTC; None when
    empty.  Raises ``ValueError`` when it is not a date and time."""
    raw = raw.strip()
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def local_input_value(moment: datetime, timezone: str) -> str:
    """The ``datetime-local`` value showing ``moment`` in ``timezone`` (to the minute)."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
