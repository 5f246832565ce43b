"""The engine's pool outlives its connections: a restarted PostgreSQL (here: every backend
of the pool terminated, as a restart does to them) costs no request that comes after the
pool has been idle, and at most the ones already holding a dead connection otherwise."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tendering.core.auth.tokens import resolve_token_once
from tendering.core.db import make_engine, make_sessionmaker

pytestmark = pytest.mark.committed

_PID = text("SELECT pg_backend_pid()")


async def _pid(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        return int((await session.execute(_PID)).scalar_one())


async def _terminate(database_url: str, pid: int) -> None:
    admin = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        # pg_terminate_backend only signals: wait until the backend is really gone.
        for _ in range(200):
            if not await admin.fetchval(
                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)", pid
            ):
                return
            await admin.execute("SELECT pg_sleep(0.01)")
    finally:
        await admin.close()


async def test_an_idle_pooled_connection_that_died_is_replaced_before_use(
    database_url: str,
) -> None:
    engine = make_engine(database_url, pool_size=1, ping_after_idle=0.0)
    try:
        dead = await _pid(engine)
        await _terminate(database_url, dead)
        # The checkout pings the dead connection, the pool replaces it: no error.
        assert await _pid(engine) != dead
        # And the login-token lookup, which runs without a transaction, likewise.
        await _terminate(database_url, await _pid(engine))
        found = await resolve_token_once(engine, "tdr_not-a-token")
        assert not hasattr(found, "user_id")
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_trusted_and_a_dead_one_costs_one_statement(
    database_url: str,
) -> None:
    engine = make_engine(database_url, pool_size=2, ping_after_idle=3600.0)
    try:
        dead = await _pid(engine)
        await _terminate(database_url, dead)
        # Not pinged (used within the idle bound): the statement fails as a disconnect ...
        with pytest.raises(exc.DBAPIError) as failed:
            await _pid(engine)
        assert failed.value.connection_invalidated
        # ... and SQLAlchemy has replaced it: the next request works on a new connection.
        assert await _pid(engine) != dead
    finally:
        await engine.dispose()
