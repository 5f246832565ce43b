"""Where a deposit's money came from: what a refund pays back, to whom (原路退回).

    groups = await refund_sources(session, secrecy, ledger_id, held_fen)
    groups[0].payee, groups[0].principal_fen, groups[0].receipts   # [(amount, value time)]

Each credit into the account is traced to its statement line (a credit the bank booked
there, or a part of a suspense line staff assigned to it) and that line's payer (name and
account, sealed in the line). Credits the bank took back (``reversed`` lines) count for
nothing. What the account holds is matched to the newest credits first, then grouped by
payer: one refund line per payer, each back to the account the money came from. A payer
whose account the bank left out (or money not from a statement line) has an empty account:
its refund line needs staff to supply one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.secrecy import Secrecy
from tendering.ledger.payers import open_payer
from tendering.ledger.rules import CHINA

__all__ = ["PayerGroup", "payer_receipts", "refund_sources"]

_CREDITS = text(
    """
    SELECT t.amount_fen, coalesce(t.value_at, t.created_at) AS v, coalesce(a.id, b.id) AS line_id,
        coalesce(a.bank_account, b.bank_account) AS bank_account,
        coalesce(a.bank_ref, b.bank_ref) AS bank_ref,
        coalesce(a.payer, b.payer) AS payer,
        coalesce(a.status, b.status, '') AS line_status
    FROM ledger_transfer t
    LEFT JOIN statement_line a ON t.kind = 'deposit.received' AND a.transfer_id = t.id
    LEFT JOIN statement_line b ON b.id = CASE WHEN t.kind = 'suspense.assigned'
        THEN CAST(split_part(t.idempotency_key, ':', 2) AS bigint) END
    WHERE t.credit_account_id = :id AND t.state = 'posted'
    ORDER BY v DESC, t.id DESC
    """
)


@dataclass
class PayerGroup:
    payee: tuple[str, str]  # (name, account); account "" when the bank did not give it
    principal_fen: int = 0
    receipts: list[tuple[int, datetime]] = field(default_factory=list)
    first_at: datetime | None = None

    @property
    def needs_payee(self) -> bool:
        return not self.payee[0] or not self.payee[1]


async def _credits(
    session: AsyncSession, secrecy: Secrecy, ledger_id: int, *, leave_out: int | None = None
) -> list[tuple[tuple[str, str], int, datetime]]:
    """(payer, amount, value time) of each credit into the account, newest first, those the
    bank took back (and the line ``leave_out``, being taken back now) left out."""
    out = []
    for row in (await session.execute(_CREDITS, {"id": ledger_id})).all():
        if row.line_status == "reversed" or (leave_out is not None and row.line_id == leave_out):
            continue
        payee = ("", "")
        if row.payer is not None:
            payer = open_payer(
                secrecy, bank_account=row.bank_account, bank_ref=row.bank_ref, box=row.payer
            )
            payee = (payer.name, payer.account)
        out.append((payee, int(row.amount_fen), row.v))
    return out


async def payer_receipts(
    session: AsyncSession,
    secrecy: Secrecy,
    ledger_id: int,
    payee: tuple[str, str],
    amount_fen: int,
    *,
    leave_out: int | None = None,
) -> list[tuple[int, datetime]]:
    """``amount_fen`` of ``payee``'s credits into the account, newest first, as receipts
    for interest: what a refund line to that payer still pays after a cut."""
    receipts, left = [], amount_fen
    for who, amount, at in await _credits(session, secrecy, ledger_id, leave_out=leave_out):
        if left <= 0:
            break
        if who == payee:
            receipts.append((min(left, amount), at))
            left -= min(left, amount)
    return receipts


async def refund_sources(
    session: AsyncSession, secrecy: Secrecy, ledger_id: int, held_fen: int
) -> list[PayerGroup]:
    """``held_fen`` of the account, matched to its credits newest first and grouped by payer
    (in the order each payer first paid)."""
    groups: dict[tuple[str, str], PayerGroup] = {}
    left = held_fen
    for payee, amount, at in await _credits(session, secrecy, ledger_id):
        if left <= 0:
            break
        take = min(left, amount)
        group = groups.setdefault(payee, PayerGroup(payee))
        group.principal_fen += take
        group.receipts.append((take, at))
        group.first_at = at
        left -= take
    if left > 0:  # held, but from no credit the ledger can trace: no payer, no interest
        groups.setdefault(("", ""), PayerGroup(("", ""))).principal_fen += left
    return sorted(groups.values(), key=lambda g: (g.first_at or _EPOCH, g.payee))


_EPOCH = datetime(2000, 1, 1, tzinfo=CHINA)
