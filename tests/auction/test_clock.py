"""The clock: phase changes announced as they fall due, closing once (early, late, twice),
the countdown frozen by a pause."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from auction.clock import pause_auction, resume_auction, run_clock
from auction.frames import frames_after
from auction.models import AuctionState
from auction.writer import PendingBid, decide
from tendering.core.blobs import BlobStore
from tendering.core.clock import db_now

from .bidding import started
from .conftest import actor_of

START = 100_000_000
STEP = 1_000_000


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


async def _until(session, moment) -> None:
    while (left := (moment - await db_now(session)).total_seconds()) > 0:
        await asyncio.sleep(left + 0.01)


async def _state(session, auction_id: int) -> str:
    return (
        await session.execute(text("SELECT state FROM auction WHERE id = :id"), {"id": auction_id})
    ).scalar_one()


async def test_closing_early_late_or_twice_closes_once(session, people, desk, secrecy, key, store):
    auction, bidders, _ = await started(session, people, desk, secrecy, countdown_seconds=1)
    (_, a), (_, b), _ = bidders
    await decide(session, auction.id, [PendingBid(a, START, "1"), PendingBid(b, START + STEP, "2")])
    clock = {"auction_id": auction.id, "secrecy": secrecy, "key": key, "store": store}

    early = await run_clock(session, **clock)
    assert not early.settled and early.frames == []
    assert early.next_at is not None and early.next_at > await db_now(session)

    await _until(session, early.next_at)
    refused = await decide(session, auction.id, [PendingBid(a, START + 2 * STEP, "3")])
    assert refused.decisions[0].refusal == "ended"  # before the job ran: the clock decides

    closed = await run_clock(session, **clock)
    assert closed.settled
    assert [f["kind"] for f in closed.frames] == ["result"]
    result = closed.frames[0]
    assert (result["outcome"], result["winner_paddle"], result["final_price_fen"]) == (
        "sold",
        b,
        START + STEP,
    )
    assert await _state(session, auction.id) == AuctionState.CLOSED

    again = await run_clock(session, **clock)
    assert not again.settled and again.frames == [] and again.next_at is None
    frames = await frames_after(session, auction.id, 0)
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert [f["kind"] for f in frames].count("result") == 1


async def test_a_listing_with_two_bidders_freezes_prepares_then_bids_against_the_clock(
    session, people, desk, secrecy, key, store
):
    auction, bidders, _ = await started(
        session,
        people,
        desk,
        secrecy,
        mode="listing",
        listing_seconds=3,
        freeze_before_seconds=2,
        preparation_seconds=1,
        countdown_seconds=1,
    )
    (_, a), (_, b), _ = bidders
    first = await decide(
        session, auction.id, [PendingBid(a, START, "1"), PendingBid(b, START + STEP, "2")]
    )
    assert [f["kind"] for f in first.frames] == ["phase", "bid", "bid"]  # listing started
    clock = {"auction_id": auction.id, "secrecy": secrecy, "key": key, "store": store}
    moved = await run_clock(session, **clock)
    assert moved.next_at is not None  # the freeze time
    await _until(session, moved.next_at)
    frozen = await run_clock(session, **clock)
    assert [f["phase"] for f in frozen.frames] == ["frozen"]
    assert await _state(session, auction.id) == AuctionState.PREPARING
    refused = await decide(session, auction.id, [PendingBid(a, START + 2 * STEP, "3")])
    assert refused.decisions[0].refusal == "not_open"
    await _until(session, frozen.next_at)  # timed bidding starts at listing end + preparation
    timed = await run_clock(session, **clock)
    assert [f["phase"] for f in timed.frames][-1] == "timed"
    assert timed.frames[-1]["price_fen"] == START + STEP  # from the highest listing price
    await _until(session, timed.next_at)
    closed = await run_clock(session, **clock)
    assert closed.settled and closed.frames[-1]["winner_paddle"] == b


async def test_a_pause_freezes_the_countdown(session, people, desk, secrecy, key, store):
    auction, bidders, auctioneer = await started(
        session, people, desk, secrecy, countdown_seconds=1
    )
    (_, a), _, _ = bidders
    await decide(session, auction.id, [PendingBid(a, START, "1")])
    gavel = actor_of(auctioneer)
    paused = await pause_auction(
        session, code=auction.code, actor=gavel, reason="断网", fault=False, key=key
    )
    assert paused.next_at is None
    await asyncio.sleep(1.2)  # longer than the countdown: paused, it does not run out
    clock = {"auction_id": auction.id, "secrecy": secrecy, "key": key, "store": store}
    assert not (await run_clock(session, **clock)).settled
    resumed = await resume_auction(session, code=auction.code, actor=gavel, reason="恢复")
    assert resumed.next_at is not None
    left = (resumed.next_at - await db_now(session)).total_seconds()
    assert 0 < left <= 1.0
    rows = (
        await session.execute(
            text("SELECT reason, resumed_at IS NOT NULL FROM auction_pause WHERE auction_id = :id"),
            {"id": auction.id},
        )
    ).all()
    assert [tuple(r) for r in rows] == [("断网", True)]
