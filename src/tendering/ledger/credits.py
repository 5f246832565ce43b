"""Money in: which statement credits book to their virtual account, which go to suspense.

A credit books to its virtual account when the account is open, the bank's value time is
no later than the deadline and the payer paid in yuan, whatever the amount (a part payment
leaves the deposit ``partial``, an excess stays on the account: ``rules.classify_credits``).
Otherwise it goes to suspense with the reason. The accounts paid into are found by number and
their sealed terms opened with the platform key; their ledger rows are locked first (in id
order), so a refund or forfeit cannot close an account under the matcher.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.booking import Booking, line_spec
from tendering.ledger.holders import open_terms

__all__ = ["classify_credits"]


async def _deposit_terms(
    session: AsyncSession, numbers: list[str], secrecy: Secrecy
) -> tuple[dict[str, rules.DepositTerms], dict[int, int]]:
    rows = (
        await session.execute(
            text(
                "SELECT d.id, d.number, d.holder_tag, d.terms, d.state, a.id AS ledger_id"
                " FROM deposit_account d JOIN ledger_account a ON a.id = d.ledger_account_id"
                " WHERE d.number = ANY(:numbers) ORDER BY a.id FOR UPDATE OF a"
            ),
            {"numbers": numbers},
        )
    ).all()
    terms = {}
    for r in rows:
        sealed = open_terms(secrecy, number=r.number, holder_tag=r.holder_tag, box=r.terms)
        terms[r.number] = rules.DepositTerms(
            deposit_id=r.id,
            amount_due_fen=sealed.amount_due_fen,
            deadline=sealed.deadline,
            is_open=r.state == "open",
        )
    return terms, {r.id: r.ledger_id for r in rows}


async def classify_credits(
    session: AsyncSession, rows: list[Booking], ids: dict[str, int], secrecy: Secrecy
) -> None:
    """Decide each credit row: booked to its deposit, or parked in suspense with a reason."""
    credits = [r for r in rows if r.credit]
    if not credits:
        return
    terms, ledger_of = await _deposit_terms(
        session,
        sorted({r.line.virtual_account for r in credits if r.line.virtual_account}),
        secrecy,
    )
    matches = rules.classify_credits(
        [
            rules.IncomingLine(
                key=i,
                virtual_account=r.line.virtual_account,
                amount_fen=r.line.amount_fen,
                value_at=r.line.value_at,
                currency=r.line.currency,
            )
            for i, r in enumerate(credits)
        ],
        terms,
    )
    for row, match in zip(credits, matches, strict=True):
        row.deposit_id = match.deposit_id
        if match.reason is not None:
            row.status, row.reason = "suspense", match.reason.value
            row.spec = line_spec(row, ids["bank_clearing"], ids["suspense"], "suspense.in")
        else:
            ledger_id = ledger_of[match.deposit_id]  # type: ignore[index]
            row.spec = line_spec(row, ids["bank_clearing"], ledger_id, "deposit.received")
