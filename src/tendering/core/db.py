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

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only as await_
from sqlmodel import SQLModel

__all__ = [
    "NAMING_CONVENTION",
    "PING_AFTER_IDLE_SECONDS",
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


# A pooled connection idle longer than this is pinged before it is handed out (see
# ``_ping_if_idle``); one used more recently is trusted.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "tendering_returned_at"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
) -> AsyncEngine:
    """The process's engine. ``url`` must use the ``postgresql+asyncpg`` dialect."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        echo=echo,
        # Times are decided by the database; keep the session in UTC so they read back as UTC.
        connect_args={"server_settings": {"timezone": "UTC", "application_name": "tendering"}},
    )
    _ping_if_idle(engine, ping_after_idle)
    return engine


def _ping_if_idle(engine: AsyncEngine, after: float) -> None:
    """Check a pooled connection that sat idle before it is used (a restarted PostgreSQL
    leaves the pool full of dead ones).

    Not SQLAlchemy's ``pool_pre_ping``: on asyncpg that pings inside BEGIN ... ROLLBACK,
    three round trips on every checkout, which on the hot paths (a bid's login-token
    lookup) cost more than the work itself. Here one bare round trip, and only for a
    connection idle longer than ``after`` seconds. A connection that died within that time
    fails its statement instead; SQLAlchemy then sees the disconnect and invalidates the
    whole pool, so only the requests already holding one fail (as they would mid-statement
    anyway), and the next ones get fresh connections. A failed ping makes the pool replace
    the connection and retry the checkout.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= after:
            return  # new (just connected), or in use a moment ago
        try:
            await_(dbapi_connection.driver_connection.fetchrow(";"))
        except Exception as error:
            raise exc.DisconnectionError(f"the pooled connection is gone: {error}") from error


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction for a job or a CLI command: commit on success, roll back on error."""
    async with sessionmaker() as session, session.begin():
        yield session
