from __future__ import annotations

from typing import Any

import pytest

from tendering.core.errors import Conflict, RuleViolation
from tendering.ledger.postings import (
    TransferSpec,
    balances,
    create_transfer,
    platform_accounts,
    post_pending,
    void_pending,
)


async def _fund(session: Any, deposit: Any, amount: int, key: str = "fund") -> None:
    ids = await platform_accounts(session)
    await create_transfer(
        session,
        TransferSpec(
            key=key,
            debit=ids["bank_clearing"],
            credit=deposit.ledger_account_id,
            amount_fen=amount,
            kind="deposit.received",
        ),
    )


async def test_retried_key_returns_first_transfer_and_moves_nothing(open_account, maker):
    deposit = await open_account()
    async with maker() as session, session.begin():
        ids = await platform_accounts(session)
        spec = TransferSpec(
            key="k1",
            debit=ids["bank_clearing"],
            credit=deposit.ledger_account_id,
            amount_fen=100,
            kind="t",
        )
        first = await create_transfer(session, spec)
        again = await create_transfer(session, spec)
        assert first.created and not again.created
        assert again.id == first.id
        bal = (await balances(session, [deposit.ledger_account_id]))[deposit.ledger_account_id]
        assert bal.credits_posted == 100


async def test_same_key_for_another_amount_is_a_conflict(open_account, maker):
    deposit = await open_account()
    async with maker() as session, session.begin():
        ids = await platform_accounts(session)
        spec = TransferSpec(
            key="k1",
            debit=ids["bank_clearing"],
            credit=deposit.ledger_account_id,
            amount_fen=100,
            kind="t",
        )
        await create_transfer(session, spec)
        with pytest.raises(Conflict):
            await create_transfer(session, TransferSpec(**{**spec.__dict__, "amount_fen": 5}))


async def test_flagged_account_refuses_to_go_negative(open_account, maker):
    deposit = await open_account()
    async with maker() as session, session.begin():
        await _fund(session, deposit, 100)
        ids = await platform_accounts(session)
        out = TransferSpec(
            key="out",
            debit=deposit.ledger_account_id,
            credit=ids["refunds_payable"],
            amount_fen=101,
            kind="t",
        )
        with pytest.raises(RuleViolation) as info:
            await create_transfer(session, out)
        assert info.value.code == "ledger.insufficient_funds"
        # nothing of the refused transfer remains; the same key can be used again
        ok = await create_transfer(session, TransferSpec(**{**out.__dict__, "amount_fen": 100}))
        assert ok.created


async def test_pending_reserves_then_post_or_void(open_account, maker):
    deposit = await open_account()
    acct = deposit.ledger_account_id
    async with maker() as session, session.begin():
        await _fund(session, deposit, 100)
        ids = await platform_accounts(session)
        hold = await create_transfer(
            session,
            TransferSpec(
                key="p1",
                debit=acct,
                credit=ids["refunds_payable"],
                amount_fen=70,
                kind="t",
                pending=True,
            ),
        )
        with pytest.raises(RuleViolation):  # 70 reserved: only 30 left
            await create_transfer(
                session,
                TransferSpec(
                    key="p2", debit=acct, credit=ids["refunds_payable"], amount_fen=31, kind="t"
                ),
            )
        assert await void_pending(session, hold.id)
        assert not await void_pending(session, hold.id)  # a retry moves nothing
        with pytest.raises(Conflict):
            await post_pending(session, hold.id)
        hold2 = await create_transfer(
            session,
            TransferSpec(
                key="p3",
                debit=acct,
                credit=ids["refunds_payable"],
                amount_fen=100,
                kind="t",
                pending=True,
            ),
        )
        assert await post_pending(session, hold2.id)
        bal = await balances(session, [acct, ids["refunds_payable"]])
        assert bal[acct].available() == 0
        assert bal[ids["refunds_payable"]].credits_posted == 100
