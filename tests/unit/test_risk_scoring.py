"""Scoring a risk assessment: the pure rule over a scheme (Cambridge, Welwyn or a council's
own), its band edges, the case types that set a level whatever the score, and the refusals."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panels.policy import (
    CAMBRIDGE_SCHEME,
    SERIOUS_TYPES,
    WELWYN_SCHEME,
    RiskLevelRule,
    RiskOption,
    RiskQuestion,
    RiskScheme,
)
from panels.risk import describe_level, score_assessment
from sharing.errors import InvalidInput


def answers_scoring(scheme: RiskScheme, score: int) -> dict[str, str]:
    """The first set of answers (in the questionnaire's order) that adds up to ``score``."""
    for options in product(*(q.options for q in scheme.questions)):
        if sum(o.points for o in options) == score:
            return {q.key: o.key for q, o in zip(scheme.questions, options, strict=True)}
    raise AssertionError(f"no answers score {score}")


LOW = {
    "type": "environmental",
    "duration": "under_week",
    "frequency": "once",
    "impact": "little",
    "vulnerability": "none",
}
HIGHEST = {"type": "threats", "duration": "over_six_months", "frequency": "daily", "impact": "severe",
           "vulnerability": "significant"}  # fmt: skip


def test_the_score_is_the_sum_of_the_chosen_answers() -> None:
    answers = {"type": "nuisance", "duration": "months", "frequency": "several_weekly", "impact": "significant",
               "vulnerability": "none"}  # fmt: skip
    result = score_assessment(CAMBRIDGE_SCHEME, answers, ["noise"])
    assert result.score == 4 + 4 + 4 + 8 + 0
    assert result.level.key == "medium"
    assert result.scheme_key == "cambridge"
    assert [(a.question_label, a.option_label) for a in result.answers][2] == (
        "How often does it happen?",
        "Several times a week",
    )
    assert score_assessment(CAMBRIDGE_SCHEME, LOW, []).score == 5
    assert score_assessment(CAMBRIDGE_SCHEME, HIGHEST, []).score == 44


@pytest.mark.parametrize(
    ("score", "level"),
    [(5, "standard"), (19, "standard"), (20, "medium"), (31, "medium"), (32, "high"), (44, "high")],
)
def test_cambridge_band_edges(score: int, level: str) -> None:
    result = score_assessment(CAMBRIDGE_SCHEME, answers_scoring(CAMBRIDGE_SCHEME, score), ["noise"])
    assert result.score == score
    assert result.level.key == level
    assert result.score_level.key == level
    assert result.override_reason == ""
    assert not result.overridden


@pytest.mark.parametrize(
    ("score", "label", "first_contact_days"),
    [
        (7, "Priority 4", 10),
        (8, "Priority 3", 10),
        (19, "Priority 3", 10),
        (20, "Priority 2", 5),
        (31, "Priority 2", 5),
        (32, "Priority 1", 3),
    ],
)
def test_welwyn_band_edges(score: int, label: str, first_contact_days: int) -> None:
    result = score_assessment(WELWYN_SCHEME, answers_scoring(WELWYN_SCHEME, score), ["noise"])
    assert result.score == score
    assert result.level.label == label
    assert result.level.first_contact_working_days == first_contact_days


@pytest.mark.parametrize(
    ("case_type", "words"),
    [
        ("violence_or_threats", "Violence or threats"),
        ("hate_incident", "Hate incident"),
        ("domestic_abuse", "Domestic abuse"),
        ("sexual_harassment", "Sexual harassment"),
    ],
)
def test_serious_types_are_high_whatever_the_score(case_type: str, words: str) -> None:
    assert case_type in SERIOUS_TYPES
    result = score_assessment(CAMBRIDGE_SCHEME, LOW, ["noise", case_type])
    assert result.score == 5
    assert result.score_level.key == "standard"
    assert result.level.key == "high"
    assert result.level.first_contact_working_days == 1
    assert result.override_reason == f"{words}: high risk whatever the score"
    assert result.overridden


def test_the_example_reason_for_a_hate_incident() -> None:
    result = score_assessment(CAMBRIDGE_SCHEME, answers_scoring(CAMBRIDGE_SCHEME, 20), ["hate_incident"])
    assert result.override_reason == "Hate incident: high risk whatever the score"


def test_harassment_is_not_an_override_for_cambridge_but_is_priority_1_for_welwyn() -> None:
    assert score_assessment(CAMBRIDGE_SCHEME, LOW, ["harassment"]).level.key == "standard"
    welwyn = score_assessment(WELWYN_SCHEME, LOW, ["harassment"])
    assert welwyn.level.label == "Priority 1"
    assert welwyn.override_reason == "Harassment or intimidation: Priority 1 whatever the score"


def test_every_type_leading_to_the_override_is_named() -> None:
    result = score_assessment(CAMBRIDGE_SCHEME, LOW, ["hate_incident", "noise", "violence_or_threats"])
    assert result.override_reason == "Hate incident, Violence or threats: high risk whatever the score"


def test_an_override_never_lowers_a_higher_score_level() -> None:
    # Already high on the score: the override changes nothing and gives no reason.
    high = score_assessment(CAMBRIDGE_SCHEME, answers_scoring(CAMBRIDGE_SCHEME, 32), ["hate_incident"])
    assert high.level.key == "high"
    assert high.override_reason == ""
    # A council whose override sets a lower band than the score reached keeps the score's band.
    scheme = CAMBRIDGE_SCHEME.model_copy(update={"override_types": {"noise": "medium"}})
    result = score_assessment(scheme, answers_scoring(scheme, 40), ["noise"])
    assert result.level.key == "high"
    assert result.override_reason == ""
    # ... and raises one below it.
    raised = score_assessment(scheme, answers_scoring(scheme, 10), ["noise"])
    assert raised.level.key == "medium"
    assert raised.override_reason == "Noise: medium risk whatever the score"


def custom_scheme() -> RiskScheme:
    """A council's own scheme, built as data: two questions, Red/Amber/Green, exploitation red."""
    return RiskScheme(
        key="eastbrook",
        name="Red / Amber / Green (Eastbrook)",
        questions=[
            RiskQuestion(
                key="harm",
                label="How much harm is being done?",
                options=[
                    RiskOption(key="none", label="None", points=0),
                    RiskOption(key="some", label="Some", points=5),
                    RiskOption(key="serious", label="Serious", points=10),
                ],
            ),
            RiskQuestion(
                key="repeat",
                label="Has it been reported before?",
                options=[RiskOption(key="no", label="No", points=0), RiskOption(key="yes", label="Yes", points=5)],
            ),
        ],
        levels=[
            RiskLevelRule(key="green", label="Green", min_score=0, rank=1, first_contact_working_days=10),
            RiskLevelRule(key="amber", label="Amber", min_score=5, rank=2, first_contact_working_days=4),
            RiskLevelRule(key="red", label="Red", min_score=12, rank=3, first_contact_working_days=0),
        ],
        override_types={"exploitation": "red"},
    )


@pytest.mark.parametrize(
    ("harm", "repeat", "score", "level"),
    [
        ("none", "no", 0, "green"),
        ("some", "no", 5, "amber"),
        ("serious", "no", 10, "amber"),
        ("serious", "yes", 15, "red"),
    ],
)
def test_a_council_defined_scheme_scores_through_the_same_rule(harm: str, repeat: str, score: int, level: str) -> None:
    result = score_assessment(custom_scheme(), {"harm": harm, "repeat": repeat}, ["noise"])
    assert (result.score, result.level.key, result.scheme_key) == (score, level, "eastbrook")


def test_a_council_defined_override() -> None:
    result = score_assessment(custom_scheme(), {"harm": "none", "repeat": "no"}, ["exploitation"])
    assert result.level.key == "red"
    assert result.override_reason == "Exploitation or cuckooing: red risk whatever the score"
    assert describe_level(result.level) == "red risk"


def test_unanswered_questions_are_each_named() -> None:
    with pytest.raises(InvalidInput) as error:
        score_assessment(CAMBRIDGE_SCHEME, {"type": "nuisance", "duration": "  "}, ["noise"])
    assert error.value.field_errors == {
        "duration": "Choose an answer for 'How long has it been happening?'",
        "frequency": "Choose an answer for 'How often does it happen?'",
        "impact": "Choose an answer for 'What impact is it having on the person reporting?'",
        "vulnerability": "Choose an answer for 'Care and support needs or vulnerabilities of those involved'",
    }
    assert error.value.message == "Answer every question of the risk assessment."


def test_unknown_answers_and_questions_are_refused() -> None:
    answers = {**LOW, "frequency": "hourly", "mood": "grumpy"}
    with pytest.raises(InvalidInput) as error:
        score_assessment(CAMBRIDGE_SCHEME, answers, ["noise"])
    assert error.value.field_errors == {
        "frequency": "Choose one of the listed answers for 'How often does it happen?'",
        "mood": "'mood' is not a question of the High / Medium / Standard (Cambridge) risk assessment",
    }
    # An answer from another question's list is not accepted either.
    with pytest.raises(InvalidInput) as error:
        score_assessment(CAMBRIDGE_SCHEME, {**LOW, "impact": "daily"}, [])
    assert set(error.value.field_errors) == {"impact"}


@settings(max_examples=200, deadline=None)
@given(
    choice=st.tuples(*(st.sampled_from(q.options) for q in CAMBRIDGE_SCHEME.questions)),
    types=st.lists(st.sampled_from(["noise", "harassment", *SERIOUS_TYPES]), max_size=3),
)
def test_the_level_is_the_highest_band_reached_unless_an_override_ranks_higher(
    choice: tuple[RiskOption, ...], types: list[str]
) -> None:
    answers = {q.key: o.key for q, o in zip(CAMBRIDGE_SCHEME.questions, choice, strict=True)}
    result = score_assessment(CAMBRIDGE_SCHEME, answers, types)
    score = sum(o.points for o in choice)
    assert result.score == score
    by_score = "high" if score >= 32 else "medium" if score >= 20 else "standard"
    assert result.score_level.key == by_score
    serious = any(t in SERIOUS_TYPES for t in types)
    assert result.level.key == ("high" if serious else by_score)
    assert result.overridden == (serious and by_score != "high")
    assert result.level.rank >= result.score_level.rank
