"""Integrity scores from hand-computed cases, at the window's and the decay's boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agencies.scoring import (
    DEFAULT_RULEBOOK,
    EventRecord,
    Rulebook,
    decay_factor,
    decayed_points,
    rulebook_in_effect,
    score_on,
)
from tendering.core.errors import InvalidInput, NotFound

DAY = date(2026, 6, 30)
BOOK = Rulebook.from_json(1, date(2020, 1, 1), DEFAULT_RULEBOOK)


def _event(n: int, code: str, age: int) -> EventRecord:
    return EventRecord(n, code, DAY - timedelta(days=age))


def test_a_new_agency_scores_the_base_and_grade_b():
    result = score_on([], BOOK, on=DAY)
    assert (result.total, result.grade, result.lines) == (80, "B", ())


@pytest.mark.parametrize(
    ("age", "factor"),
    [(0, 100), (364, 100), (365, 70), (729, 70), (730, 40), (1094, 40), (1095, 0), (-1, 0)],
)
def test_each_full_year_of_age_takes_30_percent_until_the_window_ends(age, factor):
    assert decay_factor(BOOK, age) == factor


def test_decayed_points_round_toward_zero_so_a_penalty_never_grows():
    assert decayed_points(-3, 70) == -2  # -2.1
    assert decayed_points(-20, 70) == -14
    assert decayed_points(5, 70) == 3  # 3.5
    assert decayed_points(-5, 70) == -3  # -3.5, not -4


def test_a_violation_fades_across_the_boundaries_by_hand():
    # -20 false material: 80-20=60 (C) on the day; 80-14=66 after a year; 80-8=72 after two.
    cases = {0: (60, "C"), 364: (60, "C"), 365: (66, "C"), 730: (72, "C"), 1095: (80, "B")}
    for age, expected in cases.items():
        result = score_on([_event(1, "violation.false_material", age)], BOOK, on=DAY)
        assert (result.total, result.grade) == expected, age


def test_mixed_events_add_up_with_an_explanation_per_event():
    events = [
        _event(1, "violation.collusion", 10),  # -30 at 100%      -> -30
        _event(2, "award.model", 400),  # +8 at 70%              -> +5 (5.6)
        _event(3, "rating.5", 800),  # +3 at 40%                 -> +1 (1.2)
        _event(4, "rating.1", 1200),  # outside the window       -> 0
        _event(5, "violation.procedure", -2),  # in the future   -> 0
    ]
    result = score_on(events, BOOK, on=DAY)
    assert result.total == 80 - 30 + 5 + 1
    assert result.grade == "D"  # 56 < 60
    by_id = {line.event_id: line for line in result.lines}
    assert [by_id[n].points for n in (1, 2, 3, 4, 5)] == [-30, 5, 1, 0, 0]
    assert by_id[2].factor_percent == 70 and by_id[2].rule_points == 8
    assert "window" in by_id[4].reason and "after" in by_id[5].reason
    assert [line.event_id for line in result.lines] == [4, 3, 2, 1, 5]  # oldest first


def test_grades_follow_the_thresholds_at_their_edges():
    assert [BOOK.grade_of(s) for s in (90, 89, 75, 74, 60, 59)] == ["A", "B", "B", "C", "C", "D"]
    assert [BOOK.weight_of(g) for g in "ABCD"] == [4, 3, 1, 0]


def test_last_months_score_is_reproduced_with_last_months_rulebook():
    stricter = {
        **DEFAULT_RULEBOOK,
        "types": [
            {**t, "points": t["points"] * 2} if t["code"] == "violation.procedure" else t
            for t in DEFAULT_RULEBOOK["types"]
        ],
    }
    books = [BOOK, Rulebook.from_json(2, date(2026, 6, 1), stricter)]
    events = [EventRecord(1, "violation.procedure", date(2026, 5, 10))]
    may = score_on(events, rulebook_in_effect(books, date(2026, 5, 31)), on=date(2026, 5, 31))
    june = score_on(events, rulebook_in_effect(books, date(2026, 6, 1)), on=date(2026, 6, 1))
    assert (may.rulebook_version, may.total) == (1, 70)
    assert (june.rulebook_version, june.total) == (2, 60)
    again = score_on(events, rulebook_in_effect(books, date(2026, 5, 31)), on=date(2026, 5, 31))
    assert again == may


def test_an_event_type_missing_from_the_rulebook_gives_nothing_and_says_why():
    result = score_on([_event(1, "violation.retired", 3)], BOOK, on=DAY)
    assert result.total == 80 and "rulebook version 1" in result.lines[0].reason


def test_no_rulebook_before_the_first_takes_effect():
    with pytest.raises(NotFound):
        rulebook_in_effect([BOOK], date(2019, 12, 31))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"thresholds": {"A": 60, "B": 75, "C": 90}}, "thresholds"),
        ({"weights": {"A": 4, "B": 0, "C": 1}}, "weights.B"),
        ({"decay_percent": 101}, "decay_percent"),
        ({"types": []}, "types"),
        ({"window_days": 2.5}, "window_days"),
    ],
)
def test_a_bad_rulebook_is_refused_naming_the_field(change, field):
    with pytest.raises(InvalidInput) as caught:
        Rulebook.from_json(2, DAY, {**DEFAULT_RULEBOOK, **change})
    assert caught.value.field == field


def test_a_rulebook_round_trips_through_its_json():
    assert Rulebook.from_json(1, BOOK.effective_from, BOOK.to_json()) == BOOK


_types = st.sampled_from([t["code"] for t in DEFAULT_RULEBOOK["types"]])
_events = st.lists(st.tuples(_types, st.integers(min_value=-30, max_value=1500)), max_size=12).map(
    lambda raw: [_event(n, code, age) for n, (code, age) in enumerate(raw, start=1)]
)


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000))
def test_an_event_never_weighs_more_as_it_ages(younger, older):
    low, high = sorted((younger, older))
    assert decay_factor(BOOK, high) <= decay_factor(BOOK, low)


@given(_events, st.integers(min_value=0, max_value=1094))
def test_a_further_violation_never_raises_a_score(events, age):
    before = score_on(events, BOOK, on=DAY)
    after = score_on([*events, _event(999, "violation.procedure", age)], BOOK, on=DAY)
    assert after.total <= before.total
    assert "ABCD".index(after.grade) >= "ABCD".index(before.grade)


@given(_events)
def test_the_score_is_the_base_plus_its_lines(events):
    result = score_on(events, BOOK, on=DAY)
    assert result.total == BOOK.base + sum(line.points for line in result.lines)
    assert result.grade == BOOK.grade_of(result.total)
    assert score_on(list(reversed(events)), BOOK, on=DAY) == result
