"""``tendering ledger verify``: the ledger's invariants, checked from the tables.

1. total debits = total credits (posted, and pending), over every account's balance;
2. every bidder account's stored totals equal the sums of its transfers;
3. no account flagged must-not-go-negative is negative (posted, or with reservations);
4. every statement line is booked (a posted transfer of its amount) or in suspense (ditto,
   with a reason) or resolved (transfers out of suspense adding up to it) or reversed (the
   credit the bank took back: its reversal names it); a reversal takes back credits adding
   up to it;
5. the suspense account holds exactly the lines still in suspense;
6. a refund line is paid exactly when its payment transfer is posted (pending when pending,
   returned or cancelled when voided);
7. the bank and the books agree: each statement's opening and closing balance equals the
   platform's bank clearing account as of that statement, but for what outstanding items
   explain (``ledger/reconcile.py``).

Returns a list of problems in plain words; empty means the ledger is sound.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.ledger.reconcile import check_statements

__all__ = ["verify_ledger"]

_SUMS = """
    WITH t AS (
        SELECT a.id,
          coalesce(sum(amount_fen) FILTER (WHERE debit_account_id = a.id
            AND state = 'posted'), 0) dp,
          coalesce(sum(amount_fen) FILTER (WHERE credit_account_id = a.id
            AND state = 'posted'), 0) cp,
          coalesce(sum(amount_fen) FILTER (WHERE debit_account_id = a.id
            AND state = 'pending'), 0) dq,
          coalesce(sum(amount_fen) FILTER (WHERE credit_account_id = a.id
            AND state = 'pending'), 0) cq
        FROM ledger_account a LEFT JOIN ledger_transfer x
          ON x.debit_account_id = a.id OR x.credit_account_id = a.id
        GROUP BY a.id
    )
    SELECT a.id, a.code, a.hot, a.no_negative, a.normal_side,
        a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
        t.dp, t.cp, t.dq, t.cq
    FROM ledger_account a JOIN t ON t.id = a.id ORDER BY a.id
"""

_LINES = """
    SELECT l.id, l.bank_ref, l.status, l.reason, l.direction, l.amount_fen, l.reversed_by,
        t.amount_fen AS t_amount, t.state AS t_state,
        CASE WHEN l.status = 'resolved' AND l.direction = 'C' THEN (SELECT
          coalesce(sum(r.amount_fen), 0) FROM ledger_transfer r WHERE r.state = 'posted'
            AND r.idempotency_key LIKE 'resolve:' || l.id || ':%') END AS resolved_fen,
        CASE WHEN l.direction = 'D' AND (l.reason = 'reversal' OR l.status = 'resolved')
          THEN (SELECT coalesce(sum(o.amount_fen), 0) FROM statement_line o
            WHERE o.reversed_by = l.id) END AS reversed_fen
    FROM statement_line l LEFT JOIN ledger_transfer t ON t.id = l.transfer_id
    ORDER BY l.id
"""

_REFUNDS = """
    SELECT f.instruction_ref, f.status, coalesce(t.state, 'missing') AS state
    FROM refund_line f LEFT JOIN ledger_transfer t ON t.id = f.payment_transfer_id
    WHERE t.state IS NULL OR (f.status = 'paid') <> (t.state = 'posted')
        OR (f.status = 'pending') <> (t.state = 'pending')
        OR (f.status IN ('returned', 'cancelled')) <> (t.state = 'voided')
"""

_SUSPENSE = """
    SELECT
      (SELECT coalesce(sum(CASE WHEN direction = 'C' THEN amount_fen ELSE -amount_fen END), 0)
         FROM statement_line WHERE status = 'suspense') AS lines,
      (SELECT coalesce(sum(CASE WHEN credit_account_id = a.id THEN amount_fen
                                 ELSE -amount_fen END), 0)
         FROM ledger_transfer WHERE state = 'posted'
           AND (credit_account_id = a.id OR debit_account_id = a.id)) AS balance
    FROM ledger_account a WHERE a.code = 'suspense'
"""


async def verify_ledger(session: AsyncSession) -> list[str]:
    problems: list[str] = []
    totals = [0, 0, 0, 0]
    for r in (await session.execute(text(_SUMS))).all():
        stored = (r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending)
        summed = (int(r.dp), int(r.cp), int(r.dq), int(r.cq))
        if not r.hot and stored != summed:
            problems.append(
                f"account {r.code}: stored balances (dp, cp, dq, cq) {stored}"
                f" differ from the sums of its transfers {summed}"
            )
        bal = stored if not r.hot else summed
        totals = [a + b for a, b in zip(totals, bal, strict=True)]
        if r.no_negative:
            dp, cp, dq, cq = bal
            posted, reserved = (
                (cp - dp, cp - dp - dq) if r.normal_side == "credit" else (dp - cp, dp - cp - cq)
            )
            if posted < 0 or reserved < 0:
                problems.append(
                    f"account {r.code} must not go negative but stands at {posted}"
                    f" (after reservations {reserved})"
                )
    if totals[0] != totals[1]:
        problems.append(f"posted debits {totals[0]} ≠ posted credits {totals[1]}")
    if totals[2] != totals[3]:
        problems.append(f"pending debits {totals[2]} ≠ pending credits {totals[3]}")
    problems.extend(await _check_lines(session))
    return problems


async def _check_lines(session: AsyncSession) -> list[str]:
    problems: list[str] = []
    for r in (await session.execute(text(_LINES))).all():
        where = f"statement line {r.id} (bank_ref {r.bank_ref})"
        if r.t_state != "posted" or r.t_amount != r.amount_fen:
            problems.append(f"{where} is {r.status} but has no posted transfer of its amount")
        if (r.status == "reversed") != (r.reversed_by is not None):
            problems.append(f"{where} is {r.status} but names reversal {r.reversed_by}")
        if r.reversed_fen is not None and r.reversed_fen != r.amount_fen:
            problems.append(
                f"{where} is a reversal of {r.amount_fen} fen but takes back {r.reversed_fen}"
            )
        if r.status == "suspense" and not r.reason:
            problems.append(f"{where} is in suspense without a reason")
        if r.resolved_fen is not None and r.resolved_fen != r.amount_fen:
            problems.append(
                f"{where} is resolved but only {r.resolved_fen} of {r.amount_fen} fen left suspense"
            )
    for r in (await session.execute(text(_REFUNDS))).all():
        problems.append(
            f"refund {r.instruction_ref} is {r.status} but its payment transfer is {r.state}"
        )
    row = (await session.execute(text(_SUSPENSE))).one_or_none()
    if row is not None and row.lines != row.balance:
        problems.append(
            f"suspense holds {row.balance} fen but its open lines add up to {row.lines}"
        )
    for check in await check_statements(session):
        problem = check.problem()
        if problem is not None:
            problems.append(problem)
    return problems
