"""A bidder whose deposit the bank took back (a reversal) no longer holds it: its bids are
refused like those of a bidder who never paid (issue 17)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.db import make_sessionmaker
from tendering.ledger import deposit_status, get_deposit
from tendering.ledger.imports import import_statement
from tests.tendering.ledger.camt import Bank, entry, reversal_of, tx

STAFF = Actor.system("bank-import")


async def _import(world, raw: bytes) -> None:
    async with make_sessionmaker(world.engine)() as session, session.begin():
        await import_statement(session, raw, actor=STAFF, secrecy=world.secrecy)


async def test_a_bidder_whose_deposit_the_bank_took_back_cannot_bid(world):
    await world.publish_lot()
    bidder = await world.bidder(deposit=False)  # registered: its virtual account is open
    org = bidder.person.organization.id
    subject = f"lot:{world.lot}"
    async with make_sessionmaker(world.engine)() as session:
        account = await get_deposit(
            session, secrecy=world.secrecy, bidder_org_id=org, subject=subject
        )
        now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    bank = Bank()
    paid = entry("20261201C0001", now - timedelta(minutes=5), tx(5_000_000, account.number))
    await _import(world, bank.camt([paid]))
    await world.submit(bidder)  # paid: the bid is taken

    await _import(world, bank.camt([reversal_of(paid, "20261201D0001", now)]))
    async with make_sessionmaker(world.engine)() as session:
        status = await deposit_status(session, org, subject, now, secrecy=world.secrecy)
    assert (status.state, status.received_fen) == ("none", 0)
    data, signature = world.seal(bidder)
    response = await world.put(bidder, data, signature)  # a replacement bid
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bid.no_deposit"
