"""Push opening steps to many live watchers through one server process.

    .venv/bin/python bench/live_fanout.py [--watchers 500] [--frames 200] [--idle 5] [--settle 1]

Starts ``tendering serve``'s app under uvicorn in a subprocess (its own database, the local
Redis), starts an opening, and connects N bidders to ``/opening/live`` (server-sent events).
Then it measures the database transactions per second the idle watchers cost (they hear
Redis; they do not poll), publishes K steps on the lot's Redis channel the way a committed
transaction does, and times until every watcher has received every step in order. Prints
frames delivered per second and the server's CPU seconds per 1,000 frames.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._lot import REDIS_URL, make_world, scratch_database, server_process
from bench._scratch import database_name


def serve() -> None:
    import uvicorn

    from tendering.app import create_app
    from tendering.settings import Settings

    settings = Settings.from_env()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _commits(database_url: str) -> int:
    name = database_name(database_url)
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", name
        )
        return int(value)
    finally:
        await conn.close()


async def _watch(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], ready: Any
) -> list[int]:
    seqs: list[int] = []
    async with client.stream("GET", url, headers=headers) as live:
        assert live.status_code == 200
        ready()
        async for line in live.aiter_lines():
            if line.startswith("id: "):
                seqs.append(int(line[4:]))
            elif line == "event: finished":
                break
    return seqs


async def run(args: argparse.Namespace, database_url: str, url: str, server: int) -> None:
    limits = httpx.Limits(max_connections=args.watchers + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        world = await make_world(client, database_url)
        await world.publish_lot(n=2, k=2)
        bidder = await world.bidder()
        await world.pass_deadline()
        started = await client.post(
            f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
        )
        assert started.status_code == 201, started.text
        live_url = f"/api/lots/{world.lot}/opening/live?after_seq=1"
        connected, everyone = 0, asyncio.Event()

        def ready() -> None:
            nonlocal connected
            connected += 1
            if connected == args.watchers:
                everyone.set()

        watchers = [
            asyncio.create_task(_watch(client, live_url, bidder.headers, ready))
            for _ in range(args.watchers)
        ]
        await everyone.wait()
        await asyncio.sleep(args.settle)
        before, idle_start = await _commits(database_url), time.perf_counter()
        await asyncio.sleep(args.idle)
        idle_rate = (await _commits(database_url) - before) / (time.perf_counter() - idle_start)

        from tendering.opening.live import lot_channel

        name = lot_channel(database_url, world.lot)
        redis = Redis.from_url(REDIS_URL)
        cpu, start = _cpu_seconds(server), time.perf_counter()
        for seq in range(2, args.frames + 2):
            kind = "finished" if seq == args.frames + 1 else "step"
            frame = {"seq": seq, "at": "", "kind": kind, "payload": {"n": seq}}
            await redis.publish(name, json.dumps(frame))
        results = await asyncio.gather(*watchers)
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds(server) - cpu
        await redis.aclose()
        await world.engine.dispose()
    expected = list(range(2, args.frames + 2))
    complete = sum(seqs == expected for seqs in results)
    frames = args.watchers * args.frames
    print(f"watchers connected                        {args.watchers:8d}")
    print(
        f"database transactions/s, watchers idle    {idle_rate:8.1f}   "
        f"(polling every 0.5 s: {args.watchers * 2})"
    )
    print(f"steps published                           {args.frames:8d}")
    print(f"watchers that got every step, in order    {complete:8d}")
    print(f"frames delivered                          {frames:8d} in {elapsed:.2f} s")
    print(f"  frames/s (server and watchers share 2 cores) {frames / elapsed:8.0f}")
    print(f"  server CPU seconds per 1,000 frames     {cpu / frames * 1000:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=500)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds between connecting and the idle count"
    )
    args = parser.parse_args()
    with (
        scratch_database() as database_url,
        tempfile.TemporaryDirectory() as tmp,
        server_process(__file__, database_url, str(Path(tmp) / "data")) as (url, pid),
    ):
        asyncio.run(run(args, database_url, url, pid))


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
