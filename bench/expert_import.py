"""Expert pool import benchmark: rows/s of ``import_experts`` beside a bare COPY floor.

    .venv/bin/python bench/expert_import.py [--rows 100000] [--encoding gbk]

Makes its own database (dropped at the end) on ``BENCH_POSTGRES_URL`` (default the local
server's ``postgres`` database), migrates it, and in one run measures:

1. the whole import of a generated ``--rows`` CSV (decode, check every row, tag and seal the
   personal data, COPY to a staging table, merge into ``expert`` and ``expert_employment``,
   one transaction): rows/s;
2. the floor: the same rows already prepared, COPYed by bare asyncpg into a plain table.

It prints rates and their ratio; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._scratch import create_migrated

from experts.imports import import_experts
from experts.synthetic import pool_csv
from tendering.core.auth.actor import SYSTEM
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.embedded import with_database
from tendering.core.secrecy import Secrecy
from tendering.settings import asyncpg_url

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRECY = Secrecy.from_seed(os.urandom(32))


@asynccontextmanager
async def throwaway_database(name: str) -> AsyncIterator[str]:
    """A migrated database of its own (its asyncpg URL), dropped on exit."""
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    url = with_database(ADMIN_URL, name)
    try:
        await create_migrated(admin, name, asyncpg_url(url))
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def timed_import(url: str, raw: bytes) -> tuple[float, int]:
    engine = make_engine(url.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    try:
        started = time.perf_counter()
        async with make_sessionmaker(engine)() as session, session.begin():
            report = await import_experts(session, secrecy=SECRECY, raw=raw, actor=SYSTEM)
        return time.perf_counter() - started, report.imported
    finally:
        await engine.dispose()


async def copy_floor(url: str, rows: int) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE floor (code text, name text, id_tag text, id_masked text,"
            " personal text, employer text, specialties text[], status text)"
        )
        records = [
            (
                f"E{n:06d}",
                "王伟",
                f"{n:064x}",
                "3201**********1234",
                "x" * 180,
                "示范设计院",
                ["A0801"],
                "active",
            )
            for n in range(rows)
        ]
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("floor", records=records)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--encoding", default="utf-8", choices=("utf-8", "gbk"))
    args = parser.parse_args()
    raw = pool_csv(args.rows, encoding=args.encoding)
    async with throwaway_database(f"bench_experts_{os.getpid()}") as url:
        seconds, imported = await timed_import(url, raw)
        floor = await copy_floor(url, args.rows)
    print(f"rows: {args.rows} ({len(raw) / 1e6:.1f} MB, {args.encoding}), imported {imported}")
    print(f"import_experts: {seconds:.2f} s, {args.rows / seconds:,.0f} rows/s")
    print(f"bare COPY floor: {floor:.2f} s, {args.rows / floor:,.0f} rows/s")
    print(f"import / floor: {seconds / floor:.1f}x the time of the bare COPY")


if __name__ == "__main__":
    asyncio.run(main())
