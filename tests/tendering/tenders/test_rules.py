from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tendering.core.calendar import WorkingCalendar, YearNotEntered, is_working_day
from tendering.core.errors import InvalidInput, RuleViolation
from tendering.core.holidays.shipped import SHIPPED_DAYS
from tendering.core.money import yuan
from tendering.tenders.rules import (
    CST,
    ScheduleRules,
    check_deposit,
    check_moved_deadline,
    check_schedule,
    check_statutory_limits,
    describe_duration,
    parse_bid_fields,
    push_deadline,
)

RULES = ScheduleRules()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
# Wednesday 09:00 in Beijing: 5, 20 and 21 days on are Monday, Tuesday and Wednesday.
START = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
NO_HOLIDAYS = WorkingCalendar.of()


def schedule(*, documents_for: timedelta, bid_after: timedelta = timedelta(days=21)) -> None:
    check_schedule(
        RULES,
        NO_HOLIDAYS,
        published_at=START,
        documents_from=START,
        documents_to=START + documents_for,
        bid_deadline=START + bid_after,
        opening_at=START + bid_after,
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


def test_bid_deadline_a_minute_short_of_20_days_names_the_earliest_legal_deadline():
    with pytest.raises(RuleViolation) as refused:
        schedule(documents_for=timedelta(days=5), bid_after=timedelta(days=20, minutes=-1))
    assert "投标截止时间最早为2026-03-24（星期二） 09:00" in refused.value.message


def test_earliest_legal_deadline_named_is_a_working_day():
    # From Sunday 8 March 09:00, 20 days on is Saturday 28 March: Monday 30 March is named.
    sunday = datetime(2026, 3, 8, 1, 0, tzinfo=UTC)
    with pytest.raises(RuleViolation) as refused:
        check_schedule(
            RULES,
            NO_HOLIDAYS,
            published_at=sunday,
            documents_from=sunday,
            documents_to=sunday + timedelta(days=9),
            bid_deadline=sunday + timedelta(days=17),
            opening_at=sunday + timedelta(days=17),
        )
    assert "最早为2026-03-30（星期一） 09:00" in refused.value.message


def test_bid_deadline_on_a_saturday_is_refused_naming_the_first_working_day():
    with pytest.raises(RuleViolation) as refused:
        schedule(documents_for=timedelta(days=5), bid_after=timedelta(days=24))
    assert refused.value.code == "tender.rest_day" and refused.value.field == "bid_deadline"
    assert refused.value.message.startswith(
        "投标截止时间不得为休息日（期限的最后一日是法定休假日的，以休假日结束的次日为最后一日，"
        "民法典 第二百零三条）：2026-03-28（星期六）是休息日，第一个工作日是2026-03-30（星期一）。"
    )
    assert refused.value.details == {"day": "2026-03-28", "first_working_day": "2026-03-30"}


SHIPPED = WorkingCalendar.of(
    holidays=[d for d, kind, _ in SHIPPED_DAYS if kind == "holiday"],
    workdays=[d for d, kind, _ in SHIPPED_DAYS if kind == "workday"],
    years=[2025, 2026],
)


def test_bid_deadline_in_the_national_day_holiday_names_the_first_day_back():
    start = datetime(2026, 9, 9, 1, 0, tzinfo=UTC)  # Wednesday
    deadline = datetime(2026, 10, 5, 1, 30, tzinfo=UTC)  # Monday, but 国庆节
    with pytest.raises(RuleViolation) as refused:
        check_schedule(
            RULES,
            SHIPPED,
            published_at=start,
            documents_from=start,
            documents_to=start + timedelta(days=6),
            bid_deadline=deadline,
            opening_at=deadline,
        )
    assert "2026-10-05（星期一）是休息日，第一个工作日是2026-10-08（星期四）" in (
        refused.value.message
    )
    # The make-up Saturday after it (10 October) is a working day: a deadline may be there.
    saturday = datetime(2026, 10, 10, 1, 30, tzinfo=UTC)
    check_schedule(
        RULES,
        SHIPPED,
        published_at=start,
        documents_from=start,
        documents_to=start + timedelta(days=6),
        bid_deadline=saturday,
        opening_at=saturday,
    )


def test_documents_ending_on_a_sunday_are_refused_naming_the_monday():
    with pytest.raises(RuleViolation) as refused:
        schedule(documents_for=timedelta(days=11))  # Sunday 15 March
    assert refused.value.field == "documents_to" and refused.value.code == "tender.rest_day"
    assert "招标文件发售截止日不得为休息日" in refused.value.message
    assert "第一个工作日是2026-03-16（星期一）" in refused.value.message


def test_a_deadline_in_a_year_nobody_entered_is_refused_naming_the_year():
    start = datetime(2026, 12, 16, 1, 0, tzinfo=UTC)  # Wednesday
    deadline = datetime(2027, 1, 6, 1, 0, tzinfo=UTC)  # Wednesday, but 2027 is not entered
    with pytest.raises(YearNotEntered) as refused:
        check_schedule(
            RULES,
            SHIPPED,
            published_at=start,
            documents_from=start,
            documents_to=start + timedelta(days=7),
            bid_deadline=deadline,
            opening_at=deadline,
        )
    assert refused.value.year == 2027 and "2027年的节假日安排尚未录入" in refused.value.message


def test_an_amendment_cannot_set_a_deadline_15_days_after_publication():
    # Published with 21 days; the amendment on day 1 sets a deadline 15 days later: it is
    # 15 days after the amendment but only 16 after the documents first went out.
    issued = START + timedelta(days=1)
    with pytest.raises(RuleViolation) as refused:
        check_moved_deadline(
            RULES,
            NO_HOLIDAYS,
            first=START,
            issued_at=issued,
            bid_deadline=issued + timedelta(days=15),
            entered=True,
        )
    assert refused.value.code == "tender.bid_period" and "不得少于20日" in refused.value.message


def test_an_amendments_deadline_under_15_days_after_it_is_refused_naming_the_earliest():
    issued = START + timedelta(days=8)  # Thursday 12 March 09:00
    with pytest.raises(RuleViolation) as refused:
        check_moved_deadline(
            RULES,
            NO_HOLIDAYS,
            first=START,
            issued_at=issued,
            bid_deadline=issued + timedelta(days=14),
            entered=True,
        )
    assert refused.value.code == "tender.amendment_period"
    assert "至少15日前发出" in refused.value.message
    assert "最早为2026-03-27（星期五） 09:00" in refused.value.message


def test_an_amendments_deadline_on_a_rest_day_is_refused():
    with pytest.raises(RuleViolation) as refused:
        check_moved_deadline(
            RULES,
            NO_HOLIDAYS,
            first=START,
            issued_at=START + timedelta(days=1),
            bid_deadline=START + timedelta(days=24),  # Saturday
            entered=True,
        )
    assert refused.value.code == "tender.rest_day"
    check_moved_deadline(
        RULES,
        NO_HOLIDAYS,
        first=START,
        issued_at=START + timedelta(days=1),
        bid_deadline=START + timedelta(days=26),  # Monday
        entered=True,
    )


def test_periods_count_from_publication_when_documents_start_earlier():
    with pytest.raises(RuleViolation, match="4 days"):
        check_schedule(
            RULES,
            NO_HOLIDAYS,
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
            NO_HOLIDAYS,
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


def test_configuration_may_be_stricter_than_the_law_and_never_less_strict():
    check_statutory_limits({"min_bid_days": 30, "max_deposit_bp": 50, "min_valid_bids": None})
    with pytest.raises(RuleViolation) as refused:
        check_statutory_limits({"max_deposit_bp": 201}, prefix="rule_overrides.")
    assert refused.value.field == "rule_overrides.max_deposit_bp"
    assert "可以低于、不得高于法定上限200" in refused.value.message
    with pytest.raises(RuleViolation, match="不得低于法定下限3"):
        check_statutory_limits({"min_valid_bids": 2})
    # A number stored before the limits were enforced counts as the law's own.
    lowered = RULES.overridden(
        {
            "min_document_days": 0,
            "min_bid_days": 0,
            "amendment_days": 0,
            "max_deposit_bp": 10_000,
            "min_valid_bids": 1,
        }
    )
    assert lowered == RULES


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
