"""Money out: what each statement debit is.

In this order:

1. ``RvslInd`` true: the bank takes back an earlier credit (``"strong"`` reversal);
2. the memo names a refund instruction (``RB-...-0001``) of that amount, pending or
   confirmed by staff before: the bank paid that refund (posted by
   :func:`confirm_bank_payments`, the line linked to the payment);
3. it names a virtual account, or the reference of a credit the bank booked: a reversal
   too (``"weak"``: without an original to take back it is an unmatched debit);
4. anything else: ``unmatched_debit`` in suspense (bank fees land here for staff).

A reversal's own transfer is suspense → bank clearing, like an unmatched debit; once the
original credit is found (``ledger/reversals.py``) the holder's account gives the money back
into suspense. A refund line still waiting for its payee account was never sent to the bank,
so no debit confirms it.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.ledger.booking import Booking, line_spec
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.rules import SuspenseReason

__all__ = ["classify_debits", "confirm_bank_payments"]

_INSTRUCTION = re.compile(r"RB-[0-9A-F]{10}-\d{4}")


async def _open_refunds(session: AsyncSession, refs: list[str]) -> dict[str, tuple[int, str, int]]:
    """Pending instructions, and paid ones no bank line has confirmed yet (staff confirmed
    by hand before the statement came): both are what a bank debit line can settle."""
    rows = await session.execute(
        text(
            "SELECT instruction_ref, principal_fen + interest_fen AS amount, status,"
            " payment_transfer_id FROM refund_line f WHERE instruction_ref = ANY(:refs)"
            " AND NOT needs_payee AND (status = 'pending' OR status = 'paid' AND NOT EXISTS"
            " (SELECT 1 FROM statement_line l WHERE l.transfer_id = f.payment_transfer_id))"
        ),
        {"refs": refs},
    )
    return {r.instruction_ref: (int(r.amount), r.status, r.payment_transfer_id) for r in rows}


async def _credit_refs(
    session: AsyncSession, credits: list[Booking], debits: list[Booking]
) -> set[tuple[str, str]]:
    """(bank account, reference) of the credits, stored or in this file, the debits name:
    a credit's own reference, its entry's or its transaction's (each indexed)."""
    named = [(r.line.bank_account, ref) for r in debits for ref in r.line.related_refs]
    if not named:
        return set()
    found = {
        (r.line.bank_account, ref)
        for r in credits
        for ref in (r.line.bank_ref, r.line.entry_ref, r.line.tx_ref)
        if ref
    }
    stored = await session.execute(
        text(
            """
            WITH x AS (SELECT * FROM unnest(CAST(:accts AS text[]), CAST(:refs AS text[]))
                AS x(acct, ref))
            SELECT x.acct, x.ref FROM x JOIN statement_line l
                ON l.bank_account = x.acct AND l.bank_ref = x.ref WHERE l.direction = 'C'
            UNION SELECT x.acct, x.ref FROM x JOIN statement_line l
                ON l.bank_account = x.acct AND l.entry_ref = x.ref WHERE l.direction = 'C'
            UNION SELECT x.acct, x.ref FROM x JOIN statement_line l
                ON l.bank_account = x.acct AND l.tx_ref = x.ref
                WHERE l.direction = 'C' AND l.tx_ref <> ''
            """
        ),
        {"accts": [a for a, _ in named], "refs": [r for _, r in named]},
    )
    return found | {(r.acct, r.ref) for r in stored}


async def classify_debits(session: AsyncSession, rows: list[Booking], ids: dict[str, int]) -> None:
    debits = [r for r in rows if not r.credit]
    if not debits:
        return
    for r in debits:
        found = _INSTRUCTION.search(r.line.memo)
        r.instruction = found.group(0) if found and not r.line.reversal else None
    refunds = await _open_refunds(session, [r.instruction for r in debits if r.instruction])
    others = []
    for r in debits:
        found_refund = refunds.get(r.instruction) if r.instruction else None
        if found_refund is not None and found_refund[0] == r.line.amount_fen:
            del refunds[r.instruction]  # type: ignore[arg-type]
            if found_refund[1] == "paid":  # staff confirmed it: this line is that payment
                r.instruction, r.transfer_id = None, found_refund[2]
            continue
        r.instruction = None
        others.append(r)
    credits = await _credit_refs(session, [r for r in rows if r.credit], others)
    for r in others:
        ln = r.line
        names_credit = any((ln.bank_account, ref) in credits for ref in ln.related_refs)
        if ln.reversal or ln.virtual_account or names_credit:
            r.reversal = "strong" if ln.reversal else "weak"
            r.status, r.reason = "booked", "reversal"  # provisional: reversals.py decides
        else:
            r.status, r.reason = "suspense", SuspenseReason.UNMATCHED_DEBIT.value
        r.spec = line_spec(r, ids["suspense"], ids["bank_clearing"], "suspense.out")


async def confirm_bank_payments(session: AsyncSession, rows: list[Booking], actor: Actor) -> int:
    """Post the payments the bank confirmed; link each debit line to its payment."""
    confirmed = 0
    for r in rows:
        if r.instruction is None or r.id is None:
            continue
        ln = r.line
        transfer_id = await confirm_refund_paid(
            session,
            instruction_ref=r.instruction,
            bank_ref=ln.bank_ref,
            paid_at=ln.value_at,
            actor=actor,
        )
        if transfer_id is not None:
            confirmed += 1
        else:
            # Staff confirmed it by hand while we matched: the line is that same payment.
            transfer_id = (
                await session.execute(
                    text("SELECT payment_transfer_id FROM refund_line WHERE instruction_ref = :r"),
                    {"r": r.instruction},
                )
            ).scalar_one()
        await session.execute(
            text("UPDATE statement_line SET transfer_id = :t WHERE id = :id"),
            {"t": transfer_id, "id": r.id},
        )
    return confirmed
