"""The ASB Case Review threshold check (pure): Dartford's 3 incidents in 6 months each reported
within a month, and Reading's gate and person, group and hate rules, at their edge days."""

from __future__ import annotations

from datetime import date, timedelta

from panels.case_review import (
    CaseReviewCheck,
    IncidentFact,
    RuleCheck,
    check_case_review,
    months_before,
    reporter_key,
)
from panels.policy import DARTFORD_CASE_REVIEW, READING_CASE_REVIEW, CaseReviewPolicy, ThresholdRule

ON = date(2026, 11, 21)
WINDOW_START = date(2026, 5, 21)  # six calendar months before ON
JO = reporter_key(1)
SAM = reporter_key(2)
ALEX = reporter_key(3)
PERP = "person:90"
OTHER_PERP = "person:91"


def fact(
    occurred_on: date,
    reported_on: date | None = None,
    reporter: str | None = JO,
    perpetrator: str | None = PERP,
    is_hate: bool = False,
) -> IncidentFact:
    return IncidentFact(occurred_on, reported_on or occurred_on, reporter, perpetrator, is_hate)


def rule(check: CaseReviewCheck, key: str) -> RuleCheck:
    return next(r for r in check.rules if r.key == key)


# --- Dartford: 3 incidents in the previous 6 months, each reported within a month --------------------


def test_three_incidents_in_six_months_meet_the_threshold() -> None:
    check = check_case_review(
        DARTFORD_CASE_REVIEW, [fact(date(2026, 6, 1)), fact(date(2026, 9, 1)), fact(date(2026, 11, 1))], ON
    )
    assert check.met
    assert check.reasons == [
        "3 incidents between 21 May and 21 November 2026, each reported within a month: threshold met"
    ]
    assert rule(check, "three_in_six_months").counted == 3


def test_two_incidents_are_not_enough_and_the_check_says_so() -> None:
    check = check_case_review(DARTFORD_CASE_REVIEW, [fact(date(2026, 6, 1)), fact(date(2026, 9, 1))], ON)
    assert not check.met
    assert check.reasons == [
        "2 of the 3 incidents needed between 21 May and 21 November 2026, each reported within a month: "
        "threshold not met"
    ]


def test_an_incident_exactly_six_months_before_counts_and_one_day_earlier_does_not() -> None:
    recent = [fact(date(2026, 9, 1)), fact(date(2026, 11, 1))]
    assert months_before(ON, 6) == WINDOW_START
    assert check_case_review(DARTFORD_CASE_REVIEW, [*recent, fact(WINDOW_START)], ON).met
    outside = check_case_review(DARTFORD_CASE_REVIEW, [*recent, fact(WINDOW_START - timedelta(days=1))], ON)
    assert not outside.met
    assert rule(outside, "three_in_six_months").counted == 2


def test_an_incident_on_the_day_of_the_check_counts_but_a_later_one_does_not() -> None:
    earlier = [fact(date(2026, 9, 1)), fact(date(2026, 10, 1))]
    assert check_case_review(DARTFORD_CASE_REVIEW, [*earlier, fact(ON)], ON).met
    assert not check_case_review(DARTFORD_CASE_REVIEW, [*earlier, fact(ON + timedelta(days=1))], ON).met


def test_incidents_reported_after_the_day_of_the_check_were_not_known_then() -> None:
    facts = [fact(date(2026, 9, 1)), fact(date(2026, 10, 1)), fact(date(2026, 11, 10), date(2026, 11, 22))]
    assert not check_case_review(DARTFORD_CASE_REVIEW, facts, ON).met
    assert check_case_review(DARTFORD_CASE_REVIEW, facts, ON + timedelta(days=1)).met


def test_an_incident_reported_exactly_a_month_later_counts_a_day_later_does_not() -> None:
    recent = [fact(date(2026, 9, 1)), fact(date(2026, 11, 1))]
    in_time = fact(date(2026, 6, 3), reported_on=date(2026, 7, 3))
    late = fact(date(2026, 6, 3), reported_on=date(2026, 7, 4))
    assert check_case_review(DARTFORD_CASE_REVIEW, [*recent, in_time], ON).met
    check = check_case_review(DARTFORD_CASE_REVIEW, [*recent, late], ON)
    assert not check.met
    assert check.reasons == [
        "2 of the 3 incidents needed between 21 May and 21 November 2026, each reported within a month: "
        "threshold not met (1 more reported too late to count)"
    ]


def test_dartford_counts_incidents_from_anyone_about_anyone() -> None:
    facts = [
        fact(date(2026, 6, 1), reporter=JO, perpetrator=None),
        fact(date(2026, 7, 1), reporter=SAM, perpetrator=PERP),
        fact(date(2026, 8, 1), reporter=None, perpetrator=OTHER_PERP),
    ]
    assert check_case_review(DARTFORD_CASE_REVIEW, facts, ON).met


def test_a_window_from_a_month_end_ends_on_the_shorter_months_last_day() -> None:
    on = date(2026, 8, 31)
    assert months_before(on, 6) == date(2026, 2, 28)
    recent = [fact(date(2026, 5, 1)), fact(date(2026, 8, 1))]
    check = check_case_review(DARTFORD_CASE_REVIEW, [*recent, fact(date(2026, 2, 28))], on)
    assert check.met
    assert check.reasons[0].startswith("3 incidents between 28 February and 31 August 2026")
    assert not check_case_review(DARTFORD_CASE_REVIEW, [*recent, fact(date(2026, 2, 27))], on).met


def test_a_window_across_the_new_year_names_both_years() -> None:
    check = check_case_review(DARTFORD_CASE_REVIEW, [fact(date(2027, 1, 5))], date(2027, 2, 1))
    assert check.reasons[0].startswith("1 of the 3 incidents needed between 1 August 2026 and 1 February 2027")


# --- Reading: the gate -------------------------------------------------------------------------------


def three_from_jo(last: date) -> list[IncidentFact]:
    return [fact(date(2026, 7, 1)), fact(date(2026, 8, 1)), fact(last)]


def test_reading_needs_the_last_incident_within_a_month_of_the_application() -> None:
    on_the_edge = check_case_review(READING_CASE_REVIEW, three_from_jo(date(2026, 10, 21)), ON)
    assert on_the_edge.met
    assert on_the_edge.reasons[0] == "The last incident, on 21 October 2026, was within a month of 21 November 2026"
    too_old = check_case_review(READING_CASE_REVIEW, three_from_jo(date(2026, 10, 20)), ON)
    assert not too_old.met
    assert not any(r.met for r in too_old.rules)
    assert too_old.reasons[0] == (
        "The last incident, on 20 October 2026, was more than a month before 21 November 2026: "
        "the threshold cannot be met"
    )
    assert rule(too_old, "one_person").reason == (
        "3 incidents about the same alleged perpetrator from one person between 21 May and 21 November 2026, "
        "but the last incident, on 20 October 2026, was more than a month before 21 November 2026: "
        "threshold not met"
    )


def test_reading_with_no_incidents_says_none_is_recorded() -> None:
    check = check_case_review(READING_CASE_REVIEW, [], ON)
    assert not check.met
    assert check.reasons[0] == "No incident is recorded by 21 November 2026: the threshold cannot be met"
    assert len(check.reasons) == 1 + len(READING_CASE_REVIEW.rules)


# --- Reading: one person about one perpetrator ------------------------------------------------------------


def test_three_incidents_from_one_person_about_one_perpetrator() -> None:
    check = check_case_review(READING_CASE_REVIEW, three_from_jo(date(2026, 11, 1)), ON)
    assert check.met
    assert rule(check, "one_person").reason == (
        "3 incidents about the same alleged perpetrator from one person between 21 May and 21 November 2026: "
        "threshold met"
    )
    assert not rule(check, "group").met and not rule(check, "hate").met


def test_three_incidents_from_three_people_do_not_meet_the_one_person_rule() -> None:
    facts = [
        fact(date(2026, 7, 1), reporter=JO),
        fact(date(2026, 8, 1), reporter=SAM),
        fact(date(2026, 11, 1), reporter=ALEX),
    ]
    check = check_case_review(READING_CASE_REVIEW, facts, ON)
    assert not check.met
    assert rule(check, "one_person").counted == 1
    assert rule(check, "one_person").reason.startswith(
        "1 of the 3 incidents needed about the same alleged perpetrator from one person between"
    )


def test_one_person_about_two_perpetrators_does_not_meet_the_rule() -> None:
    facts = [fact(date(2026, 7, 1)), fact(date(2026, 8, 1), perpetrator=OTHER_PERP), fact(date(2026, 11, 1))]
    check = check_case_review(READING_CASE_REVIEW, facts, ON)
    assert rule(check, "one_person").counted == 2 and not check.met


def test_incidents_without_a_perpetrator_on_record_do_not_count_for_the_same_perpetrator() -> None:
    facts = [fact(date(2026, 7, 1)), fact(date(2026, 8, 1)), fact(date(2026, 11, 1), perpetrator=None)]
    assert not check_case_review(READING_CASE_REVIEW, facts, ON).met


def test_the_same_name_typed_differently_is_the_same_reporter() -> None:
    assert reporter_key(None, "Jo  Bloggs") == reporter_key(None, "jo bloggs.") == "name:jo bloggs"
    assert reporter_key(None, "  ") is None
    assert reporter_key(7, "Jo Bloggs") == "person:7"
    facts = [
        fact(date(2026, 7, 1), reporter=reporter_key(None, "Jo Bloggs")),
        fact(date(2026, 8, 1), reporter=reporter_key(None, "JO BLOGGS")),
        fact(date(2026, 11, 1), reporter=reporter_key(None, "jo bloggs")),
    ]
    assert check_case_review(READING_CASE_REVIEW, facts, ON).met


def test_the_one_person_rule_ignores_how_late_they_reported() -> None:
    facts = [fact(date(2026, 6, 1), reported_on=date(2026, 11, 1)), fact(date(2026, 8, 1)), fact(date(2026, 11, 1))]
    assert rule(check_case_review(READING_CASE_REVIEW, facts, ON), "one_person").met


# --- Reading: a group ---------------------------------------------------------------------------------------


def test_five_incidents_from_a_group_meet_the_group_rule() -> None:
    reporters = [JO, SAM, JO, SAM, ALEX]
    facts = [fact(date(2026, 7 + i, 10), reporter=r, perpetrator=None) for i, r in enumerate(reporters)]
    check = check_case_review(READING_CASE_REVIEW, facts, ON)
    assert check.met
    assert rule(check, "group").reason == (
        "5 incidents from 3 different people between 21 May and 21 November 2026: threshold met"
    )


def test_five_incidents_from_one_person_are_not_a_group() -> None:
    facts = [fact(date(2026, 7 + i, 10), reporter=JO, perpetrator=None) for i in range(5)]
    check = check_case_review(READING_CASE_REVIEW, facts, ON)
    assert not check.met
    assert rule(check, "group").reason == (
        "5 incidents between 21 May and 21 November 2026, but reported by 1 person "
        "(a group of at least 2 needed): threshold not met"
    )


def test_four_incidents_from_a_group_are_not_enough() -> None:
    facts = [fact(date(2026, 7 + i, 10), reporter=r, perpetrator=None) for i, r in enumerate([JO, SAM, ALEX, JO])]
    check = check_case_review(READING_CASE_REVIEW, facts, ON)
    assert not check.met
    assert rule(check, "group").reason.startswith("4 of the 5 incidents needed between 21 May")


def test_incidents_with_no_known_reporter_do_not_count_for_a_group() -> None:
    facts = [fact(date(2026, 7 + i, 10), reporter=r, perpetrator=None) for i, r in enumerate([JO, SAM, ALEX, JO])]
    facts.append(fact(date(2026, 11, 15), reporter=None, perpetrator=None))
    assert not check_case_review(READING_CASE_REVIEW, facts, ON).met


# --- Reading: hate incidents ---------------------------------------------------------------------------------


def hate_from_many(first: date, *, hate: int = 5, other: int = 0) -> list[IncidentFact]:
    """Incidents about PERP from different people (so the one-person rule does not apply)."""
    days = [first, *(date(2026, 11, 1 + i) for i in range(hate + other - 1))]
    return [fact(day, reporter=f"person:{100 + i}", is_hate=i < hate) for i, day in enumerate(days)]


def test_five_hate_incidents_about_one_perpetrator_in_three_months() -> None:
    check = check_case_review(READING_CASE_REVIEW, hate_from_many(date(2026, 8, 21)), ON)
    assert rule(check, "hate").met
    assert rule(check, "hate").reason == (
        "5 hate incidents about the same alleged perpetrator between 21 August and 21 November 2026: threshold met"
    )


def test_a_hate_incident_one_day_outside_three_months_does_not_count() -> None:
    check = check_case_review(READING_CASE_REVIEW, hate_from_many(date(2026, 8, 20)), ON)
    assert not rule(check, "hate").met
    assert rule(check, "hate").counted == 4


def test_only_hate_incidents_count_for_the_hate_rule() -> None:
    check = check_case_review(READING_CASE_REVIEW, hate_from_many(date(2026, 9, 1), hate=4, other=1), ON)
    assert not rule(check, "hate").met
    assert rule(check, "hate").reason.startswith("4 of the 5 hate incidents needed about the same alleged perpetrator")
    # The same five incidents from five people are still a group.
    assert rule(check, "group").met and check.met


def test_hate_incidents_about_two_perpetrators_are_counted_apart() -> None:
    facts = hate_from_many(date(2026, 9, 1))
    facts[0] = IncidentFact(facts[0].occurred_on, facts[0].reported_on, facts[0].reporter, OTHER_PERP, True)
    assert rule(check_case_review(READING_CASE_REVIEW, facts, ON), "hate").counted == 4


# --- A council's own rules -------------------------------------------------------------------------------------


def test_any_rule_of_a_policy_is_enough_and_each_has_its_sentence() -> None:
    policy = CaseReviewPolicy(
        name="Two rules",
        rules=[
            ThresholdRule(key="two_in_a_month", label="2 in a month", min_incidents=2, window_months=1),
            ThresholdRule(
                key="four_in_a_year", label="4 in a year, reported within 2 months", min_incidents=4,
                window_months=12, reported_within_months=2,
            ),
        ],
    )  # fmt: skip
    check = check_case_review(policy, [fact(date(2026, 11, 1)), fact(date(2026, 11, 20))], ON)
    assert check.met
    assert check.reasons == [
        "2 incidents between 21 October and 21 November 2026: threshold met",
        "2 of the 4 incidents needed between 21 November 2025 and 21 November 2026, each reported within 2 months: "
        "threshold not met",
    ]
