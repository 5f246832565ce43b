"""The working-day calendar table staff maintain (holidays and 调休 make-up days).

Pure rules are in ``tendering.core.calendar``; this package keeps the yearly table and hands
it out as a :class:`~tendering.core.calendar.WorkingCalendar` that knows which years are
entered (a day of another year raises ``YearNotEntered``)::

    calendar = await load_calendar(session)
    add_working_days(calendar, day, 10)
"""

from tendering.core.holidays.service import (
    add_shipped_days,
    enter_calendar_year,
    entered_years,
    load_calendar,
    remove_calendar_day,
    set_calendar_day,
)

__all__ = [
    "add_shipped_days",
    "enter_calendar_year",
    "entered_years",
    "load_calendar",
    "remove_calendar_day",
    "set_calendar_day",
]
