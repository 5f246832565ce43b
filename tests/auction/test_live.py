"""Live fan-out through Redis: every watcher sees every frame once, in order, coalesced per
tick; one that reconnects with its last seq misses nothing; a fault pause reaches all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from auction import live
from auction.bidding import Bidding
from auction.clock import pause_auction
from auction.live import Room
from auction.writer import PendingBid
from tendering.core.channels import channels_plugin
from tendering.core.db import make_sessionmaker

from .bidding import started
from .conftest import actor_of

START = 100_000_000
STEP = 1_000_000


async def _watch(bidding: Bidding, auction_id: int, after: int, until: int) -> list[dict]:
    """The messages a watcher gets from ``after`` until it has seen frame ``until``."""
    messages: list[dict] = []
    async with contextlib.aclosing(bidding.hub.watch(auction_id, after)) as stream:
        async for raw in stream:
            message = json.loads(raw)
            messages.append(message)
            frames = [f for m in messages for f in m.get("frames", [])]
            if frames and frames[-1]["seq"] >= until:
                break
    return messages


def _seqs(messages: list[dict]) -> list[int]:
    return [f["seq"] for m in messages for f in m.get("frames", [])]


@pytest.mark.committed
async def test_a_reconnecting_watcher_misses_nothing_and_frames_are_coalesced(
    engine, session, people, desk, secrecy, key, settings
):
    auction, bidders, auctioneer = await started(session, people, desk, secrecy, bidders=12)
    await session.commit()
    redis = Redis.from_url(settings.concrete_redis_url)
    async with channels_plugin(settings.concrete_redis_url) as plugin:
        bidding = Bidding(
            sessionmaker=make_sessionmaker(engine),
            secrecy=secrecy,
            database_url=settings.async_database_url,
            channels=plugin,
            redis=redis,
        )
        price = START - STEP
        paddles = [p for _, p in bidders]

        async def bid(n: int) -> None:
            nonlocal price
            price += STEP
            decision = await bidding.clerk.submit(
                auction.id, PendingBid(paddles[n % len(paddles)], price, f"k{n}")
            )
            assert decision.accepted

        # Frame 1 is the opening; bids 1-25 are frames 2-26; the pause is frame 27.
        whole = asyncio.create_task(_watch(bidding, auction.id, 0, 27))
        first = asyncio.create_task(_watch(bidding, auction.id, 0, 6))
        await asyncio.sleep(0.3)  # both rooms' watchers in
        for n in range(10):
            await bid(n)
            await asyncio.sleep(0.02)
        seen_first = await asyncio.wait_for(first, 10)
        last = _seqs(seen_first)[-1]
        # Away: sequential bids, then a burst decided in a batch or two.
        for n in range(10, 15):
            await bid(n)
        burst = [START + (15 + i) * STEP for i in range(10)]
        price = burst[-1]
        decisions = await asyncio.gather(
            *(
                bidding.clerk.submit(auction.id, PendingBid(paddles[i], amount, f"k{15 + i}"))
                for i, amount in enumerate(burst)
            )
        )
        assert all(d.accepted for d in decisions)  # arrival order = rising amounts
        moved = await _paused(session, auction.code, actor_of(auctioneer), key)
        await bidding.publish(auction.code, moved)
        again = await asyncio.wait_for(_watch(bidding, auction.id, last, 27), 20)
        everything = await asyncio.wait_for(whole, 20)
        await bidding.hub.close()
        # A watcher of a room opened afresh (no recent frames held) reads the database.
        fresh = await asyncio.wait_for(_watch(bidding, auction.id, 3, 27), 20)
        await bidding.close()
    await redis.aclose()

    assert _seqs(seen_first)[:6] == list(range(1, 7))
    assert _seqs(again) == list(range(last + 1, 28))  # the rest, once, in order
    assert _seqs(everything) == list(range(1, 28))
    assert _seqs(fresh) == list(range(4, 28))
    frames = [f for m in everything for f in m.get("frames", [])]
    assert frames[-1]["kind"] == "pause" and frames[-1]["fault"] and frames[-1]["signature"]
    carrying = [m for m in everything if m.get("frames")]
    assert len(carrying) < 27  # the burst came in fewer messages than frames
    last_message = carrying[-1]
    assert last_message["state"]["paused"] and last_message["state"]["price_fen"] == burst[-1]
    assert all("server_time" in m for m in everything)


async def _paused(session, code: str, actor, key) -> list[dict]:
    moved = await pause_auction(
        session, code=code, actor=actor, reason="系统故障：数据库连接中断", fault=True, key=key
    )
    await session.commit()
    return moved.frames


def _bid(seq: int) -> dict:
    return {
        "seq": seq,
        "kind": "bid",
        "at": "2026-12-05T10:00:00.000000Z",
        "paddle": "007",
        "amount_fen": START + seq * STEP,
        "bid_seq": seq,
        "ends_at": None,
        "phase": "live",
    }


@contextlib.asynccontextmanager
async def _room(settings, tick: float) -> AsyncIterator[Room]:
    """A started room on a channel of its own, with nothing stored; stopped after."""

    async def nothing_stored(after: int, limit: int) -> list[dict]:
        return []

    async with channels_plugin(settings.concrete_redis_url) as plugin:
        room = Room(
            channels=plugin,
            channel=f"tendering:test:room:{uuid.uuid4().hex}",
            start_seq=0,
            state={"phase": "live", "seq": 0},
            catch_up=nothing_stored,
            clock_offset=lambda: 0.0,
            tick=tick,
        )
        room.start()
        try:
            yield room
        finally:
            await room.stop()


async def _next_frames(stream) -> list[int]:
    """The seqs of the next message that carries frames."""
    while True:
        message = json.loads(await asyncio.wait_for(anext(stream), 10))
        if message.get("frames"):
            return [f["seq"] for f in message["frames"]]


async def test_a_frame_after_a_quiet_spell_does_not_wait_for_the_tick(settings):
    # A tick boundary never comes in this test.
    async with _room(settings, tick=3600.0) as room, contextlib.aclosing(room.watch(0)) as stream:
        assert json.loads(await anext(stream))["type"] == "hello"
        room.arrived(_bid(1))
        assert await _next_frames(stream) == [1]


async def test_frames_close_behind_a_message_wait_for_the_tick_and_go_together(settings):
    async with _room(settings, tick=0.5) as room, contextlib.aclosing(room.watch(0)) as stream:
        await anext(stream)  # hello
        room.arrived(_bid(1))
        room.arrived(_bid(2))  # the same batch
        assert await _next_frames(stream) == [1, 2]
        room.arrived(_bid(3))
        await asyncio.sleep(0.05)  # longer than a batch's gathering, within the tick
        room.arrived(_bid(4))
        assert await _next_frames(stream) == [3, 4]
        assert room.state["price_fen"] == START + 4 * STEP


async def test_a_quiet_room_still_tells_the_time(settings, monkeypatch):
    monkeypatch.setattr(live, "IDLE_SECONDS", 0.05)
    async with _room(settings, tick=0.1) as room, contextlib.aclosing(room.watch(0)) as stream:
        await anext(stream)  # hello
        message = json.loads(await asyncio.wait_for(anext(stream), 10))
        assert message["type"] == "time" and message["server_time"]
        assert message["state"]["phase"] == "live"


async def test_a_watcher_busy_while_ticks_go_catches_up_once_in_order(settings):
    async with (
        _room(settings, tick=0.02) as room,
        contextlib.aclosing(room.watch(0)) as busy,
        contextlib.aclosing(room.watch(0)) as keen,
    ):
        await anext(busy), await anext(keen)  # hellos
        seen_keen: list[int] = []
        for seq in range(1, 7):  # six ticks' worth; busy reads none of them meanwhile
            room.arrived(_bid(seq))
            seen_keen += await _next_frames(keen)
        seen_busy: list[int] = []
        while len(seen_busy) < 6:
            seen_busy += await _next_frames(busy)
    assert seen_keen == seen_busy == [1, 2, 3, 4, 5, 6]


async def test_a_watcher_ahead_of_the_room_is_still_told_the_time(settings, monkeypatch):
    monkeypatch.setattr(live, "IDLE_SECONDS", 0.05)
    async with (
        _room(settings, tick=0.1) as room,
        contextlib.aclosing(room.watch(10**9)) as bidder,  # wants no frames
    ):
        await anext(bidder)  # hello
        message = json.loads(await asyncio.wait_for(anext(bidder), 10))
    assert message["type"] == "time"
