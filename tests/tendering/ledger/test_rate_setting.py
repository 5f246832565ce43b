"""The platform's default deposit rate and day count come from the settings, checked at
start-up (tendering/settings.py), not from the environment at request time."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tendering.settings import Settings
from tests.tendering.ledger.conftest import before
from tests.tendering.ledger.files import Line, csv_statement
from tests.tendering.ledger.test_routes import _setup


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, deposit_rate=Decimal("0.012"), deposit_day_count="ACT/365")


async def test_a_batch_without_a_rate_takes_the_platforms_settings(
    people, login, client, monkeypatch
):
    # The environment no longer matters once the settings are made.
    monkeypatch.setenv("TENDERING_DEPOSIT_RATE", "not a rate")
    h, number = await _setup(people, login, client)
    await client.post(
        "/api/ledger/statements",
        headers=h["staff"],
        content=csv_statement([Line("R1", 100_000, before(), number)]),
    )
    batch = await client.post(
        "/api/ledger/refund-batches",
        headers=h["staff"],
        json={"subject": "lot:L-9", "paid_on": "2026-12-10", "idempotency_key": "rate-1"},
    )
    assert batch.status_code == 201, batch.text
    assert Decimal(batch.json()["annual_rate"]) == Decimal("0.012")
    assert batch.json()["day_count"] == "ACT/365"
