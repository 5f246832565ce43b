"""The demo's lots get opening keys, so a visitor can seal, submit and open bids."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from tendering.app import register_contexts
from tendering.bids.client import LotForSealing, seal_bytes
from tendering.bids.models import LotKey
from tendering.cli import main
from tendering.core.auth.models import OrgKind, User
from tendering.core.clock import db_now
from tendering.core.crypto.bidder_keys import generate_bidder_key
from tendering.core.db import make_sessionmaker
from tendering.core.demo import run_demo
from tendering.core.errors import Conflict
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tendering.ledger import deposit_status
from tendering.opening import ceremony
from tendering.opening.demo import DEMO_CUSTODIANS, DEMO_PASSPHRASE
from tendering.tenders.demo import end_demo_bidding
from tests.tendering.bids.conftest import bid_zip

SECRECY = Secrecy.from_seed(bytes(32))


async def test_every_demo_lot_has_a_two_of_three_opening_key_its_custodians_can_unwrap(engine):
    register_contexts()
    maker = make_sessionmaker(engine)
    book = await run_demo(maker, secrecy=SECRECY)
    assert book is not None
    assert any(DEMO_PASSPHRASE in note for note in book.notes)
    async with maker() as session:
        keys = list((await session.scalars(select(LotKey))).all())
        assert len(keys) == 4 and {(k.k, k.n) for k in keys} == {(2, 3)}
        for username in DEMO_CUSTODIANS:
            user = (await session.scalars(select(User).where(User.username == username))).one()
            assert user.id is not None
            lot = await ceremony.lot_of(session, keys[0].lot_id)
            share = await ceremony.custodian_share(
                session, lot=lot, key=keys[0], user_id=user.id, passphrase=DEMO_PASSPHRASE
            )
            assert share is not None
        # and bidder1-3 have paid the first lot's deposit, so each of them can bid
        now = await db_now(session)
        for n in (1, 2, 3):
            org = book.users[f"bidder{n}"].organization_id
            lot = f"lot:JY-{now.year}-0001-01"
            status = await deposit_status(session, org, lot, now, secrecy=SECRECY)
            assert status.state == "received", (n, status)


@pytest.mark.committed
async def test_staff_reach_the_opening_of_a_demo_lot_with_a_documented_command(
    engine, client, settings, monkeypatch
):
    # The app's platform key and data directory, as `tendering demo` beside `serve` uses.
    monkeypatch.setenv("TENDERING_DATA_DIR", str(settings.data_dir))
    register_contexts()
    secrecy = Secrecy.of(load_platform_key(settings))
    book = await run_demo(make_sessionmaker(engine), secrecy=secrecy)
    assert book is not None
    async with make_sessionmaker(engine)() as session:
        lot = f"JY-{(await db_now(session)).year}-0001-01"

    async def login(username: str, password: str) -> dict[str, str]:
        response = await client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    sealing = LotForSealing.from_api((await client.get(f"/api/lots/{lot}/opening-key")).json())
    for n, price in ((1, 2_050_000_000), (2, 1_990_000_000), (3, 2_020_000_000)):
        headers = await login(f"bidder{n}", "demo-bidder-2026")
        key = generate_bidder_key()
        added = await client.post(
            "/api/organizations/me/bid-keys", headers=headers, json={"public_key": key.public_b64}
        )
        assert added.status_code == 201, added.text
        form = {"price_fen": price, "duration_days": 540, "project_manager": f"项目经理{n}"}
        code = book.organizations[f"bidder{n}"].code
        data, signature = seal_bytes(bid_zip(form), lot=sealing, bidder=code, signing_key=key)
        put = await client.put(
            f"/api/lots/{lot}/bid", content=data, headers=headers | {"X-Bid-Signature": signature}
        )
        assert put.status_code == 201, put.text

    staff = await login("staff", "demo-staff-2026")
    early = await client.post(f"/api/lots/{lot}/opening", headers=staff)
    assert early.status_code == 400 and "未到开标时间" in early.json()["detail"]  # 20 days away

    def end_bidding(*args: str) -> Any:
        env = {"DATABASE_URL": settings.database_url, "TENDERING_DATA_DIR": str(settings.data_dir)}
        return CliRunner().invoke(main, ["demo", "end-bidding", *args], env=env)

    ended = await asyncio.to_thread(end_bidding, lot)
    assert ended.exit_code == 0, ended.output
    assert f"bidding on {lot}" in ended.output and f"POST /api/lots/{lot}/opening" in ended.output
    again = await asyncio.to_thread(end_bidding, lot)
    assert again.exit_code == 1 and "start its opening" in again.output

    started = await client.post(f"/api/lots/{lot}/opening", headers=staff)
    assert started.status_code == 201, started.text
    for username in ("staff", "supervisor"):
        headers = await login(username, f"demo-{book.users[username].role}-2026")
        entered = await client.post(
            f"/api/lots/{lot}/opening/passphrase",
            headers=headers,
            json={"passphrase": DEMO_PASSPHRASE},
        )
        assert entered.status_code == 200, entered.text
    for _ in range(1200):
        opening = (await client.get(f"/api/lots/{lot}/opening", headers=staff)).json()
        if opening["state"] in ("opened", "failed"):
            break
        await asyncio.sleep(0.05)
    assert opening["state"] == "opened" and opening["valid_bids"] == 3, opening
    async with engine.connect() as conn:
        actors = (
            await conn.execute(
                text(
                    "SELECT actor FROM audit_event "
                    "WHERE stream = :s AND action = 'notice.demo_bidding_ended'"
                ),
                {"s": f"lot:{lot}"},
            )
        ).scalars()
        assert list(actors) == ["system:demo"]


async def test_ending_bidding_early_is_refused_on_a_database_the_demo_did_not_fill(engine, people):
    await people.organization(OrgKind.CENTER, code="CTR-REAL", name="真实的交易中心")
    async with make_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(Conflict) as refused:
            await end_demo_bidding(session, lot_code="JY-2026-0001-01", secrecy=SECRECY)
    assert refused.value.code == "demo.not_a_demo"
