"""Refund batches (principal + interest) and their confirmation by the bank.

Money paths (debit → credit):

* refund: deposit → refunds payable (principal); interest expense → refunds payable
  (interest); then a **pending** refunds payable → bank clearing for the payment, posted when
  the bank confirms the line (a statement debit line whose memo is the instruction ref, or
  :func:`tendering.ledger.confirmations.confirm_refund_paid`).
Deposits are claimed with a guarded update of their ``deposit_account`` rows (the row lock
serializes two refund runs, and a refund with a forfeit), and the ledger's no-negative
guard on the bidder's account stops anything from paying the same money twice even so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, ErrorCode
from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.holders import subject_tags
from tendering.ledger.payers import latest_payer, open_payee, seal_payee
from tendering.ledger.postings import TransferSpec, create_transfer, platform_accounts
from tendering.ledger.rules import DEFAULT_POLICY, LedgerPolicy

__all__ = [
    "RefundBatchView",
    "create_refund_batch",
    "pay_out",
]


@dataclass(frozen=True, kw_only=True)
class RefundBatchView:
    code: str
    subject: str
    paid_on: date
    due_on: date
    annual_rate: Decimal
    day_count: str
    lines: list[dict[str, Any]]

    def __post_init__(self) -> None:
        # The table keeps six decimals: without this, a repeated request (answered from the
        # table) would say "0.003500" where the first answer said "0.0035".
        object.__setattr__(self, "annual_rate", self.annual_rate.normalize())


def _batch_code() -> str:
    return f"RB-{secrets.token_hex(5).upper()}"


async def _new_batch(
    session: AsyncSession,
    *,
    subject: str,
    paid_on: date,
    policy: LedgerPolicy,
    actor: Actor,
    request_key: str | None = None,
) -> tuple[int, str]:
    code = _batch_code()
    row = (
        await session.execute(
            text(
                "INSERT INTO refund_batch (code, request_key, subject, annual_rate, day_count,"
                " paid_on, due_on, created_by) VALUES (:code, :key, :subject, :rate, :dc, :paid,"
                " :due, :by) RETURNING id"
            ),
            {
                "code": code,
                "key": request_key,
                "subject": subject,
                "rate": policy.annual_rate,
                "dc": policy.day_count.value,
                "paid": paid_on,
                "due": rules.due_date(paid_on, policy),
                "by": actor.ref,
            },
        )
    ).one()
    return row.id, code


async def pay_out(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    batch_id: int,
    instruction_ref: str,
    payee: tuple[str, str],
    principal_fen: int,
    interest_fen: int,
    days: int,
    deposit_id: int | None = None,
    statement_line_id: int | None = None,
    expense_interest: bool = True,
) -> dict[str, Any]:
    """The pending payment out of refunds payable, and its instruction line (and the
    interest moved into refunds payable, unless a reissue already did that)."""
    ids = await platform_accounts(session)
    if interest_fen > 0 and expense_interest:
        await create_transfer(
            session,
            TransferSpec(
                key=f"interest:{instruction_ref}",
                debit=ids["interest_expense"],
                credit=ids["refunds_payable"],
                amount_fen=interest_fen,
                kind="refund.interest",
                reference=instruction_ref,
            ),
        )
    payment = await create_transfer(
        session,
        TransferSpec(
            key=f"pay:{instruction_ref}",
            debit=ids["refunds_payable"],
            credit=ids["bank_clearing"],
            amount_fen=principal_fen + interest_fen,
            kind="refund.payment",
            reference=instruction_ref,
            pending=True,
        ),
    )
    await session.execute(
        text(
            "INSERT INTO refund_line (batch_id, instruction_ref, deposit_account_id,"
            " statement_line_id, payee, principal_fen, interest_fen, days, status,"
            " payment_transfer_id, bank_ref) VALUES (:batch, :ref, :deposit, :line, :payee,"
            " :principal, :interest, :days, 'pending', :payment, '')"
        ),
        {
            "batch": batch_id,
            "ref": instruction_ref,
            "deposit": deposit_id,
            "line": statement_line_id,
            "payee": seal_payee(secrecy, instruction_ref, payee),
            "principal": principal_fen,
            "interest": interest_fen,
            "days": days,
            "payment": payment.id,
        },
    )
    return {
        "instruction_ref": instruction_ref,
        "payee_name": payee[0],
        "payee_account": payee[1],
        "principal_fen": principal_fen,
        "interest_fen": interest_fen,
        "days": days,
    }


async def _receipts(session: AsyncSession, ledger_id: int, held: int) -> list[tuple[int, datetime]]:
    """The money still held, as (amount, value time), newest receipts first (FIFO payout)."""
    rows = (
        await session.execute(
            text(
                "SELECT amount_fen, coalesce(value_at, created_at) AS v FROM ledger_transfer"
                " WHERE credit_account_id = :id AND state = 'posted' ORDER BY v DESC, id DESC"
            ),
            {"id": ledger_id},
        )
    ).all()
    out: list[tuple[int, datetime]] = []
    left = held
    for row in rows:
        if left <= 0:
            break
        take = min(left, row.amount_fen)
        out.append((take, row.v))
        left -= take
    return out


async def create_refund_batch(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    subject: str,
    paid_on: date,
    actor: Actor,
    bidder_org_ids: list[int] | None = None,
    policy: LedgerPolicy = DEFAULT_POLICY,
    request_key: str | None = None,
) -> RefundBatchView:
    """Refund every deposit of ``subject`` (or of the given bidders) that holds money.

    Interest runs from each receipt's value date to ``paid_on``; the payment is due within
    ``policy.refund_due_days`` days. Forfeited and converted deposits are left alone.
    With ``request_key``, asking again answers the first batch and pays nothing more.
    """
    if request_key is not None:
        existing = await _load_batch(session, secrecy, request_key)
        if existing is not None:
            return existing
    tags = await subject_tags(session, secrecy, subject, bidder_org_ids)
    todo = await _claim(session, tags)
    if not todo:
        raise Conflict(
            f"{subject} 没有可退的保证金: no deposit of {subject} holds money to refund",
            code=ErrorCode.LEDGER_NOTHING_TO_REFUND,
        )
    batch_id, code = await _new_batch(
        session,
        subject=subject,
        paid_on=paid_on,
        policy=policy,
        actor=actor,
        request_key=request_key,
    )
    lines = [
        await _refund_one(session, batch_id, f"{code}-{n:04d}", deposit, paid_on, policy, secrecy)
        for n, deposit in enumerate(todo, 1)
    ]
    await record(
        session,
        stream=GLOBAL,
        action="refund.batch_created",
        actor=actor,
        payload={
            "batch": code,
            "subject": subject,
            "paid_on": paid_on.isoformat(),
            "rate": str(policy.annual_rate),
            "day_count": policy.day_count.value,
            "lines": lines,
        },
    )
    return RefundBatchView(
        code=code,
        subject=subject,
        paid_on=paid_on,
        due_on=rules.due_date(paid_on, policy),
        annual_rate=policy.annual_rate,
        day_count=policy.day_count.value,
        lines=lines,
    )


async def _claim(session: AsyncSession, tags: list[str]) -> list[tuple[int, str, int, int]]:
    """Lock the refundable deposits of these holder tags (a subject's, or some of its
    bidders'), then their ledger rows (in id order, as the
    import does); returns (deposit id, number, ledger id, held fen) of those holding money.

    The deposit rows' lock makes a second refund run wait; when it goes on, it reads the
    balances anew (READ COMMITTED: a new snapshot per statement) and finds them empty."""
    claimed = (
        await session.execute(
            text(
                "UPDATE deposit_account SET state = 'refunded' WHERE holder_tag = ANY(:tags)"
                " AND state IN ('open', 'refunded') RETURNING id, number, ledger_account_id"
            ),
            {"tags": tags},
        )
    ).all()
    held = {
        r.id: int(r.held)
        for r in (
            await session.execute(
                text(
                    "SELECT id, credits_posted - debits_posted - debits_pending AS held"
                    " FROM ledger_account WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"
                ),
                {"ids": [c.ledger_account_id for c in claimed]},
            )
        ).all()
    }
    return sorted(
        (c.id, c.number, c.ledger_account_id, held[c.ledger_account_id])
        for c in claimed
        if held[c.ledger_account_id] > 0
    )


async def _refund_one(
    session: AsyncSession,
    batch_id: int,
    ref: str,
    deposit: tuple[int, str, int, int],
    paid_on: date,
    policy: LedgerPolicy,
    secrecy: Secrecy,
) -> dict[str, Any]:
    deposit_id, number, ledger_id, amount = deposit
    interest = rules.interest_fen(
        await _receipts(session, ledger_id, amount),
        paid_on=paid_on,
        annual_rate=policy.annual_rate,
        day_count=policy.day_count,
    )
    ids = await platform_accounts(session)
    await create_transfer(
        session,
        TransferSpec(
            key=f"refund:{ref}",
            debit=ledger_id,
            credit=ids["refunds_payable"],
            amount_fen=amount,
            kind="refund.principal",
            reference=ref,
        ),
    )
    line = await pay_out(
        session,
        secrecy=secrecy,
        batch_id=batch_id,
        instruction_ref=ref,
        payee=await latest_payer(session, secrecy, deposit_id),
        principal_fen=amount,
        interest_fen=interest.interest_fen,
        days=interest.days,
        deposit_id=deposit_id,
    )
    return {**line, "number": number}


async def _load_batch(
    session: AsyncSession, secrecy: Secrecy, request_key: str
) -> RefundBatchView | None:
    batch = (
        await session.execute(
            text("SELECT * FROM refund_batch WHERE request_key = :k"), {"k": request_key}
        )
    ).one_or_none()
    if batch is None:
        return None
    rows = (
        await session.execute(
            text(
                "SELECT f.instruction_ref, f.payee, f.principal_fen, f.interest_fen, f.days,"
                " d.number FROM refund_line f LEFT JOIN deposit_account"
                " d ON d.id = f.deposit_account_id WHERE f.batch_id = :id"
                " ORDER BY f.instruction_ref"
            ),
            {"id": batch.id},
        )
    ).all()
    return RefundBatchView(
        code=batch.code,
        subject=batch.subject,
        paid_on=batch.paid_on,
        due_on=batch.due_on,
        annual_rate=batch.annual_rate,
        day_count=batch.day_count,
        lines=[_line(secrecy, r) for r in rows],
    )


def _line(secrecy: Secrecy, r: Any) -> dict[str, Any]:
    """A stored line as :func:`pay_out` and :func:`_refund_one` answered it."""
    name, account = open_payee(secrecy, instruction_ref=r.instruction_ref, box=r.payee)
    return {
        "instruction_ref": r.instruction_ref,
        "payee_name": name,
        "payee_account": account,
        "principal_fen": r.principal_fen,
        "interest_fen": r.interest_fen,
        "days": r.days,
        "number": r.number,
    }
