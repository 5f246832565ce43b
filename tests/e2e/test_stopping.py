"""README, Production step 3: a SIGTERM to the ``serve`` process running an opening hands
the opening back to its custodians at once (not a minute later through the sweeper)."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tendering.settings import Settings
from tests.conftest import People
from tests.e2e.test_seal_to_opening import _world
from tests.tendering.bids.conftest import PASSPHRASES


@pytest.mark.timeout(600)
async def test_sigterm_hands_a_running_opening_back_to_its_custodians(
    stalling_platform, engine, password_hash
):
    live = stalling_platform
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
        key = load_platform_key(Settings.from_env(live.env))  # the live platform's
        world = await _world(client, People(engine, password_hash), engine, Secrecy.of(key))
        await world.publish_lot(n=2, k=2)
        await world.submit(await world.bidder())
        await world.pass_deadline()
        started = await client.post(
            f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
        )
        assert started.status_code == 201, started.text
        for (_, headers), passphrase in zip(world.custodians, PASSPHRASES, strict=False):
            entered = await client.post(
                f"/api/lots/{world.lot}/opening/passphrase",
                headers=headers,
                json={"passphrase": passphrase},
            )
            assert entered.status_code == 200, entered.text
        assert entered.json()["state"] == "opening"  # the runner holds the rebuilt key
        running = await world.sql(
            "SELECT o.state, o.heartbeat_at IS NOT NULL AS beating FROM opening o"
            " JOIN tender_lot l ON l.id = o.lot_id WHERE l.code = :c",
            c=world.lot,
        )
        assert [tuple(r) for r in running] == [("opening", True)]

        live.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(live.process.wait, 60)
        assert code == 0, live.log.read_text()

    # The process is gone and no worker runs: only its own shutdown can have done this.
    after = await world.sql(
        "SELECT o.state, o.custodians, o.heartbeat_at FROM opening o"
        " JOIN tender_lot l ON l.id = o.lot_id WHERE l.code = :c",
        c=world.lot,
    )
    assert [tuple(r) for r in after] == [("started", [], None)]
    events = await world.sql(
        "SELECT e.kind, e.payload FROM opening_event e JOIN tender_lot l ON l.id = e.lot_id"
        " WHERE l.code = :c ORDER BY e.seq",
        c=world.lot,
    )
    assert events[-1].kind == "interrupted"
    assert "平台停止运行" in events[-1].payload["reason"]
    audited = await world.sql(
        "SELECT payload FROM audit_event WHERE stream = :s AND action = 'opening.interrupted'",
        s=f"lot:{world.lot}",
    )
    assert [a.payload["reason"] for a in audited] == [events[-1].payload["reason"]]
    assert await world.sql("SELECT * FROM opening_pending_share") == []
    assert await world.sql("SELECT * FROM opening_result") == []  # none recorded before
