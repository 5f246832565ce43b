"""The background runner: an opening that fails or whose process dies goes back to waiting
for custodians, keeps what it opened, and resumes with the rest."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tendering.core.db import make_sessionmaker
from tendering.opening import jobs, opener
from tests.tendering.opening.test_opening import _enter, _start, _three_bids


async def _state(world) -> dict:
    response = await world.client.get(
        f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
    )
    return dict(response.json())


async def _kinds(world) -> list[str]:
    response = await world.client.get(
        f"/api/lots/{world.lot}/opening/events", headers=world.desk.staff_headers
    )
    return [e["kind"] for e in response.json()]


@pytest.mark.committed
async def test_a_failing_runner_goes_back_to_waiting_and_resumes_with_the_rest(world, monkeypatch):
    await world.publish_lot(n=2, k=2)
    bidders = await _three_bids(world)
    await world.pass_deadline()
    await _start(world)
    real = opener.decrypt_bid
    calls = 0

    def decrypt_then_break(bid, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("the blob store went away")
        return real(bid, **kwargs)

    monkeypatch.setattr(opener, "decrypt_bid", decrypt_then_break)
    await _enter(world, 0)
    assert (await _enter(world, 1)).json()["state"] == "opening"
    waiting = await world.opening_in("started")
    assert waiting["custodians_entered"] == 0 and waiting["results"] is None
    assert (await _kinds(world))[-1] == "interrupted"
    interrupted = await world.sql(
        "SELECT payload FROM audit_event WHERE stream = :s AND action = 'opening.interrupted'",
        s=f"lot:{world.lot}",
    )
    assert "平台内部错误" in interrupted[0].payload["reason"]
    assert await world.sql("SELECT * FROM opening_pending_share") == []
    opened_before = len(await world.sql("SELECT * FROM opening_result"))
    assert opened_before < 3

    monkeypatch.setattr(opener, "decrypt_bid", real)
    await _enter(world, 1)
    await _enter(world, 0)
    body = await world.opened()
    assert body["state"] == "opened" and body["valid_bids"] == 3
    assert sorted(r["bidder"] for r in body["results"]) == sorted(b.code for b in bidders)
    assert len(await world.sql("SELECT * FROM opening_result")) == 3  # none opened twice
    kinds = await _kinds(world)
    assert kinds.count("opening_bids") == 2 and kinds.count("bid_opened") == 3
    resumed = await world.client.get(
        f"/api/lots/{world.lot}/opening/events", headers=world.desk.staff_headers
    )
    second = [e for e in resumed.json() if e["kind"] == "opening_bids"][1]
    assert second["payload"] == {"bids": 3, "opened": opened_before}
    # steps recorded a batch at a time still come one by one, numbered without a gap
    assert [e["seq"] for e in resumed.json()] == list(range(1, len(resumed.json()) + 1))
    opened_steps = [e["payload"]["seq"] for e in resumed.json() if e["kind"] == "bid_opened"]
    audited = await world.sql(
        "SELECT payload FROM audit_event WHERE stream = :s AND action = 'opening.bid_opened'"
        " ORDER BY seq",
        s=f"lot:{world.lot}",
    )
    assert [row.payload["seq"] for row in audited] == opened_steps


async def test_the_sweeper_puts_back_an_opening_whose_process_died(world, settings):
    await world.publish_lot(n=2, k=2)
    await world.pass_deadline()
    await _start(world)
    redis = Redis.from_url(settings.concrete_redis_url)
    ctx = {"redis": redis, "settings": settings, "sessionmaker": make_sessionmaker(world.engine)}
    try:
        # A runner that beat a moment ago is alive, however long its bids take.
        await world.sql("UPDATE opening SET state = 'opening', heartbeat_at = clock_timestamp()")
        assert await jobs.sweep_stalled_openings(ctx) == 0
        assert (await _state(world))["state"] == "opening"
        await world.sql(
            "UPDATE opening SET heartbeat_at = clock_timestamp() - interval '61 seconds'"
        )
        assert await jobs.sweep_stalled_openings(ctx) == 1
        assert await jobs.sweep_stalled_openings(ctx) == 0
    finally:
        await redis.aclose()
    assert (await _state(world))["state"] == "started"
    assert (await _kinds(world))[-1] == "interrupted"
    actors = await world.sql(
        "SELECT actor FROM audit_event WHERE stream = :s AND action = 'opening.interrupted'",
        s=f"lot:{world.lot}",
    )
    assert [a.actor for a in actors] == ["system:platform"]
