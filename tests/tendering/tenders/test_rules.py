from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tendering.core.calendar import WorkingCalendar, is_working_day
from tendering.core.errors import InvalidInput, RuleViolation
from tendering.core.money import yuan
from tendering.tenders.rules import (
    CST,
    ScheduleRules,
    check_deposit,
    check_schedule,
    describe_duration,
    parse_bid_fields,
    push_deadline,
)

RULES = ScheduleRules()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
NO_HOLIDAYS = WorkingCalendar.of()


def schedule(*, documents_for: timedelta, bid_after: timedelta = timedelta(days=21)) -> None:
    check_schedule(
        RULES,
        published_at=T0,
        documents_from=T0,
        documents_to=T0 + documents_for,
        bid_deadline=T0 + bid_after,
        opening_at=T0 + bid_after,
    )


def test_documents_available_exactly_5_days_is_accepted():
    schedule(documents_for=timedelta(days=5))


def test_documents_available_4_days_23_59_is_refused_naming_rule_and_numbers():
    with pytest.raises(RuleViolation) as refused:
        schedule(documents_for=timedelta(days=5) - timedelta(minutes=1))
    assert refused.value.message == (
        "招标文件发售期不得少于5日: documents are available for 4 days 23 hours 59 minutes; "
        "at least 5 days are required."
    )
    assert refused.value.code == "tender.document_period"


def test_bid_deadline_exactly_20_days_after_documents_is_accepted():
    schedule(documents_for=timedelta(days=5), bid_after=timedelta(days=20))


def test_bid_deadline_a_minute_short_of_20_days_is_refused():
    with pytest.raises(RuleViolation) as refused:
        schedule(documents_for=timedelta(days=5), bid_after=timedelta(days=20, minutes=-1))
    assert "不得少于20日" in refused.value.message
    assert "19 days 23 hours 59 minutes" in refused.value.message


def test_periods_count_from_publication_when_documents_start_earlier():
    with pytest.raises(RuleViolation, match="4 days"):
        check_schedule(
            RULES,
            published_at=T0 + timedelta(days=1),
            documents_from=T0,
            documents_to=T0 + timedelta(days=5),
            bid_deadline=T0 + timedelta(days=30),
            opening_at=T0 + timedelta(days=30),
        )


def test_opening_before_deadline_is_invalid_input():
    with pytest.raises(InvalidInput) as refused:
        check_schedule(
            RULES,
            published_at=T0,
            documents_from=T0,
            documents_to=T0 + timedelta(days=5),
            bid_deadline=T0 + timedelta(days=25),
            opening_at=T0 + timedelta(days=24),
        )
    assert refused.value.field == "opening_at"


def test_deposit_of_exactly_2_percent_is_accepted_and_one_fen_more_refused():
    check_deposit(RULES, deposit_fen=20_000_00, estimated_price_fen=1_000_000_00)
    with pytest.raises(RuleViolation) as refused:
        check_deposit(RULES, deposit_fen=20_000_01, estimated_price_fen=1_000_000_00)
    assert refused.value.message == (
        "投标保证金不得超过招标项目估算价的2%: the deposit of 20,000.01 yuan is more than 2% "
        "of the estimated price 1,000,000.00 yuan (at most 20,000.00 yuan)."
    )


def test_project_overrides_replace_only_known_rules():
    rules = RULES.overridden({"max_deposit_bp": 100, "unknown": 3})
    assert rules.max_deposit_bp == 100 and rules.min_bid_days == 20


def test_deadline_moves_when_amendment_within_15_days():
    deadline = T0 + timedelta(days=10)  # Thursday 12 March, 09:00 Beijing
    push = push_deadline(
        RULES, NO_HOLIDAYS, issued_at=T0, bid_deadline=deadline, opening_at=deadline
    )
    assert push.pushed
    assert push.bid_deadline == T0 + timedelta(days=15)  # Tuesday 17 March, same time of day
    assert push.opening_at == push.bid_deadline


def test_deadline_stays_when_exactly_15_days_remain():
    deadline = T0 + timedelta(days=15)
    push = push_deadline(
        RULES, NO_HOLIDAYS, issued_at=T0, bid_deadline=deadline, opening_at=deadline
    )
    assert not push.pushed and push.bid_deadline == deadline


def test_pushed_deadline_keeps_its_time_of_day_and_skips_rest_days():
    issued = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)  # 15 days on: Tue 5 May (劳动节)
    deadline = datetime(2026, 4, 30, 1, 30, tzinfo=UTC)
    calendar = WorkingCalendar.of(holidays=[date(2026, 5, d) for d in range(1, 6)])
    push = push_deadline(
        RULES,
        calendar,
        issued_at=issued,
        bid_deadline=deadline,
        opening_at=deadline + timedelta(hours=1),
    )
    assert push.bid_deadline == datetime(2026, 5, 6, 1, 30, tzinfo=UTC)
    assert push.opening_at == push.bid_deadline + timedelta(hours=1)


@given(st.integers(0, 40 * 24 * 60))
def test_after_any_push_at_least_15_days_remain_on_a_working_day(minutes_left):
    deadline = T0 + timedelta(minutes=minutes_left)
    push = push_deadline(
        RULES, NO_HOLIDAYS, issued_at=T0, bid_deadline=deadline, opening_at=deadline
    )
    assert push.bid_deadline - T0 >= timedelta(days=15)
    assert push.bid_deadline >= deadline
    if push.pushed:
        assert is_working_day(NO_HOLIDAYS, push.bid_deadline.astimezone(CST).date())
        assert push.bid_deadline - T0 < timedelta(days=18)


def test_bid_fields_are_typed_and_price_fen_is_reserved():
    fields = parse_bid_fields([{"name": "duration_days", "type": "integer", "min": 1}])
    assert fields[0].to_json()["required"] is True
    with pytest.raises(InvalidInput, match="reserved"):
        parse_bid_fields([{"name": "price_fen", "type": "integer"}])
    with pytest.raises(InvalidInput, match="type"):
        parse_bid_fields([{"name": "x", "type": "float"}])


def test_money_and_durations_read_plainly():
    assert yuan(123456789, grouped=True) == "1,234,567.89"
    assert yuan(123456789) == "1234567.89"  # bank files and number columns
    assert describe_duration(timedelta(days=1, minutes=1)) == "1 day 1 minute"
