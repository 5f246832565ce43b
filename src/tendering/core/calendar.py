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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "WorkingCalendar",
    "add_working_days",
    "is_working_day",
    "roll_to_working_day",
    "working_days_between",
]

# A period longer than this many days without a working day means a broken table.
_MAX_REST_RUN = 60


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Days marked rest (public holidays) and days marked work (调休 make-up days)."""

    holidays: frozenset[date]
    workdays: frozenset[date]

    @classmethod
    def of(cls, *, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> WorkingCalendar:
        rest, work = frozenset(holidays), frozenset(workdays)
        both = rest & work
        if both:
            raise ValueError(f"a day cannot be both a holiday and a working day: {min(both)}")
        return cls(holidays=rest, workdays=work)


def is_working_day(calendar: WorkingCalendar, day: date) -> bool:
    if day in calendar.workdays:
        return True
    if day in calendar.holidays:
        return False
    return day.weekday() < 5


def roll_to_working_day(calendar: WorkingCalendar, day: date) -> date:
    """``day`` itself when it is a working day, else the next working day."""
    for _ in range(_MAX_REST_RUN):
        if is_working_day(calendar, day):
            return day
        day += timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_REST_RUN} days of {day}: check the calendar")


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
                raise ValueError(f"no working day within {_MAX_REST_RUN} days of {day}")
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
