"""This process's bids, batched per auction and decided by ``writer.decide``.

Each auction with bids waiting has a desk: its bids in arrival order and one task that
decides them a batch at a time on a connection of its own, answers the bidders after the
commit and publishes the batch's frames::

    clerk = BidClerk(sessionmaker, publish=publish)
    decision = await clerk.submit(auction_id, PendingBid(paddle="A017", amount_fen=n, key=k))
    await clerk.close()  # at shutdown: the batch in hand is finished, the rest answered unknown

The desks run on the serving loop. Deciding on a thread and loop of its own (so a batch's
round trips do not wait behind the requests) was measured in ``bench/auction_hot.py`` and
gained nothing: with racing bidders the bids per acceptance, not the writer, set the pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from auction.writer import MAX_BATCH, BidDecision, PendingBid, bid_unknown, decide
from tendering.core.channels import Frame
from tendering.core.errors import PlatformError

__all__ = ["BidClerk", "Publisher"]

log = logging.getLogger("auction.clerk")

Publisher = Callable[[str, list[Frame]], Awaitable[None]]


@dataclass(slots=True)
class _Desk:
    pending: deque[tuple[PendingBid, asyncio.Future[BidDecision]]] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class BidClerk:
    """This process's bids, batched per auction and decided by :func:`decide`.

    ``publish(code, frames)`` is called after each commit with the batch's frames.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        publish: Publisher,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._sessionmaker = sessionmaker
        engine = sessionmaker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the clerk's sessionmaker must be bound to an AsyncEngine")
        self._engine = engine
        self._publish = publish
        self._max_batch = max_batch
        self._desks: dict[int, _Desk] = {}
        self._closed = False
        self.clock_offset: float = 0.0  # database clock minus this process's, seconds

    async def submit(self, auction_id: int, bid: PendingBid) -> BidDecision:
        """Queue ``bid`` and wait for its decision; raises ``auction.bid_unknown`` (retry
        with the same key) when the batch could not be decided."""
        if self._closed:
            raise bid_unknown()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[BidDecision] = loop.create_future()
        desk = self._desks.setdefault(auction_id, _Desk())
        desk.pending.append((bid, future))
        if desk.task is None:
            desk.task = asyncio.create_task(self._drain(auction_id, desk))
        # A bidder who hangs up does not cancel the decision of the batch it is in.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Finish the batches in hand; what still waits is answered ``auction.bid_unknown``
        (its bidders retry with their keys, on this process's successor or another)."""
        self._closed = True
        for desk in list(self._desks.values()):
            left = list(desk.pending)
            desk.pending.clear()
            _fail(left, bid_unknown())
            if desk.task is not None:
                with contextlib.suppress(Exception):
                    await desk.task

    async def _drain(self, auction_id: int, desk: _Desk) -> None:
        try:
            # One connection while bids keep coming: the writer does not queue behind the
            # requests' own checkouts of the pool for each batch. Released once idle.
            async with self._engine.connect() as connection:
                session = AsyncSession(bind=connection, expire_on_commit=False)
                try:
                    while desk.pending:
                        count = min(len(desk.pending), self._max_batch)
                        batch = [desk.pending.popleft() for _ in range(count)]
                        if not await self._decide(session, auction_id, batch):
                            break  # the connection may be broken: take a fresh one
                finally:
                    await session.close()
        except Exception:
            log.exception("auction %s: the writer lost its connection", auction_id)
        finally:
            desk.task = None
            if desk.pending:  # arrived while the last batch was finishing, or left over
                desk.task = asyncio.create_task(self._drain(auction_id, desk))
            else:
                self._desks.pop(auction_id, None)

    async def _decide(
        self,
        session: AsyncSession,
        auction_id: int,
        batch: list[tuple[PendingBid, asyncio.Future[BidDecision]]],
    ) -> bool:
        """Decide and answer one batch; False when it failed for a reason not its own."""
        try:
            async with session.begin():
                decided = await decide(session, auction_id, [bid for bid, _ in batch])
        except PlatformError as error:
            _fail(batch, error)
            return True
        except Exception:
            log.exception(
                "auction %s: a batch of %d bids could not be decided", auction_id, len(batch)
            )
            _fail(batch, bid_unknown())
            return False
        if decided.now is not None:
            loop_now = datetime.now(decided.now.tzinfo)
            self.clock_offset = (decided.now - loop_now).total_seconds()
        for (_, future), decision in zip(batch, decided.decisions, strict=True):
            if not future.done():
                future.set_result(decision)
        if decided.frames:
            await self._publish(decided.code, decided.frames)
        return True


def _fail(batch: list[tuple[PendingBid, asyncio.Future[BidDecision]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
