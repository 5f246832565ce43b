from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tendering.core.calendar import (
    NoWorkingDay,
    WorkingCalendar,
    YearNotEntered,
    add_working_days,
    is_working_day,
    roll_to_working_day,
    working_days_between,
)

# The 2026 rows the migration seeds (国办发明电〔2025〕7号), used here as plain data.
SPRING_2026 = WorkingCalendar.of(
    holidays=[date(2026, 2, 15) + timedelta(days=n) for n in range(9)],
    workdays=[date(2026, 2, 14), date(2026, 2, 28)],
)


def test_weekdays_work_and_weekends_rest_in_an_empty_calendar():
    empty = WorkingCalendar.of()
    assert is_working_day(empty, date(2026, 11, 27))  # Friday
    assert not is_working_day(empty, date(2026, 11, 28))  # Saturday


def test_make_up_saturday_is_a_working_day_and_holiday_monday_is_not():
    assert is_working_day(SPRING_2026, date(2026, 2, 14))
    assert not is_working_day(SPRING_2026, date(2026, 2, 16))


def test_period_ending_in_spring_festival_rolls_to_the_first_day_back():
    assert roll_to_working_day(SPRING_2026, date(2026, 2, 17)) == date(2026, 2, 24)
    assert roll_to_working_day(SPRING_2026, date(2026, 2, 24)) == date(2026, 2, 24)


def test_working_days_skip_the_holiday_and_count_the_make_up_day():
    # Fri 13th + 1 working day = Sat 14th (调休); + 2 = Tue 24th (the holiday runs 15-23).
    assert add_working_days(SPRING_2026, date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(SPRING_2026, date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(SPRING_2026, date(2026, 2, 24), -2) == date(2026, 2, 13)


def test_a_day_cannot_be_both_holiday_and_workday():
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar.of(holidays=[date(2026, 1, 1)], workdays=[date(2026, 1, 1)])


@given(st.dates(date(2025, 1, 1), date(2026, 12, 1)), st.integers(0, 60))
def test_adding_working_days_lands_on_a_working_day_that_many_days_later(start, n):
    end = add_working_days(SPRING_2026, start, n)
    assert is_working_day(SPRING_2026, end)
    if n:
        assert working_days_between(SPRING_2026, start, end) == n


ENTERED_2026 = WorkingCalendar.of(
    holidays=SPRING_2026.holidays, workdays=SPRING_2026.workdays, years=[2026]
)


def test_a_day_of_a_year_nobody_entered_is_refused_naming_the_year():
    with pytest.raises(YearNotEntered) as refused:
        is_working_day(ENTERED_2026, date(2027, 1, 4))  # a Monday: no longer assumed to work
    assert refused.value.year == 2027
    assert refused.value.status == 409 and refused.value.code == "calendar.year_missing"
    assert "2027年的节假日安排尚未录入" in refused.value.message
    assert "PUT /api/calendar/2027" in refused.value.message


def test_a_period_running_into_a_missing_year_is_refused_and_within_the_year_is_not():
    assert add_working_days(ENTERED_2026, date(2026, 12, 28), 3) == date(2026, 12, 31)
    with pytest.raises(YearNotEntered, match="2027"):
        add_working_days(ENTERED_2026, date(2026, 12, 28), 4)
    with pytest.raises(YearNotEntered, match="2027"):
        roll_to_working_day(ENTERED_2026, date(2027, 1, 2))


def test_a_table_with_no_working_day_for_months_is_a_conflict_not_a_crash():
    winter = WorkingCalendar.of(holidays=[date(2026, 1, 1) + timedelta(days=n) for n in range(90)])
    with pytest.raises(NoWorkingDay) as refused:
        roll_to_working_day(winter, date(2026, 1, 1))
    assert refused.value.status == 409 and "2026-01-01" in refused.value.message
    with pytest.raises(NoWorkingDay):
        add_working_days(winter, date(2025, 12, 31), 1)
