"""Reading and editing the calendar table; every edit is recorded in the global stream."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.calendar import WorkingCalendar
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.holidays.models import CalendarDay, DayKind
from tendering.core.holidays.shipped import SHIPPED_DAYS

__all__ = [
    "add_shipped_days",
    "calendar_year",
    "load_calendar",
    "remove_calendar_day",
    "set_calendar_day",
]


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    """The whole table as a pure value (a few dozen rows a year)."""
    rows = (await session.execute(select(col(CalendarDay.day), col(CalendarDay.kind)))).all()
    return WorkingCalendar.of(
        holidays=[r.day for r in rows if r.kind == DayKind.HOLIDAY],
        workdays=[r.day for r in rows if r.kind == DayKind.WORKDAY],
    )


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
    assert row is not None
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
    """Insert the shipped 2025/2026 rows that are missing (the migration's seed, again);
    days staff changed are left as they are. Returns how many were added."""
    statement = (
        insert(CalendarDay)
        .values([{"day": d, "kind": k, "name": n} for d, k, n in SHIPPED_DAYS])
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(col(CalendarDay.day))
    )
    return len((await session.scalars(statement)).all())
