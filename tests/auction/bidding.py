"""Helpers for the bidding tests: an auction that bidders can bid on now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auction.clock import open_auction
from auction.models import Auction
from tendering.core.auth.models import Role
from tendering.core.clock import db_now

from .conftest import Desk, actor_of, approved_bidders, made


async def started(
    session: AsyncSession,
    people: Any,
    desk: Desk,
    secrecy: Any,
    *,
    bidders: int = 3,
    mode: str = "live",
    countdown_seconds: int = 240,
    listing_seconds: int | None = None,
    freeze_before_seconds: int = 3600,
    preparation_seconds: int = 900,
) -> tuple[Auction, list[tuple[Any, str]], Any]:
    """An announced auction with approved bidders whose bidding starts now: a live auction
    opened by an auctioneer (returned), or a listing (``listing_seconds`` long)."""
    auction = await made(session, desk, mode=mode)
    found = await approved_bidders(session, people, desk, secrecy, auction, bidders)
    now = await db_now(session)
    await session.execute(
        text(
            "UPDATE auction SET starts_at = :starts, listing_ends_at = :ends,"
            " countdown_seconds = :countdown, freeze_before_seconds = :freeze,"
            " preparation_seconds = :preparation WHERE id = :id"
        ),
        {
            "id": auction.id,
            "starts": now - timedelta(seconds=1),
            "ends": None if listing_seconds is None else now + timedelta(seconds=listing_seconds),
            "countdown": countdown_seconds,
            "freeze": freeze_before_seconds,
            "preparation": preparation_seconds,
        },
    )
    auctioneer = await people.user(Role.AUCTIONEER)
    if mode == "live":
        await open_auction(session, code=auction.code, actor=actor_of(auctioneer))
    await session.flush()
    return auction, found, auctioneer
