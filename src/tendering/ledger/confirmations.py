"""The bank's word that a refund was paid: the line is marked paid and its payment posted.

A statement debit line whose memo names the instruction confirms it (``ledger/debits.py``),
or staff do (``confirm_refund_paid``). A repeat changes nothing. A line still waiting for
its payee account, or returned or cancelled (its payment voided), cannot be confirmed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import rfc3339
from tendering.core.errors import Conflict, ErrorCode, NotFound
from tendering.ledger.postings import post_pending

__all__ = ["confirm_refund_paid"]


async def confirm_refund_paid(
    session: AsyncSession,
    *,
    instruction_ref: str,
    bank_ref: str,
    paid_at: datetime,
    actor: Actor,
) -> int | None:
    """Mark a refund line paid and post its payment; returns the payment transfer id, or
    None when it was already paid (a repeat changes nothing)."""
    row = (
        await session.execute(
            text(
                "UPDATE refund_line SET status = 'paid', bank_ref = :bank_ref, paid_at = :at"
                " WHERE instruction_ref = :ref AND status = 'pending' AND NOT needs_payee"
                " RETURNING payment_transfer_id, principal_fen + interest_fen AS amount"
            ),
            {"ref": instruction_ref, "bank_ref": bank_ref, "at": paid_at},
        )
    ).one_or_none()
    if row is None:
        exists = (
            await session.execute(
                text("SELECT status, needs_payee FROM refund_line WHERE instruction_ref = :ref"),
                {"ref": instruction_ref},
            )
        ).one_or_none()
        if exists is None:
            raise NotFound(
                f"no refund instruction {instruction_ref}", code=ErrorCode.LEDGER_NO_REFUND
            )
        if exists.status == "pending":  # waiting for its payee: never sent to the bank
            raise Conflict(
                f"退款 {instruction_ref} 尚无收款账户 (refund {instruction_ref} has no payee"
                " account yet, so the bank cannot have paid it: supply the payee first)",
                code=ErrorCode.LEDGER_REFUND_NEEDS_PAYEE,
            )
        if exists.status != "paid":  # returned or cancelled: its payment was voided
            raise Conflict(
                f"refund {instruction_ref} is {exists.status}; its payment was voided and"
                " cannot be confirmed",
                code=ErrorCode.LEDGER_REFUND_NOT_PENDING,
            )
        return None
    await post_pending(session, row.payment_transfer_id)
    await record(
        session,
        stream=GLOBAL,
        action="refund.paid",
        actor=actor,
        payload={
            "instruction": instruction_ref,
            "bank_ref": bank_ref,
            "amount_fen": int(row.amount),
            "paid_at": rfc3339(paid_at),
        },
    )
    return int(row.payment_transfer_id)
