"""Database conventions, in one place.

- Every table is a SQLModel ``table=True`` class on ``SQLModel.metadata``; constraints and
  indexes get predictable names from ``NAMING_CONVENTION`` so migrations can refer to them.
- Times are ``timestamptz`` (``utc_column()``); money is ``BIGINT`` fen (``fen_column()``).
- Enums are stored by value as text with a named CHECK (``enum_check()``), so adding a value
  is a migration that changes one constraint, not a PostgreSQL ``ALTER TYPE``.
- One engine per process (``make_engine``); sessions come from ``make_sessionmaker``. Requests
  get theirs through Litestar's SQLAlchemy plugin (``app.py``); jobs and the CLI use
  ``session_scope``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

__all__ = [
    "NAMING_CONVENTION",
    "DbSession",
    "enum_check",
    "fen_column",
    "make_engine",
    "make_sessionmaker",
    "metadata",
    "session_scope",
    "utc_column",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A route handler's request-scoped session: ``async def h(db_session: DbSession)``. The
# SQLAlchemy plugin commits it when the response is 2xx/3xx and rolls it back otherwise.
DbSession = NamedDependency[AsyncSession]

metadata = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION


def utc_column(*, nullable: bool = False, index: bool = False, **kw: Any) -> Any:
    """A ``timestamptz`` column; use as ``Field(sa_column=utc_column())``."""
    return Column(DateTime(timezone=True), nullable=nullable, index=index, **kw)


def fen_column(*, nullable: bool = False, **kw: Any) -> Any:
    """An amount of money in integer fen (分), ``BIGINT``."""
    return Column(BigInteger, nullable=nullable, **kw)


def enum_check(column: str, enum: type[StrEnum] | Iterable[str], *, name: str) -> CheckConstraint:
    """A named CHECK that keeps a text column within the enum's values."""
    values = [str(v.value) if isinstance(v, StrEnum) else str(v) for v in enum]
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """The process's engine. ``url`` must use the ``postgresql+asyncpg`` dialect."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        echo=echo,
        # Times are decided by the database; keep the session in UTC so they read back as UTC.
        connect_args={"server_settings": {"timezone": "UTC", "application_name": "tendering"}},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction for a job or a CLI command: commit on success, roll back on error."""
    async with sessionmaker() as session, session.begin():
        yield session
