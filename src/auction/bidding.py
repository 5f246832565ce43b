"""This process's bid path: the clerk that batches bids, the live rooms, the paddle cache.

One :class:`Bidding` per app, made on first use (:func:`bidding_of`). Routes call
:meth:`Bidding.bid` and :meth:`Bidding.watch`; the refusals become the platform's errors
here (:func:`refusal_error`), so HTTP and WebSocket answer alike.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auction.clerk import BidClerk
from auction.frames import auction_channel, frames_after
from auction.live import CatchUp, LiveHub
from auction.lookup import get_auction, paddle_of
from auction.rules import Refusal, advance
from auction.snapshot import READ_ONE, Snapshot, state_of, terms_of
from auction.writer import BidDecision, PendingBid
from tendering.core.auth.actor import Actor
from tendering.core.channels import Frame, publish
from tendering.core.deps import platform_of
from tendering.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    PlatformError,
    RuleViolation,
)
from tendering.core.secrecy import Secrecy

__all__ = ["Bidding", "bidding_of", "close_bidding", "refusal_error"]

STATE_KEY = "auction_bidding"
PADDLE_SECONDS = 10.0  # an approval is cached this long; a bid never outlives its auction


# Why a bid was refused -> the error that says so (class, code, the field at fault).
_REFUSALS: dict[Refusal, tuple[type[PlatformError], ErrorCode, str]] = {
    Refusal.OUTBID: (Conflict, ErrorCode.AUCTION_OUTBID, "amount_fen"),
    Refusal.NOT_INCREMENT: (RuleViolation, ErrorCode.AUCTION_NOT_INCREMENT, "amount_fen"),
    Refusal.BELOW_START: (RuleViolation, ErrorCode.AUCTION_BELOW_START, "amount_fen"),
    Refusal.NOT_APPROVED: (Forbidden, ErrorCode.AUCTION_NOT_APPROVED, "auction"),
    Refusal.ENDED: (Conflict, ErrorCode.AUCTION_ENDED, "auction"),
    Refusal.PAUSED: (Conflict, ErrorCode.AUCTION_PAUSED, "auction"),
}


def refusal_error(decision: BidDecision) -> PlatformError:
    """The 4xx a refused bid gets: it says why, and names the current price (but to a
    bidder who is not approved)."""
    if decision.mismatch:
        return Conflict(
            decision.message, code=ErrorCode.AUCTION_IDEMPOTENCY_MISMATCH, field="idempotency_key"
        )
    kind, code, field = _REFUSALS.get(
        decision.refusal or Refusal.NOT_OPEN, (Conflict, ErrorCode.AUCTION_NOT_OPEN, "auction")
    )
    if decision.refusal is Refusal.NOT_APPROVED:
        return kind(decision.message, code=code, field=field)
    details: dict[str, Any] = {"current_price_fen": decision.price_fen}
    return kind(decision.message, code=code, field=field, details=details)


class Bidding:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        secrecy: Secrecy,
        database_url: str,
        channels: ChannelsPlugin,
        redis: Redis | None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.secrecy = secrecy
        self.database_url = database_url
        self.redis = redis
        self.clerk = BidClerk(sessionmaker, publish=self.publish)
        self.hub = LiveHub(
            channels, open_room=self._open_room, clock_offset=lambda: self.clerk.clock_offset
        )
        self._paddles: dict[tuple[str, int], tuple[int, str, float]] = {}
        self._ids: dict[str, int] = {}

    async def close(self) -> None:
        """At shutdown: the batches in hand, then the live rooms."""
        await self.clerk.close()
        await self.hub.close()

    async def publish(self, code: str, frames: list[Frame]) -> None:
        if self.redis is not None and frames:
            await publish(self.redis, auction_channel(self.database_url, code), frames)

    async def paddle(self, code: str, actor: Actor) -> tuple[int, str]:
        """The auction's id and the actor's approved paddle (403 ``auction.not_approved``)."""
        org = actor.organization_id or 0
        cached = self._paddles.get((code, org))
        if cached is not None and cached[2] > time.monotonic():
            return cached[0], cached[1]
        async with self.sessionmaker() as session:
            paddle = await paddle_of(session, code, actor, secrecy=self.secrecy)
            row = await self._snapshot_by_code(session, code)
        self._paddles[(code, org)] = (row.id, paddle, time.monotonic() + PADDLE_SECONDS)
        return row.id, paddle

    async def bid(self, code: str, actor: Actor, *, amount_fen: int, key: str) -> BidDecision:
        """Decide one bid through the clerk; a refusal raises its 4xx."""
        auction_id, paddle = await self.paddle(code, actor)
        decision = await self.clerk.submit(auction_id, PendingBid(paddle, amount_fen, key))
        if not decision.accepted:
            raise refusal_error(decision)
        return decision

    def server_time(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clerk.clock_offset)

    async def auction_id(self, code: str) -> int:
        """The auction's id (404 ``auction.not_found``); codes never change, so remembered."""
        known = self._ids.get(code)
        if known is None:
            async with self.sessionmaker() as session:
                known = self._ids[code] = (await self._snapshot_by_code(session, code)).id
        return known

    async def frames(self, code: str, after: int, limit: int) -> list[Frame]:
        async with self.sessionmaker() as session:
            row = await self._snapshot_by_code(session, code)
            return await frames_after(session, row.id, after, limit=limit)

    async def _snapshot_by_code(self, session: AsyncSession, code: str) -> Snapshot:
        auction = await get_auction(session, code)  # 404 auction.not_found
        return Snapshot.of((await session.execute(READ_ONE, {"id": auction.id})).one())

    async def _open_room(self, auction_id: int) -> tuple[str, int, dict[str, Any], CatchUp]:
        async with self.sessionmaker() as session:
            row = Snapshot.of((await session.execute(READ_ONE, {"id": auction_id})).one())
            now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
        state = advance(terms_of(row), state_of(row), now)
        shown: dict[str, Any] = {
            "auction": row.code,
            "phase": str(state.phase),
            "price_fen": state.price,
            "leader": state.leader,
            "ends_at": None if state.ends_at is None else state.ends_at.isoformat(),
            "paused": state.paused,
            "bids": state.bids,
            "seq": row.frame_seq,
        }

        async def catch_up(after: int, limit: int) -> list[Frame]:
            async with self.sessionmaker() as session:
                return await frames_after(session, auction_id, after, limit=limit)

        return auction_channel(self.database_url, row.code), row.frame_seq, shown, catch_up


async def close_bidding(state: State) -> None:
    """Close the app's :class:`Bidding` if it was made (``app.py``, at shutdown)."""
    found = state.get(STATE_KEY)
    if isinstance(found, Bidding):
        await found.close()


def bidding_of(state: State, channels: ChannelsPlugin) -> Bidding:
    """The app's :class:`Bidding`, made on first use."""
    found = state.get(STATE_KEY)
    if isinstance(found, Bidding):
        return found
    platform = platform_of(state)
    made = Bidding(
        sessionmaker=platform.sessionmaker,
        secrecy=platform.secrecy,
        database_url=platform.settings.async_database_url,
        channels=channels,
        redis=platform.queue,
    )
    state[STATE_KEY] = made
    return made
