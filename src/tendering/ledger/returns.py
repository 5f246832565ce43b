"""A refund line that changes after it was instructed.

* **returned** (退票: the payee account closed, a name mismatch ...): the line's pending
  payment is voided and a new line of the same batch pays the same amount to the corrected
  payee (:func:`reissue_refund`). Interest was counted once and is not counted again.
* **cancelled**: the bank took back (reversed) money the line would have refunded, before
  the bank paid it: the line's payment is voided and a new line pays the rest, its interest
  less what the taken-back money would have earned (:func:`cancel_refund`,
  ``ledger/takeback.py``), so nothing is refunded that the bank took back.
* **payee supplied**: the bank left out the payer's account, so the line waits out of the
  instruction file until staff supply the account, with the reason (:func:`supply_payee`).

    new_ref = await reissue_refund(session, secrecy=secrecy, instruction_ref="RB-...-0001",
                                   payee=("某某建设工程有限公司", "6222..."),
                                   reason="收款账户已销户", actor=staff)

Only a pending line can be returned, cancelled or given a payee; asking twice is a 409.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, ErrorCode, NotFound
from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.payers import open_payee, seal_payee
from tendering.ledger.postings import TransferSpec, create_transfer, void_pending
from tendering.ledger.refunds import pay_out
from tendering.ledger.sources import payer_receipts

__all__ = ["cancel_refund", "reissue_refund", "supply_payee"]

_CLAIM = text(
    "UPDATE refund_line SET status = :to WHERE instruction_ref = :ref AND status = 'pending'"
    " RETURNING id, batch_id, deposit_account_id, statement_line_id, principal_fen,"
    " interest_fen, days, payment_transfer_id, payee, needs_payee"
)


async def _why_not(session: AsyncSession, instruction_ref: str, doing: str) -> Conflict:
    status = (
        await session.execute(
            text("SELECT status FROM refund_line WHERE instruction_ref = :ref"),
            {"ref": instruction_ref},
        )
    ).scalar_one_or_none()
    if status is None:
        raise NotFound(f"no refund instruction {instruction_ref}", code=ErrorCode.LEDGER_NO_REFUND)
    return Conflict(
        f"refund {instruction_ref} is {status}; only a pending refund can {doing}",
        code=ErrorCode.LEDGER_REFUND_NOT_PENDING,
    )


async def _next_ref(session: AsyncSession, batch_id: int) -> str:
    batch = (
        await session.execute(
            text(
                "SELECT b.code, count(f.id) AS n FROM refund_batch b JOIN refund_line f"
                " ON f.batch_id = b.id WHERE b.id = :id GROUP BY b.code"
            ),
            {"id": batch_id},
        )
    ).one()
    return f"{batch.code}-{batch.n + 1:04d}"


async def reissue_refund(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    instruction_ref: str,
    payee: tuple[str, str],
    reason: str,
    actor: Actor,
) -> str:
    """Void the returned payment and issue a new instruction; returns its reference."""
    line = (await session.execute(_CLAIM, {"ref": instruction_ref, "to": "returned"})).one_or_none()
    if line is None:
        raise await _why_not(session, instruction_ref, "come back")
    await void_pending(session, line.payment_transfer_id)
    new_ref = await _next_ref(session, line.batch_id)
    await pay_out(
        session,
        secrecy=secrecy,
        batch_id=line.batch_id,
        instruction_ref=new_ref,
        payee=payee,
        principal_fen=line.principal_fen,
        interest_fen=line.interest_fen,
        days=line.days,
        deposit_id=line.deposit_account_id,
        statement_line_id=line.statement_line_id,
        expense_interest=False,
    )
    await record(
        session,
        stream=GLOBAL,
        action="refund.reissued",
        actor=actor,
        payload={
            "returned": instruction_ref,
            "reissued": new_ref,
            "payee_name": payee[0],
            "payee_account": payee[1],
            "amount_fen": line.principal_fen + line.interest_fen,
            "reason": reason,
        },
    )
    return new_ref


async def cancel_refund(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    instruction_ref: str,
    cut_fen: int,
    reason: str,
    actor: Actor,
    ids: dict[str, int],
    taken_back_line: int | None = None,
) -> str | None:
    """Take ``cut_fen`` of principal (money from the statement line ``taken_back_line``,
    which the bank took back) out of a pending line: the line is
    cancelled, its payment voided, and a new line pays the rest (its reference returned;
    None when nothing is left) with the interest the rest earns, counted as the batch
    counts it; the interest no longer paid goes back to interest expense. The cut principal
    stays in refunds payable for the caller to move."""
    line = (
        await session.execute(_CLAIM, {"ref": instruction_ref, "to": "cancelled"})
    ).one_or_none()
    if line is None:
        raise await _why_not(session, instruction_ref, "be cancelled")
    await void_pending(session, line.payment_transfer_id)
    principal = line.principal_fen - min(cut_fen, line.principal_fen)
    payee = open_payee(secrecy, instruction_ref=instruction_ref, box=line.payee)
    interest = 0
    if principal > 0 and line.interest_fen > 0:
        interest = min(
            line.interest_fen,
            await _earned(session, secrecy, line, payee, principal, taken_back_line),
        )
    if line.interest_fen > interest:
        await create_transfer(
            session,
            TransferSpec(
                key=f"uninterest:{instruction_ref}",
                debit=ids["refunds_payable"],
                credit=ids["interest_expense"],
                amount_fen=line.interest_fen - interest,
                kind="refund.interest_cancelled",
                reference=instruction_ref,
            ),
        )
    new_ref = None
    if principal > 0:
        new_ref = await _next_ref(session, line.batch_id)
        await pay_out(
            session,
            secrecy=secrecy,
            batch_id=line.batch_id,
            instruction_ref=new_ref,
            payee=payee,
            principal_fen=principal,
            interest_fen=interest,
            days=line.days,
            deposit_id=line.deposit_account_id,
            statement_line_id=line.statement_line_id,
            expense_interest=False,
            needs_payee=line.needs_payee,
        )
    await record(
        session,
        stream=GLOBAL,
        action="refund.cancelled",
        actor=actor,
        payload={
            "cancelled": instruction_ref,
            "reissued": new_ref,
            "taken_back_fen": line.principal_fen - principal,
            "interest_cancelled_fen": line.interest_fen - interest,
            "reason": reason,
        },
    )
    return new_ref


async def _earned(
    session: AsyncSession,
    secrecy: Secrecy,
    line: Any,
    payee: tuple[str, str],
    principal: int,
    taken_back_line: int | None,
) -> int:
    """The interest ``principal`` of the line's payer earns by the batch's payment date: on
    that payer's credits into the deposit still standing (``ledger/sources.py``)."""
    batch = (
        await session.execute(
            text("SELECT paid_on, annual_rate, day_count FROM refund_batch WHERE id = :id"),
            {"id": line.batch_id},
        )
    ).one()
    ledger_id = (
        await session.execute(
            text("SELECT ledger_account_id FROM deposit_account WHERE id = :id"),
            {"id": line.deposit_account_id},
        )
    ).scalar_one_or_none()
    if ledger_id is None:
        return 0
    receipts = await payer_receipts(
        session, secrecy, ledger_id, payee, principal, leave_out=taken_back_line
    )
    receipts = [(a, at) for a, at in receipts if at.astimezone(rules.CHINA).date() <= batch.paid_on]
    return rules.interest_fen(
        receipts,
        paid_on=batch.paid_on,
        annual_rate=batch.annual_rate,
        day_count=rules.DayCount(batch.day_count),
    ).interest_fen


async def supply_payee(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    instruction_ref: str,
    payee: tuple[str, str],
    reason: str,
    actor: Actor,
) -> dict[str, Any]:
    """The payee account of a line the bank gave none for (``needs_payee``), from staff with
    their reason: the line goes into the instruction file. Recorded as
    ``refund.payee_supplied`` (who, why, the account)."""
    updated = (
        await session.execute(
            text(
                "UPDATE refund_line SET payee = :payee, needs_payee = false"
                " WHERE instruction_ref = :ref AND status = 'pending' AND needs_payee"
                " RETURNING principal_fen + interest_fen AS amount"
            ),
            {"ref": instruction_ref, "payee": seal_payee(secrecy, instruction_ref, payee)},
        )
    ).one_or_none()
    if updated is None:
        problem = await _why_not(session, instruction_ref, "be given a payee")
        pending = (
            await session.execute(
                text("SELECT status = 'pending' FROM refund_line WHERE instruction_ref = :ref"),
                {"ref": instruction_ref},
            )
        ).scalar_one()
        if pending:  # pending, but the bank gave its payer's account
            raise Conflict(
                f"refund {instruction_ref} already has its payee account (the payer's);"
                " a refund the bank sends back is corrected with .../returned",
                code=ErrorCode.LEDGER_REFUND_HAS_PAYEE,
            )
        raise problem
    await record(
        session,
        stream=GLOBAL,
        action="refund.payee_supplied",
        actor=actor,
        payload={
            "instruction": instruction_ref,
            "payee_name": payee[0],
            "payee_account": payee[1],
            "amount_fen": int(updated.amount),
            "reason": reason,
        },
    )
    return {
        "instruction_ref": instruction_ref,
        "payee_name": payee[0],
        "payee_account": payee[1],
        "needs_payee": False,
    }
