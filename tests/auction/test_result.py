"""The result: the highest accepted bid wins if it reaches the sealed reserve, else 流拍; the
signed 成交确认书; the winner's deposit converted, the others refunded; the transcript."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import text

from auction.announcements import seller_name
from auction.models import AuctionBid, AuctionPause, AuctionState
from auction.reserve import enter_reserve, reserve_commitment
from auction.result import settle
from auction.transcript import build_transcript, check_transcript
from tendering.core.audit import auction_stream, record
from tendering.core.audit.verify import verify_streams
from tendering.core.blobs import BlobStore
from tendering.core.clock import db_now
from tendering.core.signing import verify_signature
from tendering.ledger import get_deposit
from tendering.ledger.verify import verify_ledger
from tests.pdf import pdf_text

from .conftest import actor_of, approved_bidders, made


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


async def live_auction(session, people, desk, secrecy, *, reserve: int | None, bidders: int = 3):
    auction = await made(session, desk, mode="live")
    if reserve is not None:
        await enter_reserve(
            session,
            secrecy=secrecy,
            actor=actor_of(desk.reserver),
            code=auction.code,
            reserve_fen=reserve,
        )
    found = await approved_bidders(session, people, desk, secrecy, auction, bidders)
    auction.state = AuctionState.LIVE
    await session.flush()
    return auction, found


async def bid(session, auction, paddle: str, amount: int) -> None:
    """What the bidding side's writer does for an accepted bid (its row, its chain event)."""
    auction.last_seq += 1
    auction.current_price_fen, auction.leader_paddle = amount, paddle
    session.add(
        AuctionBid(
            auction_id=auction.id,
            seq=auction.last_seq,
            paddle=paddle,
            amount_fen=amount,
            phase="live",
            idempotency_key=f"k{auction.last_seq}",
        )
    )
    await session.flush()
    await record(
        session,
        stream=auction_stream(auction.code),
        action="auction.bid_accepted",
        actor="system:auction.writer",
        payload={"seq": auction.last_seq, "paddle": paddle, "amount_fen": amount},
    )


async def deposit_state(session, secrecy, person, code):
    view = await get_deposit(
        session, secrecy=secrecy, bidder_org_id=person.organization.id, subject=f"auction:{code}"
    )
    return view.state


async def test_the_highest_bid_reaching_the_reserve_wins(
    session, people, desk, secrecy, key, store
):
    auction, found = await live_auction(session, people, desk, secrecy, reserve=102_000_000)
    (a, pa), (b, pb), (c, _) = found
    await bid(session, auction, pa, 100_000_000)
    await bid(session, auction, pb, 101_000_000)
    await bid(session, auction, pa, 103_000_000)
    result = await settle(session, auction, secrecy=secrecy, key=key, store=store)
    assert (result.outcome, result.winner_paddle, result.final_price_fen) == (
        "sold",
        pa,
        103_000_000,
    )
    assert result.reserve_fen == 102_000_000
    assert auction.state == AuctionState.CLOSED
    # the PDF, stored and signed like the opening record
    pdf = store.path(result.result_sha256).read_bytes()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == result.result_sha256
    words = pdf_text(pdf)  # the seller by name, the subject under Chinese labels
    assert f"出让方 Seller {await seller_name(session, auction.seller_id)}" in words
    assert "坐落位置:" in words and "location:" not in words
    signature = base64.b64decode(result.result_signature)
    assert verify_signature(key.public_raw, bytes.fromhex(result.result_sha256), signature)
    # the chain opens the reserve: anyone recomputes the commitment
    event = (
        await session.execute(
            text(
                "SELECT action, payload FROM audit_event WHERE stream = :s"
                " ORDER BY seq DESC LIMIT 1"
            ),
            {"s": auction_stream(auction.code)},
        )
    ).one()
    assert event.action == "auction.sold"
    payload = event.payload
    assert (
        reserve_commitment(
            auction.code, payload["reserve_fen"], bytes.fromhex(payload["reserve_nonce"])
        )
        == payload["reserve_commitment"]
    )
    # deposits: the winner's converted, the others refunded
    assert await deposit_state(session, secrecy, a, auction.code) == "converted"
    assert await deposit_state(session, secrecy, b, auction.code) == "refunded"
    assert await deposit_state(session, secrecy, c, auction.code) == "refunded"
    assert await verify_ledger(session) == []


async def test_below_the_reserve_the_auction_fails_and_every_deposit_is_refunded(
    session, people, desk, secrecy, key, store
):
    auction, found = await live_auction(
        session, people, desk, secrecy, reserve=150_000_000, bidders=2
    )
    await bid(session, auction, found[0][1], 100_000_000)
    await bid(session, auction, found[1][1], 149_000_000)
    result = await settle(session, auction, secrecy=secrecy, key=key, store=store)
    assert (result.outcome, result.winner_paddle, result.final_price_fen) == ("failed", None, None)
    assert result.reserve_fen == 150_000_000
    for person, _ in found:
        assert await deposit_state(session, secrecy, person, auction.code) == "refunded"


async def test_no_bid_fails_and_without_a_reserve_any_bid_sells(
    session, people, desk, secrecy, key, store
):
    empty, _ = await live_auction(session, people, desk, secrecy, reserve=None, bidders=1)
    assert (await settle(session, empty, secrecy=secrecy, key=key, store=store)).outcome == "failed"
    open_, found = await live_auction(session, people, desk, secrecy, reserve=None, bidders=1)
    await bid(session, open_, found[0][1], open_.start_price_fen)
    sold = await settle(session, open_, secrecy=secrecy, key=key, store=store)
    assert (sold.outcome, sold.reserve_fen) == ("sold", None)


async def test_settling_twice_settles_once(session, people, desk, secrecy, key, store):
    auction, found = await live_auction(session, people, desk, secrecy, reserve=None, bidders=2)
    await bid(session, auction, found[1][1], 100_000_000)
    first = await settle(session, auction, secrecy=secrecy, key=key, store=store)
    again = await settle(session, auction, secrecy=secrecy, key=key, store=store)
    assert first == again
    results = (
        await session.execute(
            text(
                "SELECT count(*) FROM audit_event WHERE stream = :s"
                " AND action IN ('auction.sold', 'auction.failed')"
            ),
            {"s": auction_stream(auction.code)},
        )
    ).scalar()
    assert results == 1


async def test_the_transcript_holds_bids_pauses_result_and_checks_against_the_chain(
    session, people, desk, secrecy, key, store
):
    auction, found = await live_auction(
        session, people, desk, secrecy, reserve=100_000_000, bidders=2
    )
    await bid(session, auction, found[0][1], 100_000_000)
    session.add(
        AuctionPause(
            auction_id=auction.id,
            after_seq=1,
            reason="网络故障 network fault",
            fault=True,
            paused_by=f"user:{desk.staff.user.id}",
            paused_at=await db_now(session),
        )
    )
    await bid(session, auction, found[1][1], 101_000_000)
    await settle(session, auction, secrecy=secrecy, key=key, store=store)
    transcript = await build_transcript(session, code=auction.code, key=key)
    assert [b["seq"] for b in transcript["bids"]] == [1, 2]
    assert transcript["pauses"][0]["fault"] is True
    assert transcript["result"]["winner_paddle"] == found[1][1]
    actions = [e["action"] for e in transcript["events"]]
    assert actions[-1] == "auction.sold" and actions.count("auction.bid_accepted") == 2
    assert check_transcript(transcript, key.public_raw) == []
    # the head is the database chain's head, which `tendering audit verify` re-checks
    reports = [
        r
        async for r in verify_streams(session, public_key=None, stream=auction_stream(auction.code))
    ]
    assert reports[0].ok and reports[0].head_seq == transcript["head"]["seq"]
    # an edited transcript no longer checks
    transcript["bids"][1]["amount_fen"] = 1
    transcript["events"][2]["payload"]["amount_fen"] = 1
    problems = check_transcript(transcript, key.public_raw)
    assert "the platform's signature does not verify" in problems
    assert any("hash does not match" in p for p in problems)
