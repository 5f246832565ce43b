"""``chain_events``: several events of one stream in one claim, written by the caller's
statement, chained exactly as ``record`` chains them (the verifier accepts the stream)."""

from __future__ import annotations

from sqlalchemy import text

from tendering.core.audit import APPEND_CHAINED, chain_events, record
from tendering.core.audit.verify import verify_streams

S = "auction:PM-1"
_WRITE = text("WITH " + APPEND_CHAINED + " SELECT 1")


async def test_chained_events_follow_recorded_ones_and_verify(session):
    await record(session, stream=S, action="auction.created", actor="system:test", payload={})
    chained = await chain_events(
        session,
        stream=S,
        actor="system:test",
        events=[("auction.bid_accepted", {"bid_seq": n, "amount_fen": 100 + n}) for n in (1, 2)],
    )
    await session.execute(_WRITE, chained.params)
    after = await record(
        session, stream=S, action="auction.phase_changed", actor="system:test", payload={}
    )
    assert [e["seq"] for e in chained.events] == [2, 3]
    assert chained.events[1]["prev_hash"] == chained.events[0]["hash"]
    assert (after["seq"], after["prev_hash"]) == (4, chained.events[1]["hash"])
    [report] = [r async for r in verify_streams(session, public_key=None, stream=S)]
    assert (report.ok, report.events, report.head_seq) == (True, 4, 4)


async def test_a_new_stream_starts_at_one_and_nothing_to_chain_writes_nothing(session):
    chained = await chain_events(
        session, stream=S, actor="system:test", events=[("auction.created", {"n": 1})]
    )
    await session.execute(_WRITE, chained.params)
    assert chained.events[0]["seq"] == 1
    nothing = await chain_events(session, stream=S, actor="system:test", events=[])
    await session.execute(_WRITE, nothing.params)
    [report] = [r async for r in verify_streams(session, public_key=None, stream=S)]
    assert (report.ok, report.events, report.head_seq) == (True, 1, 1)
