"""Decoy submissions blur a lot's count of bids in the tables, and the opening accounts for
every commitment of the period (bids/decoys.py)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tendering.bids import rules
from tendering.bids.decoys import (
    FIRST_DECOY_WITHIN,
    MAX_DECOYS,
    MAX_PLAIN,
    MIN_HISTORY,
    MIN_PLAIN,
    _real_sizes,
    draw_size,
    plan,
    plant_due_decoys,
)
from tendering.core.blobs import BlobStore
from tendering.core.db import make_sessionmaker
from tendering.core.secrecy import Secrecy


def test_a_lot_s_plan_is_fixed_by_the_key_and_within_bounds() -> None:
    secrecy = Secrecy.from_seed(bytes(32))
    counts = set()
    for lot_id in range(1, 200):
        decoys = plan(secrecy, lot_id)
        assert decoys == plan(secrecy, lot_id)
        counts.add(len(decoys))
        for decoy in decoys:
            assert 0 <= decoy.fraction < 0.95
            assert MIN_PLAIN <= decoy.plain_size <= MAX_PLAIN
    assert counts == set(range(1, MAX_DECOYS + 1))
    assert plan(Secrecy.from_seed(b"\x01" * 32), 7) != plan(secrecy, 7)


def test_the_first_decoy_of_every_lot_comes_within_the_first_hour() -> None:
    secrecy = Secrecy.from_seed(bytes(32))
    start = datetime(2026, 12, 1, tzinfo=UTC)
    deadline = start + timedelta(days=20)
    for lot_id in range(1, 200):
        first, *others = plan(secrecy, lot_id)
        assert start <= first.due_at(start, deadline) <= start + FIRST_DECOY_WITHIN
        assert all(start <= d.due_at(start, deadline) < deadline for d in others)
    short = start + timedelta(minutes=30)  # a period shorter than an hour: within it
    assert plan(secrecy, 1)[0].due_at(start, short) < short


def test_decoy_sizes_are_drawn_from_real_bid_sizes_once_there_are_enough() -> None:
    real = [40_000 + 1_000 * i for i in range(MIN_HISTORY)]
    drawn = [draw_size(real, prior=5_000_000, limit=10**9) for _ in range(500)]
    assert min(real) * math.exp(-0.1) <= min(drawn) and max(drawn) <= max(real) * math.exp(0.1)
    assert len(set(drawn)) > 100  # not copies of the real sizes
    assert draw_size(real[:-1], prior=5_000_000, limit=10**9) == 5_000_000  # too few yet
    assert draw_size(real, prior=5_000_000, limit=30_000) == 30_000  # the lot's own limit


async def _all_due(world) -> None:
    """Put the lot's bidding period mostly in the past, so every decoy is due."""
    await world.sql(
        "UPDATE tender_notice SET published_at = clock_timestamp() - interval '1000 days'"
        " WHERE id = :id",
        id=world.notice_id,
    )


@pytest.mark.committed
async def test_decoys_look_like_bids_and_the_opening_accounts_for_them(world) -> None:
    await world.publish_lot(n=2, k=2)
    for price in (300_000_00, 250_000_00, 280_000_00):
        await world.submit(await world.bidder(), {"price_fen": price, "duration_days": 90})
    await _all_due(world)
    app = world.client.app
    key, store = app.state["platform_key"], BlobStore(app.state["settings"].blob_dir)
    lot_id = (await world.sql("SELECT id FROM tender_lot WHERE code = :c", c=world.lot))[0][0]
    expected = len(plan(Secrecy.of(key), lot_id))
    maker = make_sessionmaker(world.engine)
    assert await plant_due_decoys(maker, store=store, platform_key=key) == expected
    assert await plant_due_decoys(maker, store=store, platform_key=key) == 0  # idempotent

    rows = await world.sql("SELECT * FROM bid ORDER BY seq")
    assert len(rows) == 3 + expected
    async with maker() as session:  # the history decoys draw from holds the real bids only
        real = await _real_sizes(session, Secrecy.of(key))
    assert len(real) == 3 and set(real) <= {row.size for row in rows}
    assert len({len(row.evidence) for row in rows}) == 1  # the same sealed format
    sealed = await world.sql(
        "SELECT payload->>'commitment' AS c FROM audit_event WHERE action = 'bid.sealed'"
    )
    assert len(sealed) == 3 + expected
    for row in rows:
        stored = Path(store.path(row.sha256)).read_bytes()
        assert stored.startswith(b"TBID1\n") and len(stored) == row.size
        assert b"DECOY" not in stored and world.lot.encode() not in stored

    state = await world.open_now()
    assert state["state"] == "opened" and state["valid_bids"] == 3
    assert len(await world.sql("SELECT * FROM opening_result")) == 3  # no decoy opened

    lot_events = await world.sql(
        "SELECT action, payload FROM audit_event WHERE stream = :s", s=f"lot:{world.lot}"
    )
    opened = [p for a, p in lot_events if a == "opening.bid_opened"]
    (revealed,) = [p["decoys"] for a, p in lot_events if a == "bid.decoys_revealed"]
    assert len(revealed) == expected
    accounted = {
        rules.commitment(lot=world.lot, bidder=d["bidder"], sha256=d["sha256"], seq=d["seq"],
                         nonce=d["nonce"])
        for d in revealed
    } | {
        rules.commitment(lot=world.lot, bidder=p["bidder"], sha256=p["sha256"], seq=p["seq"],
                         nonce=p["nonce"])
        for p in opened
    }  # fmt: skip
    assert accounted == {row.c for row in sealed}  # every commitment of the period opened
    assert len(await world.sql("SELECT * FROM bid")) == 3  # the decoys are gone
    # Their files go once the finish has committed, a moment after the state says so.
    for _ in range(100):
        left = [d for d in revealed if Path(store.path(d["sha256"])).exists()]
        if not left:
            break
        await asyncio.sleep(0.05)
    assert left == []


async def test_a_lot_still_waiting_for_its_key_ceremony_gets_no_decoy_and_stops_no_other(world):
    waiting = await world.publish_lot(n=2, k=2)
    await _all_due(world)
    await world.sql(
        "DELETE FROM opening_lot_key WHERE lot_id = (SELECT id FROM tender_lot WHERE code = :c)",
        c=waiting,
    )
    await world.publish_lot(n=2, k=2)
    await _all_due(world)
    app = world.client.app
    key, store = app.state["platform_key"], BlobStore(app.state["settings"].blob_dir)
    lot_id = (await world.sql("SELECT id FROM tender_lot WHERE code = :c", c=world.lot))[0][0]
    maker = make_sessionmaker(world.engine)
    planted = await plant_due_decoys(maker, store=store, platform_key=key)
    assert planted == len(plan(Secrecy.of(key), lot_id))


async def test_a_decoy_is_planted_within_the_first_hour_of_bidding(world):
    await world.publish_lot(n=2, k=2)
    await world.sql(
        "UPDATE tender_notice SET published_at = clock_timestamp() - interval '61 minutes'"
        " WHERE id = :id",
        id=world.notice_id,
    )
    app = world.client.app
    key, store = app.state["platform_key"], BlobStore(app.state["settings"].blob_dir)
    maker = make_sessionmaker(world.engine)
    assert await plant_due_decoys(maker, store=store, platform_key=key) >= 1
