"""Calendar API: anyone reads a year and which years are entered; staff enter a whole year
(from the State Council's notice) and mark or unmark single days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody, PathParameter
from pydantic import BaseModel, Field

from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.deps import CurrentActor, Page
from tendering.core.holidays.models import CalendarDay, CalendarYear, DayKind
from tendering.core.holidays.service import (
    calendar_year,
    enter_calendar_year,
    entered_years_page,
    remove_calendar_day,
    set_calendar_day,
)
from tendering.core.pagination import OffsetPagination
from tendering.core.params import CalendarDate, in_calendar

__all__ = [
    "CalendarController",
    "CalendarDayRead",
    "CalendarDayWrite",
    "CalendarYearRead",
    "CalendarYearWrite",
]

_YEAR = Annotated[int, PathParameter(ge=1900, le=2999)]


class CalendarDayWrite(BaseModel):
    kind: DayKind
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")


class CalendarDayEntry(CalendarDayWrite):
    day: CalendarDate


class CalendarYearWrite(BaseModel):
    source: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="where the table comes from, e.g. 国办发明电〔2025〕7号",
    )
    days: list[CalendarDayEntry] = Field(
        max_length=366, description="every holiday and make-up working day of the year"
    )


class CalendarYearRead(BaseModel):
    year: int
    source: str
    entered_at: datetime

    @classmethod
    def of(cls, row: CalendarYear) -> CalendarYearRead:
        if row.entered_at is None:  # the database sets it; a row read back always has it
            raise ValueError(f"calendar year {row.year} was read before it was written")
        return cls(year=row.year, source=row.source, entered_at=row.entered_at)


class CalendarDayRead(BaseModel):
    day: date
    kind: DayKind
    name: str

    @classmethod
    def of(cls, row: CalendarDay) -> CalendarDayRead:
        return cls(day=row.day, kind=DayKind(row.kind), name=row.name)


def present_day(day: date) -> date:
    """A day from the path, within the calendar's years (400 naming ``day`` otherwise)."""
    checked = in_calendar(day, field="day")
    return day if checked is None else checked


class CalendarController(Controller):
    path = "/api/calendar"
    tags = ["calendar"]  # noqa: RUF012

    @get(
        "/{year:int}",
        security=[{}],  # anyone: overrides the document-wide bearer requirement
        opt=public("everyone counts periods with the same calendar"),
        summary="Holidays and make-up working days of a year",
    )
    async def year(self, db_session: DbSession, year: _YEAR) -> list[CalendarDayRead]:
        # One year's table whole (at most 366 days): counting a period needs all of it.
        return [CalendarDayRead.of(row) for row in await calendar_year(db_session, year)]

    @get(
        "/years",
        security=[{}],
        opt=public("which years a period may end in is public"),
        summary="The years whose table is entered (a period may end only in these)",
    )
    async def years(self, db_session: DbSession, page: Page) -> OffsetPagination[CalendarYearRead]:
        rows, total = await entered_years_page(db_session, page)
        return OffsetPagination(
            items=[CalendarYearRead.of(row) for row in rows],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )

    @put(
        "/{year:int}",
        guards=[requires_role(Role.STAFF, Role.ADMIN)],
        summary="Enter a whole year's holidays and make-up working days",
    )
    async def enter_year(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        year: _YEAR,
        data: JSONBody[CalendarYearWrite],
    ) -> CalendarYearRead:
        row = await enter_calendar_year(
            db_session,
            actor=actor,
            year=year,
            source=data.source,
            days=[(d.day, d.kind, d.name) for d in data.days],
        )
        return CalendarYearRead.of(row)

    @put("/days/{day:date}", guards=[requires_role(Role.STAFF, Role.ADMIN)])
    async def set_day(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        day: FromPath[date],
        data: JSONBody[CalendarDayWrite],
    ) -> CalendarDayRead:
        row = await set_calendar_day(
            db_session,
            actor=actor,
            day=present_day(day),
            kind=data.kind,
            name=data.name,
        )
        return CalendarDayRead.of(row)

    @delete("/days/{day:date}", guards=[requires_role(Role.STAFF, Role.ADMIN)])
    async def remove_day(
        self, db_session: DbSession, actor: CurrentActor, day: FromPath[date]
    ) -> None:
        await remove_calendar_day(db_session, actor=actor, day=present_day(day))
