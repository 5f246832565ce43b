"""Closing a deposit without refunding it: forfeit (没收) or conversion to payment.

* forfeit (withdrawal after the deadline, refusal to sign): deposit → forfeited, with the
  reason;
* conversion (the winner's deposit becomes part of the price or the performance bond):
  deposit → payments.

The ``deposit_account`` row is claimed with a guarded update (``state = 'open'``), so a
forfeit racing a refund or another forfeit moves the money once; a repeat moves nothing.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, ErrorCode
from tendering.core.secrecy import Secrecy
from tendering.ledger.postings import TransferSpec, create_transfer, platform_accounts
from tendering.ledger.service import get_deposit

__all__ = ["close_deposit"]


async def close_deposit(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    bidder_org_id: int,
    subject: str,
    to: str,
    reason: str,
    actor: Actor,
) -> int:
    """Forfeit (``to="forfeited"``) or convert to payment (``to="converted"``) what the
    deposit holds, with the reason; returns the amount moved. A repeat moves nothing."""
    if to not in ("forfeited", "converted"):
        raise ValueError(to)
    deposit = await get_deposit(
        session, secrecy=secrecy, bidder_org_id=bidder_org_id, subject=subject
    )
    claimed = (
        await session.execute(
            text(
                "UPDATE deposit_account SET state = :to, reason = :reason"
                " WHERE id = :id AND state = 'open' RETURNING id"
            ),
            {"to": to, "reason": reason[:500], "id": deposit.id},
        )
    ).one_or_none()
    if claimed is None:
        current = await get_deposit(session, secrecy=secrecy, number=deposit.number)
        if current.state == to:
            return 0
        raise Conflict(
            f"保证金已{current.state}: the deposit is already {current.state}; it cannot be {to}",
            code=ErrorCode.LEDGER_DEPOSIT_CLOSED,
        )
    held = (
        await session.execute(
            text(
                "SELECT credits_posted - debits_posted - debits_pending FROM ledger_account"
                " WHERE id = :id FOR UPDATE"
            ),
            {"id": deposit.ledger_account_id},
        )
    ).scalar_one()
    ids = await platform_accounts(session)
    if held > 0:
        await create_transfer(
            session,
            TransferSpec(
                key=f"{to}:{deposit.id}",
                debit=deposit.ledger_account_id,
                credit=ids["forfeited" if to == "forfeited" else "payments"],
                amount_fen=int(held),
                kind=f"deposit.{to}",
                reference=reason[:200],
            ),
        )
    await record(
        session,
        stream=GLOBAL,
        action=f"deposit.{to}",
        actor=actor,
        payload={"number": deposit.number, "amount_fen": int(held), "reason": reason},
    )
    return int(held)
