"""Fixtures for sealed bids and the opening: a published lot with custodians and its key,
bidders who registered, paid the deposit and hold signing keys, and sealing helpers."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tendering.bids.client import LotForSealing, seal_bytes
from tendering.core.auth.models import OrgKind, Role
from tendering.core.crypto import wrap
from tendering.core.crypto.bidder_keys import BidderKey, generate_bidder_key
from tendering.core.db import make_sessionmaker
from tendering.core.secrecy import Secrecy
from tendering.ledger import deposit_status, open_deposit_account
from tendering.ledger.postings import TransferSpec, create_transfer, platform_accounts
from tendering.opening import ceremony
from tests.tendering.tenders.conftest import TenderDesk

PASSPHRASES = ["first custodian pass", "second custodian pass", "third custodian pass"]
# The live steps of a 2-of-n opening of three bids, in order.
STEPS_OPENING_THREE = [
    "started",
    "custodian_entered",
    "custodian_entered",
    "key_rebuilt",
    "opening_bids",
    "bid_opened",
    "bid_opened",
    "bid_opened",
    "finished",
]


@pytest.fixture(autouse=True)
def _cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    # Argon2id at its production cost (64 MiB, t=3) for every custodian in every test is
    # slow; the wrapping code path is the same with cheaper parameters.
    monkeypatch.setattr(
        ceremony, "KDF", wrap.Argon2idParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)
    )


def bid_zip(form: dict[str, Any], extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("bid.json", json.dumps(form).encode())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


@dataclass
class Bidder:
    person: Any
    headers: dict[str, str]
    key: BidderKey

    @property
    def code(self) -> str:
        return self.person.organization.code


@dataclass
class BidWorld:
    client: Any
    people: Any
    login: Any
    engine: AsyncEngine
    desk: TenderDesk
    secrecy: Secrecy  # the platform's: opens the deposit accounts the platform opened
    custodians: list[tuple[Any, dict[str, str]]] = field(default_factory=list)
    lot: str = ""
    notice_id: int = 0
    sealing: LotForSealing | None = None

    async def custodian(self, role: Role, passphrase: str) -> tuple[Any, dict[str, str]]:
        person = await self.people.user(role)
        headers = await self.login(person)
        response = await self.client.post(
            "/api/custodians/me/key", headers=headers, json={"passphrase": passphrase}
        )
        assert response.status_code == 201, response.text
        self.custodians.append((person, headers))
        return person, headers

    async def publish_lot(
        self, *, n: int = 3, k: int = 2, deposit_fen: int = 5_000_000, **lot: Any
    ) -> str:
        roles = [Role.STAFF, Role.SUPERVISOR, Role.STAFF]
        for i in range(n):
            await self.custodian(roles[i % 3], PASSPHRASES[i])
        project = await self.desk.project()
        ids = [p.user.id for p, _ in self.custodians]
        self.lot = await self.desk.lot(
            project, custodians=ids, custodian_k=k, deposit_fen=deposit_fen, **lot
        )
        self.notice_id = await self.desk.notice(project, [self.lot])
        await self.desk.publish(self.notice_id)
        response = await self.client.get(f"/api/lots/{self.lot}/opening-key")
        assert response.status_code == 200, response.text
        self.sealing = LotForSealing.from_api(response.json())
        return self.lot

    async def bidder(self, *, deposit: bool = True, register: bool = True) -> Bidder:
        person = await self.people.user(Role.BIDDER)
        headers = await self.login(person)
        if register:
            response = await self.client.post(f"/api/lots/{self.lot}/registration", headers=headers)
            assert response.status_code == 200, response.text
        if deposit:
            await self.pay_deposit(person.organization.id)
        key = generate_bidder_key()
        response = await self.client.post(
            "/api/organizations/me/bid-keys", headers=headers, json={"public_key": key.public_b64}
        )
        assert response.status_code == 201, response.text
        return Bidder(person, headers, key)

    async def pay_deposit(self, org_id: int, amount: int = 5_000_000) -> None:
        async with make_sessionmaker(self.engine)() as session, session.begin():
            deadline = (
                await session.execute(
                    text("SELECT n.bid_deadline FROM tender_notice n WHERE n.id = :id"),
                    {"id": self.notice_id},
                )
            ).scalar_one()
            account = await open_deposit_account(
                session,
                secrecy=self.secrecy,
                bidder_org_id=org_id,
                subject=f"lot:{self.lot}",
                amount_due_fen=amount,
                deadline=deadline,
            )
            ids = await platform_accounts(session)
            now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
            await create_transfer(
                session,
                TransferSpec(
                    key=f"fund-{account.number}",
                    debit=ids["bank_clearing"],
                    credit=account.ledger_account_id,
                    amount_fen=amount,
                    kind="deposit.received",
                    value_at=now - timedelta(minutes=1),
                ),
            )
            status = await deposit_status(
                session, org_id, f"lot:{self.lot}", now, secrecy=self.secrecy
            )
            assert status.state == "received", status

    def seal(
        self, bidder: Bidder, form: dict[str, Any] | None = None, *, plaintext: bytes | None = None
    ) -> tuple[bytes, str]:
        assert self.sealing is not None
        if plaintext is None:
            plaintext = bid_zip(form or {"price_fen": 100_000_00, "duration_days": 180})
        return seal_bytes(plaintext, lot=self.sealing, bidder=bidder.code, signing_key=bidder.key)

    async def put(self, bidder: Bidder, data: bytes, signature: str, lot: str | None = None) -> Any:
        return await self.client.put(
            f"/api/lots/{lot or self.lot}/bid",
            content=data,
            headers=bidder.headers | {"X-Bid-Signature": signature},
        )

    async def submit(self, bidder: Bidder, form: dict[str, Any] | None = None) -> dict[str, Any]:
        data, signature = self.seal(bidder, form)
        response = await self.put(bidder, data, signature)
        assert response.status_code == 201, response.text
        return response.json()

    async def pass_deadline(self) -> None:
        """Move the lot's deadline and opening time into the past (the database clock)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE tender_notice SET"
                    " bid_deadline = clock_timestamp() - interval '1 second',"
                    " opening_at = clock_timestamp() - interval '1 second' WHERE id = :id"
                ),
                {"id": self.notice_id},
            )

    async def open_now(self, *, k: int = 2) -> dict[str, Any]:
        """Pass the deadline, start the opening, enter the first ``k`` custodians'
        passphrases; the opening's state once the runner has finished."""
        await self.pass_deadline()
        await self.client.post(f"/api/lots/{self.lot}/opening", headers=self.desk.staff_headers)
        for index in range(k):
            _, headers = self.custodians[index]
            response = await self.client.post(
                f"/api/lots/{self.lot}/opening/passphrase",
                headers=headers,
                json={"passphrase": PASSPHRASES[index]},
            )
            assert response.status_code == 200, response.text
        return await self.opened()

    async def opened(self, *, every: float = 0.05) -> dict[str, Any]:
        """The opening's state once the runner has finished it (opened or failed)."""
        return await self.opening_in("opened", "failed", every=every)

    async def opening_in(self, *states: str, every: float = 0.05) -> dict[str, Any]:
        """The opening's state once it is one of ``states``, polled: the app runs on the
        test client's own event loop."""
        for _ in range(int(120 / every)):
            response = await self.client.get(
                f"/api/lots/{self.lot}/opening", headers=self.desk.staff_headers
            )
            assert response.status_code == 200, response.text
            if response.json()["state"] in states:
                return dict(response.json())
            await asyncio.sleep(every)
        raise AssertionError(f"the opening never reached {states}: {response.json()}")

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


@pytest.fixture
async def world(client, people, login, engine) -> BidWorld:
    staff = await people.user(Role.STAFF)
    tenderer = await people.organization(OrgKind.TENDERER, name="某某县第一中学")
    desk = TenderDesk(client, people, login, await login(staff), tenderer.code)
    secrecy = Secrecy.of(client.app.state["platform_key"])
    return BidWorld(client, people, login, engine, desk, secrecy)
