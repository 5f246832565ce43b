"""The opening's live channel: each ``opening_event`` pushed once its transaction commits.

:func:`~tendering.opening.events.add_event` keeps each new step on the session; the
:class:`Announcer` publishes them after the commit (publishing earlier could show a step
that a rollback then takes back). Watchers follow with :func:`watch`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.channels import ChannelsPlugin
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.core.channels import Frame, channel_name, follow, publish
from tendering.core.db import session_scope
from tendering.opening.events import frame_of, take_announcements
from tendering.opening.service import events_after

__all__ = ["Announcer", "lot_channel", "watch"]


def lot_channel(database_url: str, lot_code: str) -> str:
    return channel_name(database_url, "opening", lot_code)


class Announcer:
    """Publishes the steps a committed session wrote (through the app's or the worker's
    Redis)::

        async with announcer.transaction(sessionmaker) as session:
            ...                       # add_event(session, ...); published once committed
    """

    def __init__(self, redis: Redis, database_url: str) -> None:
        self.redis = redis
        self.database_url = database_url

    @asynccontextmanager
    async def transaction(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[AsyncSession]:
        """One transaction; the steps it added are published after it commits (nothing
        is published when it rolls back)."""
        async with session_scope(sessionmaker) as session:
            yield session
        await self.announce(session)

    async def announce(self, session: AsyncSession) -> None:
        pending = take_announcements(session)
        for lot_code in dict.fromkeys(code for code, _ in pending):
            frames = [frame for code, frame in pending if code == lot_code]
            await publish(self.redis, lot_channel(self.database_url, lot_code), frames)


async def watch(
    channels: ChannelsPlugin,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    database_url: str,
    lot_code: str,
    after_seq: int,
) -> AsyncIterator[Frame]:
    """The lot's steps after ``after_seq``, live, until the opening finishes."""

    async def catch_up(seq: int) -> list[Frame]:
        async with sessionmaker() as session:
            return [frame_of(e) for e in await events_after(session, lot_code, seq)]

    name = lot_channel(database_url, lot_code)
    async for frame in follow(channels, name, after_seq=after_seq, catch_up=catch_up):
        yield frame
        if frame["kind"] == "finished":
            return
