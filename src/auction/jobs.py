"""The auction clock's job and its sweeper.

``auction_clock(ctx, auction_id, due_us)`` runs at a phase boundary (``due_us``: its time in
microseconds since the epoch, which also makes the job id deterministic): it calls
``clock.run_clock`` (idempotent: early, late or twice, it decides once and correctly),
publishes the frames it wrote, and enqueues itself for the next boundary. The end time is
the database's, so a countdown that a bid restarted is found later than the job was
scheduled for: the job then only enqueues itself again. The sweeper (every minute) enqueues
the job of every running auction whose boundary falls before its next run, at the boundary's
time: that is how every boundary gets its job (an auctioneer's open or resume included), and
a lost job or a restarted Redis costs nothing but a late frame.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from arq import ArqRedis, Retry
from sqlalchemy import text

from auction.clock import run_clock
from auction.frames import auction_channel
from auction.rules import next_boundary, steps
from auction.snapshot import READ_RUNNING, Snapshot, state_of, terms_of
from tendering.core.blobs import BlobStore
from tendering.core.channels import publish
from tendering.core.db import session_scope
from tendering.core.errors import NotFound
from tendering.core.jobs import enqueue
from tendering.core.secrecy import Secrecy

__all__ = ["auction_clock", "schedule_clock", "sweep_auction_clocks"]

SWEEP_AHEAD_SECONDS = 70  # the sweeper runs every minute: cover the next run and some


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


async def schedule_clock(queue: ArqRedis, auction_id: int, at: datetime) -> None:
    """Enqueue the clock of ``auction_id`` for ``at`` (once per auction and moment)."""
    due = _micros(at)
    await enqueue(queue, "auction_clock", auction_id, due, key=f"{auction_id}:{due}", at=at)


async def auction_clock(ctx: dict[str, Any], auction_id: int, due_us: int = 0) -> bool:
    """Move the auction's clock; True when this run settled the auction."""
    settings, key = ctx["settings"], ctx["platform_key"]
    try:
        async with session_scope(ctx["sessionmaker"]) as session:
            moved = await run_clock(
                session,
                auction_id=auction_id,
                secrecy=Secrecy.of(key),
                key=key,
                store=BlobStore(settings.blob_dir),
            )
            now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    except NotFound:
        # No such auction (a job queued for a transaction that rolled back): nothing to
        # move, and failing would only leave a failed job for every later worker run.
        return False
    await publish(
        ctx["redis"], auction_channel(settings.async_database_url, moved.code), moved.frames
    )
    if moved.next_at is not None:
        if _micros(moved.next_at) == due_us:
            # Redis's clock ran ahead of the database's: the same boundary, a little later.
            raise Retry(defer=max(moved.next_at - now, timedelta(milliseconds=50)))
        await schedule_clock(ctx["redis"], auction_id, moved.next_at)
    return moved.settled


async def sweep_auction_clocks(ctx: dict[str, Any]) -> int:
    """Enqueue the clock of every running auction with a boundary due before the next
    sweep (at once when one has passed); returns how many it enqueued."""
    async with session_scope(ctx["sessionmaker"]) as session:
        rows = [
            Snapshot.of(r)
            for r in await session.execute(READ_RUNNING, {"ahead": SWEEP_AHEAD_SECONDS})
        ]
        now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    found = 0
    for row in rows:
        terms, state = terms_of(row), state_of(row)
        due = now if steps(terms, state, now) else next_boundary(terms, state)
        if due is not None and due <= now + timedelta(seconds=SWEEP_AHEAD_SECONDS):
            await schedule_clock(ctx["redis"], row.id, due)
            found += 1
    return found
