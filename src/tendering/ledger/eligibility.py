"""Is a bidder's deposit in, for a subject, at a moment: the gate a bid passes
(``bids/service.py``) and the statement a bidder reads.

What counts is what arrived by the bank's value time, no later than the subject's deadline,
less what the bank took back of it (a reversal carries the value time of the credit it
takes back, so it cancels exactly that credit, whenever the bank sent it), less what was
paid out of the account; a forfeited deposit counts for nothing. The terms (amount due,
deadline) are sealed in the account's row (``ledger/holders.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.holders import holder_tag, open_terms
from tendering.ledger.models import DepositState

__all__ = ["DepositStatus", "deposit_status"]


@dataclass(frozen=True, kw_only=True)
class DepositStatus:
    state: str  # none | partial | received
    received_fen: int
    amount_due_fen: int
    deadline: datetime | None
    number: str | None


async def deposit_status(
    session: AsyncSession, bidder_org_id: int, subject: str, at: datetime, *, secrecy: Secrecy
) -> DepositStatus:
    """Eligibility at ``at``: what arrived by the bank's value time no later than the deadline
    (and ``at``), less what the bank took back of that, less what was paid out of the account
    by ``at``."""
    tag = holder_tag(secrecy, bidder_org_id=bidder_org_id, subject=subject)
    row = (
        await session.execute(
            text(
                "SELECT number, holder_tag, terms, state, ledger_account_id FROM deposit_account"
                " WHERE holder_tag = :tag"
            ),
            {"tag": tag},
        )
    ).one_or_none()
    if row is None:
        return DepositStatus(
            state="none", received_fen=0, amount_due_fen=0, deadline=None, number=None
        )
    terms = open_terms(secrecy, number=row.number, holder_tag=row.holder_tag, box=row.terms)
    received = (
        await session.execute(
            text(
                """
                SELECT coalesce((SELECT sum(amount_fen) FROM ledger_transfer t
                    WHERE t.credit_account_id = :ledger AND t.state = 'posted'
                      AND t.value_at <= least(CAST(:deadline AS timestamptz), :at)), 0)
                  - coalesce((SELECT sum(amount_fen) FROM ledger_transfer t
                    WHERE t.debit_account_id = :ledger AND t.state = 'posted'
                      AND t.kind = 'deposit.reversed'
                      AND t.value_at <= least(CAST(:deadline AS timestamptz), :at)), 0)
                  - coalesce((SELECT sum(amount_fen) FROM ledger_transfer t
                    WHERE t.debit_account_id = :ledger AND t.state <> 'voided'
                      AND t.kind <> 'deposit.reversed' AND t.created_at <= :at), 0)
                """
            ),
            {"ledger": row.ledger_account_id, "deadline": terms.deadline, "at": at},
        )
    ).scalar_one()
    received = max(int(received), 0)
    state = rules.deposit_status(received_fen=received, amount_due_fen=terms.amount_due_fen)
    if row.state == DepositState.FORFEITED:
        state = "none"
    return DepositStatus(
        state=state,
        received_fen=received,
        amount_due_fen=terms.amount_due_fen,
        deadline=terms.deadline,
        number=row.number,
    )
