from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict
from tendering.ledger import close_deposit, create_refund_batch, deposit_status
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import balances, platform_accounts
from tendering.ledger.reports import instructions_csv
from tendering.ledger.rules import DayCount, LedgerPolicy
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, camt053, csv_statement

STAFF = Actor.system("test-staff")


async def _paid_in(open_account, maker, n=2, due=5_000_000):
    deposits = [await open_account(due=due) for _ in range(n)]
    raw = csv_statement(
        [
            Line(f"IN{i}", due, before(60 * 24 * 10), d.number, account=f"62220{i}")
            for i, d in enumerate(deposits)
        ]
    )
    async with maker() as session, session.begin():
        await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)
    return deposits


async def test_refund_batch_pays_principal_plus_interest_back_to_the_payer(open_account, maker):
    deposits = await _paid_in(open_account, maker)
    paid_on = (DEADLINE + timedelta(days=20)).date()
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=deposits[0].subject, paid_on=paid_on, actor=STAFF, secrecy=SECRECY
        )
    assert batch.due_on == paid_on + timedelta(days=5)
    assert batch.day_count == "ACT/360" and batch.annual_rate == Decimal("0.0035")
    line = batch.lines[0]
    # 50,000.00 yuan x 0.35% x 30 days / 360 = 14.58 yuan (1458.33 fen, rounded half up)
    assert (line["principal_fen"], line["days"], line["interest_fen"]) == (5_000_000, 30, 1458)
    assert line["payee_account"] == "622200"
    async with maker() as session:
        out = await instructions_csv(session, batch.code, secrecy=SECRECY)
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [r["amount"] for r in rows] == ["50014.58", "50014.58"]
    assert rows[0]["memo"].endswith(line["instruction_ref"])


async def test_refund_instructions_show_a_formula_payee_as_text(open_account, maker):
    deposit = await open_account(due=5_000_000)
    formula = '=HYPERLINK("http://evil.example","退款")'
    raw = csv_statement(
        [Line("IN9", 5_000_000, before(60 * 24 * 10), deposit.number, name=formula)]
    )
    async with maker() as session, session.begin():
        await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)
        batch = await create_refund_batch(
            session,
            subject=deposit.subject,
            paid_on=(DEADLINE + timedelta(days=20)).date(),
            actor=STAFF,
            secrecy=SECRECY,
        )
    async with maker() as session:
        out = await instructions_csv(session, batch.code, secrecy=SECRECY)
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [r["payee_name"] for r in rows] == ["'" + formula]


async def test_bank_debit_line_confirms_the_refund_and_a_repeat_changes_nothing(
    open_account, maker
):
    deposits = await _paid_in(open_account, maker, n=1)
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session,
            subject=deposits[0].subject,
            paid_on=date(2026, 12, 5),
            actor=STAFF,
            secrecy=SECRECY,
        )
    line = batch.lines[0]
    amount = line["principal_fen"] + line["interest_fen"]
    debit = camt053(
        [
            Line(
                "OUT1",
                amount,
                DEADLINE + timedelta(days=4),
                direction="D",
                memo=f"保证金退还 {line['instruction_ref']}",
            )
        ]
    )
    async with maker() as session, session.begin():
        result = await import_statement(session, debit, actor=STAFF, secrecy=SECRECY)
        assert result.confirmed == 1
        again = await confirm_refund_paid(
            session,
            instruction_ref=line["instruction_ref"],
            bank_ref="OUT1",
            paid_at=DEADLINE,
            actor=STAFF,
        )
        assert again is None
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["refunds_payable"], deposits[0].ledger_account_id])
        assert bal[ids["refunds_payable"]].available() == 0
        assert bal[deposits[0].ledger_account_id].available() == 0


async def test_a_second_refund_run_finds_nothing_to_pay(open_account, maker):
    deposits = await _paid_in(open_account, maker)
    async with maker() as session, session.begin():
        await create_refund_batch(
            session,
            subject=deposits[0].subject,
            paid_on=date(2026, 12, 5),
            actor=STAFF,
            secrecy=SECRECY,
        )
    with pytest.raises(Conflict):
        async with maker() as session, session.begin():
            await create_refund_batch(
                session,
                subject=deposits[0].subject,
                paid_on=date(2026, 12, 5),
                actor=STAFF,
                secrecy=SECRECY,
            )


async def test_day_count_and_rate_are_configurable(open_account, maker):
    deposits = await _paid_in(open_account, maker, n=1, due=36_500_000)
    policy = LedgerPolicy(annual_rate=Decimal("0.01"), day_count=DayCount.ACT_365)
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session,
            subject=deposits[0].subject,
            paid_on=(DEADLINE + timedelta(days=20)).date(),
            actor=STAFF,
            policy=policy,
            secrecy=SECRECY,
        )
    assert batch.lines[0]["interest_fen"] == 30_000  # 365,000 yuan x 1% x 30/365


async def test_forfeit_moves_the_deposit_with_its_reason_and_blocks_refund(open_account, maker):
    a, b = await _paid_in(open_account, maker)
    async with maker() as session, session.begin():
        moved = await close_deposit(
            session,
            bidder_org_id=a.bidder_org_id,
            subject=a.subject,
            to="forfeited",
            reason="截止后撤回投标",
            actor=STAFF,
            secrecy=SECRECY,
        )
        assert moved == 5_000_000
        assert (
            await close_deposit(
                session,
                bidder_org_id=a.bidder_org_id,
                subject=a.subject,
                to="forfeited",
                reason="again",
                actor=STAFF,
                secrecy=SECRECY,
            )
            == 0
        )
        with pytest.raises(Conflict):
            await close_deposit(
                session,
                bidder_org_id=a.bidder_org_id,
                subject=a.subject,
                to="converted",
                reason="x",
                actor=STAFF,
                secrecy=SECRECY,
            )
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 5), actor=STAFF, secrecy=SECRECY
        )
        assert [ln["number"] for ln in batch.lines] == [b.number]
        ids = await platform_accounts(session)
        assert (await balances(session, [ids["forfeited"]]))[
            ids["forfeited"]
        ].credits_posted == 5_000_000
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
        assert status.state == "none"
        reason = (
            await session.execute(
                text("SELECT reason FROM deposit_account WHERE id = :id"), {"id": a.id}
            )
        ).scalar()
        assert reason == "截止后撤回投标"


async def test_winner_deposit_converts_to_payment(open_account, maker):
    (a,) = await _paid_in(open_account, maker, n=1)
    async with maker() as session, session.begin():
        moved = await close_deposit(
            session,
            bidder_org_id=a.bidder_org_id,
            subject=a.subject,
            to="converted",
            reason="中标人保证金转履约保证金",
            actor=STAFF,
            secrecy=SECRECY,
        )
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["payments"]])
    assert moved == 5_000_000 and bal[ids["payments"]].credits_posted == 5_000_000


async def test_money_arriving_after_a_forfeit_goes_to_suspense(open_account, maker):
    (a,) = await _paid_in(open_account, maker, n=1)
    async with maker() as session, session.begin():
        await close_deposit(
            session,
            bidder_org_id=a.bidder_org_id,
            subject=a.subject,
            to="forfeited",
            reason="拒签合同",
            actor=STAFF,
            secrecy=SECRECY,
        )
        result = await import_statement(
            session,
            csv_statement([Line("LATE", 100, before(), a.number)]),
            actor=STAFF,
            secrecy=SECRECY,
        )
    assert result.suspense == 1


async def test_a_returned_refund_is_voided_and_paid_again_to_the_corrected_account(
    open_account, maker
):
    from tendering.ledger.returns import reissue_refund

    (a,) = await _paid_in(open_account, maker, n=1)
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
        )
    (line,) = batch.lines
    amount = line["principal_fen"] + line["interest_fen"]
    async with maker() as session, session.begin():
        new_ref = await reissue_refund(
            session,
            secrecy=SECRECY,
            instruction_ref=line["instruction_ref"],
            payee=("某某建设工程有限公司", "6228480012345678"),
            reason="收款账户已销户",
            actor=STAFF,
        )
        with pytest.raises(Conflict):
            await reissue_refund(
                session,
                secrecy=SECRECY,
                instruction_ref=line["instruction_ref"],
                payee=("x", "y"),
                reason="again",
                actor=STAFF,
            )
    assert new_ref.endswith("-0002")
    # the bank's debit for the old instruction no longer settles anything; the new one does
    debit = csv_statement(
        [
            Line("OUT-OLD", amount, DEADLINE, direction="D", memo=line["instruction_ref"]),
            Line("OUT-NEW", amount, DEADLINE, direction="D", memo=new_ref),
        ]
    )
    async with maker() as session, session.begin():
        result = await import_statement(session, debit, actor=STAFF, secrecy=SECRECY)
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["interest_expense"], ids["refunds_payable"]])
    assert (result.confirmed, result.suspense) == (1, 1)
    assert bal[ids["interest_expense"]].debits_posted == line["interest_fen"]  # counted once
    assert bal[ids["refunds_payable"]].available() == 0
    async with maker() as session:
        out = await instructions_csv(session, batch.code, secrecy=SECRECY)
    statuses = [r["status"] for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))]
    assert statuses == ["returned", "paid"]
