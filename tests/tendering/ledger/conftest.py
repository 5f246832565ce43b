"""Ledger fixtures: bidders, deposit accounts, and the verify check after every test.

``SECRECY`` is the platform's: the app of these tests runs with the signing seed ``SEED``, so
what the tests open with ``SECRECY`` the routes open too, and the other way round."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tendering.core.auth.models import OrgKind
from tendering.core.db import make_sessionmaker
from tendering.core.secrecy import Secrecy
from tendering.ledger import open_deposit_account
from tendering.ledger.verify import verify_ledger
from tendering.settings import Settings

DEADLINE = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 China time
SEED = bytes(range(100, 132))
SECRECY = Secrecy.from_seed(SEED)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app signs (and seals) with ``SEED``."""
    return replace(settings, signing_key_b64=base64.b64encode(SEED).decode())


@pytest.fixture(autouse=True)
async def _ledger_verified(engine: AsyncEngine) -> AsyncIterator[None]:
    """Every ledger test ends with ``tendering ledger verify`` finding nothing wrong."""
    yield
    async with make_sessionmaker(engine)() as session:
        problems = await verify_ledger(session)
    assert problems == [], problems


@pytest.fixture
def maker(engine: AsyncEngine) -> Any:
    return make_sessionmaker(engine)


@pytest.fixture
def open_account(people: Any, maker: Any) -> Any:
    """``deposit = await open_account(subject="lot:L1", due=5_000_000)``: a new bidder's."""

    async def _open(
        subject: str = "lot:L-2026-001",
        due: int = 5_000_000,
        deadline: datetime = DEADLINE,
        org_id: int | None = None,
    ) -> Any:
        if org_id is None:
            org_id = (await people.organization(OrgKind.BIDDER)).id
        async with maker() as session, session.begin():
            return await open_deposit_account(
                session,
                secrecy=SECRECY,
                bidder_org_id=org_id,
                subject=subject,
                amount_due_fen=due,
                deadline=deadline,
            )

    return _open


def before(minutes: int = 60) -> datetime:
    return DEADLINE - timedelta(minutes=minutes)
