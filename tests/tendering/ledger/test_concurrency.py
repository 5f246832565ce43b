"""Two refund runs and a statement import racing on the same accounts pay nothing twice.

Each contender has its own session, so its own connection and transaction; they start
together and the database's row locks decide the order.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict
from tendering.ledger import create_refund_batch
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import TransferSpec, create_transfer, platform_accounts
from tests.tendering.ledger.conftest import SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement

STAFF = Actor.system("race")
DUE = 10_000


# Races need transactions on connections of their own.
pytestmark = pytest.mark.committed


async def _refund(maker, subject: str) -> int:
    try:
        async with maker() as session, session.begin():
            batch = await create_refund_batch(
                session, subject=subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
            )
            return sum(line["principal_fen"] for line in batch.lines)
    except Conflict:
        return 0


async def _import(maker, raw: bytes) -> None:
    async with maker() as session, session.begin():
        await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def test_refund_runs_and_an_import_racing_pay_nothing_twice(open_account, maker):
    for round_no in range(6):
        subject = f"lot:RACE-{round_no}"
        deposits = [await open_account(subject=subject, due=DUE) for _ in range(4)]
        async with maker() as session, session.begin():
            ids = await platform_accounts(session)
            for d in deposits:  # 4,000 already in; the statement brings the other 6,000
                await create_transfer(
                    session,
                    TransferSpec(
                        key=f"first:{d.number}",
                        debit=ids["bank_clearing"],
                        credit=d.ledger_account_id,
                        amount_fen=4_000,
                        kind="deposit.received",
                        value_at=before(600),
                    ),
                )
        raw = csv_statement(
            [Line(f"RACE{round_no}-{i}", 6_000, before(), d.number) for i, d in enumerate(deposits)]
        )
        paid = await asyncio.gather(
            _refund(maker, subject), _refund(maker, subject), _import(maker, raw)
        )
        async with maker() as session:
            rows = (
                await session.execute(
                    text(
                        """
                SELECT d.number,
                  (SELECT coalesce(sum(amount_fen), 0) FROM ledger_transfer
                    WHERE credit_account_id = d.ledger_account_id) AS credited,
                  (SELECT coalesce(sum(principal_fen), 0) FROM refund_line
                    WHERE deposit_account_id = d.id) AS refunded,
                  a.credits_posted - a.debits_posted AS held
                FROM deposit_account d JOIN ledger_account a ON a.id = d.ledger_account_id
                WHERE d.number = ANY(:numbers)
                """
                    ),
                    {"numbers": [d.number for d in deposits]},
                )
            ).all()
        assert len(rows) == 4
        for r in rows:
            assert r.refunded <= r.credited, r  # never more out than came in
            assert r.refunded + r.held == r.credited, r  # and nothing lost
            assert r.refunded in (4_000, 10_000), r  # one run paid, once
        assert sum(paid[:2]) == sum(r.refunded for r in rows)


async def _confirm_by_hand(maker, ref: str) -> None:
    async with maker() as session, session.begin():
        await confirm_refund_paid(
            session, instruction_ref=ref, bank_ref="BY-HAND", paid_at=before(), actor=STAFF
        )


async def test_bank_line_and_staff_confirming_the_same_refund_post_it_once(open_account, maker):
    for round_no in range(5):
        subject = f"lot:CONFIRM-{round_no}"
        d = await open_account(subject=subject, due=DUE)
        await _import(maker, csv_statement([Line(f"IN-{round_no}", DUE, before(), d.number)]))
        async with maker() as session, session.begin():
            batch = await create_refund_batch(
                session, subject=subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
            )
        (line,) = batch.lines
        amount = line["principal_fen"] + line["interest_fen"]
        debit = csv_statement(
            [Line(f"OUT-{round_no}", amount, before(), direction="D", memo=line["instruction_ref"])]
        )
        await asyncio.gather(
            _import(maker, debit), _confirm_by_hand(maker, line["instruction_ref"])
        )
        async with maker() as session:
            posted = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM ledger_transfer WHERE kind = 'refund.payment'"
                        " AND reference = :r AND state = 'posted'"
                    ),
                    {"r": line["instruction_ref"]},
                )
            ).scalar()
            status = (
                await session.execute(
                    text("SELECT status, reason FROM statement_line WHERE bank_ref = :b"),
                    {"b": f"OUT-{round_no}"},
                )
            ).one()
        assert posted == 1
        assert tuple(status) == ("booked", "")


async def test_a_reversal_racing_a_refund_run_refunds_nothing_it_takes_back(open_account, maker):
    """Whichever takes the deposit's row first, the reversed money is not refunded: the
    refund finds it gone, or the reversal cancels the refund's line."""
    from tests.tendering.ledger.camt import Bank, entry, reversal_of, tx

    for round_no in range(6):
        subject = f"lot:RACE-R{round_no}"
        deposits = [await open_account(subject=subject, due=DUE) for _ in range(3)]
        bank = Bank(f"62170000{round_no:08d}")
        paid = [
            entry(f"R{round_no}C{i}", before(600), tx(DUE, d.number, account=f"6222{i:012d}"))
            for i, d in enumerate(deposits)
        ]
        await _import(maker, bank.camt(paid))
        back = bank.camt([reversal_of(paid[0], f"R{round_no}D0", before(60))])
        await asyncio.gather(_refund(maker, subject), _import(maker, back))
        async with maker() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT coalesce(sum(principal_fen), 0) FROM refund_line"
                        " WHERE deposit_account_id = :d AND status IN ('pending', 'paid')"
                    ),
                    {"d": deposits[0].id},
                )
            ).scalar_one()
            refunded_others = (
                await session.execute(
                    text(
                        "SELECT coalesce(sum(principal_fen), 0) FROM refund_line"
                        " WHERE deposit_account_id = ANY(:d) AND status = 'pending'"
                    ),
                    {"d": [d.id for d in deposits[1:]]},
                )
            ).scalar_one()
        assert rows == 0, round_no
        assert refunded_others == 2 * DUE, round_no
