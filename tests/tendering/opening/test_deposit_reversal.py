"""A bid whose bidder no longer held its deposit as of the deadline is invalid at the
opening: the bank took the credit back after the bid was taken (issue 17.2 follow-up)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.db import make_sessionmaker
from tendering.ledger import get_deposit
from tendering.ledger.imports import import_statement
from tests.pdf import pdf_text
from tests.tendering.ledger.camt import Bank, entry, reversal_of, tx

BANK_IMPORT = Actor.system("bank-import")


async def _import(world, raw: bytes) -> None:
    async with make_sessionmaker(world.engine)() as session, session.begin():
        await import_statement(session, raw, actor=BANK_IMPORT, secrecy=world.secrecy)


@pytest.mark.committed
async def test_a_bid_whose_deposit_the_bank_took_back_is_invalid_at_the_opening(world):
    await world.publish_lot()
    for _ in range(3):  # three bidders who keep their deposits: the lot opens
        await world.submit(await world.bidder())
    bidder = await world.bidder(deposit=False)
    async with make_sessionmaker(world.engine)() as session:
        account = await get_deposit(
            session,
            secrecy=world.secrecy,
            bidder_org_id=bidder.person.organization.id,
            subject=f"lot:{world.lot}",
        )
        now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    bank = Bank()
    paid = entry("20261201C0001", now - timedelta(minutes=5), tx(5_000_000, account.number))
    await _import(world, bank.camt([paid]))
    await world.submit(bidder)  # it held the deposit then: the bid is taken
    await _import(world, bank.camt([reversal_of(paid, "20261201D0001", now)]))

    body = await world.open_now()
    assert body["state"] == "opened", body
    outcomes = {r["bidder"]: (r["outcome"], r["reason"]) for r in body["results"]}
    outcome, reason = outcomes.pop(bidder.code)
    assert outcome == "revoked" and "deposit" in reason, (outcome, reason)
    assert {o for o, _ in outcomes.values()} == {"valid"} and body["valid_bids"] == 3
    record = await world.client.get(
        f"/api/lots/{world.lot}/opening/record", headers=world.desk.staff_headers
    )
    assert "no deposit held as of the deadline" in pdf_text(record.content)
