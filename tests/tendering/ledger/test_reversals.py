"""The bank taking back a credit (a ``DBIT`` with ``RvslInd``, or a debit naming the credited
virtual account or the original reference): the holder's account gives it back, the deposit
falls back, and nothing of it is refunded afterwards."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.ledger import close_deposit, create_refund_batch, deposit_status
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import balances, platform_accounts
from tendering.ledger.reports import instructions_csv
from tendering.ledger.suspense import list_suspense, resolve_suspense
from tests.tendering.ledger.camt import Bank, entry, reversal_of, tx
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement

STAFF = Actor.system("test-staff")


async def _import(maker, raw):
    async with maker() as session, session.begin():
        return await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def _status(maker, deposit):
    async with maker() as session:
        return await deposit_status(
            session, deposit.bidder_org_id, deposit.subject, DEADLINE, secrecy=SECRECY
        )


async def _lines(maker):
    async with maker() as session:
        rows = await session.execute(
            text("SELECT bank_ref, status, reason FROM statement_line ORDER BY id")
        )
        return {r.bank_ref: (r.status, r.reason) for r in rows}


async def _held(maker, deposit):
    async with maker() as session:
        bal = await balances(session, [deposit.ledger_account_id])
    return bal[deposit.ledger_account_id].available()


@pytest.mark.parametrize("version", ["02", "08"])
async def test_a_reversal_takes_the_credit_back_from_the_holder(open_account, maker, version):
    a = await open_account(due=5_000_000)
    bank = Bank()
    paid = entry("C1", before(60 * 24), tx(5_000_000, a.number, ref="C1-T"))
    await _import(maker, bank.camt([paid], version=version))
    assert (await _status(maker, a)).state == "received"
    back = reversal_of(paid, "R1", before(60))
    result = await _import(maker, bank.camt([back], version=version))
    assert (result.booked, result.suspense) == (1, 0)
    assert await _lines(maker) == {"C1": ("reversed", ""), "R1": ("booked", "reversal")}
    status = await _status(maker, a)
    assert (status.state, status.received_fen) == ("none", 0)
    assert await _held(maker, a) == 0
    async with maker() as session:
        assert await list_suspense(session, secrecy=SECRECY) == []


async def test_a_reversal_in_the_same_statement_as_its_credit(open_account, maker):
    a = await open_account(due=5_000_000)
    paid = entry("C1", before(120), tx(5_000_000, a.number))
    await _import(maker, Bank().camt([paid, reversal_of(paid, "R1", before(60))]))
    assert (await _status(maker, a)).state == "none"
    assert await _lines(maker) == {"C1": ("reversed", ""), "R1": ("booked", "reversal")}


async def test_the_deposit_falls_back_to_partial_when_one_of_two_payments_is_reversed(
    open_account, maker
):
    a = await open_account(due=5_000_000)
    first = entry("2026113000011", before(300), tx(2_000_000, a.number))
    second = entry("2026113000012", before(200), tx(3_000_000, a.number))
    bank = Bank()
    await _import(maker, bank.camt([first, second]))
    assert (await _status(maker, a)).state == "received"
    # no RvslInd: a plain debit naming the original's reference in its information
    back = entry(
        "2026113000013",
        before(100),
        tx(3_000_000, memo="退汇"),
        credit=False,
        info="冲正 原交易流水号 2026113000012",
    )
    await _import(maker, bank.camt([back]))
    status = await _status(maker, a)
    assert (status.state, status.received_fen) == ("partial", 2_000_000)
    assert (await _lines(maker))["2026113000012"] == ("reversed", "")


async def test_a_debit_naming_the_credited_virtual_account_is_a_reversal(open_account, maker):
    a = await open_account(due=5_000_000)
    await _import(maker, csv_statement([Line("C1", 5_000_000, before(120), a.number)]))
    # the CSV form: a D line naming the virtual account the money had been paid into
    await _import(
        maker,
        csv_statement([Line("D1", 5_000_000, before(60), a.number, direction="D", memo="退汇")]),
    )
    assert await _lines(maker) == {"C1": ("reversed", ""), "D1": ("booked", "reversal")}
    assert (await _status(maker, a)).state == "none"


async def test_a_reversed_credit_is_never_refunded(open_account, maker):
    """The bug of issue 17: the reversal sat in suspense, the refund paid it out again."""
    a = await open_account(due=5_000_000)
    b = await open_account(due=5_000_000, subject=a.subject)
    bank = Bank()
    paid = entry("C1", before(60 * 24), tx(5_000_000, a.number))
    await _import(maker, bank.camt([paid, entry("C2", before(60 * 24), tx(5_000_000, b.number))]))
    await _import(maker, bank.camt([reversal_of(paid, "R1", before(60))]))
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 5), actor=STAFF, secrecy=SECRECY
        )
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["suspense"], ids["bank_clearing"]])
    assert [line["number"] for line in batch.lines] == [b.number]
    assert sum(line["principal_fen"] for line in batch.lines) == 5_000_000
    assert bal[ids["suspense"]].available() == 0  # nothing waits there: the holder gave it back
    clearing = bal[ids["bank_clearing"]]
    assert clearing.debits_posted - clearing.credits_posted == 5_000_000  # what the bank holds


async def test_a_reversal_after_the_refund_was_instructed_cancels_it(open_account, maker):
    a = await open_account(due=5_000_000)
    first = entry("C1", before(60 * 24 * 10), tx(2_000_000, a.number, ref="X1"))
    second = entry("C2", before(60 * 24 * 10), tx(3_000_000, a.number, ref="X2"))
    bank = Bank()
    await _import(maker, bank.camt([first, second]))
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
        )
    (line,) = batch.lines
    assert line["principal_fen"] == 5_000_000
    back = reversal_of(second, "R2", DEADLINE + timedelta(days=2))
    await _import(maker, bank.camt([back]))
    async with maker() as session:
        out = await instructions_csv(session, batch.code, secrecy=SECRECY)
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["refunds_payable"], ids["interest_expense"]])
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["status"], r["principal"]) for r in rows] == [
        ("cancelled", "50000.00"),
        ("pending", "20000.00"),
    ]
    # interest only on what is still refunded: 20,000 yuan x 0.35% x 19 days / 360
    assert rows[1]["interest"] == "3.69"
    payable = bal[ids["refunds_payable"]]
    assert payable.credits_posted - payable.debits_posted == payable.debits_pending == 2_000_369
    assert bal[ids["interest_expense"]].available("debit") == 369
    # the bank's debit for the cancelled instruction settles nothing
    total = line["principal_fen"] + line["interest_fen"]
    old = Line(
        "OUT1", total, DEADLINE + timedelta(days=9), direction="D", memo=line["instruction_ref"]
    )
    result = await _import(maker, bank.csv([old]))
    assert (result.confirmed, result.suspense) == (0, 1)


async def test_a_reversal_after_the_refund_was_paid_is_owed_back_to_the_platform(
    open_account, maker
):
    a = await open_account(due=5_000_000)
    bank = Bank()
    paid = entry("C1", before(60 * 24 * 10), tx(5_000_000, a.number))
    await _import(maker, bank.camt([paid]))
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
        )
    (line,) = batch.lines
    total = line["principal_fen"] + line["interest_fen"]
    refund = entry(
        "OUT1",
        DEADLINE + timedelta(days=9),
        tx(total, memo=f"保证金退还 {line['instruction_ref']}"),
        credit=False,
    )
    assert (await _import(maker, bank.camt([refund]))).confirmed == 1
    await _import(maker, bank.camt([reversal_of(paid, "R1", DEADLINE + timedelta(days=12))]))
    async with maker() as session:
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["reversal_receivable"], ids["suspense"]])
    assert bal[ids["reversal_receivable"]].available("debit") == 5_000_000
    assert bal[ids["suspense"]].available() == 0
    assert (await _lines(maker))["R1"] == ("booked", "reversal")


async def test_a_reversal_of_a_forfeited_deposit_comes_out_of_the_forfeit(open_account, maker):
    a = await open_account(due=5_000_000)
    bank = Bank()
    paid = entry("C1", before(120), tx(5_000_000, a.number))
    await _import(maker, bank.camt([paid]))
    async with maker() as session, session.begin():
        await close_deposit(
            session,
            secrecy=SECRECY,
            bidder_org_id=a.bidder_org_id,
            subject=a.subject,
            to="forfeited",
            reason="截止后撤回投标",
            actor=STAFF,
        )
    await _import(maker, bank.camt([reversal_of(paid, "R1", before(60))]))
    async with maker() as session:
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["forfeited"], ids["reversal_receivable"]])
    assert bal[ids["forfeited"]].available() == 0
    assert bal[ids["reversal_receivable"]].debits_posted == 0


async def test_a_reversal_of_money_in_suspense_leaves_suspense(open_account, maker):
    stray = entry("C1", before(120), tx(700, "8866000000000000"))
    await _import(maker, Bank().camt([stray, reversal_of(stray, "R1", before(60))]))
    # the line keeps why it had been parked
    assert await _lines(maker) == {
        "C1": ("reversed", "unknown_account"),
        "R1": ("booked", "reversal"),
    }
    async with maker() as session:
        assert await list_suspense(session, secrecy=SECRECY) == []


async def test_a_reversal_of_a_split_suspense_line_follows_each_part(open_account, maker):
    a = await open_account(due=3_000_000)
    b = await open_account(due=2_000_000)
    bank = Bank()
    stray = entry("C1", before(120), tx(5_500_000, "8866000000000000"))
    await _import(maker, bank.camt([stray]))
    async with maker() as session, session.begin():
        (parked,) = await list_suspense(session, secrecy=SECRECY)
        await resolve_suspense(
            session,
            parked.id,
            secrecy=SECRECY,
            assign=[(a.number, 3_000_000), (b.number, 2_000_000)],
            refund_fen=500_000,
            actor=STAFF,
            paid_on=date(2026, 12, 2),
        )
    assert (await _status(maker, a)).state == (await _status(maker, b)).state == "received"
    await _import(maker, bank.camt([reversal_of(stray, "R1", before(60))]))
    assert (await _status(maker, a)).state == (await _status(maker, b)).state == "none"
    async with maker() as session:
        statuses = (
            await session.execute(text("SELECT status FROM refund_line ORDER BY id"))
        ).scalars()
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["refunds_payable"]])
    assert list(statuses) == ["cancelled"]
    assert bal[ids["refunds_payable"]].available() == 0


async def test_a_reversal_whose_credit_comes_in_a_later_statement_waits_then_applies(
    open_account, maker
):
    a = await open_account(due=5_000_000)
    paid = entry("C1", before(60 * 24), tx(5_000_000, a.number, ref="T1"))
    bank = Bank()
    first_day = bank.camt([paid])
    second_day = bank.camt([reversal_of(paid, "R1", before(60))])
    # the statements arrive out of order: the day with the reversal first
    await _import(maker, second_day)
    assert (await _lines(maker))["R1"] == ("suspense", "unmatched_reversal")
    await _import(maker, first_day)
    assert await _lines(maker) == {"R1": ("resolved", "unmatched_reversal"), "C1": ("reversed", "")}
    assert (await _status(maker, a)).state == "none"
    async with maker() as session:
        assert await list_suspense(session, secrecy=SECRECY) == []


async def test_a_debit_for_nothing_known_still_goes_to_suspense(open_account, maker):
    await _import(maker, Bank().csv([Line("D1", 100, before(), direction="D", memo="手续费")]))
    assert await _lines(maker) == {"D1": ("suspense", "unmatched_debit")}


async def test_a_reversal_cancels_the_refund_of_that_payer_not_another_payers_money(
    open_account, maker
):
    """The deposit was refunded (pending) to its payer, then staff assigned another payer's
    money to it; the bank takes the first payment back: its refund goes, the other stays."""
    a = await open_account(due=5_000_000)
    bank = Bank()
    paid = entry("C1", before(60 * 24), tx(5_000_000, a.number, name="甲公司", account="111111"))
    stray = entry(
        "C2", before(60 * 24), tx(1_000_000, "8866000000000000", name="乙公司", account="222222")
    )
    await _import(maker, bank.camt([paid, stray]))
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
        )
        (parked,) = await list_suspense(session, secrecy=SECRECY)
        await resolve_suspense(
            session,
            parked.id,
            secrecy=SECRECY,
            assign=[(a.number, 1_000_000)],
            refund_fen=0,
            actor=STAFF,
        )
    await _import(maker, bank.camt([reversal_of(paid, "R1", before(60))]))
    assert await _held(maker, a) == 1_000_000  # 乙's money, to be refunded to 乙
    async with maker() as session:
        out = await instructions_csv(session, batch.code, secrecy=SECRECY)
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["payee_account"], r["status"]) for r in rows] == [("111111", "cancelled")]
    async with maker() as session, session.begin():
        again = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
        )
    assert [(x["payee_account"], x["principal_fen"]) for x in again.lines] == [
        ("222222", 1_000_000)
    ]
