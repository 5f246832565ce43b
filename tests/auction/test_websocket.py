"""Bidding and watching over the WebSocket of a real server."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from dataclasses import replace

import pytest
import websockets

from tendering.core.auth.tokens import issue_token
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tests.e2e.conftest import BIN, _serving

from .bidding import started

START = 100_000_000
STEP = 1_000_000


async def _until(socket, wanted) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if wanted(message):
            return message


@pytest.mark.committed
async def test_a_bidder_bids_and_a_watcher_sees_it_over_websockets(
    committed, engine, session, people, desk, database_url, settings, tmp_path
):
    seed = base64.b64encode(os.urandom(32)).decode()
    secrecy = Secrecy.of(load_platform_key(replace(settings, signing_key_b64=seed)))
    auction, ((person, paddle), _, _), _ = await started(session, people, desk, secrecy)
    token, _ = await issue_token(session, user_id=person.user.id, hours=1)
    await session.commit()
    env = {"TENDERING_SIGNING_KEY": seed}
    with _serving([str(BIN / "tendering"), "serve"], database_url, settings, tmp_path, env) as live:
        url = live.url.replace("http://", "ws://") + f"/api/auctions/{auction.code}/live"
        async with (
            websockets.connect(url) as watcher,
            websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as me,
        ):
            hello = await _until(watcher, lambda m: m["type"] == "hello")
            assert hello["state"]["phase"] == "live" and hello["server_time"]
            await me.send(json.dumps({"type": "bid", "amount_fen": START, "idempotency_key": "w1"}))
            accepted = await _until(me, lambda m: m.get("idempotency_key") == "w1")
            assert accepted["type"] == "accepted" and accepted["seq"] == 1
            assert accepted["paddle"] == paddle
            await me.send(json.dumps({"type": "bid", "amount_fen": START, "idempotency_key": "w2"}))
            refused = await _until(me, lambda m: m.get("idempotency_key") == "w2")
            assert refused["type"] == "refused" and refused["code"] == "auction.outbid"
            await me.send("not json")
            bad = await _until(
                me, lambda m: m["type"] == "refused" and m["code"] == "input.invalid"
            )
            assert bad["status"] == 400
            seen = await _until(
                watcher, lambda m: any(f["kind"] == "bid" for f in m.get("frames", []))
            )
            bid = next(f for f in seen["frames"] if f["kind"] == "bid")
            assert (bid["paddle"], bid["amount_fen"], bid["bid_seq"]) == (paddle, START, 1)
            assert seen["state"]["price_fen"] == START
        # An anonymous watcher may not bid.
        async with websockets.connect(url) as anonymous:
            await anonymous.send(
                json.dumps({"type": "bid", "amount_fen": START + STEP, "idempotency_key": "x"})
            )
            answer = await _until(anonymous, lambda m: m.get("idempotency_key") == "x")
            assert answer["type"] == "refused" and answer["code"] == "auth.role_required"
