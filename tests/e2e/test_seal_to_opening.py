"""A bid's whole life over the wire: three bidders seal and upload with the real
``tendering seal`` command on their own machines, each checks the signed receipt with the
platform's published key, and at the opening two of three custodians open all three."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tendering.core.auth.models import OrgKind, Role
from tendering.core.canonical import canonical_json
from tendering.core.crypto.bidder_keys import save_bidder_key
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key, verify_signature
from tendering.settings import Settings
from tests.conftest import TEST_PASSWORD, People
from tests.e2e.conftest import LivePlatform
from tests.tendering.bids.conftest import PASSPHRASES, STEPS_OPENING_THREE, Bidder, BidWorld
from tests.tendering.tenders.conftest import TenderDesk

PRICES = (300_000_00, 250_000_00, 280_000_00)


async def _watch(
    client: httpx.AsyncClient, lot: str, headers: dict[str, str]
) -> list[tuple[int, str]]:
    """The (seq, kind) of each server-sent step until the opening finishes."""
    steps: list[tuple[int, str]] = []
    async with client.stream("GET", f"/api/lots/{lot}/opening/live", headers=headers) as live:
        assert live.status_code == 200
        async for line in live.aiter_lines():
            if line.startswith("data: "):
                frame = json.loads(line[6:])
                steps.append((frame["seq"], frame["kind"]))
    return steps


async def _world(client: httpx.AsyncClient, people: People, engine, secrecy: Secrecy) -> BidWorld:
    async def login(person) -> dict[str, str]:
        response = await client.post(
            "/api/auth/login", json={"username": person.username, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    staff = await people.user(Role.STAFF)
    tenderer = await people.organization(OrgKind.TENDERER, name="某某县第一中学")
    desk = TenderDesk(client, people, login, await login(staff), tenderer.code)
    return BidWorld(client, people, login, engine, desk, secrecy)


def _seal_with_the_cli(
    live: LivePlatform, world: BidWorld, bidder: Bidder, price: int, home: Path
) -> dict:
    home.mkdir()
    key_file, form = home / "bidder.key", home / "bid.json"
    save_bidder_key(bidder.key, key_file)
    form.write_text(json.dumps({"price_fen": price, "duration_days": 180}))
    (home / "技术标.txt").write_text("施工组织设计", encoding="utf-8")
    assert world.sealing is not None
    done = live.tendering(
        "seal",
        world.lot,
        "--url",
        live.url,
        "--token",
        bidder.headers["Authorization"].split()[1],
        "--bidder",
        bidder.code,
        "--key",
        str(key_file),
        "--form",
        str(form),
        "--document",
        str(home / "技术标.txt"),
        "--key-id",
        world.sealing.key_id,
        "--out",
        str(home / "bid.tbid1"),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    sealed = (home / "bid.tbid1").read_bytes()
    assert answer["receipt"]["sha256"] == hashlib.sha256(sealed).hexdigest()
    assert answer["receipt"]["size"] == len(sealed)
    return answer


@pytest.mark.timeout(600)
async def test_bidders_seal_with_the_cli_and_custodians_open_every_bid(
    live_platform, engine, password_hash, tmp_path
):
    async with httpx.AsyncClient(base_url=live_platform.url, timeout=60) as client:
        key = load_platform_key(Settings.from_env(live_platform.env))  # the live platform's
        world = await _world(client, People(engine, password_hash), engine, Secrecy.of(key))
        await world.publish_lot(n=3, k=2)
        bidders = [await world.bidder() for _ in PRICES]
        platform_key = base64.b64decode(
            (await client.get("/api/platform/key")).json()["public_key"]
        )
        # The three bidders seal on their own machines at once, as they would.
        answers = await asyncio.gather(
            *(
                asyncio.to_thread(
                    _seal_with_the_cli, live_platform, world, bidder, price, tmp_path / f"b{index}"
                )
                for index, (bidder, price) in enumerate(zip(bidders, PRICES, strict=True))
            )
        )
        for bidder, answer in zip(bidders, answers, strict=True):
            receipt = answer["receipt"]
            assert (receipt["bidder"], receipt["lot"]) == (bidder.code, world.lot)
            assert verify_signature(
                platform_key, canonical_json(receipt), base64.b64decode(answer["signature"])
            )

        await world.pass_deadline()
        started = await client.post(
            f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
        )
        assert started.status_code == 201, started.text
        # A bidder watches live from before the first passphrase: every step is pushed to it
        # (through Redis) as the background runner takes it, once and in order.
        watching = asyncio.create_task(_watch(client, world.lot, bidders[0].headers))
        _, headers = world.custodians[0]
        entered = await client.post(
            f"/api/lots/{world.lot}/opening/passphrase",
            headers=headers,
            json={"passphrase": PASSPHRASES[0]},
        )
        assert entered.status_code == 200, entered.text
        # The k-th custodian uses the CLI, which follows the opening live until it ends.
        _, headers = world.custodians[2]
        done = await asyncio.to_thread(
            live_platform.tendering,
            "opening",
            "passphrase",
            world.lot,
            "--url",
            live_platform.url,
            "--token",
            headers["Authorization"].split()[1],
            input=PASSPHRASES[2] + "\n",
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "bid_opened" in done.stderr and "[9] finished" in done.stderr, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1])["state"] == "opened"
        steps = await asyncio.wait_for(watching, timeout=120)
        assert [seq for seq, _ in steps] == list(range(1, len(steps) + 1))
        assert [kind for _, kind in steps] == STEPS_OPENING_THREE
        opened = await world.opened()
        assert opened["state"] == "opened" and opened["valid_bids"] == 3, opened
        assert {r["bidder"]: r["price_fen"] for r in opened["results"]} == {
            b.code: p for b, p in zip(bidders, PRICES, strict=True)
        }
