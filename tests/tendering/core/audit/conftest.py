"""Audit chain fixtures: a platform key, appending events, raw SQL for tampering, verifying."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tendering.core.audit.rules import StreamReport
from tendering.core.audit.service import RecordedEvent, record
from tendering.core.audit.verify import CheckpointRun, sign_checkpoints, verify_streams
from tendering.core.db import make_sessionmaker
from tendering.core.signing import PlatformKey


@pytest.fixture(scope="session")
def key() -> PlatformKey:
    return PlatformKey(Ed25519PrivateKey.generate())


class Chain:
    """Drives the chain through the public service functions, each call its own transaction."""

    def __init__(self, engine: AsyncEngine, key: PlatformKey) -> None:
        self.maker = make_sessionmaker(engine)
        self.key = key

    async def append(self, stream: str, count: int, *, start: int = 1) -> list[RecordedEvent]:
        events = []
        for i in range(start, start + count):
            async with self.maker() as session, session.begin():
                events.append(
                    await record(
                        session,
                        stream=stream,
                        action="notice.published",
                        actor=f"user:{i}",
                        payload={"notice": f"N-{i}", "金额_fen": i * 100, "tags": ["a", i]},
                    )
                )
        return events

    async def sql(self, statement: str, **params: Any) -> None:
        """Tamper as a database administrator would: raw SQL, committed."""
        async with self.maker() as session, session.begin():
            await session.execute(text(statement), params)

    async def verify(self, stream: str | None = None, **kw: Any) -> dict[str, StreamReport]:
        async with self.maker() as session:
            return {
                report.stream: report
                async for report in verify_streams(
                    session, public_key=self.key.public_raw, stream=stream, **kw
                )
            }

    async def checkpoint(self) -> CheckpointRun:
        async with self.maker() as session, session.begin():
            return await sign_checkpoints(session, key=self.key)


@pytest.fixture
def chain(engine: AsyncEngine, key: PlatformKey) -> Chain:
    return Chain(engine, key)
