"""Deposit ledger benchmark: statement import and posted transfers, each beside bare asyncpg.

    .venv/bin/python bench/ledger_import.py [--lines 100000] [--transfers 20000] [--writers 16]

Makes its own database (dropped at the end) on ``BENCH_POSTGRES_URL`` (default the local
server's ``postgres`` database), migrates it, opens as many virtual accounts as lines, and
measures, in one run:

1. importing a generated CSV statement of ``--lines`` lines (parse + match + book, one
   transaction): lines/s, beside the same rows INSERTed with bare asyncpg ``executemany``
   (statement lines and transfers into copies of the tables with the same indexes);
2. posted transfers/s with ``--writers`` concurrent writers, one transaction per transfer
   (bank clearing → a random bidder account, through ``create_transfer``), beside the same
   single-row INSERTs with bare asyncpg on as many connections; and the same transfers
   when the bank clearing row is *not* hot (its row updated by every transfer), to show
   what the append-only platform accounts buy.

It prints rates and ratios; it asserts nothing about time (DESIGN.md: benchmarks print).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._scratch import create_migrated
from tests.tendering.ledger.files import Line, csv_statement

from tendering.core.auth.actor import Actor
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.embedded import with_database
from tendering.core.secrecy import Secrecy
from tendering.ledger.holders import AccountTerms, holder_tag, seal_terms
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import (
    _CREATE,
    TransferSpec,
    create_transfer,
    platform_accounts,
)
from tendering.ledger.rules import account_number
from tendering.settings import asyncpg_url

DEADLINE = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
DUE = 5_000_000
SECRECY = Secrecy.from_seed(os.urandom(32))


async def _accounts(conn: asyncpg.Connection, n: int) -> list[tuple[str, int]]:
    """n virtual accounts (number, ledger account id), made in bulk."""
    org = await conn.fetchval(
        "INSERT INTO organization (code, name, kind, region) VALUES ('BENCH', '基准测试公司',"
        " 'bidder', '') RETURNING id"
    )
    unique: set[str] = set()
    while len(unique) < n:
        unique.add(account_number(f"{secrets.randbelow(10**10):010d}"))
    numbers = sorted(unique)
    ids = await conn.fetch(
        "INSERT INTO ledger_account (code, kind, normal_side, no_negative, hot)"
        " SELECT 'deposit:' || x, 'deposit', 'credit', true, false FROM unnest($1::text[]) x"
        " RETURNING id, substr(code, 9) AS number",
        numbers,
    )
    numbers = [r["number"] for r in ids]
    terms = [AccountTerms(org, f"lot:B-{n}", DUE, DEADLINE) for n in numbers]
    await conn.execute(
        "INSERT INTO deposit_account (number, holder_tag, terms, state, ledger_account_id,"
        " reason, nonce) SELECT n, t, b, 'open', i, '', 'bench'"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS x(n, t, b, i)",
        numbers,
        [holder_tag(SECRECY, bidder_org_id=org, subject=t.subject) for t in terms],
        [seal_terms(SECRECY, n, t) for n, t in zip(numbers, terms, strict=True)],
        [r["id"] for r in ids],
    )
    return [(r["number"], r["id"]) for r in ids]


async def bench_import(url: str, pg: str, accounts: list[tuple[str, int]], lines: int) -> None:
    rows = [
        Line(
            f"B{i:07d}",
            DUE,
            DEADLINE - timedelta(hours=1),
            accounts[i][0] if i % 20 else "8866000000000000",
        )
        for i in range(lines)
    ]
    raw = csv_statement(rows)
    engine = make_engine(url, pool_size=2)
    maker = make_sessionmaker(engine)
    start = time.perf_counter()
    async with maker() as session, session.begin():
        result = await import_statement(session, raw, secrecy=SECRECY, actor=Actor.system("bench"))
    took = time.perf_counter() - start
    await engine.dispose()
    assert result.lines == lines, result
    ours = lines / took
    print(
        f"import: {lines} lines ({len(raw) / 1e6:.1f} MB, {result.booked} booked,"
        f" {result.suspense} suspense) in {took:.2f} s = {ours:,.0f} lines/s"
    )

    conn = await asyncpg.connect(pg)
    for table in ("statement_line", "ledger_transfer"):
        await conn.execute(f"CREATE TABLE bare_{table} (LIKE {table} INCLUDING ALL)")
    now = datetime.now(UTC)
    box = "x" * 720  # as long as a sealed payer (ledger/payers.py): the bare rows store as much
    line_rows = [
        (
            1,
            i,
            "ACCT",
            f"X{i}",
            "C",
            DUE,
            now,
            now.date(),
            "8866",
            box,
            "booked",
            "",
            None,
            i,
            "",
        )
        for i in range(lines)
    ]
    transfer_rows = [
        (i, f"x:{i}", 0, accounts[i % len(accounts)][1], DUE, "posted", "k", "r", now, now, now)
        for i in range(lines)
    ]
    start = time.perf_counter()
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO bare_statement_line (statement_id, line_no, bank_account, bank_ref,"
            " direction, amount_fen, value_at, booked_on, virtual_account, payer, status,"
            " reason, deposit_account_id, transfer_id, resolution)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
            line_rows,
        )
        await conn.executemany(
            "INSERT INTO bare_ledger_transfer (id, idempotency_key, debit_account_id,"
            " credit_account_id, amount_fen, state, kind, reference, value_at, created_at,"
            " settled_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            transfer_rows,
        )
    bare_took = time.perf_counter() - start
    await conn.close()
    bare = lines / bare_took
    print(
        f"  bare asyncpg executemany of the same rows: {bare:,.0f} lines/s"
        f"  -> ratio import/bare = {ours / bare:.2f}"
    )


def _positional(sql: str) -> tuple[str, list[str]]:
    """``:name`` → ``$n`` for asyncpg, the same name the same number."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<!:):(\w+)", number, sql), names


async def _writers(n_writers: int, total: int, one: object) -> float:
    per = total // n_writers

    async def worker(w: int) -> None:
        for i in range(per):
            await one(w, i)  # type: ignore[operator]

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(n_writers)))
    return per * n_writers / (time.perf_counter() - start)


async def bench_transfers(
    url: str, pg: str, accounts: list[tuple[str, int]], total: int, n_writers: int
) -> None:
    engine = make_engine(url, pool_size=n_writers)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        bank = (await platform_accounts(session))["bank_clearing"]
    rng = random.Random(7)
    run = secrets.token_hex(3)

    def writer(tag: str):  # type: ignore[no-untyped-def]
        async def one(w: int, i: int) -> None:
            acct = accounts[rng.randrange(len(accounts))][1]
            async with maker() as session, session.begin():
                await create_transfer(
                    session,
                    TransferSpec(
                        key=f"{tag}:{run}:{w}:{i}",
                        debit=bank,
                        credit=acct,
                        amount_fen=100,
                        kind="bench",
                    ),
                )

        return one

    ours = await _writers(n_writers, total, writer("hot"))
    async with maker() as session, session.begin():
        await session.execute(
            text("UPDATE ledger_account SET hot = false WHERE id = :id"), {"id": bank}
        )
    locked = await _writers(n_writers, total, writer("locked"))
    async with maker() as session, session.begin():
        await session.execute(
            text("UPDATE ledger_account SET hot = true WHERE id = :id"), {"id": bank}
        )
    await engine.dispose()

    pool = await asyncpg.create_pool(pg, min_size=n_writers, max_size=n_writers)
    seq = iter(range(10**9))

    async def bare_one(w: int, i: int) -> None:
        acct = accounts[rng.randrange(len(accounts))][1]
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO bare_ledger_transfer (id, idempotency_key, debit_account_id,"
                " credit_account_id, amount_fen, state, kind, reference, created_at)"
                " VALUES ($1, $2, $3, $4, 100, 'posted', 'bench', '', now())",
                10**8 + next(seq),
                f"bare:{run}:{w}:{i}",
                bank,
                acct,
            )

    bare = await _writers(n_writers, total, bare_one)
    sql, names = _positional(str(_CREATE))

    async def cte_one(w: int, i: int) -> None:
        params = {
            "key": f"cte:{run}:{w}:{i}",
            "debit": bank,
            "amount": 100,
            "state": "posted",
            "posted": True,
            "kind": "bench",
            "reference": "",
            "value_at": None,
            "credit": accounts[rng.randrange(len(accounts))][1],
        }
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchrow(sql, *[params[n] for n in names])

    cte = await _writers(n_writers, total, cte_one)
    await pool.close()
    print(f"transfers, {n_writers} writers, one transaction each ({total} transfers):")
    print(f"  create_transfer (bank clearing hot, bidder row locked): {ours:,.0f}/s")
    print(
        f"  same with the bank clearing row updated by every transfer: {locked:,.0f}/s"
        f"  -> ratio {locked / ours:.2f} of hot"
    )
    print(
        f"  the same one-statement transfer on bare asyncpg (BEGIN/stmt/COMMIT): {cte:,.0f}/s"
        f"  -> ratio {cte / bare:.2f} of bare; the gap to ours is the SQLAlchemy session"
    )
    print(
        f"  bare asyncpg single-row INSERT: {bare:,.0f}/s  -> ratio ours/bare = {ours / bare:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--transfers", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=16)
    args = parser.parse_args()
    admin = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"tendering_bench_{os.getpid()}"
    pg = with_database(admin, name)
    url = asyncpg_url(pg)
    conn = await asyncpg.connect(admin)
    try:
        await create_migrated(conn, name, url)
    finally:
        await conn.close()
    try:
        conn = await asyncpg.connect(pg)
        accounts = await _accounts(conn, args.lines)
        await conn.close()
        await bench_import(url, pg, accounts, args.lines)
        await bench_transfers(url, pg, accounts, args.transfers, args.writers)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
