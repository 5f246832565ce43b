"""``/health`` while the platform is stormed with logins, beside ``/health`` idle.

    .venv/bin/python bench/login_storm.py [--wrong 100] [--right 200] [--probes 200]

Starts the real ``tendering serve`` (production Argon2id cost: 64 MiB, t=3) on a scratch
database behind a pretend load balancer (``TENDERING_TRUSTED_PROXIES=127.0.0.1/32``; each
login names its own client in ``X-Forwarded-For``, as a guesser with many addresses would,
so the login throttle does not stop the storm first). Then, in one run:

1. ``/health`` idle: ``--probes`` requests one after another; p50 and p99.
2. ``--wrong`` concurrent wrong logins, with ``/health`` probed one after another while they
   last: its p50/p99 under the storm, and how the logins were answered (401 after a check,
   429 ``auth.busy`` beyond the queue).
3. ``--right`` concurrent correct logins: the median wait of those let in, the median time to
   any answer, and how they were answered.

Before the checks left the event loop, 100 wrong logins took ``/health`` from 5 ms to a median
of 0.9 s (worst 7.8 s), and 200 correct logins waited 13.5 s at the median.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def _make_user(database_url: str) -> str:
    from tests.conftest import TEST_PASSWORD, People

    from tendering.core.auth.models import Role
    from tendering.core.auth.passwords import hash_password
    from tendering.core.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        person = await People(engine, hash_password(TEST_PASSWORD)).user(Role.STAFF)
        return person.username
    finally:
        await engine.dispose()


async def _probe(client: httpx.AsyncClient, times: list[float]) -> None:
    started = time.perf_counter()
    response = await client.get("/health")
    response.raise_for_status()
    times.append(time.perf_counter() - started)


async def _probe_until(client: httpx.AsyncClient, done: asyncio.Event, times: list[float]) -> None:
    while not done.is_set():
        await _probe(client, times)
        await asyncio.sleep(0.005)


async def _login(
    client: httpx.AsyncClient, n: int, username: str, password: str
) -> tuple[str, float]:
    started = time.perf_counter()
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"},
    )
    answer = str(response.status_code)
    if response.status_code >= 400:
        answer += " " + response.json().get("code", "")
    return answer, time.perf_counter() - started


async def _storm(
    url: str, username: str, count: int, password: str
) -> tuple[list[float], list[tuple[str, float]], float]:
    """``count`` concurrent logins, /health probed while they last."""
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with (
        httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as logins,
        httpx.AsyncClient(base_url=url, timeout=300) as probe,
    ):
        await _probe(probe, [])  # a warm connection
        done = asyncio.Event()
        probes: list[float] = []
        prober = asyncio.create_task(_probe_until(probe, done, probes))
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(_login(logins, n, username, password) for n in range(count))
        )
        took = time.perf_counter() - started
        done.set()
        await prober
    return probes, answers, took


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


async def run(url: str, username: str, args: Any) -> None:
    from bench._platform import percentile
    from tests.conftest import TEST_PASSWORD

    idle: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(args.probes):
            await _probe(client, idle)
    storm_probes, wrong, wrong_took = await _storm(url, username, args.wrong, "a-wrong-guess")
    _, right, right_took = await _storm(url, username, args.right, TEST_PASSWORD)

    print(
        f"/health                       p50        p99     (n)   [workers {args.workers},"
        f" queue {args.queue}]"
    )
    print(
        f"  idle                 {_ms(percentile(idle, 0.5))} {_ms(percentile(idle, 0.99))}"
        f" {len(idle):6d}"
    )
    print(
        f"  {args.wrong} wrong logins     {_ms(percentile(storm_probes, 0.5))}"
        f" {_ms(percentile(storm_probes, 0.99))} {len(storm_probes):6d}"
    )
    ratio = percentile(storm_probes, 0.99) / percentile(idle, 0.99)
    print(f"ratio /health p99 storm / idle: {ratio:.1f}")
    print(
        f"{args.wrong} wrong logins answered in {wrong_took:.2f} s:"
        f" {dict(Counter(a for a, _ in wrong))}"
    )
    admitted = [t for a, t in right if a == "200"]
    print(
        f"{args.right} correct logins answered in {right_took:.2f} s:"
        f" {dict(Counter(a for a, _ in right))}"
    )
    print(
        f"  median wait: let in {statistics.median(admitted) if admitted else float('nan'):.2f} s,"
        f" any answer {statistics.median(t for _, t in right):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wrong", type=int, default=100)
    parser.add_argument("--right", type=int, default=200)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue", type=int, default=64)
    args = parser.parse_args()
    from bench._platform import serving

    settings = {
        "TENDERING_TRUSTED_PROXIES": "127.0.0.1/32",
        "TENDERING_PASSWORD_WORKERS": str(args.workers),
        "TENDERING_PASSWORD_QUEUE": str(args.queue),
    }
    with serving(settings) as served:
        username = asyncio.run(_make_user(served.database_url))
        asyncio.run(run(served.url, username, args))


if __name__ == "__main__":
    main()
