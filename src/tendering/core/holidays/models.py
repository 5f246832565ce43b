"""One row per day that departs from the Monday-to-Friday week, and one per year whose
table staff have entered whole (a period may end only in an entered year)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, Integer, text
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = ["CalendarDay", "CalendarYear", "DayKind"]


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # 法定节假日: a rest day, even on a weekday
    WORKDAY = "workday"  # 调休上班: a working day, even on a weekend


class CalendarDay(SQLModel, table=True):
    __tablename__ = "calendar_day"
    __table_args__ = (enum_check("kind", DayKind, name="kind"),)

    day: date = Field(sa_column=Column(Date, primary_key=True))
    kind: str = Field(max_length=20)
    name: str = Field(max_length=100, description="e.g. 春节, 春节调休上班")
    updated_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class CalendarYear(SQLModel, table=True):
    """A year whose holidays and make-up days are entered, from the State Council's notice."""

    __tablename__ = "calendar_year"
    __table_args__ = (CheckConstraint("year BETWEEN 1900 AND 2999", name="year_range"),)

    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    source: str = Field(max_length=200, description="e.g. 国办发明电〔2025〕7号")
    entered_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
