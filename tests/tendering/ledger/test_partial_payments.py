"""Money on a bidder's own virtual account is the bidder's: partial payments add up to the
deposit, an excess stays on the account and goes back with it; suspense is only for money
nobody can be credited with (unknown or closed account, after the deadline, wrong currency)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.ledger import create_refund_batch, deposit_status
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import balances, platform_accounts
from tests.tendering.ledger.camt import Bank, entry, tx
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line

STAFF = Actor.system("test-staff")


async def _import(maker, raw):
    async with maker() as session, session.begin():
        return await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def _status(maker, deposit, at=DEADLINE):
    async with maker() as session:
        return await deposit_status(
            session, deposit.bidder_org_id, deposit.subject, at, secrecy=SECRECY
        )


async def _lines(maker):
    async with maker() as session:
        rows = await session.execute(
            text("SELECT bank_ref, status, reason FROM statement_line ORDER BY id")
        )
        return {r.bank_ref: (r.status, r.reason) for r in rows}


@pytest.mark.parametrize("version", ["02", "08"])
async def test_partial_payments_are_partial_until_they_reach_the_amount_due(
    open_account, maker, version
):
    a = await open_account(due=5_000_000)
    bank = Bank()
    await _import(
        maker, bank.camt([entry("C1", before(300), tx(2_000_000, a.number))], version=version)
    )
    status = await _status(maker, a)
    assert (status.state, status.received_fen) == ("partial", 2_000_000)
    await _import(
        maker, bank.camt([entry("C2", before(200), tx(2_999_999, a.number))], version=version)
    )
    assert (await _status(maker, a)).state == "partial"
    await _import(maker, bank.csv([Line("C3", 1, before(100), a.number)]))
    status = await _status(maker, a)
    assert (status.state, status.received_fen) == ("received", 5_000_000)
    assert await _lines(maker) == {"C1": ("booked", ""), "C2": ("booked", ""), "C3": ("booked", "")}


async def test_an_excess_stays_on_the_account_and_is_refunded_with_the_deposit(open_account, maker):
    a = await open_account(due=5_000_000)
    bank = Bank()
    await _import(
        maker,
        bank.camt(
            [
                entry("C1", before(300), tx(5_000_000, a.number)),
                entry("C2", before(200), tx(300_000, a.number)),  # paid twice, in part
            ]
        ),
    )
    assert await _lines(maker) == {"C1": ("booked", ""), "C2": ("booked", "")}
    status = await _status(maker, a)
    assert (status.state, status.received_fen) == ("received", 5_300_000)
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 5), actor=STAFF, secrecy=SECRECY
        )
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["suspense"], a.ledger_account_id])
    assert sum(x["principal_fen"] for x in batch.lines) == 5_300_000
    assert bal[ids["suspense"]].credits_posted == 0
    assert bal[a.ledger_account_id].available() == 0


async def test_money_that_cannot_be_attributed_goes_to_suspense(open_account, maker):
    a = await open_account(due=5_000_000)
    late = await open_account(due=5_000_000)
    closed = await open_account(due=100)
    bank = Bank()
    await _import(maker, bank.camt([entry("K1", before(500), tx(100, closed.number))]))
    async with maker() as session, session.begin():
        await create_refund_batch(
            session,
            subject=closed.subject,
            paid_on=date(2026, 12, 5),
            actor=STAFF,
            secrecy=SECRECY,
            bidder_org_ids=[closed.bidder_org_id],
        )
    await _import(
        maker,
        bank.camt(
            [
                entry("U1", before(), tx(5_000_000, "8866000000000000")),
                entry("L1", DEADLINE + timedelta(seconds=1), tx(5_000_000, late.number)),
                entry("K2", before(), tx(100, closed.number)),
                entry("F1", before(), tx(5_000_000, a.number, instructed=("USD", 700_000))),
            ]
        ),
    )
    lines = await _lines(maker)
    assert {k: v for k, v in lines.items() if k != "K1"} == {
        "U1": ("suspense", "unknown_account"),
        "L1": ("suspense", "after_deadline"),
        "K2": ("suspense", "account_closed"),
        "F1": ("suspense", "wrong_currency"),
    }
    assert (await _status(maker, a)).state == "none"
    assert (await _status(maker, late, at=DEADLINE + timedelta(days=1))).state == "none"
