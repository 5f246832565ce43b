"""Live fan-out of an auction to this process's watchers, coalesced per tick.

One :class:`Room` per watched auction per process follows the auction's channel once
(``core.channels.follow``: Redis pub/sub with database catch-up, so it sees every frame once,
in order), however many watch it. The room sends the frames that arrived as **one** message,
encoded once, to every watcher that is up to date, with the auction's latest state and the
server time, and at most one such message per ``tick`` (100 ms) (DESIGN.md, "Live fan-out":
one process pushes about 100,000 frames/s, so 2,000 watchers get one message per tick, not
one per bid). A frame after a quiet tick goes out at once (after ``GATHER_SECONDS``, so the
frames of one committed batch go together), not at the next tick's boundary: a busy auction
is still coalesced per tick, and a calm one's frames do not wait up to a tick for nothing.
A watcher that joins with an older ``after_seq`` (a reconnect) or falls behind (a slow
socket) catches up in its own coroutine, from the room's recent frames or from the database,
then rejoins the shared messages: it misses nothing and sees nothing twice.

Each watcher's coroutine waits on the room's current :class:`_Tick` and takes its message
only if it had seen exactly the frames before it; nothing per watcher is queued or woken
one by one, since with thousands of watchers that bookkeeping cost more per message than
the socket's own send.

A message is ``{"type": "frames", "frames": [...], "state": {...}, "server_time": ...}``;
when nothing happens for a second the watcher gets ``{"type": "time", "state", "server_time"}``
so its countdown stays honest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.channels import ChannelsPlugin

from tendering.core.channels import Frame, follow
from tendering.core.clock import rfc3339

__all__ = ["LiveHub", "Room"]

log = logging.getLogger("auction.live")

TICK_SECONDS = 0.1
GATHER_SECONDS = 0.005  # a batch's frames are published one after another: wait for the rest
IDLE_SECONDS = 1.0
KEEP_FRAMES = 4096  # recent frames held for watchers catching up

CatchUp = Callable[[int, int], Awaitable[list[Frame]]]  # (after, limit) -> frames


@dataclass(eq=False, slots=True)
class _Tick:
    """One shared message: for the watchers that had seen every frame up to ``before``; it
    brings them to ``upto`` (a time message: ``upto == before``). Set once; the next
    message is another."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    before: int = 0
    upto: int = 0
    message: str = ""


class Room:
    """The watchers of one auction in this process."""

    def __init__(
        self,
        *,
        channels: ChannelsPlugin,
        channel: str,
        start_seq: int,
        state: dict[str, Any],
        catch_up: CatchUp,
        clock_offset: Callable[[], float],
        tick: float = TICK_SECONDS,
    ) -> None:
        self.channels, self.channel = channels, channel
        self.tick_seq = start_seq  # every frame up to here went out in a tick
        self.state = state
        self.catch_up = catch_up
        self.clock_offset = clock_offset
        self.tick = tick
        self.recent: deque[Frame] = deque(maxlen=KEEP_FRAMES)
        self.watchers: set[object] = set()  # one token per watcher: the room lives while any do
        self._tick = _Tick()
        self._fresh = asyncio.Event()  # a frame arrived that no message carried yet
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._follow()),
            asyncio.create_task(self._ticks()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def server_time(self) -> str:
        return rfc3339(datetime.now(UTC) + timedelta(seconds=self.clock_offset()))

    async def _follow(self) -> None:
        after = self.tick_seq
        while True:
            try:
                async for frame in follow(
                    self.channels, self.channel, after_seq=after, catch_up=self._read
                ):
                    self.arrived(frame)
                    after = frame["seq"]
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live room %s: following failed; again in a second", self.channel)
                await asyncio.sleep(1.0)

    def arrived(self, frame: Frame) -> None:
        """The channel's next frame (``seq`` one past the last): kept, and sent soon."""
        self.recent.append(frame)
        self._fresh.set()

    async def _read(self, after: int) -> list[Frame]:
        return await self.catch_up(after, 500)

    async def _ticks(self) -> None:
        loop = asyncio.get_running_loop()
        sent_at = -self.tick  # when the last message with frames went out
        while True:
            if not self._fresh.is_set():
                try:
                    await asyncio.wait_for(self._fresh.wait(), IDLE_SECONDS)
                except TimeoutError:
                    self._send_time()
                    continue
            # At most one message per tick; the first after a quiet tick waits only for
            # the rest of its batch.
            await asyncio.sleep(max(sent_at + self.tick - loop.time(), GATHER_SECONDS))
            self._fresh.clear()
            fresh = [f for f in self.recent if f["seq"] > self.tick_seq] if self.recent else []
            if not fresh:
                continue
            sent_at = loop.time()
            before = self.tick_seq
            for frame in fresh:
                _apply(self.state, frame)
            self.tick_seq = fresh[-1]["seq"]
            self._share(before, self._encode({"type": "frames", "frames": fresh}))

    def _send_time(self) -> None:
        """The state and server time to the watchers that are up to date."""
        self._share(self.tick_seq, self._encode({"type": "time"}))

    def _share(self, before: int, message: str) -> None:
        tick, self._tick = self._tick, _Tick()
        tick.before, tick.upto, tick.message = before, self.tick_seq, message
        tick.done.set()

    def _encode(self, body: dict[str, Any]) -> str:
        return json.dumps(
            {**body, "state": self.state, "server_time": self.server_time()}, ensure_ascii=False
        )

    async def watch(self, after_seq: int) -> AsyncGenerator[str, None]:
        """Messages for one watcher that has seen every frame up to ``after_seq``."""
        token, last = object(), after_seq
        self.watchers.add(token)
        try:
            yield self._encode({"type": "hello", "after_seq": after_seq})
            while True:
                if last < self.tick_seq:  # joined behind, or was sending while a tick went
                    frames = await self._frames_for(last, self.tick_seq)
                    if frames:
                        last = frames[-1]["seq"]
                        yield self._encode({"type": "frames", "frames": frames})
                    continue
                tick = self._tick
                await tick.done.wait()
                # Its frames if it had seen all before them; a time message (no frames) to
                # everyone not behind, even one that asked for frames after the last.
                if tick.before == last or tick.before == tick.upto < last:
                    last = max(last, tick.upto)
                    yield tick.message
        finally:
            self.watchers.discard(token)

    async def _frames_for(self, after: int, upto: int) -> list[Frame]:
        """Frames ``(after, upto]`` from the recent ones, else from the database."""
        if self.recent and self.recent[0]["seq"] <= after + 1:
            return [f for f in self.recent if after < f["seq"] <= upto]
        frames = await self.catch_up(after, 500)
        return [f for f in frames if f["seq"] <= upto]


def _apply(state: dict[str, Any], frame: Frame) -> None:
    """The auction's latest state as watchers see it, moved by one frame."""
    kind = frame["kind"]
    if kind == "bid":
        state.update(
            price_fen=frame["amount_fen"],
            leader=frame["paddle"],
            ends_at=frame["ends_at"],
            phase=frame["phase"],
            bids=frame["bid_seq"],
        )
    elif kind in ("phase", "resume"):
        state.update(phase=frame["phase"], price_fen=frame["price_fen"], ends_at=frame["ends_at"])
        state["paused"] = bool(frame.get("paused", False))
    elif kind == "pause":
        state.update(paused=True, ends_at=None, remaining_ms=frame["remaining_ms"])
    elif kind == "result":
        state.update(
            phase="ended",
            ends_at=None,
            outcome=frame["outcome"],
            winner_paddle=frame["winner_paddle"],
            final_price_fen=frame["final_price_fen"],
        )
    state["seq"] = frame["seq"]


class LiveHub:
    """This process's rooms, opened on the first watcher and closed after the last."""

    def __init__(
        self,
        channels: ChannelsPlugin,
        *,
        open_room: Callable[[int], Awaitable[tuple[str, int, dict[str, Any], CatchUp]]],
        clock_offset: Callable[[], float],
        tick: float = TICK_SECONDS,
    ) -> None:
        self.channels = channels
        self._open_room = open_room
        self._clock_offset = clock_offset
        self._tick = tick
        self._rooms: dict[int, Room] = {}
        self._opening: dict[int, asyncio.Lock] = {}

    async def room(self, auction_id: int) -> Room:
        lock = self._opening.setdefault(auction_id, asyncio.Lock())
        async with lock:
            room = self._rooms.get(auction_id)
            if room is None:
                channel, seq, state, catch_up = await self._open_room(auction_id)
                room = Room(
                    channels=self.channels,
                    channel=channel,
                    start_seq=seq,
                    state=state,
                    catch_up=catch_up,
                    clock_offset=self._clock_offset,
                    tick=self._tick,
                )
                room.start()
                self._rooms[auction_id] = room
            return room

    async def watch(self, auction_id: int, after_seq: int) -> AsyncGenerator[str, None]:
        room = await self.room(auction_id)
        try:
            async for message in room.watch(after_seq):
                yield message
        finally:
            if not room.watchers and self._rooms.get(auction_id) is room:
                del self._rooms[auction_id]
                await room.stop()

    async def close(self) -> None:
        rooms, self._rooms = list(self._rooms.values()), {}
        for room in rooms:
            await room.stop()
