"""Live channels over the real Redis: every frame once, in order, whatever Redis loses."""

from __future__ import annotations

import asyncio
import secrets

from redis.asyncio import Redis

from tendering.core import channels
from tendering.core.channels import channel_name, channels_plugin, follow, publish


def _frame(seq: int) -> dict:
    return {"seq": seq, "kind": "step", "payload": {"n": seq}}


async def _subscribed(redis: Redis, name: str) -> None:
    for _ in range(200):
        if dict(await redis.pubsub_numsub(name)).get(name.encode(), 0) > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the watcher never subscribed")


async def test_a_watcher_sees_each_frame_once_in_order_across_lost_and_repeated_ones(settings):
    name = channel_name(settings.async_database_url, "test", secrets.token_hex(4))
    database = [_frame(1), _frame(2), _frame(3)]  # what had committed before it connected

    async def catch_up(seq: int) -> list[dict]:
        return [f for f in database if f["seq"] > seq]

    redis = Redis.from_url(settings.concrete_redis_url)
    seen: list[int] = []

    async def watch(plugin) -> None:  # type: ignore[no-untyped-def]
        async for frame in follow(plugin, name, after_seq=1, catch_up=catch_up):
            seen.append(frame["seq"])
            if frame["seq"] == 7:
                return

    try:
        async with channels_plugin(settings.concrete_redis_url) as plugin:
            watcher = asyncio.create_task(watch(plugin))
            await _subscribed(redis, name)
            database.extend(_frame(n) for n in (4, 5, 6, 7))
            await publish(redis, name, [_frame(4), _frame(4), _frame(3)])  # repeated, stale
            await publish(redis, name, [_frame(6)])  # 5 was lost on the way
            await publish(redis, name, [_frame(7)])
            await asyncio.wait_for(watcher, timeout=10)
    finally:
        await redis.aclose()
    assert seen == [2, 3, 4, 5, 6, 7]


async def test_a_quiet_channel_asks_the_database_anyway(settings, monkeypatch):
    monkeypatch.setattr(channels, "CATCH_UP_SECONDS", 0.2)
    name = channel_name(settings.async_database_url, "test", secrets.token_hex(4))
    database = [_frame(1)]
    reads = 0

    async def catch_up(seq: int) -> list[dict]:
        nonlocal reads
        reads += 1
        return [f for f in database if f["seq"] > seq]

    async def first_two(plugin) -> list[int]:  # type: ignore[no-untyped-def]
        got = []
        async for frame in follow(plugin, name, after_seq=0, catch_up=catch_up):
            got.append(frame["seq"])
            if len(got) == 1:
                database.append(_frame(2))  # committed, its publication lost (Redis down)
            else:
                return got
        return got

    async with channels_plugin(settings.concrete_redis_url) as plugin:
        assert await asyncio.wait_for(first_two(plugin), timeout=10) == [1, 2]
    assert reads >= 2


async def test_publishing_while_redis_is_unreachable_loses_nothing_but_time(caplog):
    unreachable = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    try:
        await publish(unreachable, "tendering:test:nowhere", [_frame(1)])
    finally:
        await unreachable.aclose()
    assert "could not publish" in caplog.text


def test_channel_names_keep_deployments_sharing_a_redis_apart():
    a = channel_name("postgresql+asyncpg://u@h/city_a", "opening", "JY-1")
    b = channel_name("postgresql+asyncpg://u@h/city_b", "opening", "JY-1")
    assert a == "tendering:city_a:opening:JY-1" and a != b


async def test_frames_arrive_by_push_without_asking_the_database(settings):
    name = channel_name(settings.async_database_url, "test", secrets.token_hex(4))
    reads = 0

    async def catch_up(seq: int) -> list[dict]:
        nonlocal reads
        reads += 1
        return []

    async def first(plugin) -> dict:  # type: ignore[no-untyped-def]
        async for frame in follow(plugin, name, after_seq=0, catch_up=catch_up):
            return frame
        raise AssertionError("the channel ended")

    redis = Redis.from_url(settings.concrete_redis_url)
    try:
        async with channels_plugin(settings.concrete_redis_url) as plugin:
            watcher = asyncio.create_task(first(plugin))
            await _subscribed(redis, name)
            await publish(redis, name, [_frame(1)])
            assert await asyncio.wait_for(watcher, timeout=2) == _frame(1)
    finally:
        await redis.aclose()
    assert reads == 1  # the read on connecting, none after


async def test_without_redis_a_watcher_reads_the_database(settings, monkeypatch):
    monkeypatch.setattr(channels, "FALLBACK_SECONDS", 0.05)
    database = [_frame(1)]

    async def catch_up(seq: int) -> list[dict]:
        return [f for f in database if f["seq"] > seq]

    async def first_two(plugin) -> list[int]:  # type: ignore[no-untyped-def]
        got = []
        async for frame in follow(plugin, "tendering:test:down", after_seq=0, catch_up=catch_up):
            got.append(frame["seq"])
            database.append(_frame(2))
            if len(got) == 2:
                return got
        return got

    async with channels_plugin("redis://127.0.0.1:1") as plugin:
        assert await asyncio.wait_for(first_two(plugin), timeout=10) == [1, 2]


async def test_frames_nobody_pushed_switch_the_watcher_to_reading_every_second(
    settings, monkeypatch
):
    monkeypatch.setattr(channels, "CATCH_UP_SECONDS", 0.4)
    monkeypatch.setattr(channels, "FALLBACK_SECONDS", 0.02)
    name = channel_name(settings.async_database_url, "test", secrets.token_hex(4))
    database: list[dict] = []

    async def catch_up(seq: int) -> list[dict]:
        return [f for f in database if f["seq"] > seq]

    async def watch(plugin) -> list[float]:  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        waited, since = [], loop.time()
        async for frame in follow(plugin, name, after_seq=0, catch_up=catch_up):
            waited.append(loop.time() - since)
            database.append(_frame(frame["seq"] + 1))  # committed; Redis never says so
            since = loop.time()
            if frame["seq"] == 5:
                return waited
        return waited

    async with channels_plugin(settings.concrete_redis_url) as plugin:
        watcher = asyncio.create_task(watch(plugin))
        await asyncio.sleep(0.1)
        database.append(_frame(1))
        waited = await asyncio.wait_for(watcher, timeout=10)
    assert waited[0] >= 0.15  # the first waited for a quiet interval (0.2-0.6 s)
    assert max(waited[1:]) < 0.15  # then every 20 ms, not every 0.4 s
