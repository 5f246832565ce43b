"""One hot auction: racing bidders through the real HTTP and WebSocket stack, against three
floors measured in the same run with the same proposal model.

    .venv/bin/python bench/auction_hot.py [--bidders 200] [--seconds 10] [--watchers 2000]
    .venv/bin/python bench/auction_hot.py --quick
    .venv/bin/python bench/auction_hot.py --only watchers [--watch-client raw] [--watch-procs 2]

Starts ``tendering serve``'s app under uvicorn in a subprocess (its own database, the local
Redis), makes a live auction with N approved bidders and opens it. Each bidder bids from the
last price it saw (its last answer: accepted, or outbid with the current price), so they race
and most are outbid. Measured, each for the same time:

* **http**: ``POST /api/auctions/{code}/bids`` (the one writer per auction behind it);
* **ws**: the same bids over ``/api/auctions/{code}/live``;
* **(a) bare CTE**: bare asyncpg, one guarded ``UPDATE ... RETURNING`` + ``INSERT`` per bid in
  one statement (DESIGN.md, "Hot paths"), the same N bidders;
* **(b) bare single writer**: bare asyncpg, one task deciding the pending bids in memory and
  writing the accepted ones in one transaction per batch;
* **(c) bare HTTP**: the same bidders against ``_bare_bids.py``, a Litestar route at the bid
  path under uvicorn that decides in memory: what the HTTP stack alone allows here.

Then W WebSocket watchers follow the auction while bidders bid: the time from a bid's
acceptance (its frame's ``at``, the database clock) to its delivery, and, after half the
watchers are cut off and reconnect with their last ``seq``, whether any frame was missed or
seen twice, with where the time went (acceptance -> on Redis -> encoded -> delivered), the
clients' and the server's CPU, and a floor: the same watchers on a bare uvicorn fan-out
(``--floor``). Prints accepted bids/s, decided attempts/s, p50/p99 latency, the ratios; the
last line: ``auction_hot: accepted/s A, vs bare cte R1x, vs bare single writer R2x, p99 P ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing
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

from bench._lot import (
    REDIS_URL,
    SERVER_SEED,
    free_port,
    scratch_database,
    server_process,
    wait_until_up,
)

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
#
# Where a watcher's acceptance-to-delivery time goes. Each message carries the server's
# ``server_time`` (taken when the tick encoded it), so a frame's delay splits into
# acceptance -> encoded (commit, Redis, the room, the wait for the tick) and encoded ->
# delivered (the fan-out to every socket, and the client's own queue). The client is
# measured too: the watchers can be spread over several processes (``--watch-procs``) and
# read with a lean hand-written reader (``--watch-client raw``); and the same sockets, the
# same way, are fed by a bare fan-out (``--floor``: a plain ASGI app under the same uvicorn
# sending one message per 100 ms tick to all, no Litestar, no Redis, no database) so the
# figure has a floor measured in the same run.

FLOOR_TICK = 0.1


@dataclass
class Watched:
    """What a group of watchers saw (one process's share, or all of them summed)."""

    delays: list[float] = field(default_factory=list)  # acceptance -> delivery, per frame
    accepted: list[float] = field(default_factory=list)  # each of those frames' acceptance
    to_tick: list[float] = field(default_factory=list)  # acceptance -> encoded, per frame
    fanout: list[float] = field(default_factory=list)  # encoded -> delivery, per message
    on_redis: list[float] = field(default_factory=list)  # acceptance -> published, per frame
    reconnects: list[float] = field(default_factory=list)  # cut off -> hello again, per watcher
    expected: int = 0
    missed: int = 0
    doubled: int = 0
    messages: int = 0
    cpu: float = 0.0  # the clients' CPU seconds while watching
    cpu_server: float = 0.0  # the server's, when measured
    wall: float = 0.0  # seconds the CPU was counted over
    cut_at: float = 0.0  # when half the watchers were cut off

    def add(self, other: Watched) -> None:
        self.delays += other.delays
        self.accepted += other.accepted
        self.to_tick += other.to_tick
        self.fanout += other.fanout
        self.reconnects += other.reconnects
        self.expected = max(self.expected, other.expected)
        self.missed += other.missed
        self.doubled += other.doubled
        self.messages += other.messages
        self.cpu += other.cpu
        self.cpu_server += other.cpu_server


class RawWs:
    """One WebSocket read by hand (the server's frames are unmasked text; pings answered):
    what a lean client costs, beside the ``websockets`` library's."""

    def __init__(self, url: str) -> None:
        rest = url.removeprefix("ws://")
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        self.host, self.port, self.path = host, int(port or 80), "/" + path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head[:60])

    async def recv(self) -> bytes:
        reader = self.reader
        if reader is None:
            raise ConnectionError("not connected")
        while True:
            b0, b1 = await reader.readexactly(2)
            size = b1 & 0x7F
            if size == 126:
                size = int.from_bytes(await reader.readexactly(2), "big")
            elif size == 127:
                size = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(size) if size else b""
            opcode = b0 & 0x0F
            if opcode == 1 and b0 & 0x80:
                return payload
            if opcode == 8:
                raise ConnectionError("closed by the server")
            if opcode == 9:  # ping: a masked pong back
                mask = os.urandom(4)
                body = bytes(c ^ mask[n % 4] for n, c in enumerate(payload))
                if self.writer is not None:
                    self.writer.write(bytes((0x8A, 0x80 | len(body))) + mask + body)
            elif opcode != 10:
                raise ConnectionError(f"unexpected frame {b0:#x}")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _LibWs:
    """The ``websockets`` client, as a watcher in a browser-like library would read."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.socket: Any = None

    async def connect(self) -> None:
        self.socket = await websockets.connect(
            self.url, max_queue=None, open_timeout=60, compression=None
        )

    async def recv(self) -> bytes | str:
        return await self.socket.recv()  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.socket is not None:
            self.socket.transport.close()


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _watch_group(
    ws_base: str,
    start_seq: int,
    indices: list[int],
    client: str,
    flags: Any,
) -> Watched:
    """Watchers ``indices`` (the odd ones are cut off once when ``flags.cut`` is set and
    reconnect with their last seq) until each has seen ``flags.end`` (once it is known) or
    ``flags.stop`` is set. ``flags`` holds multiprocessing values shared with the driver."""
    seen: dict[int, list[int]] = {i: [] for i in indices}
    got_hello: set[int] = set()
    out = Watched()
    cut_now = False
    make = RawWs if client == "raw" else _LibWs

    async def watch(i: int) -> None:
        after = start_seq
        to_cut = i % 2 == 1
        mine = seen[i]
        cut_at: float | None = None
        while True:
            connection = make(f"{ws_base}?after_seq={after}")
            try:
                await connection.connect()
                while True:
                    if to_cut and cut_now:
                        to_cut, cut_at = False, time.time()
                        break  # cut off: reconnect with the last seq
                    raw = await connection.recv()
                    got = time.time()
                    if cut_at is not None:
                        out.reconnects.append(got - cut_at)
                        cut_at = None
                    message = json.loads(raw)
                    if i not in got_hello:
                        got_hello.add(i)
                        with flags.ready.get_lock():
                            flags.ready.value += 1
                    frames = message.get("frames")
                    if not frames:
                        continue
                    out.messages += 1
                    sent = _epoch(message["server_time"])
                    out.fanout.append(got - sent)
                    for frame in frames:
                        mine.append(frame["seq"])
                        after = frame["seq"]
                        if frame["kind"] == "bid":
                            at = _epoch(frame["at"])
                            out.delays.append(got - at)
                            out.accepted.append(at)
                            out.to_tick.append(sent - at)
            except (OSError, asyncio.IncompleteReadError, websockets.ConnectionClosed):
                await asyncio.sleep(0.2)
            finally:
                connection.close()

    began: float | None = None
    tasks = []
    for n, i in enumerate(indices):
        tasks.append(asyncio.create_task(watch(i)))
        if n % 100 == 99:
            await asyncio.sleep(0.05)
    deadline: float | None = None
    while not flags.stop.is_set():
        if began is None and flags.go.is_set():
            began = time.process_time()
        cut_now = cut_now or flags.cut.is_set()
        end = flags.end.value
        if end > 0:
            deadline = deadline or time.monotonic() + 30
            if time.monotonic() > deadline or all(
                (s[-1] if s else 0) >= end for s in seen.values()
            ):
                break
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.cpu = time.process_time() - (began or 0.0)
    end = flags.end.value
    if end > 0:
        expected = set(range(start_seq + 1, end + 1))
        out.expected = len(expected)
        out.missed = sum(len(expected - set(s)) for s in seen.values())
        out.doubled = sum(len(s) - len(set(s)) for s in seen.values())
    return out


def _watch_process(
    ws_base: str, start_seq: int, indices: list[int], client: str, flags: Any, results: Any
) -> None:
    results.put(asyncio.run(_watch_group(ws_base, start_seq, indices, client, flags)))


@dataclass
class _Flags:
    go: Any  # the measured part begins (the clients' CPU is counted from here)
    cut: Any
    cut_at: Any  # when the cut was made (time.time())
    stop: Any
    end: Any
    ready: Any


class WatcherPool:
    """``count`` watchers in ``procs`` client processes (1: in this process, as before)."""

    def __init__(self, ws_base: str, start_seq: int, count: int, procs: int, client: str) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.flags = _Flags(
            self.context.Event(),
            self.context.Event(),
            self.context.Value("d", 0.0),
            self.context.Event(),
            self.context.Value("q", 0),
            self.context.Value("i", 0),
        )
        self.count = count
        self.results: Any = self.context.Queue()
        groups = [list(range(p, count, procs)) for p in range(procs)]
        self.local: asyncio.Task[Watched] | None = None
        self.processes = []
        if procs == 1:
            self.local = asyncio.create_task(
                _watch_group(ws_base, start_seq, groups[0], client, self.flags)
            )
        else:
            for group in groups:
                process = self.context.Process(
                    target=_watch_process,
                    args=(ws_base, start_seq, group, client, self.flags, self.results),
                    daemon=True,
                )
                process.start()
                self.processes.append(process)

    async def ready(self, settle: float, seconds: float = 120) -> int:
        """Until every watcher has its hello (or ``seconds``), then ``settle`` seconds more;
        how many have."""
        deadline = time.monotonic() + seconds
        while self.flags.ready.value < self.count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(settle)  # the last hellos' catch-up settles
        return int(self.flags.ready.value)

    def go(self) -> None:
        self.flags.go.set()

    def cut(self) -> None:
        self.flags.cut_at.value = time.time()
        self.flags.cut.set()

    async def finish(self, end: int | None) -> Watched:
        """Until each watcher has seen ``end`` (``None``: stop now); what they all saw."""
        if end is None:
            self.flags.stop.set()
        else:
            self.flags.end.value = end
        total = Watched()
        if self.local is not None:
            total.add(await self.local)
            return total
        loop = asyncio.get_running_loop()
        for _ in self.processes:
            total.add(await loop.run_in_executor(None, lambda: self.results.get(timeout=180)))
        for process in self.processes:
            await loop.run_in_executor(None, process.join)
        return total


async def _published(channel: str, delays: list[float]) -> None:
    """Acceptance -> on Redis of every frame published on ``channel`` (the writer's part)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(channel)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                delays.append(time.time() - _epoch(json.loads(message["data"])["at"]))
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def watchers(
    url: str, code: str, args: argparse.Namespace, tokens: list[str], seconds: float
) -> Watched:
    """``args.watchers`` watchers while a few bidders bid; half are cut off midway and
    reconnect with their last seq. What they saw: latencies, frames expected, missed, doubled."""
    # Here, not at the top: the floor's server process (``--serve-floor``) imports this file,
    # and the ``auction`` package takes it a second.
    from auction.frames import auction_channel

    ws_base = url.replace("http://", "ws://") + f"/api/auctions/{code}/live"
    start_seq = await _last_seq(url, code)
    pool = WatcherPool(ws_base, start_seq, args.watchers, args.watch_procs, args.watch_client)
    connected = await pool.ready(args.settle)
    if connected < args.watchers:
        print(f"  only {connected} of {args.watchers} watchers connected")
    on_redis: list[float] = []
    listen = asyncio.create_task(_published(auction_channel(args.database_url, code), on_redis))
    few = tokens[: min(10, len(tokens))]
    seen0 = await _last_price(url, code)
    cpu0, wall0 = _cpu_seconds(args.server_pid), time.monotonic()
    pool.go()
    half = asyncio.create_task(http_bidders(url, code, few, seconds, seen0))
    await asyncio.sleep(seconds / 2)
    pool.cut()
    await half
    wall = time.monotonic() - wall0
    watched = await pool.finish(await _last_seq(url, code))
    listen.cancel()
    watched.on_redis = on_redis
    watched.cpu_server = _cpu_seconds(args.server_pid) - cpu0
    watched.wall, watched.cut_at = wall, pool.flags.cut_at.value
    return watched


def serve_floor(port: int, rate: float) -> None:
    """The floor: a bare ASGI app under the same uvicorn as ``serve`` that makes bid-like
    frames at ``rate`` per second (Poisson) and sends what came in each 100 ms tick as one
    message, encoded once, to every socket; a time message in a quiet second."""
    import uvicorn

    from tendering.core.interpreter import tune_interpreter  # not runtime: a second to import

    tune_interpreter()
    sends: set[Any] = set()
    pending: list[dict[str, Any]] = []

    def now() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    async def bids() -> None:
        seq = 0
        while True:
            await asyncio.sleep(random.expovariate(rate))
            seq += 1
            pending.append(
                {"seq": seq, "kind": "bid", "at": now(), "paddle": f"{seq % 10:03d}",
                 "amount_fen": START + seq * STEP, "bid_seq": seq, "ends_at": now(),
                 "phase": "live"}
            )  # fmt: skip

    async def ticks() -> None:
        quiet = 0.0
        state: dict[str, Any] = {"phase": "live", "paused": False}
        while True:
            await asyncio.sleep(FLOOR_TICK)
            if pending:
                body: dict[str, Any] = {"type": "frames", "frames": pending[:]}
                state.update(price_fen=pending[-1]["amount_fen"], seq=pending[-1]["seq"])
                pending.clear()
                quiet = 0.0
            else:
                quiet += FLOOR_TICK
                if quiet < 1.0:
                    continue
                body, quiet = {"type": "time"}, 0.0
            event = {
                "type": "websocket.send",
                "text": json.dumps({**body, "state": state, "server_time": now()}),
            }
            for send in list(sends):
                with contextlib.suppress(Exception):
                    await send(event)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            tasks = [asyncio.create_task(bids()), asyncio.create_task(ticks())]
            await send({"type": "lifespan.startup.complete"})
            await receive()
            for task in tasks:
                task.cancel()
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send(
                {
                    "type": "websocket.send",
                    "text": json.dumps({"type": "hello", "server_time": now()}),
                }
            )
            sends.add(send)
            try:
                while (await receive())["type"] != "websocket.disconnect":
                    pass
            finally:
                sends.discard(send)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_queue=64)


async def floor(args: argparse.Namespace, rate: float, seconds: float) -> Watched:
    """The same watchers, the same way (half cut off midway), on the bare fan-out."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-floor", str(port), "--floor-rate", str(rate)
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        pool = WatcherPool(
            f"ws://127.0.0.1:{port}/floor", 0, args.watchers, args.watch_procs, args.watch_client
        )
        await pool.ready(args.settle)
        cpu0, wall0 = _cpu_seconds(server.pid), time.monotonic()
        pool.go()
        await asyncio.sleep(seconds / 2)
        pool.cut()
        await asyncio.sleep(seconds / 2)
        wall = time.monotonic() - wall0
        watched = await pool.finish(None)
        watched.cpu_server = _cpu_seconds(server.pid) - cpu0
        watched.wall, watched.cut_at = wall, pool.flags.cut_at.value
        return watched
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(values: list[float]) -> str:
    p50, p99 = _percentiles(values)
    return f"p50 {p50:6.1f} ms p99 {p99:6.1f} ms"


def _split(watched: Watched) -> str:
    """The delays of the frames accepted before the cut, and of those after it."""
    before = [
        d for d, at in zip(watched.delays, watched.accepted, strict=True) if at < watched.cut_at
    ]
    after = [
        d for d, at in zip(watched.delays, watched.accepted, strict=True) if at >= watched.cut_at
    ]
    return f"before the cut {_ms(before)}; after {_ms(after)}"


async def watch_report(args: argparse.Namespace, url: str, code: str, tokens: list[str]) -> None:
    """The watchers' figures, the client's and the server's CPU, and the floor's."""
    seconds = args.watch_seconds
    load = os.getloadavg()
    live = await watchers(url, code, args, tokens, seconds)
    how = f"{args.watch_client} client in {args.watch_procs} process(es)"
    print(
        f"{args.watchers} watchers ({how}), load {load[0]:.2f}: {live.expected} frames each,"
        f" {live.messages} messages; CPU s/s server {live.cpu_server / live.wall:.2f},"
        f" clients {live.cpu / live.wall:.2f}"
    )
    print(f"  acceptance -> delivery  {_ms(live.delays)}   (target p99 < 200)")
    print(f"    {_split(live)}")
    print(f"  acceptance -> on Redis  {_ms(live.on_redis)}   (the writer, commit, publish)")
    print(f"  acceptance -> encoded   {_ms(live.to_tick)}")
    print(f"  encoded -> delivery     {_ms(live.fanout)}")
    print(f"  after a forced reconnect: missed {live.missed}, doubled {live.doubled}")
    print(f"  cut off -> hello again  {_ms(live.reconnects)}   ({len(live.reconnects)} watchers)")
    if not args.floor:
        return
    rate = max(live.expected / seconds, 1.0)
    bare = await floor(args, rate, seconds)
    print(
        f"floor: bare uvicorn fan-out, {rate:.0f} frames/s, same watchers: {bare.messages}"
        f" messages; CPU s/s server {bare.cpu_server / bare.wall:.2f},"
        f" clients {bare.cpu / bare.wall:.2f}"
    )
    print(f"  event -> delivery       {_ms(bare.delays)}")
    print(f"    {_split(bare)}")
    print(f"  encoded -> delivery     {_ms(bare.fanout)}")
    print(f"  cut off -> hello again  {_ms(bare.reconnects)}   ({len(bare.reconnects)} watchers)")
    d99, f99 = _percentiles(live.delays)[1], _percentiles(bare.delays)[1]
    print(f"ratio watchers p99 / floor p99 {d99 / max(f99, 1e-9):6.2f}x")


async def run_watchers(args: argparse.Namespace, database_url: str, url: str) -> None:
    """``--only watchers``: the watchers part alone, on a fresh auction."""
    code, tokens = await make_auction(database_url, min(args.bidders, 10))
    await watch_report(args, url, code, tokens)


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
    await watch_report(args, url, code, tokens)
    _, p99 = _percentiles(http.latencies)
    print(
        f"auction_hot: accepted/s {http.accepted / seconds:.0f}, vs bare cte {r1:.2f}x,"
        f" vs bare single writer {r2:.2f}x, p99 {p99:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-floor", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--floor-rate", type=float, default=100.0, help=argparse.SUPPRESS)
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
    parser.add_argument(
        "--watch-procs", type=int, default=1, help="client processes the watchers are spread over"
    )
    parser.add_argument(
        "--watch-client",
        choices=("websockets", "raw"),
        default="websockets",
        help="how the watchers read: the websockets library, or a lean reader by hand",
    )
    parser.add_argument(
        "--floor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also feed the same watchers from a bare uvicorn fan-out (the floor)",
    )
    parser.add_argument(
        "--only", choices=("all", "watchers"), default="all", help="run only the watchers part"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.5,
        help="seconds for the last watchers' catch-up before their measured part",
    )
    parser.add_argument("--quick", action="store_true", help="a short run for checks")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.serve_floor:
        serve_floor(args.serve_floor, args.floor_rate)
        return
    if args.quick:
        args.bidders, args.seconds, args.watchers, args.watch_seconds = 20, 0.5, 20, 1.0
        args.settle = 0.1
    random.seed(1)
    with (
        scratch_database() as database_url,
        tempfile.TemporaryDirectory() as data,
        server_process(__file__, database_url, data) as (url, pid),
    ):
        args.server_pid, args.database_url = pid, database_url
        part = run_watchers if args.only == "watchers" else run
        asyncio.run(part(args, database_url, url))


if __name__ == "__main__":
    main()
