"""Working days and working-day deadlines: weekends and England-and-Wales bank holidays are
skipped, days are counted in the portal's local time (Europe/London), and a deadline is the
end of the Nth working day after the day something was received."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panels.working_days import (
    add_working_days,
    end_of_local_day,
    is_bank_holiday,
    is_working_day,
    local_date,
    next_working_day_on_or_after,
    working_day_deadline,
    working_days_between,
)

LONDON = ZoneInfo("Europe/London")
# An independent calendar to check against (the module keeps its own per-year cache).
BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG", years=range(2019, 2040))


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def reference_add(start: date, days: int) -> date:
    """Day by day, the obvious way."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in BANK_HOLIDAYS:
            days -= 1
    return day


# --- Unit tests: the calendar --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Christmas and New Year 2026: Christmas Friday, Boxing Day Saturday -> Monday 28th off,
        # New Year's Day a Friday.
        (date(2026, 12, 23), 1, date(2026, 12, 24)),
        (date(2026, 12, 23), 2, date(2026, 12, 29)),
        (date(2026, 12, 23), 4, date(2026, 12, 31)),
        (date(2026, 12, 23), 5, date(2027, 1, 4)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        # Christmas 2027 falls on a weekend: both substitute days (27th and 28th) are off.
        (date(2027, 12, 23), 1, date(2027, 12, 24)),
        (date(2027, 12, 23), 2, date(2027, 12, 29)),
        (date(2027, 12, 31), 1, date(2028, 1, 4)),  # New Year's Day 2028 is a Saturday: Monday 3rd off
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        (date(2026, 4, 1), 2, date(2026, 4, 7)),
        # A Friday report: the next working day is Monday.
        (date(2026, 6, 12), 1, date(2026, 6, 15)),
        (date(2026, 6, 12), 5, date(2026, 6, 19)),
        # Early May bank holiday Monday (4 May 2026): a Friday report waits until Tuesday ...
        (date(2026, 5, 1), 1, date(2026, 5, 5)),
        # ... and so does one made on the bank holiday itself.
        (date(2026, 5, 4), 1, date(2026, 5, 5)),
        # Spring (late May) bank holiday, 25 May 2026.
        (date(2026, 5, 22), 1, date(2026, 5, 26)),
        (date(2026, 5, 21), 3, date(2026, 5, 27)),
        # Summer (August) bank holiday, 31 August 2026.
        (date(2026, 8, 28), 1, date(2026, 9, 1)),
        (date(2026, 8, 27), 10, date(2026, 9, 11)),
        # Weekends only.
        (date(2026, 6, 13), 1, date(2026, 6, 15)),  # Saturday
        (date(2026, 6, 14), 1, date(2026, 6, 15)),  # Sunday
        (date(2026, 6, 10), 0, date(2026, 6, 10)),
    ],
)
def test_adding_working_days(start: date, days: int, expected: date) -> None:
    assert add_working_days(start, days) == expected
    assert working_days_between(start, expected) == days


def test_bank_holidays_and_weekends_are_not_working_days() -> None:
    for day in (date(2026, 12, 25), date(2026, 12, 28), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 25),
                date(2026, 8, 31), date(2027, 1, 1), date(2027, 12, 27), date(2027, 12, 28)):  # fmt: skip
        assert is_bank_holiday(day), day
        assert not is_working_day(day), day
    assert not is_working_day(date(2026, 12, 26))  # Boxing Day on a Saturday: a weekend day, not a holiday here
    assert not is_bank_holiday(date(2026, 12, 26))
    assert is_working_day(date(2026, 12, 24))
    assert is_working_day(date(2026, 12, 29))
    assert next_working_day_on_or_after(date(2026, 12, 25)) == date(2026, 12, 29)
    assert next_working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 24)


def test_working_days_between() -> None:
    assert working_days_between(date(2026, 6, 10), date(2026, 6, 10)) == 0
    assert working_days_between(date(2026, 6, 12), date(2026, 6, 14)) == 0  # Friday to Sunday
    assert working_days_between(date(2026, 12, 23), date(2027, 1, 5)) == 6
    assert working_days_between(date(2027, 1, 5), date(2026, 12, 23)) == -6
    assert working_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 253  # 261 weekdays, 8 bank holidays


def test_moments_are_refused_where_a_date_is_meant() -> None:
    moment = datetime(2026, 6, 12, 23, 30, tzinfo=UTC)
    with pytest.raises(TypeError):
        add_working_days(moment, 1)
    with pytest.raises(TypeError):
        working_days_between(moment, date(2026, 6, 15))
    with pytest.raises(ValueError, match="naive"):
        working_day_deadline(datetime(2026, 6, 12, 9, 0), 1)
    with pytest.raises(ValueError, match="0 or more"):
        add_working_days(date(2026, 6, 12), -1)


# --- Unit tests: deadlines ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "days", "due"),
    [
        # A Wednesday morning report with one working day: the end of Thursday.
        (london(2026, 6, 10, 9, 0), 1, london(2026, 6, 11, 23, 59, 59)),
        # The hour of the report does not matter: late on Wednesday is still Wednesday.
        (london(2026, 6, 10, 23, 59), 1, london(2026, 6, 11, 23, 59, 59)),
        # A Friday afternoon report: the end of Monday.
        (london(2026, 6, 12, 17, 0), 1, london(2026, 6, 15, 23, 59, 59)),
        # 23 December 2026 with five working days: over Christmas and New Year.
        (london(2026, 12, 23, 10, 0), 5, london(2027, 1, 4, 23, 59, 59)),
        # Thursday before Easter with three working days.
        (london(2026, 4, 2, 11, 0), 3, london(2026, 4, 9, 23, 59, 59)),
        # Over the clocks going forward (29 March 2026): due at 23:59:59 BST.
        (london(2026, 3, 27, 10, 0), 1, london(2026, 3, 30, 23, 59, 59)),
        # Zero working days: the end of the day itself, or of the next working day.
        (london(2026, 6, 10, 9, 0), 0, london(2026, 6, 10, 23, 59, 59)),
        (london(2026, 6, 13, 9, 0), 0, london(2026, 6, 15, 23, 59, 59)),
        (london(2026, 8, 31, 9, 0), 0, london(2026, 9, 1, 23, 59, 59)),
    ],
)
def test_deadlines_are_the_end_of_the_nth_working_day(received_at: datetime, days: int, due: datetime) -> None:
    deadline = working_day_deadline(received_at.astimezone(UTC), days)
    assert deadline == due
    assert deadline.tzinfo == UTC
    assert deadline.astimezone(LONDON).time().isoformat() == "23:59:59"


def test_days_are_counted_in_local_time_not_by_the_utc_date() -> None:
    # 23:30 UTC on Friday 5 June 2026 is 00:30 on Saturday in London: a Saturday report, due
    # at the end of Monday (22:59:59 UTC in summer), not at the end of Monday UTC.
    saturday_in_london = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)
    assert local_date(saturday_in_london) == date(2026, 6, 6)
    assert working_day_deadline(saturday_in_london, 1) == datetime(2026, 6, 8, 22, 59, 59, tzinfo=UTC)
    # 23:30 UTC on Sunday 7 June is 00:30 on Monday in London: due at the end of Tuesday.
    monday_in_london = datetime(2026, 6, 7, 23, 30, tzinfo=UTC)
    assert working_day_deadline(monday_in_london, 1) == datetime(2026, 6, 9, 22, 59, 59, tzinfo=UTC)
    # In winter London is on UTC: 23:30 UTC on a Friday is still Friday.
    assert working_day_deadline(datetime(2026, 12, 11, 23, 30, tzinfo=UTC), 1) == datetime(
        2026, 12, 14, 23, 59, 59, tzinfo=UTC
    )


def test_the_portal_time_zone_setting_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    received = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)  # Friday in UTC, Saturday in London
    assert working_day_deadline(received, 1, zone=ZoneInfo("UTC")) == datetime(2026, 6, 8, 23, 59, 59, tzinfo=UTC)
    monkeypatch.setattr("panels.working_days.get_settings", lambda: SimpleNamespace(timezone="UTC"))
    assert working_day_deadline(received, 1) == datetime(2026, 6, 8, 23, 59, 59, tzinfo=UTC)
    assert end_of_local_day(date(2026, 6, 8)) == datetime(2026, 6, 8, 23, 59, 59, tzinfo=UTC)


# --- Properties -----------------------------------------------------------------------------

PROPERTIES = settings(max_examples=400, deadline=None)
days_strategy = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
counts = st.integers(min_value=0, max_value=70)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))


@PROPERTIES
@given(start=days_strategy, n=counts)
def test_the_result_is_a_working_day_strictly_after_the_start(start: date, n: int) -> None:
    result = add_working_days(start, n)
    assert result == reference_add(start, n)
    if n >= 1:
        assert result > start
        assert result.weekday() < 5
        assert result not in BANK_HOLIDAYS
    else:
        assert result == start


@PROPERTIES
@given(start=days_strategy, n=counts, m=counts)
def test_adding_n_then_m_is_adding_n_plus_m(start: date, n: int, m: int) -> None:
    assert add_working_days(add_working_days(start, n), m) == add_working_days(start, n + m)


@PROPERTIES
@given(start=days_strategy, n=counts)
def test_the_working_days_between_the_start_and_the_result_are_n(start: date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n)) == n


@PROPERTIES
@given(first=days_strategy, second=days_strategy)
def test_working_days_between_counts_each_working_day_once(first: date, second: date) -> None:
    low, high = sorted((first, second))
    span = (high - low).days
    if span <= 800:
        expected = sum(1 for k in range(1, span + 1) if is_working_day(low + timedelta(days=k)))
        assert working_days_between(low, high) == expected
    assert working_days_between(first, second) == -working_days_between(second, first)


@PROPERTIES
@given(received_at=moments, n=counts)
def test_a_deadline_is_the_end_of_a_local_working_day_after_the_report(received_at: datetime, n: int) -> None:
    deadline = working_day_deadline(received_at, n)
    local = deadline.astimezone(LONDON)
    assert deadline.tzinfo == UTC
    assert local.time().isoformat() == "23:59:59"
    assert local.weekday() < 5 and local.date() not in BANK_HOLIDAYS
    assert deadline > received_at
    received_on = received_at.astimezone(LONDON).date()
    if n >= 1:
        assert working_days_between(received_on, local.date()) == n
    else:
        assert working_days_between(received_on, local.date()) == (0 if is_working_day(received_on) else 1)
