"""The committee rule and each avoidance rule, with dates passed in."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experts.rules import (
    RULES,
    Avoidance,
    Candidate,
    avoided,
    committee_problem,
    months_before,
    qualifies,
)

DAY = date(2026, 12, 10)
LOT = Avoidance(day=DAY, tenderer="某市教育局", bidders=("甲建设（集团）有限公司", "乙公司"))


@pytest.mark.parametrize(
    ("counts", "reps", "fine"),
    [
        ([5], 0, True),
        ([3, 2], 2, True),  # 7 members, 5 experts: 5/7 >= 2/3
        ([4], 0, False),  # fewer than 5
        ([4, 2], 0, False),  # even
        ([3], 2, False),  # 3/5 experts < 2/3
        ([6], 3, True),  # 9 members, 6 experts: exactly 2/3
        ([5], 2, True),  # 7 members, 5 experts
        ([4], 3, False),  # 4/7 < 2/3
    ],
)
def test_committee_rule(counts, reps, fine):
    assert (committee_problem(counts, reps) is None) is fine


def test_committee_refusals_name_the_rule():
    assert "单数" in (committee_problem([4, 2], 0) or "")
    assert "三分之二" in (committee_problem([3], 2) or "")
    assert "至少5人" in (committee_problem([3], 0) or "")


def _rule(candidate: Candidate, avoidance: Avoidance = LOT) -> str | None:
    found = avoided(candidate, avoidance)
    return found[0] if found else None


def test_a_candidate_with_no_facts_is_eligible():
    assert avoided(Candidate("E-1", ("A0801",)), LOT) is None


def test_employer_now_and_within_three_years_but_not_before():
    now = Candidate("E-1", ("A0801",), employments=(("甲建设(集团)有限公司", None, None),))
    assert _rule(now) == "employer"  # full- and half-width brackets are the same name
    recent = Candidate("E-1", ("A0801",), employments=(("某市教育局", None, date(2024, 1, 1)),))
    assert _rule(recent) == "employer"
    old = Candidate("E-1", ("A0801",), employments=(("乙公司", None, date(2023, 12, 9)),))
    assert _rule(old) is None
    other = Candidate("E-1", ("A0801",), employments=(("丙公司", None, None),))
    assert _rule(other) is None


def test_declared_relation_with_a_party():
    related = Candidate("E-1", ("A0801",), relations=(("乙公司", "配偶任职"),))
    found = avoided(related, LOT)
    assert found is not None and found[0] == "relation" and "配偶任职" in found[1]
    assert _rule(Candidate("E-1", ("A0801",), relations=(("丁公司", "亲属"),))) is None


def test_served_this_tenderer_within_n_months():
    recent = Candidate("E-1", ("A0801",), services=(("某市教育局", date(2026, 6, 11)),))
    assert _rule(recent) == "served_tenderer"
    older = Candidate("E-1", ("A0801",), services=(("某市教育局", date(2026, 6, 10)),))
    assert _rule(older) is None
    other = Candidate("E-1", ("A0801",), services=(("某区卫健委", date(2026, 12, 1)),))
    assert _rule(other) is None
    longer = Avoidance(day=DAY, tenderer="某市教育局", service_months=12)
    assert _rule(older, longer) == "served_tenderer"


def test_drawn_too_often_this_year():
    assert _rule(Candidate("E-1", ("A0801",), draws_this_year=10)) == "drawn_too_often"
    assert _rule(Candidate("E-1", ("A0801",), draws_this_year=9)) is None


def test_suspended_until_a_date_and_penalized():
    until = Candidate("E-1", ("A0801",), status="suspended", suspended_until=date(2026, 12, 10))
    assert _rule(until) == "suspended"
    ended = Candidate("E-1", ("A0801",), status="suspended", suspended_until=date(2026, 12, 9))
    assert _rule(ended) is None
    penalty = Candidate("E-1", ("A0801",), penalties=(("迟到", date(2026, 1, 1), None),))
    assert _rule(penalty) == "penalized"
    served = Candidate("E-1", ("A0801",), penalties=(("迟到", date(2025, 1, 1), date(2025, 6, 1)),))
    assert _rule(served) is None


def test_unavailable_on_the_day():
    assert _rule(Candidate("E-1", ("A0801",), unavailable=frozenset({DAY}))) == "unavailable"
    assert _rule(Candidate("E-1", ("A0801",), unavailable=frozenset({date(2026, 12, 11)}))) is None


def test_staff_exclusion_keeps_its_written_reason_and_comes_first():
    staff = Avoidance(day=DAY, tenderer="某市教育局", staff={"E-1": "曾参与本项目前期咨询"})
    found = avoided(Candidate("E-1", ("A0801",), status="suspended"), staff)
    assert found is not None and found[0] == "staff" and "前期咨询" in found[1]


def test_every_rule_has_a_case_above():
    assert set(RULES) == {
        "staff",
        "suspended",
        "penalized",
        "unavailable",
        "employer",
        "relation",
        "served_tenderer",
        "drawn_too_often",
    }


def test_hierarchical_specialties_and_months():
    assert qualifies(("A0801",), "A08") and qualifies(("A0801",), "A0801")
    assert not qualifies(("A0801",), "A0802") and not qualifies(("A08",), "A0801")
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


@given(st.lists(st.integers(0, 30), min_size=1, max_size=5), st.integers(0, 20))
def test_the_committee_rule_is_exactly_the_law(counts, reps):
    experts, total = sum(counts), sum(counts) + reps
    lawful = total >= 5 and total % 2 == 1 and 3 * experts >= 2 * total
    assert (committee_problem(counts, reps) is None) is lawful
