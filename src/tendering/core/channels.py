"""Live channels: steps pushed to every watcher on every instance, the database the truth.

A live stream is a sequence of frames with a gapless ``seq`` that the database also holds
(an opening's steps, an auction's bids). After the transaction that wrote frames commits,
:func:`publish` puts them on a Redis pub/sub channel; each instance's :class:`ChannelsPlugin`
holds one Redis subscription per channel however many watch it and fans the frames out in
memory. Redis pub/sub is at-most-once and keeps no history, so :func:`follow` subscribes
first, then asks the database for what came after the watcher's last ``seq``, and asks again
whenever a frame skips a ``seq`` or nothing arrives for about 30 s (a frame lost on the
way, Redis restarted): a watcher sees every frame once, in order::

    async for frame in follow(channels, name, after_seq=seq, catch_up=read_after):
        ...                       # frame["seq"] == previous + 1, always
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

__all__ = ["CATCH_UP_SECONDS", "Frame", "channel_name", "channels_plugin", "follow", "publish"]

log = logging.getLogger("tendering.channels")

Frame = dict[str, Any]  # JSON object with an int "seq"
# How long a quiet watcher waits before asking the database anyway: only a lost *last*
# frame waits this long (a later frame shows any other gap at once); each watcher costs
# one read per interval, so thousands of them must not all ask at the same moment.
CATCH_UP_SECONDS = 30.0
FALLBACK_SECONDS = 1.0  # how often a watcher reads the database while Redis does not push
POLL_MS = 200  # the subscription's read timeout; frames arriving wake it at once
BACKLOG = 1000  # frames held for a slow watcher; past it the oldest go (it reads them back)


def channel_name(database_url: str, *parts: str) -> str:
    """A channel of this deployment: Redis pub/sub names are server-wide, so two platforms
    (or two test runs) sharing one Redis must not hear each other."""
    database = make_url(database_url).database or "tendering"
    return ":".join(("tendering", database, *parts))


def channels_plugin(redis_url: str) -> ChannelsPlugin:
    backend = RedisChannelsPubSubBackend(
        redis=Redis.from_url(redis_url), stream_sleep_no_subscriptions=POLL_MS
    )
    return ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        create_ws_route_handlers=False,
        subscriber_max_backlog=BACKLOG,
        subscriber_backlog_strategy="dropleft",
    )


async def publish(redis: Redis, name: str, frames: Iterable[Frame]) -> None:
    """Publish committed ``frames`` in order. Best effort: a watcher that misses one reads
    it from the database, so a Redis outage slows the channel and loses nothing."""
    try:
        for frame in frames:
            await redis.publish(name, json.dumps(frame, ensure_ascii=False).encode())
    except (RedisError, OSError) as error:
        log.warning("live channel %s: could not publish (%s); watchers will catch up", name, error)


async def follow(
    channels: ChannelsPlugin,
    name: str,
    *,
    after_seq: int,
    catch_up: Callable[[int], Awaitable[list[Frame]]],
) -> AsyncIterator[Frame]:
    """Every frame after ``after_seq``, in order, live; ``catch_up(seq)`` reads the database.

    Without Redis (it cannot subscribe) it reads the database every second. With Redis, a
    read that finds frames nobody pushed (Redis restarted, the subscription died) also
    switches the watcher to reading every second, until a pushed frame arrives again.
    """
    async with AsyncExitStack() as stack:
        try:
            subscriber = await stack.enter_async_context(channels.start_subscription([name]))
        except (RedisError, OSError) as error:
            log.warning("live channel %s: cannot subscribe (%s); reading the database", name, error)
            frames = _poll(after_seq, catch_up)
        else:
            arrived: asyncio.Queue[bytes] = asyncio.Queue(maxsize=BACKLOG)
            await stack.enter_async_context(subscriber.run_in_background(arrived.put, join=False))
            frames = _listen(arrived, after_seq, catch_up)
        async for frame in frames:
            yield frame


async def _poll(
    seq: int, catch_up: Callable[[int], Awaitable[list[Frame]]]
) -> AsyncIterator[Frame]:
    while True:
        for frame in await catch_up(seq):
            if frame["seq"] == seq + 1:
                seq = frame["seq"]
                yield frame
        await asyncio.sleep(FALLBACK_SECONDS)


async def _listen(
    arrived: asyncio.Queue[bytes], seq: int, catch_up: Callable[[int], Awaitable[list[Frame]]]
) -> AsyncIterator[Frame]:
    behind, pushing = True, True  # subscribed: now nothing can fall between read and feed
    while True:
        if behind:
            found = False
            for frame in await catch_up(seq):
                if frame["seq"] == seq + 1:
                    seq, found = frame["seq"], True
                    yield frame
            behind = False
            pushing = pushing and not found
        quiet = CATCH_UP_SECONDS * random.uniform(0.5, 1.5) if pushing else FALLBACK_SECONDS  # noqa: S311
        try:
            data = await asyncio.wait_for(arrived.get(), quiet)
        except TimeoutError:
            behind = True
            continue
        frame = json.loads(data)
        if frame["seq"] == seq + 1:
            seq, pushing = frame["seq"], True
            yield frame
        elif frame["seq"] > seq + 1:
            behind = True  # a frame was lost on the way
