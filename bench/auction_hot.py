"""One hot auction: racing bidders through the real HTTP and WebSocket stack, against two
floors measured in the same run with the same proposal model.

    .venv/bin/python bench/auction_hot.py [--bidders 200] [--seconds 10] [--watchers 2000]
    .venv/bin/python bench/auction_hot.py --quick

Starts ``tendering serve``'s app under uvicorn in a subprocess (its own database, the local
Redis), makes a live auction with N approved bidders and opens it. Each bidder bids from the
last price it saw (its last answer: accepted, or outbid with the current price), so they race
and most are outbid. Measured, each for the same time:

* **http**: ``POST /api/auctions/{code}/bids`` (the one writer per auction behind it);
* **ws**: the same bids over ``/api/auctions/{code}/live``;
* **(a) bare CTE**: bare asyncpg, one guarded ``UPDATE ... RETURNING`` + ``INSERT`` per bid in
  one statement (DESIGN.md, "Hot paths"), the same N bidders;
* **(b) bare single writer**: bare asyncpg, one task deciding the pending bids in memory and
  writing the accepted ones in one transaction per batch.

Then W WebSocket watchers follow the auction while bidders bid: the time from a bid's
acceptance (its frame's ``at``, the database clock) to its delivery, and, after half the
watchers are cut off and reconnect with their last ``seq``, whether any frame was missed or
seen twice. Prints accepted bids/s, decided attempts/s, p50/p99 latency, the ratios; the last
line: ``auction_hot: accepted/s A, vs bare cte R1x, vs bare single writer R2x, p99 P ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._lot import SERVER_SEED, free_port, scratch_database, server_process, wait_until_up

START = 100_000_000
STEP = 1_000_000


def serve() -> None:
    import uvicorn

    from tendering.app import create_app
    from tendering.runtime import tune_interpreter
    from tendering.settings import Settings

    tune_interpreter()
    settings = Settings.from_env()
    profile = os.environ.get("BENCH_PROFILE")
    if profile:  # where the server's time goes: python -m pstats <file>
        import cProfile
        import signal

        profiler = cProfile.Profile()

        def dump(*_: object) -> None:  # uvicorn re-raises SIGTERM into this after its shutdown
            profiler.disable()
            profiler.dump_stats(profile)
            os._exit(0)

        signal.signal(signal.SIGTERM, dump)
        profiler.enable()
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=settings.port,
        log_level="warning",
        ws_max_queue=64,
        proxy_headers=False,  # as core.runtime.server_config serves the platform
        server_header=False,
    )


@dataclass
class Tally:
    accepted: int = 0
    decided: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def line(self, name: str, seconds: float) -> str:
        p50, p99 = _percentiles(self.latencies)
        return (
            f"{name:<24} accepted {self.accepted / seconds:8.0f}/s   decided"
            f" {self.decided / seconds:8.0f}/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
            + (f"   errors {self.errors}" if self.errors else "")
        )


def _percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0] * 1000 if values else 0.0), (values[0] * 1000 if values else 0.0)
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


# --- the world: a live auction with approved bidders, opened --------------------------------


async def make_auction(database_url: str, bidders: int) -> tuple[str, list[str]]:
    """A live auction open for bidding, and a bearer token of each approved bidder (issued
    as a login issues it: the login's Argon2 check is not what this measures)."""
    from tests.auction.bidding import started
    from tests.auction.conftest import Desk
    from tests.conftest import TEST_PASSWORD, People

    from tendering.core.auth.models import OrgKind, Role
    from tendering.core.auth.passwords import hash_password
    from tendering.core.auth.tokens import issue_token
    from tendering.core.db import make_engine, make_sessionmaker
    from tendering.core.holidays import enter_calendar_year
    from tendering.core.secrecy import Secrecy

    engine = make_engine(database_url, pool_size=5)
    people = People(engine, hash_password(TEST_PASSWORD))
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            year = datetime.now(UTC).year
            for y in (year, year + 1):
                await enter_calendar_year(
                    session, actor="system:bench", year=y, source="bench", days=[]
                )
        seller = await people.user(
            Role.STAFF, organization=await people.organization(OrgKind.TENDERER)
        )
        desk = Desk(
            staff=await people.user(Role.STAFF),
            seller=seller,
            reserver=await people.user(Role.STAFF),
        )
        async with make_sessionmaker(engine)() as session:
            auction, found, _ = await started(
                session, people, desk, Secrecy.from_seed(SERVER_SEED), bidders=bidders,
                countdown_seconds=3600,
            )  # fmt: skip
            tokens = [
                (await issue_token(session, user_id=person.user.id, hours=2))[0]
                for person, _ in found
            ]
            await session.commit()
            return auction.code, tokens
    finally:
        await engine.dispose()


async def login_all(client: httpx.AsyncClient, usernames: list[str]) -> list[str]:
    from tests.conftest import TEST_PASSWORD

    async def one(name: str) -> str:
        answer = await client.post(
            "/api/auth/login", json={"username": name, "password": TEST_PASSWORD}
        )
        answer.raise_for_status()
        return str(answer.json()["token"])

    tokens = []
    for i in range(0, len(usernames), 20):
        tokens += await asyncio.gather(*(one(n) for n in usernames[i : i + 20]))
    return tokens


# --- the bidders ---------------------------------------------------------------------------


class Race:
    """The shared proposal model: each bidder bids one increment over the last price it
    saw; the race stops at ``until``."""

    def __init__(self, seconds: float, price: int) -> None:
        self.until = time.monotonic() + seconds
        self.start_price = price

    def running(self) -> bool:
        return time.monotonic() < self.until

    @staticmethod
    def next_amount(seen: int | None) -> int:
        return START if seen is None else seen + STEP


class RawHttp:
    """One keep-alive HTTP/1.1 connection, written by hand: with hundreds of bidders a
    general client spends more CPU than the server it measures (on the same two cores)."""

    def __init__(self, url: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port or 80)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        reader = self.reader
        if reader is None:
            raise RuntimeError("not connected")
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, json.loads(await reader.readexactly(length)) if length else {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def http_bidders(
    url: str, code: str, tokens: list[str], seconds: float, seen0: int | None
) -> Tally:
    tally = Tally()
    race = Race(seconds, 0)
    path = f"/api/auctions/{code}/bids"

    async def bidder(n: int, token: str) -> None:
        seen = seen0
        client = RawHttp(url)
        i = 0
        try:
            while race.running():
                amount = race.next_amount(seen)
                i += 1
                began = time.perf_counter()
                status, body = await client.post(
                    path, {"amount_fen": amount, "idempotency_key": f"h{n}-{i}-{amount}"}, token
                )
                tally.latencies.append(time.perf_counter() - began)
                if status == 201:
                    tally.accepted += 1
                    tally.decided += 1
                    seen = body["price_fen"] or amount
                elif status in (400, 409):
                    tally.decided += 1
                    seen = body.get("details", {}).get("current_price_fen") or seen
                else:
                    tally.errors += 1
        finally:
            client.close()

    await asyncio.gather(*(bidder(n, t) for n, t in enumerate(tokens)))
    return tally


async def ws_bidders(
    url: str, code: str, tokens: list[str], seconds: float, seen0: int | None
) -> Tally:
    tally = Tally()
    race = Race(seconds, 0)
    ws_url = url.replace("http://", "ws://") + f"/api/auctions/{code}/live?after_seq=1000000000"

    async def bidder(n: int, token: str) -> None:
        seen = seen0
        async with websockets.connect(
            ws_url,
            additional_headers={"Authorization": f"Bearer {token}"},
            max_queue=None,
            compression=None,  # small JSON frames: deflate costs both sides CPU, saves little
        ) as socket:
            i = 0
            while race.running():
                amount = race.next_amount(seen)
                i += 1
                key = f"w{n}-{i}-{amount}"
                began = time.perf_counter()
                await socket.send(
                    json.dumps({"type": "bid", "amount_fen": amount, "idempotency_key": key})
                )
                while True:
                    message = json.loads(await socket.recv())
                    if message.get("idempotency_key") == key:
                        break
                tally.latencies.append(time.perf_counter() - began)
                if message["type"] == "accepted":
                    tally.accepted += 1
                    tally.decided += 1
                    seen = message["price_fen"] or amount
                elif message.get("status") in (400, 409):
                    tally.decided += 1
                    seen = (message.get("details") or {}).get("current_price_fen") or seen
                else:
                    tally.errors += 1

    await asyncio.gather(*(bidder(n, t) for n, t in enumerate(tokens)))
    return tally


# --- the floors ----------------------------------------------------------------------------


async def bare_http(bidders: int, seconds: float) -> Tally:
    """(c) The same racing bidders against ``_bare_bids.py``: the HTTP stack alone."""
    port = free_port()
    script = Path(__file__).with_name("_bare_bids.py")
    server = subprocess.Popen([sys.executable, str(script), str(port)])  # noqa: ASYNC220
    try:
        url = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_until_up, url)
        return await http_bidders(url, "BARE", ["-"] * bidders, seconds, None)
    finally:
        server.terminate()
        server.wait(timeout=30)


_FLOOR_SCHEMA = """
    DROP TABLE IF EXISTS bench_hot_bid; DROP TABLE IF EXISTS bench_hot_auction;
    CREATE TABLE bench_hot_auction (id int PRIMARY KEY, price bigint, seq int NOT NULL DEFAULT 0);
    CREATE TABLE bench_hot_bid (
        auction_id int, seq int, amount bigint, PRIMARY KEY (auction_id, seq)
    );
    INSERT INTO bench_hot_auction VALUES (1, NULL, 0);
"""

_CTE = """
    WITH up AS (
        UPDATE bench_hot_auction SET price = $1::bigint, seq = seq + 1
        WHERE id = 1 AND (
            CASE WHEN price IS NULL
                 THEN $1::bigint >= $2::bigint AND ($1::bigint - $2::bigint) % $3::bigint = 0
                 ELSE $1::bigint > price AND ($1::bigint - price) % $3::bigint = 0 END)
        RETURNING seq, price
    ), ins AS (INSERT INTO bench_hot_bid SELECT 1, seq, price FROM up RETURNING seq)
    SELECT (SELECT seq FROM ins) AS seq, (SELECT price FROM bench_hot_auction WHERE id = 1) AS now
"""


async def bare_cte(dsn: str, bidders: int, seconds: float, connections: int) -> Tally:
    tally = Tally()
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    try:
        await pool.execute(_FLOOR_SCHEMA)
        race = Race(seconds, 0)

        async def bidder() -> None:
            seen: int | None = None
            while race.running():
                amount = race.next_amount(seen)
                began = time.perf_counter()
                row = await pool.fetchrow(_CTE, amount, START, STEP)
                tally.latencies.append(time.perf_counter() - began)
                tally.decided += 1
                if row["seq"] is not None:
                    tally.accepted += 1
                    seen = amount
                else:
                    seen = row["now"]

        await asyncio.gather(*(bidder() for _ in range(bidders)))
    finally:
        await pool.close()
    return tally


async def bare_writer(dsn: str, bidders: int, seconds: float) -> Tally:
    """One task owns the auction: decides what is pending in memory, writes the accepted
    ones in one transaction, answers everyone."""
    tally = Tally()
    conn = await asyncpg.connect(dsn)
    await conn.execute(_FLOOR_SCHEMA)
    pending: list[tuple[int, asyncio.Future[tuple[bool, int]]]] = []
    wake = asyncio.Event()
    race = Race(seconds, 0)
    price: int | None = None
    seq = 0

    async def writer() -> None:
        nonlocal price, seq
        while race.running() or pending:
            if not pending:
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), 0.05)
                except TimeoutError:
                    continue
            batch = pending[:]
            pending.clear()
            rows = []
            answers = []
            for amount, future in batch:
                ok = (
                    (amount >= START and (amount - START) % STEP == 0)
                    if price is None
                    else (amount > price and (amount - price) % STEP == 0)
                )
                if ok:
                    price, seq = amount, seq + 1
                    rows.append((1, seq, amount))
                answers.append((future, ok))
            if rows:
                async with conn.transaction():
                    await conn.executemany("INSERT INTO bench_hot_bid VALUES ($1, $2, $3)", rows)
                    await conn.execute(
                        "UPDATE bench_hot_auction SET price = $1, seq = $2 WHERE id = 1", price, seq
                    )
            for future, ok in answers:
                future.set_result((ok, price or 0))

    async def bidder() -> None:
        seen: int | None = None
        loop = asyncio.get_running_loop()
        while race.running():
            amount = race.next_amount(seen)
            began = time.perf_counter()
            future: asyncio.Future[tuple[bool, int]] = loop.create_future()
            pending.append((amount, future))
            wake.set()
            ok, now = await future
            tally.latencies.append(time.perf_counter() - began)
            tally.decided += 1
            tally.accepted += ok
            seen = now

    try:
        await asyncio.gather(writer(), *(bidder() for _ in range(bidders)))
    finally:
        await conn.close()
    return tally


# --- watchers ------------------------------------------------------------------------------


async def watchers(
    url: str, code: str, count: int, tokens: list[str], seconds: float
) -> tuple[list[float], int, int, int]:
    """``count`` watchers while a few bidders bid; half are cut off midway and reconnect with
    their last seq. Returns (acceptance-to-delivery latencies, frames expected, missed, doubled)."""
    ws_base = url.replace("http://", "ws://") + f"/api/auctions/{code}/live"
    start_seq = await _last_seq(url, code)
    seen: list[list[int]] = [[] for _ in range(count)]
    delays: list[float] = []
    stop = asyncio.Event()
    cut = asyncio.Event()

    async def watch(i: int) -> None:
        after = start_seq
        reconnected = i % 2 == 1  # the odd ones are cut off once
        while True:
            try:
                async with websockets.connect(
                    f"{ws_base}?after_seq={after}",
                    max_queue=None,
                    open_timeout=60,
                    compression=None,
                ) as socket:
                    while True:
                        if not reconnected and cut.is_set():
                            reconnected = True
                            break  # cut off: reconnect with the last seq
                        try:
                            raw = await asyncio.wait_for(socket.recv(), 0.5)
                        except TimeoutError:
                            if stop.is_set():
                                return
                            continue
                        got = time.time()
                        for frame in json.loads(raw).get("frames", []):
                            seen[i].append(frame["seq"])
                            after = frame["seq"]
                            if frame["kind"] == "bid":
                                at = datetime.fromisoformat(
                                    frame["at"].replace("Z", "+00:00")
                                ).timestamp()
                                delays.append(got - at)
            except (OSError, websockets.ConnectionClosed):
                await asyncio.sleep(0.2)

    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(watch(i)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)
    few = tokens[: min(10, len(tokens))]
    seen0 = await _last_price(url, code)
    half = asyncio.create_task(http_bidders(url, code, few, seconds, seen0))
    await asyncio.sleep(seconds / 2)
    cut.set()
    await half
    end_seq = await _last_seq(url, code)
    deadline = time.monotonic() + 30
    behind = lambda: any((s[-1] if s else start_seq) < end_seq for s in seen)  # noqa: E731
    while time.monotonic() < deadline and behind():  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    expected = list(range(start_seq + 1, end_seq + 1))
    missed = sum(len(set(expected) - set(s)) for s in seen)
    doubled = sum(len(s) - len(set(s)) for s in seen)
    return delays, len(expected), missed, doubled


async def _last_seq(url: str, code: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        after = 0
        while True:
            frames = (
                await client.get(f"/api/auctions/{code}/frames?after_seq={after}&limit=500")
            ).json()["frames"]
            if not frames:
                return after
            after = frames[-1]["seq"]


async def _last_price(url: str, code: str) -> int | None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        after, price = 0, None
        while True:
            frames = (
                await client.get(f"/api/auctions/{code}/frames?after_seq={after}&limit=500")
            ).json()["frames"]
            if not frames:
                return price
            after = frames[-1]["seq"]
            price = next((f["amount_fen"] for f in reversed(frames) if f["kind"] == "bid"), price)


# --- the run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace, database_url: str, url: str) -> None:
    code, tokens = await make_auction(database_url, args.bidders)
    dsn = database_url.replace("+asyncpg", "")
    seconds = args.seconds
    http = await http_bidders(url, code, tokens, seconds, None)
    ws = await ws_bidders(url, code, tokens, seconds, await _last_price(url, code))
    cte = await bare_cte(dsn, args.bidders, seconds, min(args.bidders, args.connections))
    single = await bare_writer(dsn, args.bidders, seconds)
    floor = await bare_http(args.bidders, seconds)
    print(f"{args.bidders} racing bidders, {seconds:g} s each, one auction")
    print(http.line("http (one writer)", seconds))
    print(ws.line("websocket (one writer)", seconds))
    print(cte.line("(a) bare asyncpg CTE", seconds))
    print(single.line("(b) bare single writer", seconds))
    print(floor.line("(c) bare HTTP, in memory", seconds))
    r1 = http.accepted / max(cte.accepted, 1)
    r2 = http.accepted / max(single.accepted, 1)
    print(f"ratio http accepted / (a) bare CTE          {r1:8.2f}x   (target >= 2)")
    print(f"ratio http accepted / (b) bare single writer {r2:8.2f}x   (target >= 0.5)")
    print(f"ratio ws accepted / (a) bare CTE            {ws.accepted / max(cte.accepted, 1):8.2f}x")
    # What any bid route could reach in this stack: if (c) is below 2x (a), so is http.
    r3 = floor.accepted / max(cte.accepted, 1)
    print(f"ratio (c) bare HTTP accepted / (a) bare CTE  {r3:8.2f}x   (the stack's ceiling)")
    r4 = http.accepted / max(floor.accepted, 1)
    print(f"ratio http accepted / (c) bare HTTP          {r4:8.2f}x")
    delays, expected, missed, doubled = await watchers(
        url, code, args.watchers, tokens, args.watch_seconds
    )
    d50, d99 = _percentiles(delays)
    print(
        f"{args.watchers} watchers: {expected} frames each, acceptance->delivery p50 {d50:.1f} ms"
        f" p99 {d99:.1f} ms (target < 200), after a forced reconnect: missed {missed},"
        f" doubled {doubled}"
    )
    _, p99 = _percentiles(http.latencies)
    print(
        f"auction_hot: accepted/s {http.accepted / seconds:.0f}, vs bare cte {r1:.2f}x,"
        f" vs bare single writer {r2:.2f}x, p99 {p99:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--connections",
        type=int,
        default=50,
        help="(a)'s pool: PostgreSQL's max_connections is shared",
    )
    parser.add_argument("--watchers", type=int, default=2000)
    parser.add_argument("--watch-seconds", type=float, default=6.0)
    parser.add_argument("--quick", action="store_true", help="a short run for checks")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.quick:
        args.bidders, args.seconds, args.watchers, args.watch_seconds = 20, 2.0, 20, 2.0
    random.seed(1)
    with (
        scratch_database() as database_url,
        tempfile.TemporaryDirectory() as data,
        server_process(__file__, database_url, data) as (url, _),
    ):
        asyncio.run(run(args, database_url, url))


if __name__ == "__main__":
    main()
