"""The clock's sweeper enqueues the job of a running auction; the worker closes it once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from arq.worker import Worker
from sqlalchemy import text

from auction.jobs import sweep_auction_clocks
from auction.writer import PendingBid, decide
from tendering.app import register_contexts
from tendering.core.clock import db_now
from tendering.core.db import make_sessionmaker
from tendering.core.jobs import WorkerSettings, connect_queue
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key

from .bidding import started


@pytest.mark.committed
async def test_the_sweeper_and_the_worker_close_a_finished_auction_once(
    engine, session, people, desk, settings
):
    register_contexts()
    settings = replace(settings, queue_name=f"{settings.queue_name}-auction-clock")
    secrecy = Secrecy.of(load_platform_key(settings))  # the worker's key
    auction, ((_, paddle), _, _), _ = await started(
        session, people, desk, secrecy, countdown_seconds=1
    )
    decided = await decide(session, auction.id, [PendingBid(paddle, 100_000_000, "k")])
    ends_at = decided.decisions[0].ends_at
    await session.commit()
    queue = await connect_queue(settings)
    try:
        ctx = {"sessionmaker": make_sessionmaker(engine), "redis": queue}
        assert await sweep_auction_clocks(ctx) == 1  # its end falls before the next sweep
        assert await sweep_auction_clocks(ctx) == 1  # the same job id: enqueued once
        assert len(await queue.queued_jobs()) == 1
        while (left := (ends_at - await db_now(session)).total_seconds()) > 0:
            await asyncio.sleep(left + 0.05)
        worker = Worker(**WorkerSettings.build(settings), burst=True, handle_signals=False)
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
        assert await sweep_auction_clocks(ctx) == 0  # closed: nothing due any more
    finally:
        keys = [k async for k in queue.scan_iter(match=f"*{settings.queue_name}:auction_clock:*")]
        if keys:
            await queue.delete(*keys)
        await queue.aclose()
    row = (
        await session.execute(
            text("SELECT state, outcome, winner_paddle FROM auction WHERE id = :id"),
            {"id": auction.id},
        )
    ).one()
    assert tuple(row) == ("closed", "sold", paddle)
    results = (
        await session.execute(
            text("SELECT count(*) FROM auction_frame WHERE auction_id = :id AND kind = 'result'"),
            {"id": auction.id},
        )
    ).scalar_one()
    assert results == 1
