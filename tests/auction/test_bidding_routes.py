"""Bidding over HTTP: accepted bids, refusals that say why, keys, the auctioneer's pause."""

from __future__ import annotations

import base64

import pytest

from tendering.core.auth.models import Role
from tendering.core.canonical import canonical_json
from tendering.core.deps import platform_of
from tendering.core.signing import verify_signature

from .bidding import started

START = 100_000_000
STEP = 1_000_000


@pytest.fixture
def app_secrecy(app):
    return platform_of(app.state).secrecy


@pytest.fixture
async def live(session, people, desk, app_secrecy):
    auction, bidders, auctioneer = await started(session, people, desk, app_secrecy)
    await session.commit()
    return auction, bidders, auctioneer


async def test_bids_are_accepted_in_whole_increments_and_refusals_say_why(
    client, login, live, people
):
    auction, ((first, paddle), (second, _), _), _ = live
    url = f"/api/auctions/{auction.code}/bids"
    me, other = await login(first), await login(second)

    accepted = await client.post(
        url, json={"amount_fen": START, "idempotency_key": "k1"}, headers=me
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert (body["seq"], body["paddle"], body["amount_fen"], body["replayed"]) == (
        1,
        paddle,
        START,
        False,
    )
    assert body["phase"] == "live" and body["ends_at"] and body["server_time"]

    again = await client.post(url, json={"amount_fen": START, "idempotency_key": "k1"}, headers=me)
    assert again.status_code == 201 and again.json()["replayed"] and again.json()["seq"] == 1

    outbid = await client.post(
        url, json={"amount_fen": START, "idempotency_key": "o1"}, headers=other
    )
    assert outbid.status_code == 409
    assert outbid.json()["code"] == "auction.outbid"
    assert outbid.json()["details"]["current_price_fen"] == START
    assert "1,000,000.00" in outbid.json()["detail"]

    uneven = await client.post(
        url, json={"amount_fen": START + STEP + 1, "idempotency_key": "o2"}, headers=other
    )
    assert uneven.status_code == 400 and uneven.json()["code"] == "auction.not_increment"

    reused = await client.post(
        url, json={"amount_fen": START + STEP, "idempotency_key": "k1"}, headers=me
    )
    assert reused.status_code == 409 and reused.json()["code"] == "auction.idempotency_mismatch"

    stranger = await login(await people.user(Role.BIDDER))
    refused = await client.post(
        url, json={"amount_fen": START + STEP, "idempotency_key": "s"}, headers=stranger
    )
    assert refused.status_code == 403 and refused.json()["code"] == "auction.not_approved"

    anonymous = await client.post(url, json={"amount_fen": START + STEP, "idempotency_key": "a"})
    assert anonymous.status_code == 401

    bad = await client.post(
        url, json={"amount_fen": -5, "idempotency_key": "no spaces"}, headers=me
    )
    assert bad.status_code == 400

    frames = (await client.get(f"/api/auctions/{auction.code}/frames?after_seq=0")).json()["frames"]
    assert [f["kind"] for f in frames] == ["phase", "bid"]
    assert frames[1]["paddle"] == paddle and "name" not in frames[1]


async def test_a_paused_auction_accepts_nothing_until_it_resumes(client, login, live):
    auction, ((first, _), _, _), auctioneer = live
    bids = f"/api/auctions/{auction.code}/bids"
    gavel = await login(auctioneer)
    me = await login(first)
    assert (
        await client.post(bids, json={"amount_fen": START, "idempotency_key": "1"}, headers=me)
    ).status_code == 201

    paused = await client.post(
        f"/api/auctions/{auction.code}/pause",
        json={"reason": "网络故障", "fault": True},
        headers=gavel,
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] and paused.json()["ends_at"] is None
    pause_frame = paused.json()["frames"][-1]
    assert (
        pause_frame["kind"] == "pause" and pause_frame["fault"] and pause_frame["remaining_ms"] > 0
    )
    # The fault pause is signed by the platform over the canonical pause record.
    record = {k: v for k, v in pause_frame.items() if k not in ("seq", "kind", "at", "signature")}
    key = platform_of(client.app.state).key
    assert verify_signature(
        key.public_raw, canonical_json(record), base64.b64decode(pause_frame["signature"])
    )

    refused = await client.post(
        bids, json={"amount_fen": START + STEP, "idempotency_key": "2"}, headers=me
    )
    assert refused.status_code == 409 and refused.json()["code"] == "auction.paused"
    twice = await client.post(
        f"/api/auctions/{auction.code}/pause", json={"reason": "x"}, headers=gavel
    )
    assert twice.status_code == 409 and twice.json()["code"] == "auction.state"

    resumed = await client.post(
        f"/api/auctions/{auction.code}/resume", json={"reason": "已恢复"}, headers=gavel
    )
    assert resumed.status_code == 200, resumed.text
    left = pause_frame["remaining_ms"]
    assert resumed.json()["ends_at"] is not None and not resumed.json()["paused"]
    assert (
        await client.post(
            bids, json={"amount_fen": START + STEP, "idempotency_key": "2"}, headers=me
        )
    ).status_code == 201
    kinds = [
        f["kind"]
        for f in (await client.get(f"/api/auctions/{auction.code}/frames")).json()["frames"]
    ]
    assert kinds == ["phase", "bid", "pause", "resume", "bid"]
    assert left <= 240_000

    bidder_cannot = await client.post(
        f"/api/auctions/{auction.code}/pause", json={"reason": "x"}, headers=me
    )
    assert bidder_cannot.status_code == 403
