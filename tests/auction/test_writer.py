"""The one writer: a batch decided in order against the current price, in one transaction,
with gapless seqs, frames and audit events; keys that count a retried bid once."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from auction.frames import frames_after
from auction.rules import Refusal
from auction.writer import PendingBid, decide
from tendering.core.audit import auction_stream
from tendering.core.audit.verify import verify_streams

from .bidding import started

START = 100_000_000
STEP = 1_000_000


async def test_a_batch_is_decided_in_order_against_the_current_price(
    session, people, desk, secrecy
):
    auction, bidders, _ = await started(session, people, desk, secrecy)
    (_, a), (_, b), (_, c) = bidders
    decided = await decide(
        session,
        auction.id,
        [
            PendingBid(a, START, "a1"),
            PendingBid(b, START, "b1"),  # same price, later: outbid
            PendingBid(c, START + 3 * STEP, "c1"),
            PendingBid(a, START + 3 * STEP + STEP // 2, "a2"),  # not a whole increment
            PendingBid(b, START + 4 * STEP, "b2"),
        ],
    )
    outcomes = [(d.accepted, d.seq, d.refusal) for d in decided.decisions]
    assert outcomes == [
        (True, 1, None),
        (False, None, Refusal.OUTBID),
        (True, 2, None),
        (False, None, Refusal.NOT_INCREMENT),
        (True, 3, None),
    ]
    assert all(d.price_fen == START + 4 * STEP for d in decided.decisions)
    assert "当前价为 1,000,000.00 元" in decided.decisions[1].message
    row = (
        await session.execute(
            text(
                "SELECT current_price_fen, leader_paddle, last_seq, ends_at"
                " FROM auction WHERE id = :id"
            ),
            {"id": auction.id},
        )
    ).one()
    assert (row.current_price_fen, row.leader_paddle, row.last_seq) == (START + 4 * STEP, b, 3)
    assert row.ends_at == decided.decisions[-1].ends_at
    bids = (
        await session.execute(
            text("SELECT seq, amount_fen FROM auction_bid WHERE auction_id = :id ORDER BY seq"),
            {"id": auction.id},
        )
    ).all()
    assert [tuple(r) for r in bids] == [(1, START), (2, START + 3 * STEP), (3, START + 4 * STEP)]
    # Frames: the open, then the three bids, gapless; and the chain holds the same.
    frames = await frames_after(session, auction.id, 0)
    assert [f["seq"] for f in frames] == [1, 2, 3, 4]
    assert [f["kind"] for f in frames] == ["phase", "bid", "bid", "bid"]
    assert [f["amount_fen"] for f in frames[1:]] == [START, START + 3 * STEP, START + 4 * STEP]
    assert frames[1:] == decided.frames
    actions = (
        (
            await session.execute(
                text("SELECT action FROM audit_event WHERE stream = :s ORDER BY seq"),
                {"s": auction_stream(auction.code)},
            )
        )
        .scalars()
        .all()
    )
    assert actions.count("auction.bid_accepted") == 3
    reports = [
        r
        async for r in verify_streams(session, public_key=None, stream=auction_stream(auction.code))
    ]
    assert reports and all(r.ok for r in reports)


async def test_a_retried_key_counts_once_and_a_reused_key_for_another_amount_is_refused(
    session, people, desk, secrecy
):
    auction, bidders, _ = await started(session, people, desk, secrecy)
    (_, a), (_, b), _ = bidders
    first = await decide(session, auction.id, [PendingBid(a, START, "k")])
    again = await decide(
        session,
        auction.id,
        [PendingBid(a, START, "k"), PendingBid(a, START + STEP, "k"), PendingBid(b, START, "k")],
    )
    replay, mismatch, other = again.decisions
    assert replay.accepted and replay.replayed and replay.seq == first.decisions[0].seq == 1
    assert mismatch.mismatch and not mismatch.accepted
    # Keys are the bidder's own: another paddle's "k" is a different bid (outbid here).
    assert other.refusal is Refusal.OUTBID
    count = (
        await session.execute(
            text("SELECT count(*) FROM auction_bid WHERE auction_id = :id"), {"id": auction.id}
        )
    ).scalar_one()
    assert count == 1


async def test_the_same_key_twice_in_one_batch_is_one_bid(session, people, desk, secrecy):
    auction, bidders, _ = await started(session, people, desk, secrecy)
    (_, a), _, _ = bidders
    decided = await decide(
        session, auction.id, [PendingBid(a, START, "x"), PendingBid(a, START, "x")]
    )
    first, second = decided.decisions
    assert first.accepted and not first.replayed
    assert second.accepted and second.replayed and second.seq == first.seq


async def test_an_unopened_auction_refuses_and_writes_nothing(session, people, desk, secrecy):
    from .conftest import approved_bidders, made

    auction = await made(session, desk, mode="live")
    ((_, paddle),) = await approved_bidders(session, people, desk, secrecy, auction, 1)
    decided = await decide(session, auction.id, [PendingBid(paddle, START, "a")])
    assert decided.decisions[0].refusal is Refusal.NOT_OPEN
    assert decided.frames == []
    assert await frames_after(session, auction.id, 0) == []


@pytest.mark.parametrize("countdown", [30])
async def test_every_accepted_bid_restarts_the_countdown_from_the_database_clock(
    session, people, desk, secrecy, countdown
):
    auction, bidders, _ = await started(session, people, desk, secrecy, countdown_seconds=countdown)
    (_, a), (_, b), _ = bidders
    one = (await decide(session, auction.id, [PendingBid(a, START, "1")])).decisions[0]
    two = (await decide(session, auction.id, [PendingBid(b, START + STEP, "2")])).decisions[0]
    assert one.ends_at is not None and two.ends_at is not None
    assert two.ends_at > one.ends_at
    assert (two.ends_at - two.at).total_seconds() == countdown
