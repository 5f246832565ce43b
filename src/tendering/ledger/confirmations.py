"""The bank's word that a refund was paid: the line is marked paid and its payment posted.

A statement debit line whose memo names the instruction confirms it (``ledger/imports.py``),
or staff do (``confirm_refund_paid``). A repeat changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode, NotFound
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
                " WHERE instruction_ref = :ref AND status = 'pending'"
                " RETURNING payment_transfer_id, principal_fen + interest_fen AS amount"
            ),
            {"ref": instruction_ref, "bank_ref": bank_ref, "at": paid_at},
        )
    ).one_or_none()
    if row is None:
        exists = (
            await session.execute(
                text("SELECT status FROM refund_line WHERE instruction_ref = :ref"),
                {"ref": instruction_ref},
            )
        ).scalar_one_or_none()
        if exists is None:
            raise NotFound(
                f"no refund instruction {instruction_ref}", code=ErrorCode.LEDGER_NO_REFUND
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
