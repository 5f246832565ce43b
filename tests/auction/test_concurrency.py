"""50 bidders × 20 bids at once on one auction, through two writers (as two processes would)
on real PostgreSQL: one decision per bid, no price accepted twice, a gapless sequence, the
final price the highest accepted bid; the auction then closes once and the ledger and the
audit chain verify."""

from __future__ import annotations

import asyncio
import random
from itertools import pairwise

import pytest
from sqlalchemy import text

from auction.clerk import BidClerk
from auction.clock import run_clock
from auction.frames import frames_after
from auction.writer import BidDecision, PendingBid
from tendering.core.audit import auction_stream
from tendering.core.audit.verify import verify_streams
from tendering.core.blobs import BlobStore
from tendering.core.clock import db_now
from tendering.core.db import make_sessionmaker
from tendering.ledger.verify import verify_ledger

from .bidding import started

START = 100_000_000
STEP = 1_000_000
BIDDERS = 50
BIDS = 20


@pytest.mark.committed
async def test_fifty_bidders_bidding_twenty_times_at_once(
    engine, session, people, desk, secrecy, key, tmp_path
):
    auction, bidders, _ = await started(
        session, people, desk, secrecy, bidders=BIDDERS, countdown_seconds=8
    )
    await session.commit()
    maker = make_sessionmaker(engine)
    published: list[dict] = []

    async def publish(code: str, frames: list[dict]) -> None:
        published.extend(frames)

    clerks = [BidClerk(maker, publish=publish), BidClerk(maker, publish=publish)]
    answers: list[BidDecision] = []

    async def bidder(paddle: str, seed: int) -> None:
        rng = random.Random(seed)
        seen: int | None = None
        for n in range(BIDS):
            steps = rng.choice((1, 1, 1, 2))
            amount = START + (steps - 1) * STEP if seen is None else seen + steps * STEP
            bid = PendingBid(paddle, amount, f"{paddle}-{n}")
            decision = await clerks[rng.randrange(2)].submit(auction.id, bid)
            answers.append(decision)
            if rng.random() < 0.1:  # the answer was lost: retry with the same key elsewhere
                again = await clerks[rng.randrange(2)].submit(auction.id, bid)
                assert again.accepted == decision.accepted
                if decision.accepted:
                    assert again.replayed and again.seq == decision.seq
            seen = decision.price_fen

    await asyncio.gather(*(bidder(paddle, i) for i, (_, paddle) in enumerate(bidders)))
    for clerk in clerks:
        await clerk.close()  # and every decided batch's frames published

    accepted = [a for a in answers if a.accepted and not a.replayed]
    rows = (
        await session.execute(
            text(
                "SELECT seq, paddle, amount_fen FROM auction_bid"
                " WHERE auction_id = :id ORDER BY seq"
            ),
            {"id": auction.id},
        )
    ).all()
    amounts = [r.amount_fen for r in rows]
    assert len(rows) == len(accepted) > 1  # every accepted answer is one row, and back
    assert len(answers) >= BIDDERS * BIDS
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))  # gapless
    assert len(set(amounts)) == len(amounts)  # no price accepted twice
    assert all(a < b for a, b in pairwise(amounts))  # strictly rising
    assert sorted((a.seq, a.amount_fen) for a in accepted) == [(r.seq, r.amount_fen) for r in rows]
    current = (
        await session.execute(
            text("SELECT current_price_fen, last_seq FROM auction WHERE id = :id"),
            {"id": auction.id},
        )
    ).one()
    assert current.current_price_fen == max(amounts) and current.last_seq == len(rows)
    frames = await frames_after(session, auction.id, 0, limit=5000)
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert [f["amount_fen"] for f in frames if f["kind"] == "bid"] == amounts
    assert sorted(f["seq"] for f in published) == [f["seq"] for f in frames[1:]]

    # The countdown runs out; the clock closes it once; everything verifies.
    ends_at = (
        await session.execute(
            text("SELECT ends_at FROM auction WHERE id = :id"), {"id": auction.id}
        )
    ).scalar_one()
    await session.commit()
    while (left := (ends_at - await db_now(session)).total_seconds()) > 0:
        await asyncio.sleep(left + 0.05)
    store = BlobStore(tmp_path / "blobs")
    results = []
    for _ in range(2):
        async with maker() as closing, closing.begin():
            results.append(
                await run_clock(
                    closing, auction_id=auction.id, secrecy=secrecy, key=key, store=store
                )
            )
    assert [r.settled for r in results] == [True, False]
    assert results[0].frames[-1]["final_price_fen"] == max(amounts)
    assert results[0].frames[-1]["winner_paddle"] == rows[-1].paddle
    async with maker() as check:
        assert await verify_ledger(check) == []
        reports = [
            r
            async for r in verify_streams(
                check, public_key=None, stream=auction_stream(auction.code)
            )
        ]
        assert reports and all(r.ok for r in reports)
        events = (
            await check.execute(
                text(
                    "SELECT count(*) FROM audit_event WHERE stream = :s"
                    " AND action = 'auction.bid_accepted'"
                ),
                {"s": auction_stream(auction.code)},
            )
        ).scalar_one()
        assert events == len(rows)
