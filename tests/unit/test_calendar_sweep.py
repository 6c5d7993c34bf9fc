"""The calendar sweep: the portal's date rules run at every day of 2026 and 2027 (and the leap
day of 2028), checked against invariants rather than against dates written down by hand.

Working-day deadlines over weekends and the England and Wales bank holidays (New Year,
Easter, Christmas and their substitute days), second-Tuesday and fourth-Thursday meetings and
their agenda cut-offs, where a referral made at any moment lands, monthly cadences from the
29th-31st, 12-month notices served on 29 February, one-month subject access clocks, the
British Summer Time changes at 01:00 UTC, the ASB Case Review windows, and the reminders that
must never be due twice.  Each invariant is one the policies state (a deadline is a working
day, never before its start, and later starts never give earlier deadlines); the bank
holidays are derived from the rules that make them (the first Monday of May, Easter from
``dateutil.easter``), not from the same calendar the code reads.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from dateutil.easter import easter
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels import case_review, remedies, reminders, stages
from panels.case_review import IncidentFact, check_case_review
from panels.meetings import (
    MeetingStatus,
    agenda_cutoff,
    generate_meetings,
    local,
    next_available_meeting,
    occurrences,
    working_days_before,
)
from panels.models import Meeting, Panel
from panels.policy import DARTFORD_CASE_REVIEW, READING_CASE_REVIEW, ContactCadence, LegalClocks, StagePolicy
from panels.reminders import (
    action_reminders,
    contact_reminders,
    first_contact_reminders,
    next_plan_review_on,
    plan_reminders,
    sar_reminders,
    stage_reminders,
)
from panels.scheduler import day_slot, minute_slot
from panels.vocabulary import CaseStage, InterventionKind
from panels.working_days import (
    add_working_days,
    is_working_day,
    local_date,
    local_zone,
    working_day_deadline,
    working_days_between,
)
from sharing import rules, sar
from sharing.config import get_settings
from sharing.db import transaction
from tests.unit.meeting_helpers import MeetingWorld, make_panel, meeting_world  # noqa: F401  (fixture)

FIRST, LAST = date(2026, 1, 1), date(2027, 12, 31)
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
LEAP_DAYS = [date(2028, 2, 27) + timedelta(days=n) for n in range(4)]  # 27 Feb - 1 Mar 2028
# Times of day that fall on other UTC dates in summer and winter, and the working day's middle.
LOCAL_TIMES = (time(0, 30), time(9, 0), time(23, 30))
YEARS = (2026, 2027)


def zone() -> ZoneInfo:
    return local_zone()


def at(day: date, clock: time) -> datetime:
    """``clock`` on ``day`` in the portal's time zone, as an aware UTC datetime."""
    return datetime.combine(day, clock, tzinfo=zone()).astimezone(UTC)


def non_decreasing(values: list[date] | list[datetime]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(values))


# --- The bank holidays, from the rules that make them --------------------------------------------


def _substitute(day: date, taken: set[date]) -> date:
    """A holiday on a weekend moves to the next weekday not already a holiday."""
    while day.weekday() >= 5 or day in taken:
        day += timedelta(days=1)
    return day


def _last_monday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=last.weekday())


def expected_bank_holidays(year: int) -> set[date]:
    """England and Wales: New Year's Day, Good Friday, Easter Monday, the early May, spring and
    summer bank holidays, Christmas Day and Boxing Day (substitute weekdays for weekends)."""
    days: set[date] = {_substitute(date(year, 1, 1), set())}
    sunday = easter(year)
    days |= {sunday - timedelta(days=2), sunday + timedelta(days=1)}
    first_of_may = date(year, 5, 1)
    days.add(first_of_may + timedelta(days=(7 - first_of_may.weekday()) % 7))
    days |= {_last_monday(year, 5), _last_monday(year, 8)}
    christmas = _substitute(date(year, 12, 25), days)
    days.add(christmas)
    days.add(_substitute(max(date(year, 12, 26), christmas + timedelta(days=1)), days))
    return days


@pytest.mark.parametrize("year", YEARS)
def test_the_weekdays_that_are_not_working_days_are_the_bank_holidays(year: int) -> None:
    weekdays = [d for d in DAYS if d.year == year and d.weekday() < 5]
    assert {d for d in weekdays if not is_working_day(d)} == expected_bank_holidays(year)
    assert not any(is_working_day(d) for d in DAYS if d.year == year and d.weekday() >= 5)


def test_christmas_new_year_and_easter_fall_where_the_rules_put_them() -> None:
    # Christmas Day 2027 is a Saturday: the 27th and 28th are the holidays; New Year's Day 2028
    # is a Saturday too, so Monday 3 January is.  Easter Sunday 2026 is 5 April, 2027 28 March.
    assert date(2027, 12, 27) in expected_bank_holidays(2027)
    assert date(2027, 12, 28) in expected_bank_holidays(2027)
    assert add_working_days(date(2027, 12, 24), 1) == date(2027, 12, 29)
    assert add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 4)
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)  # Good Friday, Easter Monday
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)


# --- Working days and working-day deadlines -------------------------------------------------------

COUNTS = (1, 2, 3, 5, 10, 20)


def test_adding_working_days_lands_on_a_working_day_exactly_that_many_later() -> None:
    for count in COUNTS:
        results = []
        for day in DAYS:
            result = add_working_days(day, count)
            assert is_working_day(result), (day, count, result)
            assert result > day
            assert working_days_between(day, result) == count
            # No working day is skipped: the one before is fewer working days on.
            assert working_days_between(day, result - timedelta(days=1)) == count - 1
            results.append(result)
        assert non_decreasing(results), count


def test_the_two_working_day_counters_agree_on_every_day_and_keep_the_time_of_day() -> None:
    """``sharing.rules.add_working_days`` (emergency-share reviews, on moments) and
    ``panels.working_days.add_working_days`` (deadlines, on days) count the same calendar."""
    for count in (1, 3, 10):
        for day in DAYS:
            for clock in LOCAL_TIMES:
                start = at(day, clock)
                due = rules.add_working_days(start, count)
                shown = due.astimezone(zone())
                assert shown.date() == add_working_days(day, count), (start, count)
                assert shown.time() == clock
                assert due > start


@pytest.mark.parametrize("count", (0, 1, 3, 5))
def test_a_working_day_deadline_ends_a_working_day_never_before_its_start_and_moves_with_it(count: int) -> None:
    deadlines = []
    for day in DAYS:
        for clock in LOCAL_TIMES:
            received = at(day, clock)
            deadline = working_day_deadline(received, count)
            shown = deadline.astimezone(zone())
            assert shown.time() == time(23, 59, 59)
            assert is_working_day(shown.date())
            assert deadline >= received
            if count == 0:
                assert shown.date() == (day if is_working_day(day) else add_working_days(day, 1))
            else:
                assert working_days_between(day, shown.date()) == count
            deadlines.append(deadline)
    assert non_decreasing(deadlines)


# --- Meetings, cut-offs and where a referral lands ------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "nth", "weekday"),
    [("FREQ=MONTHLY;BYDAY=2TU", 2, calendar.TUESDAY), ("FREQ=MONTHLY;BYDAY=4TH", 4, calendar.THURSDAY)],
)
def test_monthly_meetings_fall_on_their_weekday_at_ten_local_time_with_cutoffs_on_working_days(
    rule: str, nth: int, weekday: int
) -> None:
    starts = occurrences(
        rule, starts_on=FIRST, start_time=time(10, 0), after=at(FIRST, time(0)), until=at(LAST, time(23, 59))
    )
    assert len(starts) == 24  # one a month, none twice
    assert len({(s.year, s.month) for s in (local(m) for m in starts)}) == 24
    for start in starts:
        shown = local(start)
        assert shown.weekday() == weekday and (nth - 1) * 7 < shown.day <= nth * 7
        assert shown.time() == time(10, 0)  # in GMT and in BST alike
        for days in (1, 5, 10):
            cutoff = local(working_days_before(start, days))
            assert cutoff.time() == time(10, 0)
            assert is_working_day(cutoff.date())
            assert working_days_between(cutoff.date(), shown.date()) == days


@pytest.fixture
def sweep_panel(engine: Engine, meeting_world: MeetingWorld) -> Iterator[int]:  # noqa: F811
    """A panel meeting on the second Tuesday at 10:00 with a 5-working-day cut-off, every
    meeting of 2026 and 2027 scheduled."""
    panel_id = make_panel(engine, meeting_world, cadence_starts_on=date(2025, 12, 1), agenda_cutoff_working_days=5)
    # At most two years at a time (as an administrator schedules them); the second run adds the rest.
    for now, until in ((date(2025, 12, 31), date(2027, 6, 30)), (date(2026, 6, 30), date(2028, 1, 31))):
        with transaction(engine) as session:
            generate_meetings(
                session=session, actor=meeting_world.admin, panel_id=panel_id, until=until, now=at(now, time(12))
            )
    yield panel_id


def test_a_referral_made_at_any_moment_lands_on_the_first_meeting_whose_cutoff_has_not_passed(
    engine: Engine, sweep_panel: int
) -> None:
    with Session(engine) as session:
        panel = session.get(Panel, sweep_panel)
        assert panel is not None
        meetings = list(
            session.exec(
                select(Meeting)
                .where(Meeting.panel_id == sweep_panel, Meeting.status == MeetingStatus.SCHEDULED)
                .order_by(col(Meeting.starts_at))
            )
        )
        cutoffs = {m.id: agenda_cutoff(panel, m) for m in meetings}
        moments = [at(day, clock) for day in DAYS for clock in (time(0, 30), time(9, 59, 59), time(23, 30))]
        # Each meeting's cut-off itself still makes it; a second later makes the next one.
        moments += [cutoffs[m.id] + delta for m in meetings[:-1] for delta in (timedelta(0), timedelta(seconds=1))]
        moments.sort()
        landed = []
        for now in moments:
            meeting = next_available_meeting(session, sweep_panel, now)
            assert meeting is not None, now
            assert meeting.starts_at > now and now <= cutoffs[meeting.id]
            earlier = [m for m in meetings if now < m.starts_at < meeting.starts_at]
            assert all(cutoffs[m.id] < now for m in earlier), now  # none skipped that was still open
            landed.append(meeting.starts_at)
        assert non_decreasing(landed)
        for meeting in meetings[:-1]:
            assert next_available_meeting(session, sweep_panel, cutoffs[meeting.id]) == meeting


# --- Months: cadences from the 29th-31st, 12-month notices, one-month SAR clocks ------------------

MONTH_ADDERS: list[Callable[[date, int], date]] = [
    stages.add_months,
    reminders.add_months,
    sar.add_months,
    case_review.months_after,
]


def expected_months_later(day: date, months: int) -> date:
    """The same day ``months`` calendar months on, or that month's last day when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    target_year, target_month = day.year + year, month + 1
    return date(target_year, target_month, min(day.day, calendar.monthrange(target_year, target_month)[1]))


@pytest.mark.parametrize("months", (1, 2, 3, 6, 12))
def test_whole_months_keep_the_day_or_take_the_months_last_and_never_go_backwards(months: int) -> None:
    for adder in MONTH_ADDERS:
        results = [adder(day, months) for day in [*DAYS, *LEAP_DAYS]]
        assert results == [expected_months_later(day, months) for day in [*DAYS, *LEAP_DAYS]], adder
        assert non_decreasing(results[: len(DAYS)])
    for day in DAYS:
        later = case_review.months_after(day, months)
        assert case_review.months_before(later, months) <= day


def test_notices_served_on_any_day_keep_their_clocks() -> None:
    clocks = LegalClocks()
    expiries = []
    for served in [*DAYS, *LEAP_DAYS]:
        nosp = remedies.compute_clocks(InterventionKind.NOTICE_OF_SEEKING_POSSESSION, served, clocks)
        assert nosp.expires_on == expected_months_later(served, 12)
        assert nosp.earliest_proceedings_on == served + timedelta(weeks=4)
        noi = remedies.compute_clocks(InterventionKind.NOTICE_OF_INTENTION_DEMOTION, served, clocks)
        assert noi.review_request_by == served + timedelta(days=14)
        assert noi.earliest_proceedings_on == served + timedelta(days=28)
        order = remedies.compute_clocks(InterventionKind.DEMOTION_ORDER, served, clocks)
        assert order.monitoring_ends_on == expected_months_later(served, 12)
        if served in DAYS:
            expiries.append(nosp.expires_on)
    assert non_decreasing(expiries)
    leap = remedies.compute_clocks(InterventionKind.NOTICE_OF_SEEKING_POSSESSION, date(2028, 2, 29), clocks)
    assert leap.expires_on == date(2029, 2, 28)


def test_a_subject_access_request_is_due_a_calendar_month_after_it_arrives() -> None:
    dues = []
    for received in [*DAYS, *LEAP_DAYS]:
        due = sar.sar_due_on(received)
        assert due == expected_months_later(received, get_settings().sar_due_months)
        assert 28 <= (due - received).days <= 31
        dues.append(due)
    assert non_decreasing(dues)
    assert sar.sar_due_on(date(2027, 1, 31)) == date(2027, 2, 28)
    assert sar.sar_due_on(date(2028, 1, 31)) == date(2028, 2, 29)


# --- Nothing is ever due twice --------------------------------------------------------------------


def _keys_over(days: list[date], make: Callable[[date], list[reminders.Due]]) -> dict[str, list[date]]:
    seen: dict[str, list[date]] = {}
    for today in days:
        for due in make(today):
            seen.setdefault(due.key, []).append(today)
    return seen


def _one_due_then_one_overdue(seen: dict[str, list[date]], due_on: date, what: str) -> None:
    due_keys = [k for k in seen if ":due:" in k]
    overdue_keys = [k for k in seen if ":overdue:" in k]
    assert len(due_keys) == 1 and seen[due_keys[0]] == [due_on], (what, due_on, seen)
    assert len(overdue_keys) == 1, (what, due_on, seen)  # raised once however many days it lasts
    assert min(seen[overdue_keys[0]]) == due_on + timedelta(days=1)


def _around(start: date, due_on: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((due_on - start).days + 4)]


def test_reminders_on_every_cadence_are_due_once_and_overdue_once() -> None:
    cadence, stage_policy = ContactCadence(), StagePolicy()
    for start in DAYS[::3]:  # every third day keeps every weekday and month end in the mix
        contact_on = start + timedelta(days=cadence.victim_contact_every_days)
        seen = _keys_over(
            _around(start, contact_on),
            lambda today, start=start: contact_reminders(
                case_id=1, reference="R", last_contact_on=start, last_update_on=None, cadence=cadence, today=today
            ),
        )
        _one_due_then_one_overdue(seen, contact_on, "victim contact")

        review_on = next_plan_review_on(start, None, cadence)
        assert review_on is not None
        seen = _keys_over(
            _around(start, review_on),
            lambda today, start=start: plan_reminders(
                case_id=1,
                reference="R",
                due_to_agree_by=start,
                agreed_on=start,
                last_reviewed_on=None,
                cadence=cadence,
                today=today,
            ),
        )
        _one_due_then_one_overdue(seen, review_on, "plan review")

        seen = _keys_over(
            _around(start, start + timedelta(days=stage_policy.enquiry_max_days)),
            lambda today, start=start: stage_reminders(
                case_id=1,
                reference="R",
                stage=CaseStage.ENQUIRY,
                stage_entered_on=start,
                next_review_on=None,
                stages=stage_policy,
                today=today,
            ),
        )
        _one_due_then_one_overdue(seen, start + timedelta(days=stage_policy.enquiry_max_days), "enquiry limit")

        seen = _keys_over(
            _around(start, start),
            lambda today, start=start: action_reminders(
                action_id=1, number=1, case_id=1, case_reference="R", due_on=start, status="open", today=today
            ),
        )
        assert len(seen) >= 2 and all(len(set(days)) == len(days) for days in seen.values())

        deadline = sar.sar_due_on(start)
        seen = _keys_over(
            _around(start, deadline),
            lambda today, deadline=deadline: sar_reminders(sar_id=1, deadline=deadline, warning_days=7, today=today),
        )
        assert seen and all(days == sorted(set(days)) for days in seen.values())


def test_a_first_contact_deadline_is_due_on_its_day_and_late_from_its_minute_once() -> None:
    for day in DAYS:
        received = at(day, time(9))
        due_at = working_day_deadline(received, 1)
        due_day = local_date(due_at)
        hours = int((due_at - received).total_seconds()) // 3600 + 30  # to a day past the deadline
        moments = [received + timedelta(hours=h) for h in range(hours)]
        seen: dict[str, list[datetime]] = {}
        for now in moments:
            for due in first_contact_reminders(
                case_id=1, reference="R", due_at=due_at, made=False, now=now, today=local_date(now)
            ):
                seen.setdefault(due.key, []).append(now)
        due_keys = [k for k in seen if ":due:" in k]
        overdue_keys = [k for k in seen if ":overdue:" in k]
        assert len(due_keys) == 1 and {local_date(m) for m in seen[due_keys[0]]} == {due_day}
        assert len(overdue_keys) == 1 and min(seen[overdue_keys[0]]) > due_at


# --- British Summer Time: the changes at 01:00 UTC ------------------------------------------------

CLOCK_CHANGES = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
                 datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC)]  # fmt: skip


@pytest.mark.parametrize("change", CLOCK_CHANGES, ids=lambda c: c.date().isoformat())
def test_the_clock_change_gives_each_quarter_hour_and_each_day_one_slot(change: datetime) -> None:
    settings = get_settings()
    quarter = minute_slot(lambda s: 15)
    moments = [change - timedelta(hours=26) + timedelta(minutes=15 * n) for n in range(4 * 52)]
    slots = [quarter(m, settings) for m in moments]
    assert len(set(slots)) == len(slots)  # the repeated local hour in October is not repeated here
    days = [day_slot(m, settings) for m in moments]
    assert days == [local_date(m).isoformat() for m in moments]
    assert non_decreasing([date.fromisoformat(d) for d in days])
    # Around the change, each moment's local day is the one the wall clock shows.
    for moment in moments:
        assert local_date(moment) == moment.astimezone(zone()).date()


@pytest.mark.parametrize("year", YEARS)
def test_the_daily_digest_fires_once_a_day_at_its_hour_through_both_clock_changes(year: int) -> None:
    settings = get_settings()
    trigger = CronTrigger(hour=settings.digest_hour, minute=0, timezone=zone())
    fires: list[datetime] = []
    previous: datetime | None = None
    moment = datetime(year, 1, 1, tzinfo=zone())
    while True:
        fire = trigger.get_next_fire_time(previous, moment)
        assert fire is not None
        if fire.year > year:
            break
        fires.append(fire)
        previous, moment = fire, fire + timedelta(seconds=1)
    shown = [f.astimezone(zone()) for f in fires]
    assert [s.date() for s in shown] == [d for d in DAYS if d.year == year]
    assert all(s.hour == settings.digest_hour and s.minute == 0 for s in shown)


# --- ASB Case Review windows ----------------------------------------------------------------------


def _incident(day: date, reported: date | None = None, **more: object) -> IncidentFact:
    return IncidentFact(occurred_on=day, reported_on=reported or day, **more)  # type: ignore[arg-type]


def test_dartford_three_in_six_months_counts_from_the_window_start_on_any_day() -> None:
    for on in DAYS:
        start = case_review.months_before(on, 6)
        inside = [_incident(start), _incident(on - timedelta(days=10)), _incident(on)]
        assert check_case_review(DARTFORD_CASE_REVIEW, inside, on).met, on
        early = [_incident(start - timedelta(days=1)), *inside[1:]]
        assert not check_case_review(DARTFORD_CASE_REVIEW, early, on).met, on
        # Each reported within a month of happening: on the month's day it counts, a day later not.
        first = inside[0].occurred_on
        in_time = [_incident(first, case_review.months_after(first, 1)), *inside[1:]]
        late = [_incident(first, case_review.months_after(first, 1) + timedelta(days=1)), *inside[1:]]
        if in_time[0].reported_on <= on:
            assert check_case_review(DARTFORD_CASE_REVIEW, in_time, on).met, on
        assert not check_case_review(DARTFORD_CASE_REVIEW, late, on).met, on


def test_reading_needs_the_last_incident_within_a_month_of_the_application_on_any_day() -> None:
    for on in DAYS[::2]:
        last = case_review.months_before(on, 1)
        facts = [_incident(last - timedelta(days=n), reporter="victim", perpetrator="neighbour") for n in (20, 10, 0)]
        assert check_case_review(READING_CASE_REVIEW, facts, on).met, on
        older = [
            _incident(f.occurred_on - timedelta(days=1), reporter="victim", perpetrator="neighbour") for f in facts
        ]
        assert not check_case_review(READING_CASE_REVIEW, older, on).met, on
