"""Resolving suspense (待查明款项): staff assign, refund or split a parked credit line.

    lines = await list_suspense(session, secrecy=secrecy)   # payers opened for staff
    await resolve_suspense(session, line_id, secrecy=secrecy, assign=[("8866...", 5_000_000)],
                           refund_fen=0, actor=staff, note="付款人来电确认")

Every resolution is one transaction: the line moves ``suspense`` → ``resolved`` with a
guarded update (two staff resolving the same line: the second gets a 409), the transfers
out of suspense are written, and the action is recorded in the global audit stream. Money
assigned keeps the bank's value time, so a late payment stays late for eligibility.

Which account got the money stays secret until its subject's opening: the event names each
assignment only by its amount and a commitment opened by the account's nonce
(``deposit.revealed``), and a refund next to an assignment leaves out the payer, who would
otherwise be named next to money for a lot. The line's payer, account and memo are
stored sealed (``payers.py``): listing opens them with the platform key, and a refund opens
its line's to pay the money back the way it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, ErrorCode, NotFound, RuleViolation
from tendering.core.pagination import LimitOffset, paginate
from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.models import StatementLine
from tendering.ledger.payers import open_payer
from tendering.ledger.postings import TransferSpec, create_transfer, platform_accounts
from tendering.ledger.refunds import _new_batch, pay_out
from tendering.ledger.rules import DEFAULT_POLICY

__all__ = ["SuspenseLine", "list_suspense", "resolve_suspense", "suspense_page"]


@dataclass(frozen=True, kw_only=True)
class SuspenseLine:
    id: int
    bank_ref: str
    direction: str
    amount_fen: int
    value_at: Any
    virtual_account: str
    counterparty_name: str
    counterparty_account: str
    memo: str
    reason: str


def _suspense_query() -> Select[Any]:
    line = StatementLine.__table__.c  # type: ignore[attr-defined]
    return (
        select(
            line.id,
            line.bank_account,
            line.bank_ref,
            line.direction,
            line.amount_fen,
            line.value_at,
            line.virtual_account,
            line.payer,
            line.reason,
        )
        .where(line.status == "suspense")
        .order_by(line.id)
    )


def _line(r: Any, secrecy: Secrecy) -> SuspenseLine:
    payer = open_payer(secrecy, bank_account=r.bank_account, bank_ref=r.bank_ref, box=r.payer)
    return SuspenseLine(
        id=r.id,
        bank_ref=r.bank_ref,
        direction=r.direction,
        amount_fen=r.amount_fen,
        value_at=r.value_at,
        virtual_account=r.virtual_account,
        counterparty_name=payer.name,
        counterparty_account=payer.account,
        memo=payer.memo,
        reason=r.reason,
    )


async def suspense_page(
    session: AsyncSession, *, secrecy: Secrecy, page: LimitOffset
) -> tuple[list[SuspenseLine], int]:
    """A page of the lines in suspense, oldest first, each with its payer opened, and how
    many there are."""
    rows, total = await paginate(session, _suspense_query(), page)
    return [_line(r, secrecy) for r in rows], total


async def list_suspense(session: AsyncSession, *, secrecy: Secrecy) -> list[SuspenseLine]:
    """Every line in suspense, oldest first, each with its payer opened."""
    return [_line(r, secrecy) for r in await session.execute(_suspense_query())]


async def resolve_suspense(
    session: AsyncSession,
    line_id: int,
    *,
    secrecy: Secrecy,
    assign: list[tuple[str, int]],
    refund_fen: int,
    actor: Actor,
    note: str = "",
    paid_on: date | None = None,
) -> dict[str, Any]:
    """Assign parts of a suspense credit to virtual accounts and refund the rest.

    ``assign`` = [(virtual account number, amount fen)]; with ``refund_fen`` they must add
    up to the line's amount exactly. One part is "assign", refund only is "refund", more is
    "split". The refund is an instruction back to the payer, principal only (the money never
    was a deposit, so it earns no deposit interest), to the payer ``secrecy`` opens.
    """
    line = (
        await session.execute(
            text(
                "UPDATE statement_line SET status = 'resolved', resolution = :note"
                " WHERE id = :id AND status = 'suspense' RETURNING id, direction, amount_fen,"
                " value_at, bank_account, bank_ref, payer, booked_on"
            ),
            {"id": line_id, "note": note[:500]},
        )
    ).one_or_none()
    if line is None:
        await _explain_missing(session, line_id)
    if line.direction != "C":
        raise RuleViolation(
            "only money received (C lines) can be assigned or refunded", field="line_id"
        )
    parts = sum(a for _, a in assign) + refund_fen
    if any(a <= 0 for _, a in assign) or refund_fen < 0 or parts != line.amount_fen:
        raise RuleViolation(
            f"the parts must be more than 0 and add up to the line's {line.amount_fen} fen;"
            f" they add up to {parts}",
            code=ErrorCode.LEDGER_SPLIT_MISMATCH,
            field="assign",
        )
    ids = await platform_accounts(session)
    done = [await _assign(session, line, n, part, ids) for n, part in enumerate(assign, 1)]
    refund = None
    if refund_fen:
        refund = await _refund(session, line, refund_fen, ids, actor, paid_on, secrecy)
    action = (
        "suspense.refunded"
        if not assign
        else ("suspense.assigned" if len(assign) == 1 and not refund_fen else "suspense.split")
    )
    payload = {
        "line": line_id,
        "bank_ref": line.bank_ref,
        "amount_fen": line.amount_fen,
        "assigned": [{"number": d["number"], "amount_fen": d["amount_fen"]} for d in done],
        "refund": refund,
        "note": note,
    }
    await record(
        session,
        stream=GLOBAL,
        action=action,
        actor=actor,
        payload=_hidden(payload, done),
    )
    return payload


def _hidden(payload: dict[str, Any], done: list[dict[str, Any]]) -> dict[str, Any]:
    """The payload as the audit chain holds it before the accounts' subjects are opened."""
    refund = payload["refund"]
    if refund is not None and done:
        refund = {k: v for k, v in refund.items() if k not in ("payee_name", "payee_account")}
    return payload | {
        "assigned": [{"amount_fen": d["amount_fen"], "commitment": d["commitment"]} for d in done],
        "refund": refund,
    }


async def _assign(
    session: AsyncSession, line: Any, n: int, part: tuple[str, int], ids: dict[str, int]
) -> dict[str, Any]:
    """Part ``n`` of a suspense line to a virtual account, keeping the bank's value time."""
    number, amount = part
    # By number alone: the money goes where the staff say, and nothing here needs to know
    # (so to open) whose account it is or for which lot.
    deposit = (
        await session.execute(
            text("SELECT id, ledger_account_id, nonce FROM deposit_account WHERE number = :n"),
            {"n": number},
        )
    ).one_or_none()
    if deposit is None:
        raise NotFound(
            "没有这个保证金子账号 no such deposit account", code=ErrorCode.LEDGER_NO_DEPOSIT
        )
    nonce = deposit.nonce
    await create_transfer(
        session,
        TransferSpec(
            key=f"resolve:{line.id}:{n}",
            debit=ids["suspense"],
            credit=deposit.ledger_account_id,
            amount_fen=amount,
            kind="suspense.assigned",
            reference=line.bank_ref,
            value_at=line.value_at,
        ),
    )
    if n == 1:  # the line shows (and refunds go back to the payer of) its first account
        await session.execute(
            text("UPDATE statement_line SET deposit_account_id = :d WHERE id = :id"),
            {"d": deposit.id, "id": line.id},
        )
    fields = rules.committed_assignment(line=line.id, part=n, number=number, amount_fen=amount)
    return {"number": number, "amount_fen": amount, "commitment": rules.commitment(fields, nonce)}


async def _explain_missing(session: AsyncSession, line_id: int) -> NoReturn:
    status = (
        await session.execute(
            text("SELECT status FROM statement_line WHERE id = :id"), {"id": line_id}
        )
    ).scalar_one_or_none()
    if status is None:
        raise NotFound(f"no statement line {line_id}", code=ErrorCode.LEDGER_NO_LINE)
    raise Conflict(
        f"statement line {line_id} is {status}, not in suspense; it was already dealt with",
        code=ErrorCode.LEDGER_NOT_IN_SUSPENSE,
    )


async def _refund(
    session: AsyncSession,
    line: Any,
    amount: int,
    ids: dict[str, int],
    actor: Actor,
    paid_on: date | None,
    secrecy: Secrecy,
) -> dict[str, Any]:
    payer = open_payer(
        secrecy, bank_account=line.bank_account, bank_ref=line.bank_ref, box=line.payer
    )
    batch_id, code = await _new_batch(
        session,
        subject="",
        paid_on=paid_on or line.booked_on,
        policy=DEFAULT_POLICY,
        actor=actor,
    )
    ref = f"{code}-0001"
    await create_transfer(
        session,
        TransferSpec(
            key=f"resolve:{line.id}:refund",
            debit=ids["suspense"],
            credit=ids["refunds_payable"],
            amount_fen=amount,
            kind="suspense.refunded",
            reference=ref,
        ),
    )
    return await pay_out(
        session,
        secrecy=secrecy,
        batch_id=batch_id,
        instruction_ref=ref,
        payee=(payer.name, payer.account),
        principal_fen=amount,
        interest_fen=0,
        days=0,
        statement_line_id=line.id,
    )
