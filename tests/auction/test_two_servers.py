"""Two real ``tendering serve`` processes on one PostgreSQL and Redis behave as one: bids
through both at once, one killed in the middle (SIGKILL, mid-batch as it may be), its bidders
retrying on the other with their keys. Watchers on both see every accepted bid once, in
order (the killed one's watcher reconnects to the other with its last seq); no bid is
accepted twice or lost."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import signal
import time
from dataclasses import replace
from itertools import pairwise
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text

from tendering.core.auth.tokens import issue_token
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tests.e2e.conftest import BIN, _serving_all

from .bidding import started

START = 100_000_000
STEP = 1_000_000
BIDDERS = 16


@pytest.mark.committed
async def test_two_servers_one_killed_mid_race_lose_and_double_nothing(
    committed, engine, session, people, desk, database_url, settings, tmp_path
):
    seed = base64.b64encode(os.urandom(32)).decode()
    secrecy = Secrecy.of(load_platform_key(replace(settings, signing_key_b64=seed)))
    auction, bidders, _ = await started(session, people, desk, secrecy, bidders=BIDDERS)
    tokens = [
        (await issue_token(session, user_id=person.user.id, hours=1))[0] for person, _ in bidders
    ]
    await session.commit()
    shared = {"TENDERING_SIGNING_KEY": seed, "TENDERING_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    command = [str(BIN / "tendering"), "serve"]
    with _serving_all(
        [(command, tmp_path / "a"), (command, tmp_path / "b")], database_url, settings, shared
    ) as (first, second):
        urls = [first.url, second.url]
        result = await _race(
            auction.code, tokens, urls, kill=lambda: first.process.send_signal(signal.SIGKILL)
        )

    answers, watched, cut_off = result
    rows = (
        await session.execute(
            text(
                "SELECT seq, paddle, amount_fen, idempotency_key FROM auction_bid"
                " WHERE auction_id = :id ORDER BY seq"
            ),
            {"id": auction.id},
        )
    ).all()
    amounts = [r.amount_fen for r in rows]
    assert rows and [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(a < b for a, b in pairwise(amounts))
    assert len({r.idempotency_key for r in rows}) == len(rows)
    # Every bid was answered in the end (retried with its key through the other server);
    # each accepted answer is exactly one row, and each row was answered as accepted.
    accepted = {(a["seq"], a["amount_fen"]) for a in answers if a["accepted"]}
    print(f"two servers: {len(answers)} bids answered, {len(rows)} accepted, cut off {cut_off}")
    assert accepted == {(r.seq, r.amount_fen) for r in rows}
    frames_total = (
        await session.execute(
            text("SELECT max(seq) FROM auction_frame WHERE auction_id = :id"), {"id": auction.id}
        )
    ).scalar_one()
    for seqs in watched:  # a watcher on each server; the first's moved to the second
        assert seqs == list(range(1, frames_total + 1))


async def _race(code: str, tokens: list[str], urls: list[str], kill) -> tuple[Any, ...]:
    answers: list[dict] = []
    cut_off = {"bids": 0, "watchers": 0}  # requests and sockets the kill broke
    stop_at = time.monotonic() + 4.0
    killed = asyncio.Event()

    async def watcher(home: int) -> list[int]:
        seqs: list[int] = []
        server = home
        while True:
            ws = urls[server].replace("http://", "ws://")
            try:
                async with websockets.connect(
                    f"{ws}/api/auctions/{code}/live?after_seq={seqs[-1] if seqs else 0}"
                ) as socket:
                    while True:
                        try:
                            raw = await asyncio.wait_for(socket.recv(), 1.0)
                        except TimeoutError:
                            if time.monotonic() > stop_at + 5:
                                return seqs
                            continue
                        seqs.extend(f["seq"] for f in json.loads(raw).get("frames", []))
            except (OSError, websockets.ConnectionClosed):
                cut_off["watchers"] += 1
                server = 1  # the first server was killed: on to the other
                await asyncio.sleep(0.1)

    async def bidder(n: int, token: str) -> None:
        rng = random.Random(n)
        seen: int | None = None
        headers = {"Authorization": f"Bearer {token}"}
        i = 0
        async with httpx.AsyncClient(timeout=10) as client:
            while time.monotonic() < stop_at:
                i += 1
                amount = START if seen is None else seen + STEP
                key = f"b{n}-{i}"
                server = rng.randrange(2) if not killed.is_set() else 1
                while True:  # until answered: a lost answer is retried with the same key
                    try:
                        reply = await client.post(
                            f"{urls[server]}/api/auctions/{code}/bids",
                            json={"amount_fen": amount, "idempotency_key": key},
                            headers=headers,
                        )
                    except httpx.TransportError:
                        cut_off["bids"] += 1
                        server = 1
                        continue
                    if reply.status_code == 429:  # decision unknown: retry with the key
                        await asyncio.sleep(0.05)
                        continue
                    break
                body = reply.json()
                if reply.status_code == 201:
                    answers.append({"accepted": True, "seq": body["seq"], "amount_fen": amount})
                    seen = body["price_fen"] or amount
                else:
                    assert reply.status_code in (400, 409), reply.text
                    answers.append({"accepted": False})
                    seen = (body.get("details") or {}).get("current_price_fen") or seen

    async def killer() -> None:
        await asyncio.sleep(1.5)
        kill()
        killed.set()

    watchers = [asyncio.create_task(watcher(0)), asyncio.create_task(watcher(1))]
    await asyncio.sleep(0.5)
    await asyncio.gather(killer(), *(bidder(n, t) for n, t in enumerate(tokens)))
    watched = await asyncio.gather(*watchers)
    assert cut_off["watchers"] >= 1 and killed.is_set()
    return answers, list(watched), cut_off
