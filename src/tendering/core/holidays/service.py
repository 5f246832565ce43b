"""Reading and editing the calendar table; every edit is recorded in the global stream.

A year counts as entered (periods may end in it) only once staff enter it whole with
:func:`enter_calendar_year`, from the State Council's notice; single days may be marked
and unmarked at any time (a correction), which does not enter a year.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.calendar import WorkingCalendar
from tendering.core.errors import ErrorCode, Inconsistent, InvalidInput, NotFound
from tendering.core.holidays.models import CalendarDay, CalendarYear, DayKind
from tendering.core.holidays.shipped import SHIPPED_DAYS, SHIPPED_YEARS
from tendering.core.pagination import LimitOffset, paginate

__all__ = [
    "add_shipped_days",
    "calendar_year",
    "enter_calendar_year",
    "entered_years",
    "entered_years_page",
    "load_calendar",
    "remove_calendar_day",
    "set_calendar_day",
]


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    """The whole table as a pure value (a few dozen rows a year), with the entered years."""
    rows = (await session.execute(select(col(CalendarDay.day), col(CalendarDay.kind)))).all()
    years = (await session.scalars(select(col(CalendarYear.year)))).all()
    return WorkingCalendar.of(
        holidays=[r.day for r in rows if r.kind == DayKind.HOLIDAY],
        workdays=[r.day for r in rows if r.kind == DayKind.WORKDAY],
        years=years,
    )


async def entered_years(session: AsyncSession) -> list[CalendarYear]:
    query = select(CalendarYear).order_by(col(CalendarYear.year))
    return list((await session.scalars(query)).all())


async def entered_years_page(
    session: AsyncSession, page: LimitOffset
) -> tuple[list[CalendarYear], int]:
    """A page of the entered years, oldest first, and how many there are."""
    rows, total = await paginate(
        session, select(CalendarYear).order_by(col(CalendarYear.year)), page
    )
    return [year for (year,) in rows], total


async def enter_calendar_year(
    session: AsyncSession,
    *,
    actor: Actor | str,
    year: int,
    source: str,
    days: Sequence[tuple[date, DayKind, str]],
) -> CalendarYear:
    """Enter ``year``'s whole table: its rows become exactly ``days`` (holidays and make-up
    working days; every other weekday works) and the year counts as entered. Again for the
    same year replaces the table (a corrected notice)."""
    seen: set[date] = set()
    for index, (day, _kind, _name) in enumerate(days):
        if day.year != year:
            raise InvalidInput(
                f"days[{index}].day {day.isoformat()} is not in {year}.", field=f"days[{index}]"
            )
        if day in seen:
            raise InvalidInput(
                f"days[{index}].day {day.isoformat()} is given twice.", field=f"days[{index}]"
            )
        seen.add(day)
    # The upsert first: a second entry of the same year waits here on the row's lock until
    # this one commits, and then replaces whole what this one wrote.
    upsert = insert(CalendarYear).values(year=year, source=source)
    upsert = upsert.on_conflict_do_update(
        index_elements=["year"], set_={"source": source, "entered_at": func.clock_timestamp()}
    )
    await session.execute(upsert)
    in_year = func.extract("year", col(CalendarDay.day)) == year
    await session.execute(delete(CalendarDay).where(in_year))
    ordered = sorted(days)
    if ordered:
        rows = [{"day": d, "kind": k.value, "name": n} for d, k, n in ordered]
        await session.execute(insert(CalendarDay).values(rows))
    shown = [{"day": d.isoformat(), "kind": k.value, "name": n} for d, k, n in ordered]
    await record(
        session,
        stream=GLOBAL,
        action="calendar.year_entered",
        actor=actor,
        payload={"year": year, "source": source, "days": shown},
    )
    row = await session.get(CalendarYear, year, populate_existing=True)
    if row is None:  # written above in this transaction
        raise NotFound(f"{year} is not entered in the calendar.", code=ErrorCode.CALENDAR_NO_YEAR)
    return row


async def calendar_year(session: AsyncSession, year: int) -> list[CalendarDay]:
    column = col(CalendarDay.day)
    query = select(CalendarDay).where(func.extract("year", column) == year).order_by(column)
    return list((await session.scalars(query)).all())


async def set_calendar_day(
    session: AsyncSession, *, actor: Actor, day: date, kind: DayKind, name: str
) -> CalendarDay:
    """Mark ``day`` a holiday or a make-up working day (replacing what it was)."""
    statement = insert(CalendarDay).values(day=day, kind=kind.value, name=name)
    statement = statement.on_conflict_do_update(
        index_elements=["day"],
        set_={"kind": kind.value, "name": name, "updated_at": func.clock_timestamp()},
    )
    await session.execute(statement)
    await record(
        session,
        stream=GLOBAL,
        action="calendar.day_set",
        actor=actor,
        payload={"day": day.isoformat(), "kind": kind.value, "name": name},
    )
    row = await session.get(CalendarDay, day, populate_existing=True)
    if row is None:
        raise Inconsistent("row is missing")
    return row


async def remove_calendar_day(session: AsyncSession, *, actor: Actor, day: date) -> None:
    """Make ``day`` an ordinary day again (weekday works, weekend rests)."""
    removed = await session.scalar(
        delete(CalendarDay).where(col(CalendarDay.day) == day).returning(col(CalendarDay.day))
    )
    if removed is None:
        raise NotFound(
            f"{day.isoformat()} is not marked in the calendar.", code=ErrorCode.CALENDAR_NO_DAY
        )
    await record(
        session,
        stream=GLOBAL,
        action="calendar.day_removed",
        actor=actor,
        payload={"day": day.isoformat()},
    )


async def add_shipped_days(session: AsyncSession) -> int:
    """Insert the shipped 2025/2026 rows that are missing (the migrations' seed, again) and
    mark those years entered; days staff changed are left as they are. Returns how many
    days were added."""
    statement = (
        insert(CalendarDay)
        .values([{"day": d, "kind": k, "name": n} for d, k, n in SHIPPED_DAYS])
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(col(CalendarDay.day))
    )
    added = len((await session.scalars(statement)).all())
    years = insert(CalendarYear).values(
        [{"year": year, "source": source} for year, source in SHIPPED_YEARS.items()]
    )
    await session.execute(years.on_conflict_do_nothing(index_elements=["year"]))
    return added
