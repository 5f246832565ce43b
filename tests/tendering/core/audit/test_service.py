"""Appending: gapless under concurrency, and all-or-nothing with the caller's change."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from tendering.core.audit.service import (
    GLOBAL,
    auction_stream,
    draw_stream,
    list_events,
    list_streams,
    lot_stream,
    record,
)
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.errors import NotFound


@pytest.mark.committed
async def test_twenty_concurrent_appends_to_one_stream_get_seq_1_to_20(database_url, chain):
    # Separate engine: 20 connections at once, each appending in its own transaction.
    engine = make_engine(database_url, pool_size=20)
    maker = make_sessionmaker(engine)
    start = asyncio.Event()

    async def append(i: int) -> int:
        async with maker() as session, session.begin():
            await session.execute(text("SELECT 1"))  # hold a connection before the race
            await start.wait()
            event = await record(
                session,
                stream="lot:RACE",
                action="bid.received",
                actor=f"user:{i}",
                payload={"n": i},
            )
            await asyncio.sleep(0.005)  # keep the head locked so the others queue on it
            return int(event["seq"])

    try:
        tasks = [asyncio.create_task(append(i)) for i in range(20)]
        await asyncio.sleep(0.05)
        start.set()
        seqs = await asyncio.gather(*tasks)
    finally:
        await engine.dispose()
    assert sorted(seqs) == list(range(1, 21))
    report = (await chain.verify("lot:RACE"))["lot:RACE"]
    assert report.ok, report.reason
    assert (report.events, report.head_seq) == (20, 20)


async def test_rollback_removes_the_event_and_its_change_together(chain):
    async with chain.maker() as session:
        with pytest.raises(RuntimeError, match="caller fails"):
            async with session.begin():
                session.add(Organization(code="BID-9", name="甲公司", kind=OrgKind.BIDDER))
                await session.flush()
                await record(
                    session,
                    stream=GLOBAL,
                    action="organization.created",
                    actor="system:test",
                    payload={"organization": "BID-9"},
                )
                raise RuntimeError("caller fails after both were written")
    async with chain.maker() as session:
        assert await session.scalar(select(func.count()).select_from(Organization)) == 0
        count = await session.scalar(text("SELECT count(*) FROM audit_event"))
        head = await session.scalar(text("SELECT count(*) FROM audit_stream"))
        assert (count, head) == (0, 0)
    # The rolled-back number is given back: the next append is seq 1 again.
    [event] = await chain.append(GLOBAL, 1)
    assert event["seq"] == 1


async def test_a_failing_change_after_the_event_takes_the_event_with_it(chain):
    await chain.append(GLOBAL, 2)
    async with chain.maker() as session:
        with pytest.raises(Exception, match="uq_organization_code"):
            async with session.begin():
                await record(
                    session,
                    stream=GLOBAL,
                    action="organization.created",
                    actor="system:test",
                    payload={"organization": "DUP"},
                )
                session.add(Organization(code="DUP", name="一", kind=OrgKind.BIDDER))
                session.add(Organization(code="DUP", name="二", kind=OrgKind.BIDDER))
                await session.flush()
    assert [e["seq"] for e in await chain.append(GLOBAL, 1, start=3)] == [3]
    assert (await chain.verify(GLOBAL))[GLOBAL].ok


async def test_recorded_event_is_what_the_table_holds(chain):
    actor = Actor(5, "staff5", None, None, None)
    async with chain.maker() as session, session.begin():
        event = await record(
            session,
            stream=lot_stream("L-1"),
            action="notice.published",
            actor=actor,
            payload={"list": (1, 2), "name": "公告"},
        )
    async with chain.maker() as session:
        [stored] = await list_events(session, stream="lot:L-1")
    assert stored == event
    assert event["actor"] == "user:5"
    assert event["payload"] == {"list": [1, 2], "name": "公告"}
    assert event["at"].endswith("Z") and len(event["at"]) == len("2026-11-24T08:00:00.000000Z")
    assert event["prev_hash"] == "00" * 32


async def test_floats_and_bad_formats_are_refused_before_anything_is_written(chain):
    async with chain.maker() as session, session.begin():
        with pytest.raises(TypeError, match="floats"):
            await record(session, stream=GLOBAL, action="a.b", actor="user:1", payload={"x": 0.1})
        with pytest.raises(ValueError, match="dotted"):
            await record(session, stream=GLOBAL, action="Bad Action", actor="user:1", payload={})
    async with chain.maker() as session:
        assert await session.scalar(text("SELECT count(*) FROM audit_stream")) == 0


async def test_stream_names_follow_the_design():
    assert (lot_stream("L-1"), auction_stream("A-1"), draw_stream("D-1")) == (
        "lot:L-1",
        "auction:A-1",
        "draw:D-1",
    )


async def test_events_page_by_seq_and_streams_list_heads(chain):
    await chain.append("lot:P", 5)
    await chain.append(GLOBAL, 1)
    await chain.checkpoint()
    async with chain.maker() as session:
        page = await list_events(session, stream="lot:P", after_seq=2, limit=2)
        heads = await list_streams(session)
        with pytest.raises(NotFound):
            await list_events(session, stream="lot:NOPE")
    assert [e["seq"] for e in page] == [3, 4]
    assert [(h.stream, h.seq, h.checkpoint_seq) for h in heads] == [
        ("global", 1, 1),
        ("lot:P", 5, 5),
    ]
