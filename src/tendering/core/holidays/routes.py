"""Calendar API: anyone reads a year; staff mark and unmark days."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.params import FromPath, JSONBody, PathParameter
from pydantic import BaseModel, Field

from tendering.core.auth.guards import current_actor, public, requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.holidays.models import CalendarDay, DayKind
from tendering.core.holidays.service import calendar_year, remove_calendar_day, set_calendar_day

__all__ = ["CalendarController", "CalendarDayRead", "CalendarDayWrite"]


class CalendarDayWrite(BaseModel):
    kind: DayKind
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")


class CalendarDayRead(BaseModel):
    day: date
    kind: DayKind
    name: str

    @classmethod
    def of(cls, row: CalendarDay) -> CalendarDayRead:
        return cls(day=row.day, kind=DayKind(row.kind), name=row.name)


class CalendarController(Controller):
    path = "/api/calendar"
    tags = ["calendar"]  # noqa: RUF012

    @get(
        "/{year:int}",
        security=[{}],  # anyone: overrides the document-wide bearer requirement
        opt=public("everyone counts periods with the same calendar"),
        summary="Holidays and make-up working days of a year",
    )
    async def year(
        self, db_session: DbSession, year: Annotated[int, PathParameter(ge=1900, le=2999)]
    ) -> list[CalendarDayRead]:
        return [CalendarDayRead.of(row) for row in await calendar_year(db_session, year)]

    @put("/days/{day:date}", guards=[requires_role(Role.STAFF, Role.ADMIN)])
    async def set_day(
        self,
        db_session: DbSession,
        request: Request[Any, Any, Any],
        day: FromPath[date],
        data: JSONBody[CalendarDayWrite],
    ) -> CalendarDayRead:
        row = await set_calendar_day(
            db_session, actor=current_actor(request), day=day, kind=data.kind, name=data.name
        )
        return CalendarDayRead.of(row)

    @delete("/days/{day:date}", guards=[requires_role(Role.STAFF, Role.ADMIN)])
    async def remove_day(
        self, db_session: DbSession, request: Request[Any, Any, Any], day: FromPath[date]
    ) -> None:
        await remove_calendar_day(db_session, actor=current_actor(request), day=day)
