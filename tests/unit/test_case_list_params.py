"""The case list's query string <-> filters, sorting and page; the report form's local times."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from panels.case_list import CaseFilters, CaseSort
from portal.case_params import (
    ListQuery,
    at_page,
    list_url,
    local_input_value,
    parse_list_query,
    query_params,
    showing,
)

LONDON = "Europe/London"


def test_no_parameters_is_the_default_view_with_a_bare_url() -> None:
    query = parse_list_query({})
    assert query == ListQuery(filters=CaseFilters(), sort=CaseSort.NEWEST, page=1)
    assert not query.filtered
    assert query_params(query) == {}
    assert list_url("/cases", query) == "/cases"


def test_every_parameter_is_read() -> None:
    query = parse_list_query(
        {
            "status": "closed",
            "risk": "3",
            "stage": "investigation",
            "type": "harassment",
            "officer": "42",
            "overdue": "1",
            "review": "on",
            "q": " ASB-2026 ",
            "sort": "first_contact",
            "page": "4",
        }
    )
    assert query.filters == CaseFilters(
        status="closed",
        risk_rank=3,
        stage="investigation",
        case_type="harassment",
        lead_officer_user_id=42,
        overdue_first_contact=True,
        case_review_eligible=True,
        search="ASB-2026",
    )
    assert (query.sort, query.page, query.filtered) == (CaseSort.FIRST_CONTACT, 4, True)


def test_a_round_trip_through_the_url_gives_the_same_view() -> None:
    query = ListQuery(
        filters=CaseFilters(status="all", risk_rank=0, case_type="noise", overdue_first_contact=True, search="0007"),
        sort=CaseSort.RISK,
        page=2,
    )
    url = list_url("/cases", query)
    parts = urlsplit(url)
    assert parts.path == "/cases"
    params = dict(parse_qsl(parts.query))
    assert params == {
        "status": "all",
        "risk": "0",
        "type": "noise",
        "overdue": "1",
        "q": "0007",
        "sort": "risk",
        "page": "2",
    }
    assert parse_list_query(params) == query


def test_not_assessed_risk_zero_is_a_filter_and_an_empty_risk_is_none() -> None:
    assert parse_list_query({"risk": "0"}).filters.risk_rank == 0
    assert parse_list_query({"risk": ""}).filters.risk_rank is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("status", "everything"),
        ("risk", "high"),
        ("risk", "-1"),
        ("stage", "stage-9"),
        ("type", "burglary"),
        ("officer", "abc"),
        ("officer", "0x10"),
        ("sort", "alphabetical"),
    ],
)
def test_values_not_on_the_lists_are_dropped_not_refused(key: str, value: str) -> None:
    assert parse_list_query({key: value}) == ListQuery()


def test_page_is_at_least_one_and_bad_pages_mean_the_first() -> None:
    assert parse_list_query({"page": "0"}).page == 1
    assert parse_list_query({"page": "-3"}).page == 1
    assert parse_list_query({"page": "two"}).page == 1
    assert parse_list_query({"page": "99999999999"}).page == 1
    assert at_page(ListQuery(), 0).page == 1


def test_unticked_boxes_and_other_words_are_false() -> None:
    query = parse_list_query({"overdue": "", "review": "no"})
    assert (query.filters.overdue_first_contact, query.filters.case_review_eligible) == (False, False)


def test_the_search_is_trimmed_and_kept_short() -> None:
    assert parse_list_query({"q": "x" * 100}).filters.search == "x" * 40


def test_the_filter_form_gives_page_one_of_the_new_view() -> None:
    form = {"status": "open", "risk": "", "type": "harassment", "sort": "newest", "q": "", "overdue": "on"}
    query = at_page(parse_list_query(form), 1)
    assert list_url("/cases", query) == "/cases?type=harassment&overdue=1"


def test_paging_keeps_the_filters() -> None:
    query = parse_list_query({"type": "noise", "page": "2"})
    assert list_url("/cases", at_page(query, 3)) == "/cases?type=noise&page=3"
    assert list_url("/cases", at_page(query, 1)) == "/cases?type=noise"


def test_showing_counts_with_an_en_dash() -> None:
    assert showing(1, 25, 25, 123) == "Showing 1–25 of 123"
    assert showing(5, 25, 23, 123) == "Showing 101–123 of 123"
    assert showing(1, 25, 1, 1) == "Showing 1–1 of 1"
    assert showing(1, 25, 0, 0) == "Showing 0 of 0"


# --- Local times -----------------------------------------------------------------------------


def test_a_local_time_in_summer_is_an_hour_ahead_of_utc() -> None:
    from portal.case_params import parse_local_datetime

    assert parse_local_datetime("2026-06-10T14:05", LONDON) == datetime(2026, 6, 10, 13, 5, tzinfo=UTC)
    assert parse_local_datetime("2026-12-10T14:05", LONDON) == datetime(2026, 12, 10, 14, 5, tzinfo=UTC)


def test_an_empty_time_is_none_and_a_bad_one_is_an_error() -> None:
    from portal.case_params import parse_local_datetime

    assert parse_local_datetime("  ", LONDON) is None
    with pytest.raises(ValueError):
        parse_local_datetime("yesterday", LONDON)


def test_the_input_shows_the_moment_in_local_time_to_the_minute() -> None:
    assert local_input_value(datetime(2026, 6, 10, 13, 5, 59, tzinfo=UTC), LONDON) == "2026-06-10T14:05"
    assert local_input_value(datetime(2026, 1, 2, 0, 0, tzinfo=UTC), LONDON) == "2026-01-02T00:00"


def test_a_ticked_checkbox_is_read_whether_the_browser_or_reflex_posted_it() -> None:
    from portal.components.forms import ticked

    assert ticked("on") and ticked(True) and ticked("true")
    assert not ticked(False) and not ticked(None) and not ticked("") and not ticked("off")
