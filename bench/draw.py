"""Expert draw benchmark: 25 experts with backups from a 100,000-expert pool with every
avoidance rule, beside the bare SELECT of the eligible pool; and the pool's import rate
beside a bare COPY of as many rows.

    .venv/bin/python bench/draw.py [--experts 100000] [--runs 5] [--profile]

Makes its own database (dropped at the end), imports a generated pool (printing rows/s
beside a bare asyncpg COPY of the same number of rows into a plain table),
adds facts for every avoidance rule (employment at the tenderer and bidders, declared
relations, penalties, evaluations served, suspensions, unavailable days, staff exclusions),
then for each run requests a draw of 25 experts in three specialties with backups, and
times, in the same run:

- the bare SELECT that fetches the candidates of those specialties (asyncpg, no rules);
- fixing the pools (every avoidance query, the rules, the pool hash, sealing the pools);
- the draw itself (the witness's entropy, draw-v1, the signed transcript, the places).

The target: what the draw adds (fixing + drawing minus the SELECT) is less than the
SELECT itself. Each run prints both, and the CPU time this process spent fixing and
drawing (on a shared machine the wall time waits for the CPU too); the last line gives the
medians over the runs, the figure to quote. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.expert_import import SECRECY, copy_floor, throwaway_database, timed_import
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.conftest import TEST_PASSWORD, People
from tests.experts.conftest import actor_of

from experts.requests import draw_experts, fix_pools, request_draw
from experts.schemas import DrawRequestIn
from experts.synthetic import EMPLOYERS, pool_csv
from tendering.core.auth.models import Role
from tendering.core.auth.passwords import hash_password
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.signing import PlatformKey

CATEGORIES = [
    {"specialty": "A0801", "count": 9, "backups": 5},
    {"specialty": "A0802", "count": 9, "backups": 5},
    {"specialty": "A09", "count": 7, "backups": 4},
]
SELECT = (
    "SELECT id, code, specialties, status, suspended_until, $1::date = ANY(unavailable)"
    " FROM expert WHERE specialty_keys && $2::varchar(20)[]"
)


async def _facts(conn: asyncpg.Connection, day) -> None:
    """Cases for every rule, spread over the pool (about 1 in 50 experts each)."""
    rng = random.Random(7)
    ids = [r[0] for r in await conn.fetch("SELECT id FROM expert ORDER BY id")]

    def some() -> list[int]:
        return rng.sample(ids, len(ids) // 50)

    await conn.executemany(
        "INSERT INTO expert_employment (expert_id, organization, ended_on) VALUES ($1, $2, $3)",
        [(i, "某县教育局", day - timedelta(days=rng.randrange(2000))) for i in some()],
    )
    await conn.executemany(
        "INSERT INTO expert_relation (expert_id, organization, relation) VALUES ($1, $2, '亲属')",
        [(i, EMPLOYERS[rng.randrange(3)]) for i in some()],
    )
    await conn.executemany(
        "INSERT INTO expert_penalty (expert_id, reason, penalized_on) VALUES ($1, '迟到', $2)",
        [(i, day - timedelta(days=10)) for i in some()],
    )
    await conn.executemany(
        "INSERT INTO expert_service (expert_id, draw_code, tenderer, served_on)"
        " VALUES ($1::int, 'OLD-' || $1::int, $2, $3)",
        [
            (i, rng.choice(("某县教育局", "别的单位")), day - timedelta(days=rng.randrange(300)))
            for i in some()
        ],
    )
    await conn.execute("UPDATE expert SET status = 'suspended' WHERE id = ANY($1::int[])", some())
    await conn.execute(
        "UPDATE expert SET unavailable = ARRAY[$2::date] WHERE id = ANY($1::int[])", some(), day
    )


async def _bare_select(url: str, day, wanted: list[str]) -> float:
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        rows = await conn.fetch(SELECT, day, wanted)
        elapsed = time.perf_counter() - started
        assert rows
        return elapsed
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print where run 1's time goes")
    args = parser.parse_args()
    key = PlatformKey(Ed25519PrivateKey.generate())
    async with throwaway_database(f"bench_draw_{os.getpid()}") as url:
        seconds, imported = await timed_import(url, pool_csv(args.experts))
        floor = await copy_floor(url, args.experts)
        print(
            f"import: {imported} experts in {seconds:.2f} s, {imported / seconds:,.0f} rows/s;"
            f" bare COPY of {args.experts} rows {floor:.2f} s, {args.experts / floor:,.0f}"
            f" rows/s; the import takes {seconds / floor:.1f}x the bare COPY"
        )
        engine = make_engine(url.replace("postgresql://", "postgresql+asyncpg://"), pool_size=2)
        people = People(engine, hash_password(TEST_PASSWORD))
        staff, witness = await people.user(Role.STAFF), await people.user(Role.SUPERVISOR)
        conn = await asyncpg.connect(url)
        now = await conn.fetchval("SELECT now()")
        evaluation_at = now + timedelta(days=2)
        day = (evaluation_at + timedelta(hours=8)).date()
        await _facts(conn, day)
        codes = [
            r[0] for r in await conn.fetch("SELECT code FROM expert ORDER BY random() LIMIT 20")
        ]
        await conn.execute("ANALYZE")
        await conn.close()
        spec = DrawRequestIn.model_validate(
            {
                "lot": "L-BENCH",
                "title": "基准测试",
                "tenderer": "某县教育局",
                "bidders": list(EMPLOYERS[:5]),
                "evaluation_at": evaluation_at,
                "place": "评标室",
                "tenderer_reps": 2,
                "categories": CATEGORIES,
                "exclusions": [{"expert": c, "reason": "基准测试排除"} for c in codes],
                "witness_id": witness.user.id,
            }
        )
        maker = make_sessionmaker(engine)
        selects: list[float] = []
        adds: list[float] = []
        for run in range(args.runs):
            select_s = await _bare_select(url, day, ["A0801", "A0802", "A09"])
            async with maker() as session, session.begin():
                request = await request_draw(
                    session, secrecy=SECRECY, spec=spec, actor=actor_of(staff)
                )
                profile = cProfile.Profile() if args.profile and run == 0 else None
                if profile:
                    profile.enable()
                cpu = time.process_time()
                started = time.perf_counter()
                await fix_pools(
                    session, secrecy=SECRECY, code=request.draw_code, actor=actor_of(staff)
                )
                fixed = time.perf_counter()
                signed, _ = await draw_experts(
                    session,
                    secrecy=SECRECY,
                    key=key,
                    code=request.draw_code,
                    witness_entropy=f"bench {run}",
                    actor=actor_of(witness),
                )
                done = time.perf_counter()
                cpu = time.process_time() - cpu
                if profile:
                    profile.disable()
                    pstats.Stats(profile).sort_stats(
                        os.environ.get("BENCH_SORT", "tottime")
                    ).print_stats(25)
            pools = sum(len(c["pool"]) for c in signed["categories"])
            struck = sum(len(c["excluded"]) for c in signed["categories"])
            total = done - started
            selects.append(select_s)
            adds.append(total - select_s)
            print(
                f"run {run + 1}: bare SELECT {select_s * 1000:.0f} ms; fix pools"
                f" {(fixed - started) * 1000:.0f} ms + draw {(done - fixed) * 1000:.0f} ms ="
                f" {total * 1000:.0f} ms ({pools} in pools, {struck} excluded); the draw adds"
                f" {(total - select_s) * 1000:.0f} ms, {(total - select_s) / select_s:.2f}x the"
                f" SELECT (CPU of this process in fixing and drawing: {cpu * 1000:.0f} ms)"
            )
        select_m, adds_m = statistics.median(selects), statistics.median(adds)
        print(
            f"median of {args.runs}: bare SELECT {select_m * 1000:.0f} ms, the draw adds"
            f" {adds_m * 1000:.0f} ms = {adds_m / select_m:.2f}x the SELECT (target: below 1x)"
        )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
