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
