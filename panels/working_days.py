"""Working days and working-day deadlines, counted as the council counts them.

A working day is a Monday to Friday that is not a bank holiday in England and Wales (the
``holidays`` package's calendar, substitute days included).  Days are counted in the portal's
local time zone (``sharing.config.get_settings().timezone``, Europe/London by default), never
by the UTC date: a report at 00:30 on a Saturday in summer is a Saturday report, although it
is still Friday in UTC.

Deadline semantics (:func:`working_day_deadline`): a deadline of *N* working days from
something received at time *T* is the **end of the Nth working day after the local day of
T** -- 23:59:59 local time on that day, returned as a timezone-aware UTC datetime.  The day of
T itself never counts, whatever the hour: a report at 9:00 on a Monday with a one-working-day
deadline is due by the end of Tuesday; one at 17:00 on a Friday is due by the end of Monday
(Tuesday when that Monday is a bank holiday).  A deadline of 0 working days is the end of the
day of T, or of the next working day when T falls on a weekend or bank holiday.

The arithmetic works on whole weeks and then steps over the bank holidays in the way, so a
long span costs no more than a short one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from sharing.config import get_settings

END_OF_DAY = time(23, 59, 59)


def local_zone() -> ZoneInfo:
    """The portal's time zone, in which days are counted."""
    return ZoneInfo(get_settings().timezone)


def local_date(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """The local calendar day of an aware ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware times")
    return moment.astimezone(zone or local_zone()).date()


@lru_cache(maxsize=256)
def _weekday_bank_holidays(year: int) -> tuple[date, ...]:
    """The bank holidays of ``year`` in England and Wales that fall on a weekday, sorted
    (a holiday on a weekend is replaced by a substitute weekday, which is listed)."""
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return tuple(sorted(day for day in calendar if day.year == year and day.weekday() < 5))


def is_bank_holiday(day: date) -> bool:
    return day.weekday() < 5 and day in _weekday_bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _weekday_bank_holidays(day.year)


def _check_date(day: date) -> None:
    # ``datetime`` is a subclass of ``date``: taking its date would silently use whatever
    # time zone it happens to carry, which is exactly the mistake this module exists to avoid.
    if isinstance(day, datetime):
        raise TypeError("give a date; for a moment in time use working_day_deadline or local_date")


def _bank_holidays_in(after: date, through: date) -> int:
    """How many weekday bank holidays fall after ``after`` up to and including ``through``."""
    return sum(
        1
        for year in range(after.year, through.year + 1)
        for holiday in _weekday_bank_holidays(year)
        if after < holiday <= through
    )


def _weekdays_through(day: date) -> int:
    """Weekdays from 1 January of year 1 (a Monday) up to and including ``day``."""
    weeks, extra = divmod(day.toordinal(), 7)
    return 5 * weeks + min(extra, 5)


def _add_weekdays(start: date, days: int) -> date:
    """The ``days``-th Monday-to-Friday after ``start`` (``start`` itself for 0)."""
    if days == 0:
        return start
    weekday = start.weekday()
    if weekday > 4:  # counting from a weekend is counting from the Friday before it
        start -= timedelta(days=weekday - 4)
        weekday = 4
    weeks, extra = divmod(days, 5)
    result = start + timedelta(days=7 * weeks + extra)
    if weekday + extra > 4:
        result += timedelta(days=2)
    return result


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count, so
    ``add_working_days(friday, 1)`` is the next Monday, or Tuesday after a bank-holiday
    Monday).  ``days`` = 0 gives ``start`` unchanged."""
    _check_date(start)
    if days < 0:
        raise ValueError("days must be 0 or more")
    current, remaining = start, days
    while remaining > 0:
        # Jump over weekends arithmetically, then make up for the bank holidays jumped over.
        candidate = _add_weekdays(current, remaining)
        remaining = _bank_holidays_in(current, candidate)
        current = candidate
    return current


def next_working_day_on_or_after(day: date) -> date:
    _check_date(day)
    return day if is_working_day(day) else add_working_days(day, 1)


def working_days_between(start_date: date, end_date: date) -> int:
    """Working days after ``start_date`` up to and including ``end_date``, so that
    ``working_days_between(d, add_working_days(d, n)) == n``.  Negative when ``end_date`` is
    before ``start_date``; 0 when they are the same day."""
    _check_date(start_date)
    _check_date(end_date)
    if end_date < start_date:
        return -working_days_between(end_date, start_date)
    weekdays = _weekdays_through(end_date) - _weekdays_through(start_date)
    return weekdays - _bank_holidays_in(start_date, end_date)


def end_of_local_day(day: date, zone: ZoneInfo | None = None) -> datetime:
    """23:59:59 local time on ``day``, as an aware UTC datetime."""
    _check_date(day)
    return datetime.combine(day, END_OF_DAY, tzinfo=zone or local_zone()).astimezone(UTC)


def working_day_deadline(received_at: datetime, days: int, zone: ZoneInfo | None = None) -> datetime:
    """The end (23:59:59 local) of the ``days``-th working day after the local day of
    ``received_at``, as an aware UTC datetime; see the module's docstring."""
    zone = zone or local_zone()
    received_on = local_date(received_at, zone)
    due_on = next_working_day_on_or_after(received_on) if days == 0 else add_working_days(received_on, days)
    return end_of_local_day(due_on, zone)


__all__ = [
    "add_working_days",
    "end_of_local_day",
    "is_bank_holiday",
    "is_working_day",
    "local_date",
    "local_zone",
    "next_working_day_on_or_after",
    "working_day_deadline",
    "working_days_between",
]
