"""The working-day calendar: pure functions over a table of rest days and make-up days.

China's public holidays move every year and are announced by the State Council, with
make-up working days (调休) on weekends beside them. So a day is a working day when it is
marked a make-up day, or when it is Monday to Friday and not marked a holiday::

    >>> cal = WorkingCalendar.of(holidays=[date(2026, 1, 1)], workdays=[date(2026, 1, 4)])
    >>> is_working_day(cal, date(2026, 1, 4))   # a Sunday, but a make-up working day
    True
    >>> add_working_days(cal, date(2025, 12, 31), 1)
    datetime.date(2026, 1, 2)

Periods counted in working days never end on a rest day; a period counted in calendar days
whose last day is a rest day ends on the next working day (民法典 第二百零三条: 期限的最后一日是
法定休假日的，以法定休假日结束的次日为期限的最后一日), which is :func:`roll_to_working_day`.
The table itself is kept in the database by staff (``tendering.core.holidays``).

A table is entered a whole year at a time. A calendar read from the database knows which
years are entered (``years``), and asking about a day of any other year raises
:class:`YearNotEntered` (409, naming the year) instead of guessing that every weekday works
(the guess is wrong for every year: 春节, 国庆 and their 调休 move)::

    >>> cal = WorkingCalendar.of(years=[2026])
    >>> is_working_day(cal, date(2027, 1, 4))
    Traceback (most recent call last):
    ...
    tendering.core.calendar.YearNotEntered: 2027年的节假日安排尚未录入...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tendering.core.errors import Conflict, ErrorCode

__all__ = [
    "WEEKDAY_NAMES",
    "NoWorkingDay",
    "WorkingCalendar",
    "YearNotEntered",
    "add_working_days",
    "is_working_day",
    "roll_to_working_day",
    "working_days_between",
]

# A period longer than this many days without a working day means a broken table.
_MAX_REST_RUN = 60
WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class YearNotEntered(Conflict):
    """A period reaches into a year whose holiday table staff have not entered (409)."""

    default_code = ErrorCode.CALENDAR_YEAR_MISSING

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year}年的节假日安排尚未录入工作日历，无法确定{year}年哪些日子是休息日：请交易中心"
            f"工作人员先录入{year}年的节假日和调休安排（PUT /api/calendar/{year}）。 The "
            f"working-day calendar has no table for {year}: a period that reaches into {year} "
            "cannot be checked until staff enter that year's holidays and make-up days.",
            details={"year": year},
        )
        self.year = year


class NoWorkingDay(Conflict):
    """The table has no working day for a long run of days: it needs correcting (409)."""

    default_code = ErrorCode.CALENDAR_NO_WORKING_DAY

    def __init__(self, day: date) -> None:
        super().__init__(
            f"工作日历在{day.isoformat()}前后连续{_MAX_REST_RUN}日没有工作日，请核对节假日安排。 "
            f"The working-day calendar has no working day within {_MAX_REST_RUN} days of "
            f"{day.isoformat()}: staff must correct the table.",
            details={"day": day.isoformat()},
        )


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Days marked rest (public holidays) and days marked work (调休 make-up days), and the
    years whose table is entered; ``years`` is ``None`` only for examples and tests, where
    every year is taken as entered."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int] | None = None

    @classmethod
    def of(
        cls,
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        years: Iterable[int] | None = None,
    ) -> WorkingCalendar:
        rest, work = frozenset(holidays), frozenset(workdays)
        both = rest & work
        if both:
            raise ValueError(f"a day cannot be both a holiday and a working day: {min(both)}")
        entered = None if years is None else frozenset(years)
        return cls(holidays=rest, workdays=work, years=entered)


def is_working_day(calendar: WorkingCalendar, day: date) -> bool:
    """Whether ``day`` is a working day; :class:`YearNotEntered` when its year's table is not
    entered."""
    if calendar.years is not None and day.year not in calendar.years:
        raise YearNotEntered(day.year)
    if day in calendar.workdays:
        return True
    if day in calendar.holidays:
        return False
    return day.weekday() < 5


def roll_to_working_day(calendar: WorkingCalendar, day: date) -> date:
    """``day`` itself when it is a working day, else the next working day."""
    for offset in range(_MAX_REST_RUN):
        if is_working_day(calendar, day + timedelta(days=offset)):
            return day + timedelta(days=offset)
    raise NoWorkingDay(day)


def add_working_days(calendar: WorkingCalendar, start: date, days: int) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted).

    ``days == 0`` rolls ``start`` to a working day; negative counts go back in time.
    """
    if days == 0:
        return roll_to_working_day(calendar, start)
    step = timedelta(days=1 if days > 0 else -1)
    remaining, day, idle = abs(days), start, 0
    while remaining:
        day += step
        if is_working_day(calendar, day):
            remaining, idle = remaining - 1, 0
        else:
            idle += 1
            if idle > _MAX_REST_RUN:
                raise NoWorkingDay(day)
    return day


def working_days_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Working days in ``(start, end]``: how many :func:`add_working_days` steps apart."""
    if end <= start:
        return 0
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(calendar, start + timedelta(days=offset))
    )
