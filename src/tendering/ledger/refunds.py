"""Refund batches (principal + interest), bank confirmation, forfeits, conversion to payment.

Money paths (debit → credit):

* refund: deposit → refunds payable (principal); interest expense → refunds payable
  (interest); then a **pending** refunds payable → bank clearing for the payment, posted when
  the bank confirms the line (a statement debit line whose memo is the instruction ref, or
  :func:`confirm_refund_paid`).
* forfeit: deposit → forfeited.   * conversion to payment: deposit → payments.

Each is claimed with a guarded update of the ``deposit_account`` row (its lock serializes
two refund runs, a forfeit and a refund), and the ledger's no-negative guard on the bidder's
account stops anything from paying the same money twice even so.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import rfc3339
from tendering.core.errors import Conflict, NotFound
from tendering.ledger import rules
from tendering.ledger.postings import TransferSpec, create_transfer, platform_accounts, post_pending
from tendering.ledger.rules import DEFAULT_POLICY, LedgerPolicy
from tendering.ledger.service import get_deposit

__all__ = [
    "RefundBatchView",
    "close_deposit",
    "confirm_refund_paid",
    "create_refund_batch",
    "instructions_csv",
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


def _batch_code() -> str:
    return f"RB-{secrets.token_hex(5).upper()}"


async def _new_batch(
    session: AsyncSession, *, subject: str, paid_on: date, policy: LedgerPolicy, actor: Actor
) -> tuple[int, str]:
    code = _batch_code()
    row = (
        await session.execute(
            text(
                "INSERT INTO refund_batch (code, subject, annual_rate, day_count, paid_on,"
                " due_on, created_by) VALUES (:code, :subject, :rate, :dc, :paid, :due, :by)"
                " RETURNING id"
            ),
            {
                "code": code,
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
    batch_id: int,
    instruction_ref: str,
    payee: tuple[str, str],
    principal_fen: int,
    interest_fen: int,
    days: int,
    deposit_id: int | None = None,
    statement_line_id: int | None = None,
) -> dict[str, Any]:
    """The pending payment out of refunds payable, and its instruction line."""
    ids = await platform_accounts(session)
    if interest_fen > 0:
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
            " statement_line_id, payee_name, payee_account, principal_fen, interest_fen, days,"
            " status, payment_transfer_id, bank_ref) VALUES (:batch, :ref, :deposit, :line,"
            " :name, :account, :principal, :interest, :days, 'pending', :payment, '')"
        ),
        {
            "batch": batch_id,
            "ref": instruction_ref,
            "deposit": deposit_id,
            "line": statement_line_id,
            "name": payee[0],
            "account": payee[1],
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


async def _payee(session: AsyncSession, deposit_id: int) -> tuple[str, str]:
    """Refunds go back the way they came (原路退回): the latest payer into the account."""
    row = (
        await session.execute(
            text(
                "SELECT counterparty_name, counterparty_account FROM statement_line"
                " WHERE deposit_account_id = :id AND direction = 'C'"
                " AND status IN ('booked', 'resolved')"
                " ORDER BY value_at DESC, id DESC LIMIT 1"
            ),
            {"id": deposit_id},
        )
    ).one_or_none()
    return (row.counterparty_name, row.counterparty_account) if row else ("", "")


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
    subject: str,
    paid_on: date,
    actor: Actor,
    bidder_org_ids: list[int] | None = None,
    policy: LedgerPolicy = DEFAULT_POLICY,
) -> RefundBatchView:
    """Refund every deposit of ``subject`` (or of the given bidders) that holds money.

    Interest runs from each receipt's value date to ``paid_on``; the payment is due within
    ``policy.refund_due_days`` days. Forfeited and converted deposits are left alone.
    """
    claimed = (
        await session.execute(
            text(
                "UPDATE deposit_account SET state = 'refunded' WHERE subject = :subject"
                " AND state IN ('open', 'refunded')"
                " AND (CAST(:bidders AS int[]) IS NULL OR bidder_org_id = ANY(:bidders))"
                " RETURNING id, number, ledger_account_id"
            ),
            {"subject": subject, "bidders": bidder_org_ids},
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
    todo = sorted((c for c in claimed if held[c.ledger_account_id] > 0), key=lambda c: c.id)
    if not todo:
        raise Conflict(
            f"{subject} 没有可退的保证金: no deposit of {subject} holds money to refund",
            code="ledger.nothing_to_refund",
        )
    batch_id, code = await _new_batch(
        session, subject=subject, paid_on=paid_on, policy=policy, actor=actor
    )
    ids = await platform_accounts(session)
    lines = []
    for n, c in enumerate(todo, 1):
        amount = held[c.ledger_account_id]
        ref = f"{code}-{n:04d}"
        interest = rules.interest_fen(
            await _receipts(session, c.ledger_account_id, amount),
            paid_on=paid_on,
            annual_rate=policy.annual_rate,
            day_count=policy.day_count,
        )
        await create_transfer(
            session,
            TransferSpec(
                key=f"refund:{ref}",
                debit=c.ledger_account_id,
                credit=ids["refunds_payable"],
                amount_fen=amount,
                kind="refund.principal",
                reference=ref,
            ),
        )
        line = await pay_out(
            session,
            batch_id=batch_id,
            instruction_ref=ref,
            payee=await _payee(session, c.id),
            principal_fen=amount,
            interest_fen=interest.interest_fen,
            days=interest.days,
            deposit_id=c.id,
        )
        lines.append({**line, "number": c.number})
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


async def confirm_refund_paid(
    session: AsyncSession,
    *,
    instruction_ref: str,
    bank_ref: str,
    paid_at: datetime,
    actor: Actor,
) -> int | None:
    """Mark a refund line paid and post its payment; returns the payment transfer id, or
    None when it was already paid (a repeat changes nothing)."""
    row = (
        await session.execute(
            text(
                "UPDATE refund_line SET status = 'paid', bank_ref = :bank_ref, paid_at = :at"
                " WHERE instruction_ref = :ref AND status = 'pending'"
                " RETURNING payment_transfer_id, principal_fen + interest_fen AS amount"
            ),
            {"ref": instruction_ref, "bank_ref": bank_ref, "at": paid_at},
        )
    ).one_or_none()
    if row is None:
        exists = (
            await session.execute(
                text("SELECT status FROM refund_line WHERE instruction_ref = :ref"),
                {"ref": instruction_ref},
            )
        ).scalar_one_or_none()
        if exists is None:
            raise NotFound(f"no refund instruction {instruction_ref}", code="ledger.no_refund")
        return None
    await post_pending(session, row.payment_transfer_id)
    await record(
        session,
        stream=GLOBAL,
        action="refund.paid",
        actor=actor,
        payload={
            "instruction": instruction_ref,
            "bank_ref": bank_ref,
            "amount_fen": int(row.amount),
            "paid_at": rfc3339(paid_at),
        },
    )
    return int(row.payment_transfer_id)


async def close_deposit(
    session: AsyncSession,
    *,
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
    deposit = await get_deposit(session, bidder_org_id=bidder_org_id, subject=subject)
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
        current = await get_deposit(session, number=deposit.number)
        if current.state == to:
            return 0
        raise Conflict(
            f"保证金已{current.state}: the deposit is already {current.state}; it cannot be {to}",
            code="ledger.deposit_closed",
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


async def instructions_csv(session: AsyncSession, batch_code: str) -> str:
    """The payment instruction file for the bank (UTF-8 with BOM, so Excel reads it)."""
    batch = (
        await session.execute(
            text("SELECT id, annual_rate, day_count, due_on FROM refund_batch WHERE code = :c"),
            {"c": batch_code},
        )
    ).one_or_none()
    if batch is None:
        raise NotFound(f"no refund batch {batch_code}", code="ledger.no_batch")
    rows = (
        await session.execute(
            text(
                "SELECT instruction_ref, payee_name, payee_account, principal_fen, interest_fen,"
                " days, status FROM refund_line WHERE batch_id = :id ORDER BY instruction_ref"
            ),
            {"id": batch.id},
        )
    ).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "instruction_ref",
            "payee_name",
            "payee_account",
            "amount",
            "currency",
            "principal",
            "interest",
            "days",
            "annual_rate",
            "day_count",
            "due_on",
            "memo",
            "status",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.instruction_ref,
                r.payee_name,
                r.payee_account,
                rules.yuan(r.principal_fen + r.interest_fen),
                "CNY",
                rules.yuan(r.principal_fen),
                rules.yuan(r.interest_fen),
                r.days,
                str(batch.annual_rate),
                batch.day_count,
                batch.due_on.isoformat(),
                f"保证金退还 {r.instruction_ref}",
                r.status,
            ]
        )
    return "\ufeff" + out.getvalue()
