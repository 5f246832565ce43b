"""A refund the bank sent back (退票: the payee account closed, a name mismatch ...).

    new_ref = await reissue_refund(session, secrecy=secrecy, instruction_ref="RB-...-0001",
                                   payee=("某某建设工程有限公司", "6222..."),
                                   reason="收款账户已销户", actor=staff)

The returned line's pending payment is voided (two-phase: the money was only reserved in
refunds payable), and a new line of the same batch pays the same amount to the corrected
payee. Interest was already counted once and is not counted again. A line already paid
or returned cannot be returned; asking twice is a 409.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, ErrorCode, NotFound
from tendering.core.secrecy import Secrecy
from tendering.ledger.postings import void_pending
from tendering.ledger.refunds import pay_out

__all__ = ["reissue_refund"]


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
    line = (
        await session.execute(
            text(
                "UPDATE refund_line SET status = 'returned' WHERE instruction_ref = :ref"
                " AND status = 'pending' RETURNING batch_id, deposit_account_id,"
                " statement_line_id, principal_fen, interest_fen, days, payment_transfer_id"
            ),
            {"ref": instruction_ref},
        )
    ).one_or_none()
    if line is None:
        status = (
            await session.execute(
                text("SELECT status FROM refund_line WHERE instruction_ref = :ref"),
                {"ref": instruction_ref},
            )
        ).scalar_one_or_none()
        if status is None:
            raise NotFound(
                f"no refund instruction {instruction_ref}", code=ErrorCode.LEDGER_NO_REFUND
            )
        raise Conflict(
            f"refund {instruction_ref} is {status}; only a pending refund can come back",
            code=ErrorCode.LEDGER_REFUND_NOT_PENDING,
        )
    await void_pending(session, line.payment_transfer_id)
    batch = (
        await session.execute(
            text(
                "SELECT b.code, count(f.id) AS n FROM refund_batch b JOIN refund_line f"
                " ON f.batch_id = b.id WHERE b.id = :id GROUP BY b.code"
            ),
            {"id": line.batch_id},
        )
    ).one()
    new_ref = f"{batch.code}-{batch.n + 1:04d}"
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
