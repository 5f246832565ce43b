"""The demo: a land parcel in listing, a rural land-contract right, and a live English
auction the auctioneer can open at once, with approved demo bidders and their deposits."""

from __future__ import annotations

from sqlalchemy import text

from auction import paddle_of
from auction.registration import list_applications
from tendering.app import register_contexts
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.clock import db_now
from tendering.core.db import make_sessionmaker
from tendering.core.demo import run_demo
from tendering.ledger import deposit_status


async def test_the_demo_has_three_auctions_and_approved_bidders(engine, session, key, secrecy):
    register_contexts()
    book = await run_demo(make_sessionmaker(engine), secrecy=secrecy, key=key)
    assert book is not None
    assert any("live English auction" in n for n in book.notes)
    assert any("approved demo bidders" in n for n in book.notes)
    rows = {
        (r.kind, r.mode): r
        for r in await session.execute(
            text("SELECT code, kind, mode, state, starts_at, subject FROM auction")
        )
    }
    assert rows[("land_use", "listing")].state == "listing"
    rural = rows[("rural_property", "listing")]
    assert rural.state == "announced" and rural.subject["right_type"] == "land_management"
    live = rows[("state_property", "live")]
    now = await db_now(session)
    assert live.state == "announced" and live.starts_at <= now  # the auctioneer may open it
    bidder = book.users["bidder3"]
    actor = Actor(bidder.id, bidder.username, Role.BIDDER, bidder.organization_id, OrgKind.BIDDER)
    paddle = await paddle_of(session, live.code, actor, secrecy=secrecy)
    assert len(paddle) == 4
    status = await deposit_status(
        session, bidder.organization_id, f"auction:{live.code}", now, secrecy=secrecy
    )
    assert status.state == "received"
    applications = await list_applications(session, secrecy=secrecy, code=live.code)
    assert [a.state for a in applications] == ["approved"] * 3
    reserves = await session.scalar(
        text("SELECT count(*) FROM auction WHERE reserve_commitment IS NOT NULL")
    )
    assert reserves == 3


async def test_the_demo_auctioneer_opens_the_live_auction_and_it_settles(
    engine, session, app, client, login
):
    from auction.transcript import check_transcript
    from tendering.core.deps import platform_of

    register_contexts()
    platform = platform_of(app.state)
    book = await run_demo(make_sessionmaker(engine), secrecy=platform.secrecy, key=platform.key)
    assert book is not None
    code = await session.scalar(text("SELECT code FROM auction WHERE mode = 'live'"))
    auctioneer = await login("auctioneer", "demo-auctioneer-2026")
    opened = await client.post(f"/api/auctions/{code}/open", headers=auctioneer)
    assert opened.status_code == 200, opened.text
    bidder = await login("bidder3", "demo-bidder-2026")
    start = await session.scalar(
        text("SELECT start_price_fen FROM auction WHERE code = :c"), {"c": code}
    )
    bid = await client.post(
        f"/api/auctions/{code}/bids",
        json={"amount_fen": start + 5_000_000, "idempotency_key": "demo-1"},
        headers=bidder,
    )
    assert bid.status_code == 201, bid.text
    # the countdown runs out (moved, not waited for); the clock closes and settles it
    await session.execute(
        text(
            "UPDATE auction SET ends_at = clock_timestamp() - interval '1 second' WHERE code = :c"
        ),
        {"c": code},
    )
    await session.commit()
    staff = await login("staff", "demo-staff-2026")
    clocked = await client.post(f"/api/auctions/{code}/clock", headers=staff)
    assert clocked.status_code == 200, clocked.text
    result = (await client.get(f"/api/auctions/{code}/result", headers=bidder)).json()
    # the demo reserve (9,000,000 yuan) is above this bid: 流拍, every deposit refunded
    assert (result["outcome"], result["reserve_fen"]) == ("failed", 900_000_000)
    supervisor = await login("supervisor", "demo-supervisor-2026")
    transcript = (await client.get(f"/api/auctions/{code}/transcript", headers=supervisor)).json()
    assert [b["amount_fen"] for b in transcript["bids"]] == [start + 5_000_000]
    assert check_transcript(transcript, platform.key.public_raw) == []
