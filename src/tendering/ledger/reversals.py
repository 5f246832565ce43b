"""Reversals: the bank taking back a credit it booked earlier (冲正 / 退汇).

A debit is a reversal when it says so (``RvslInd``), or names the virtual account the money
had been paid into, or the reference of a credit (``ledger/debits.py``). Its original is
found on the same bank account, among credits not reversed yet, valued no later than it:

1. a credit whose reference (the line's, or its transaction's own) the debit names, of the
   debit's amount; else all the credits it names, when they add up to it;
2. the lines of an entry it names (a whole batch), when they add up to it;
3. the latest credit into the virtual account it names, of its amount.

Found: each original is marked ``reversed`` (``reversed_by`` the debit) and its money is
given back from wherever it is (``ledger/takeback.py``). Not found: a ``RvslInd`` debit
waits in suspense as ``unmatched_reversal`` (its credit may be in a statement not imported
yet: when that credit is imported the reversal applies, and the line is ``resolved``); a
debit that only named an account or a reference is an ``unmatched_debit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.secrecy import Secrecy
from tendering.ledger.booking import Booking
from tendering.ledger.payers import open_payer
from tendering.ledger.rules import SuspenseReason
from tendering.ledger.statements import ParsedLine
from tendering.ledger.takeback import Original, Takeback

__all__ = ["ReversalResult", "apply_waiting_reversals", "book_reversals"]

_CANDIDATES = """
    SELECT id, bank_account, bank_ref, entry_ref, tx_ref, amount_fen, status,
        deposit_account_id, value_at, virtual_account, payer
    FROM statement_line
    WHERE bank_account = :acct AND direction = 'C' AND status <> 'reversed'
      AND value_at <= :at AND (bank_ref = ANY(:refs) OR entry_ref = ANY(:refs)
        OR (tx_ref <> '' AND tx_ref = ANY(:refs))
        OR (:va <> '' AND virtual_account = :va AND amount_fen = :amount))
    ORDER BY value_at DESC, id DESC
    FOR UPDATE
"""


@dataclass
class ReversalResult:
    reversed: int = 0  # debit lines that took back a credit
    unrecovered_fen: int = 0  # of those, what had been refunded and paid already


@dataclass(frozen=True, kw_only=True)
class _Debit:
    id: int
    bank_account: str
    bank_ref: str
    amount_fen: int
    value_at: datetime
    virtual_account: str
    refs: tuple[str, ...]


def _pick(debit: _Debit, rows: Sequence[Any]) -> list[Any]:
    refs = set(debit.refs)
    named = [r for r in rows if r.bank_ref in refs or (r.tx_ref and r.tx_ref in refs)]
    exact = [r for r in named if r.amount_fen == debit.amount_fen]
    if exact:
        return exact[:1]
    if named and sum(r.amount_fen for r in named) == debit.amount_fen:
        return named
    entries: dict[str, list[Any]] = {}
    for r in rows:
        if r.entry_ref in refs:
            entries.setdefault(r.entry_ref, []).append(r)
    for lines in entries.values():
        if sum(r.amount_fen for r in lines) == debit.amount_fen:
            return lines
    by_account = [
        r
        for r in rows
        if debit.virtual_account
        and r.virtual_account == debit.virtual_account
        and r.amount_fen == debit.amount_fen
    ]
    return by_account[:1]


async def _take_back(
    session: AsyncSession,
    debit: _Debit,
    *,
    ids: dict[str, int],
    secrecy: Secrecy,
    actor: Actor,
    prefix: str,
) -> int | None:
    """Reverse the debit's originals; None when there are none, else what was unrecovered."""
    rows = (
        await session.execute(
            text(_CANDIDATES),
            {
                "acct": debit.bank_account,
                "at": debit.value_at,
                "refs": list(debit.refs),
                "va": debit.virtual_account,
                "amount": debit.amount_fen,
            },
        )
    ).all()
    originals = _pick(debit, rows)
    if not originals:
        return None
    back = Takeback(
        session, ids=ids, secrecy=secrecy, actor=actor, prefix=prefix, reference=debit.bank_ref
    )
    for r in originals:
        await back.credit(
            Original(
                id=r.id,
                bank_account=r.bank_account,
                bank_ref=r.bank_ref,
                amount_fen=r.amount_fen,
                status=r.status,
                deposit_account_id=r.deposit_account_id,
                value_at=r.value_at,
                payer=r.payer,
            )
        )
    await session.execute(
        text(
            "UPDATE statement_line SET status = 'reversed', reversed_by = :d WHERE id = ANY(:ids)"
        ),
        {"d": debit.id, "ids": [r.id for r in originals]},
    )
    deposit = next((r.deposit_account_id for r in originals if r.deposit_account_id), None)
    if deposit is not None:
        await session.execute(
            text("UPDATE statement_line SET deposit_account_id = :dep WHERE id = :id"),
            {"dep": deposit, "id": debit.id},
        )
    return back.unrecovered_fen


async def book_reversals(
    session: AsyncSession,
    rows: list[Booking],
    *,
    ids: dict[str, int],
    secrecy: Secrecy,
    actor: Actor,
) -> ReversalResult:
    """The reversal debits of this import, in statement order: take back their credits, or
    park them in suspense with the reason."""
    result = ReversalResult()
    for row in rows:
        if not row.reversal or row.id is None:
            continue
        ln = row.line
        debit = _Debit(
            id=row.id,
            bank_account=ln.bank_account,
            bank_ref=ln.bank_ref,
            amount_fen=ln.amount_fen,
            value_at=ln.value_at,
            virtual_account=ln.virtual_account,
            refs=ln.related_refs,
        )
        unrecovered = await _take_back(
            session, debit, ids=ids, secrecy=secrecy, actor=actor, prefix=f"reverse:{row.id}"
        )
        if unrecovered is None:
            reason = (
                SuspenseReason.UNMATCHED_REVERSAL
                if row.reversal == "strong"
                else SuspenseReason.UNMATCHED_DEBIT
            )
            row.status, row.reason = "suspense", reason.value
            await session.execute(
                text("UPDATE statement_line SET status = 'suspense', reason = :r WHERE id = :id"),
                {"r": reason.value, "id": row.id},
            )
            continue
        result.reversed += 1
        result.unrecovered_fen += unrecovered
    return result


async def apply_waiting_reversals(
    session: AsyncSession,
    credits: list[ParsedLine],
    *,
    ids: dict[str, int],
    secrecy: Secrecy,
    actor: Actor,
) -> ReversalResult:
    """Reversals waiting in suspense whose credit has come since (a statement imported out
    of order, its new ``credits``): take it back now and mark the waiting line
    ``resolved``. Only a waiting line naming one of these credits (or their account) is
    tried again."""
    named = {
        (c.bank_account, ref)
        for c in credits
        for ref in (c.bank_ref, c.entry_ref, c.tx_ref, c.virtual_account)
        if ref
    }
    waiting = (
        await session.execute(
            text(
                "SELECT id, bank_account, bank_ref, amount_fen, value_at, virtual_account, payer"
                " FROM statement_line WHERE status = 'suspense' AND direction = 'D'"
                " AND (reason = 'unmatched_reversal' OR reason = 'unmatched_debit'"
                " AND virtual_account <> '') ORDER BY id FOR UPDATE"
            )
        )
    ).all()
    result = ReversalResult()
    for w in waiting:
        payer = open_payer(secrecy, bank_account=w.bank_account, bank_ref=w.bank_ref, box=w.payer)
        if not any((w.bank_account, ref) in named for ref in (*payer.refs, w.virtual_account)):
            continue
        debit = _Debit(
            id=w.id,
            bank_account=w.bank_account,
            bank_ref=w.bank_ref,
            amount_fen=w.amount_fen,
            value_at=w.value_at,
            virtual_account=w.virtual_account,
            refs=payer.refs,
        )
        unrecovered = await _take_back(
            session, debit, ids=ids, secrecy=secrecy, actor=actor, prefix=f"resolve:{w.id}"
        )
        if unrecovered is None:
            continue
        await session.execute(
            text(
                "UPDATE statement_line SET status = 'resolved', resolution = :note WHERE id = :id"
            ),
            {"id": w.id, "note": "冲正已对应原入账 the credit it took back has been imported"},
        )
        result.reversed += 1
        result.unrecovered_fen += unrecovered
    return result
