"""Verifying one long audit stream: events per second, and memory that does not grow.

    .venv/bin/python bench/audit_verify.py [--events 100000 1000000] [--batch 5000]
                                           [--appends 2000]

Makes a scratch database on ``BENCH_POSTGRES_URL`` (default the local server), loads a
chain-v1 stream of each size with COPY, verifies it with ``verify_streams`` and prints the
rate and the peak Python memory (tracemalloc) of the verification. The ratios between sizes
are the figures to compare: time per event should stay flat, peak memory should not follow
the stream's length. Also times ``record()`` appends to one stream, one transaction each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._scratch import create_migrated

from tendering.core.audit.chain import GENESIS, event_hash
from tendering.core.audit.service import record
from tendering.core.audit.verify import verify_streams
from tendering.core.canonical import canonical_json
from tendering.core.clock import rfc3339
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.embedded import with_database
from tendering.settings import asyncpg_url

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def rows(stream: str, count: int):
    prev, start = GENESIS, datetime(2026, 11, 24, 8, tzinfo=UTC)
    for seq in range(1, count + 1):
        at = start + timedelta(microseconds=seq * 1000)
        payload = {"bid": f"B-{seq}", "price_fen": 100_000 + seq, "bidder": "BID-0001"}
        fields = dict(stream=stream, seq=seq, action="bid.accepted", actor="user:7")
        digest = event_hash(prev, at=rfc3339(at), payload=payload, **fields)
        yield (stream, seq, "bid.accepted", "user:7", at, canonical_json(payload).decode(),
               prev.hex(), digest.hex())  # fmt: skip
        prev = digest


async def load(dsn: str, stream: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        last = None
        batch: list[tuple[object, ...]] = []
        for row in rows(stream, count):
            batch.append(row)
            last = row
            if len(batch) == 50_000:
                await conn.copy_records_to_table("audit_event", records=batch)
                batch.clear()
        if batch:
            await conn.copy_records_to_table("audit_event", records=batch)
        assert last is not None
        await conn.execute(
            "INSERT INTO audit_stream (stream, seq, hash) VALUES ($1, $2, $3)",
            stream,
            count,
            last[7],
        )
    finally:
        await conn.close()


async def verify(url: str, stream: str, batch: int, *, trace: bool) -> tuple[float, int]:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            if trace:
                tracemalloc.start()
            start = time.perf_counter()
            reports = [r async for r in verify_streams(session, public_key=None, stream=stream,
                                                       batch_size=batch)]  # fmt: skip
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            tracemalloc.stop()
    finally:
        await engine.dispose()
    assert reports[0].ok, reports[0].reason
    return seconds, peak


async def appends(url: str, count: int) -> tuple[float, float]:
    """record() per second, and one bare write transaction per second (the floor: fsync)."""
    engine = make_engine(url, pool_size=1)
    maker = make_sessionmaker(engine)
    bump = text("UPDATE audit_stream SET seq = seq WHERE stream = 'lot:APPEND'")
    rates = []
    for step in ("record", "bare"):
        start = time.perf_counter()
        for i in range(count):
            async with maker() as session, session.begin():
                if step == "record":
                    await record(session, stream="lot:APPEND", action="bid.accepted",
                                 actor="user:1", payload={"n": i})  # fmt: skip
                else:
                    await session.execute(bump)
        rates.append(count / (time.perf_counter() - start))
    await engine.dispose()
    return rates[0], rates[1]


async def main(sizes: list[int], batch: int, appends_count: int) -> None:
    name = f"tendering_bench_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(SERVER)
    dsn = with_database(SERVER, name)
    url = asyncpg_url(dsn)
    try:
        await create_migrated(admin, name, url)
        appended, bare = await appends(url, appends_count)
        print(
            f"record(): {appended:,.0f} appends/s, one transaction each; a bare one-row write "
            f"transaction: {bare:,.0f}/s (ratio {appended / bare:.2f})"
        )
        first: tuple[float, int] | None = None
        for size in sizes:
            stream = f"lot:BENCH-{size}"
            start = time.perf_counter()
            await load(dsn, stream, size)
            print(f"\n{size:>9,} events loaded in {time.perf_counter() - start:.1f} s")
            seconds, _ = await verify(url, stream, batch, trace=False)
            _, peak = await verify(url, stream, batch, trace=True)
            per_event = seconds / size
            rate = size / seconds
            print(f"  verify: {rate:,.0f} events/s, peak Python memory {peak / 1e6:.1f} MB")
            if first is None:
                first = (per_event, peak)
            else:
                print(
                    f"  vs {sizes[0]:,}: time per event x{per_event / first[0]:.2f}, "
                    f"peak memory x{peak / first[1]:.2f} for x{size // sizes[0]} the events"
                )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--appends", type=int, default=2000, help="record() calls timed")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch, args.appends))
