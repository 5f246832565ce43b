"""Reconciliation against the bank (银行存款余额调节): each statement's opening and closing
balance (camt.053 ``OPBD``/``CLBD``) against the platform's bank clearing account as of
that statement.

    checks = await check_statements(session)          # every statement, in the bank's order
    check = await check_statement(session, statement_id)
    check.unexplained_closing_fen, check.problem()

The statements of a bank account are taken in the bank's order (the day each is for, then
its ``ElctrncSeqNb``, then import order; a file without a number, such as a CSV, after
those of its day that have one). As of a statement, the books are:

* the **linked** movements: what the bank clearing account moved for the lines of this and
  every earlier statement (each line's own posted transfer: a credit booked or parked, a
  debit's refund payment, reversal or unmatched debit);
* the **outstanding items** (未达账项): bank clearing movements no bank line is linked to yet,
  dated by the end of the statement's day; today a refund staff confirmed paid (dated when
  they say the bank paid it) before the bank's statement showed it.

The bank's balance less the books is the difference; an outstanding item explains its part
of it. What is left, the bank's balance less the linked movements, is **unexplained**: a
statement not imported, entries missing from a file, a balance the platform never booked,
or books that do not say what the bank did. ``ledger verify`` fails on any unexplained
difference, and each is told with what explains it, to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.money import yuan
from tendering.ledger.rules import CHINA

__all__ = ["Outstanding", "StatementCheck", "check_statement", "check_statements"]


@dataclass(frozen=True, kw_only=True)
class Outstanding:
    """A bank clearing movement in the books that no bank line shows yet."""

    transfer_id: int
    kind: str
    reference: str
    amount_fen: int  # + money in, - money out of the bank account, per the books
    settled_at: datetime

    def describe(self) -> str:
        what = "退款已确认付款，银行尚未扣款 refund confirmed paid, not on a bank statement yet"
        if self.kind != "refund.payment":
            what = f"{self.kind}, on no bank statement"
        day = self.settled_at.astimezone(CHINA).date().isoformat()
        return f"{self.reference or self.transfer_id} {yuan(self.amount_fen)} 元 ({day}): {what}"


@dataclass(kw_only=True)
class StatementCheck:
    statement_id: int
    statement_ref: str
    bank_account: str
    statement_on: date
    bank_opening_fen: int | None
    bank_closing_fen: int | None
    net_fen: int  # what the file's own entries move
    linked_before_fen: int  # the linked movements of the statements before this one
    linked_fen: int  # ... and of this one
    outstanding: list[Outstanding] = field(default_factory=list)  # by the statement's day
    outstanding_before_fen: int = 0  # those posted before the statement's day
    explanations: list[str] = field(default_factory=list)

    @property
    def books_opening_fen(self) -> int:
        return self.linked_before_fen + self.outstanding_before_fen

    @property
    def books_closing_fen(self) -> int:
        return (
            self.linked_before_fen + self.linked_fen + sum(o.amount_fen for o in self.outstanding)
        )

    @property
    def opening_difference_fen(self) -> int | None:
        if self.bank_opening_fen is None:
            return None
        return self.bank_opening_fen - self.books_opening_fen

    @property
    def closing_difference_fen(self) -> int | None:
        if self.bank_closing_fen is None:
            return None
        return self.bank_closing_fen - self.books_closing_fen

    @property
    def unexplained_opening_fen(self) -> int | None:
        if self.bank_opening_fen is None:
            return None
        return self.bank_opening_fen - self.linked_before_fen

    @property
    def unexplained_closing_fen(self) -> int | None:
        if self.bank_closing_fen is None:
            return None
        return self.bank_closing_fen - self.linked_before_fen - self.linked_fen

    @property
    def ok(self) -> bool:
        return not self.unexplained_opening_fen and not self.unexplained_closing_fen

    def problem(self) -> str | None:
        """The disagreement in plain words, or None when the bank and the books agree."""
        if self.ok:
            return None
        parts = []
        if self.unexplained_opening_fen:
            parts.append(
                f"its opening balance {yuan(self.bank_opening_fen or 0)} 元 against the books'"
                f" {yuan(self.linked_before_fen)} 元: {yuan(self.unexplained_opening_fen)} 元"
                " unexplained"
            )
        if self.unexplained_closing_fen:
            parts.append(
                f"its closing balance {yuan(self.bank_closing_fen or 0)} 元 against the books'"
                f" {yuan(self.linked_before_fen + self.linked_fen)} 元:"
                f" {yuan(self.unexplained_closing_fen)} 元 unexplained"
            )
        return (
            f"银行对账不符 bank statement {self.statement_ref or self.statement_id} of account"
            f" {self.bank_account} for {self.statement_on.isoformat()}: "
            + "; ".join(parts)
            + (" — " + "; ".join(self.explanations) if self.explanations else "")
        )


_STATEMENTS = text(
    "SELECT id, bank_account, statement_ref, statement_on, opening_fen, closing_fen, net_fen"
    " FROM bank_statement ORDER BY bank_account, statement_on, sequence NULLS LAST, id"
)
_LINKED = text(
    """
    SELECT l.statement_id, sum(CASE WHEN t.debit_account_id = :bc THEN t.amount_fen
        ELSE -t.amount_fen END) AS fen
    FROM statement_line l JOIN ledger_transfer t ON t.id = l.transfer_id
    WHERE t.state = 'posted' AND :bc IN (t.debit_account_id, t.credit_account_id)
    GROUP BY l.statement_id
    """
)
# A refund staff confirmed counts from when they say the bank paid it, not from when they
# said so.
_OUTSTANDING = text(
    """
    SELECT t.id, t.kind, t.reference, coalesce(f.paid_at, t.settled_at) AS settled_at,
        CASE WHEN t.debit_account_id = :bc THEN t.amount_fen ELSE -t.amount_fen END AS fen
    FROM ledger_transfer t LEFT JOIN refund_line f ON f.payment_transfer_id = t.id
    WHERE t.state = 'posted' AND :bc IN (t.debit_account_id, t.credit_account_id)
      AND NOT EXISTS (SELECT 1 FROM statement_line l WHERE l.transfer_id = t.id)
    ORDER BY 4, t.id
    """
)


async def check_statements(session: AsyncSession) -> list[StatementCheck]:
    """Every imported statement against the books, in the bank's order per account."""
    statements = (await session.execute(_STATEMENTS)).all()
    if not statements:
        return []
    # Read, not made: verify runs with read access only.
    bc = (
        await session.execute(text("SELECT id FROM ledger_account WHERE code = 'bank_clearing'"))
    ).scalar_one_or_none()
    linked = {r.statement_id: int(r.fen) for r in await session.execute(_LINKED, {"bc": bc})}
    outstanding = [
        Outstanding(
            transfer_id=r.id,
            kind=r.kind,
            reference=r.reference,
            amount_fen=int(r.fen),
            settled_at=r.settled_at,
        )
        for r in await session.execute(_OUTSTANDING, {"bc": bc})
    ]
    checks: list[StatementCheck] = []
    before: dict[str, int] = {}
    previous: dict[str, StatementCheck] = {}
    # A statement the bank sent again (same account, reference and day, another file):
    # checked against the same books as the first, with the lines either file booked.
    first: dict[tuple[str, str, date], tuple[int, int]] = {}
    for s in statements:
        day, account = s.statement_on, s.bank_account
        key = (account, s.statement_ref, day)
        own = linked.get(s.id, 0)
        copy = bool(s.statement_ref) and key in first
        base, booked = first[key] if copy else (before.get(account, 0), 0)
        check = StatementCheck(
            statement_id=s.id,
            statement_ref=s.statement_ref,
            bank_account=account,
            statement_on=day,
            bank_opening_fen=s.opening_fen,
            bank_closing_fen=s.closing_fen,
            net_fen=s.net_fen,
            linked_before_fen=base,
            linked_fen=booked + own,
            outstanding=[o for o in outstanding if o.settled_at.astimezone(CHINA).date() <= day],
            outstanding_before_fen=sum(
                o.amount_fen for o in outstanding if o.settled_at.astimezone(CHINA).date() < day
            ),
        )
        if not check.ok:
            check.explanations = _explain(check, previous.get(account))
        checks.append(check)
        before[account] = before.get(account, 0) + own
        if s.statement_ref:
            first[key] = (base, booked + own)
        if not copy:
            previous[account] = check
    return checks


async def check_statement(session: AsyncSession, statement_id: int) -> StatementCheck:
    return next(c for c in await check_statements(session) if c.statement_id == statement_id)


def _explain(check: StatementCheck, previous: StatementCheck | None) -> list[str]:
    """What the difference comes from, as far as the statements themselves tell."""
    found: list[str] = []
    opening, closing = check.bank_opening_fen, check.bank_closing_fen
    if opening is not None and closing is not None and closing - opening != check.net_fen:
        missing = closing - opening - check.net_fen
        found.append(
            f"the bank's balance moves {yuan(closing - opening)} 元 in this statement but its"
            f" booked entries move {yuan(check.net_fen)} 元: {yuan(missing)} 元 of the bank's"
            " movements are not in the file"
        )
    if opening is not None and check.unexplained_opening_fen:
        if previous is None:
            found.append(
                f"the bank held {yuan(opening)} 元 before the first statement the platform"
                " imported for this account; the platform's books start at 0.00"
            )
        elif previous.bank_closing_fen is None:
            found.append(
                f"the statement before, {previous.statement_ref or previous.statement_id}"
                f" ({previous.statement_on.isoformat()}), has no closing balance to compare"
            )
        elif opening != previous.bank_closing_fen:
            found.append(
                f"the bank's balance moved {yuan(opening - previous.bank_closing_fen)} 元"
                f" between the close of statement {previous.statement_ref or previous.statement_id}"
                f" ({previous.statement_on.isoformat()}, {yuan(previous.bank_closing_fen)} 元)"
                f" and the opening of this one ({yuan(opening)} 元): no statement for it was"
                " imported"
            )
        else:
            found.append(
                f"statement {previous.statement_ref or previous.statement_id}"
                f" ({previous.statement_on.isoformat()}) already disagreed"
            )
    if closing is not None and check.linked_fen != check.net_fen and not found:
        found.append(
            f"its entries move {yuan(check.net_fen)} 元 but the books moved"
            f" {yuan(check.linked_fen)} 元 for its lines (lines also in another statement,"
            " or lines the books did not book as the bank did)"
        )
    return found
