"""Reports: a bidder's deposit statement (保证金对账单) and the daily bank reconciliation
(银行对账日报), as PDF and CSV.

    report = await deposit_statement(session, number, secrecy=secrecy)
    report = await daily_reconciliation(session, day)
    pdf_bytes, csv_text = render_pdf(report), render_csv(report)

Rendering (and the CJK font) is ``tendering.core.reports``; this module gathers the facts.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core import csvfile
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.money import yuan
from tendering.core.pagination import LimitOffset, paginate
from tendering.core.reports import Report, render_csv, render_pdf
from tendering.core.secrecy import Secrecy
from tendering.ledger.eligibility import deposit_status
from tendering.ledger.models import BankStatement, RefundBatch, RefundLine, StatementLine
from tendering.ledger.payers import open_payee
from tendering.ledger.reconcile import StatementCheck, check_statements
from tendering.ledger.rules import CHINA
from tendering.ledger.service import get_deposit

__all__ = [
    "Report",
    "daily_reconciliation",
    "deposit_statement",
    "instructions_csv",
    "list_refund_batches",
    "list_statements",
    "render_csv",
    "render_pdf",
]

KIND_LABELS = {
    "deposit.received": "保证金到账",
    "deposit.reversed": "银行冲正退回",
    "suspense.assigned": "待查款项划入",
    "refund.principal": "保证金退还",
    "deposit.forfeited": "保证金没收",
    "deposit.converted": "转为价款",
}


async def deposit_statement(session: AsyncSession, number: str, *, secrecy: Secrecy) -> Report:
    """Every movement of one virtual account with its running balance."""
    deposit = await get_deposit(session, secrecy=secrecy, number=number)
    org = (
        await session.execute(
            text("SELECT code, name FROM organization WHERE id = :id"),
            {"id": deposit.bidder_org_id},
        )
    ).one_or_none()
    now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    status = await deposit_status(
        session, deposit.bidder_org_id, deposit.subject, now, secrecy=secrecy
    )
    rows = (
        await session.execute(
            text(
                "SELECT created_at, value_at, kind, reference, state, amount_fen,"
                " credit_account_id = :id AS is_credit FROM ledger_transfer"
                " WHERE (debit_account_id = :id OR credit_account_id = :id)"
                " AND state <> 'voided' ORDER BY CASE WHEN kind = 'deposit.reversed'"
                " THEN created_at ELSE coalesce(value_at, created_at) END, id"
            ),
            {"id": deposit.ledger_account_id},
        )
    ).all()
    balance = 0
    table = []
    for r in rows:
        balance += r.amount_fen if r.is_credit else -r.amount_fen
        when = (
            r.created_at if r.kind == "deposit.reversed" else (r.value_at or r.created_at)
        ).astimezone(CHINA)
        table.append(
            [
                when.strftime("%Y-%m-%d %H:%M"),
                KIND_LABELS.get(r.kind, r.kind),
                r.reference,
                yuan(r.amount_fen) if r.is_credit else "",
                "" if r.is_credit else yuan(r.amount_fen),
                yuan(balance),
            ]
        )
    return Report(
        title="投标保证金对账单",
        facts=[
            ("投标人 Bidder", f"{org.name} ({org.code})" if org else str(deposit.bidder_org_id)),
            ("子账号 Virtual account", deposit.number),
            ("项目 Subject", deposit.subject),
            ("应缴金额 Amount due", f"{yuan(deposit.amount_due_fen)} 元"),
            ("截止时间 Deadline", deposit.deadline.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")),
            (
                "到账状态 Status",
                {"none": "未到账", "partial": "部分到账", "received": "已足额到账"}[status.state]
                + f" ({status.state})",
            ),
            ("账户状态 State", deposit.state),
            ("生成时间 Generated", rfc3339(now)),
        ],
        columns=["日期 Date", "摘要 Entry", "参考号 Ref", "收入 In", "支出 Out", "余额 Balance"],
        rows=table,
        filename=f"deposit-statement-{deposit.number}",
    )


async def daily_reconciliation(session: AsyncSession, day: date) -> Report:
    """Bank lines of one booking day against what the ledger made of them."""
    rows = (
        await session.execute(
            text(
                """
                SELECT l.bank_account, l.direction, l.status, l.reason, count(*) AS n,
                    sum(l.amount_fen) AS bank_fen,
                    sum(CASE WHEN t.state = 'posted' THEN t.amount_fen ELSE 0 END) AS ledger_fen
                FROM statement_line l LEFT JOIN ledger_transfer t ON t.id = l.transfer_id
                WHERE l.booked_on = :day
                GROUP BY l.bank_account, l.direction, l.status, l.reason
                ORDER BY l.bank_account, l.direction, l.status, l.reason
                """
            ),
            {"day": day},
        )
    ).all()
    labels = {"booked": "已入账", "suspense": "挂账待查", "resolved": "已处理"}
    table = []
    bank_total = ledger_total = 0
    for r in rows:
        sign = 1 if r.direction == "C" else -1
        bank_total += sign * int(r.bank_fen)
        ledger_total += sign * int(r.ledger_fen)
        table.append(
            [
                r.bank_account,
                "收 C" if r.direction == "C" else "付 D",
                f"{labels[r.status]} {r.reason}".strip(),
                str(r.n),
                yuan(int(r.bank_fen)),
                yuan(int(r.ledger_fen)),
                yuan(int(r.bank_fen) - int(r.ledger_fen)),
            ]
        )
    open_suspense = (
        await session.execute(
            text(
                "SELECT count(*), coalesce(sum(amount_fen), 0) FROM statement_line"
                " WHERE status = 'suspense'"
            )
        )
    ).one()
    checks = [c for c in await check_statements(session) if c.statement_on == day]
    for c in checks:
        table += _balance_rows(c)
    return Report(
        title="银行对账日报",
        facts=[
            ("记账日期 Booking date", day.isoformat()),
            ("银行净额 Bank net", f"{yuan(bank_total)} 元"),
            ("账务净额 Ledger net", f"{yuan(ledger_total)} 元"),
            ("差额 Difference", f"{yuan(bank_total - ledger_total)} 元"),
            ("全部待查 Open suspense", f"{open_suspense[0]} 笔 / {yuan(int(open_suspense[1]))} 元"),
            (
                "未解释余额差额 Unexplained balance difference",
                f"{yuan(sum(c.unexplained_closing_fen or 0 for c in checks))} 元",
            ),
            ("未追回冲正 Unrecovered reversals", f"{yuan(await _unrecovered(session))} 元"),
        ],
        notes=[p for c in checks if (p := c.problem())]
        + [f"未达账项 outstanding: {o.describe()}" for c in checks for o in c.outstanding],
        columns=[
            "银行账户 Account",
            "方向 Dir",
            "状态 Status",
            "笔数 Lines",
            "银行 Bank",
            "账务 Ledger",
            "差额 Diff",
        ],
        rows=table,
        filename=f"reconciliation-{day.isoformat()}",
    )


def _balance_rows(c: StatementCheck) -> list[list[str]]:
    """The bank's balances against the books (the platform's bank clearing account), and the
    outstanding items that explain part of a difference (银行存款余额调节)."""
    ref = c.statement_ref or str(c.statement_id)
    rows = []
    for label, bank, books in (
        ("期初 OPBD", c.bank_opening_fen, c.books_opening_fen),
        ("期末 CLBD", c.bank_closing_fen, c.books_closing_fen),
    ):
        if bank is not None:
            rows.append(
                [
                    c.bank_account,
                    "余额",
                    f"{label} {ref}",
                    "",
                    yuan(bank),
                    yuan(books),
                    yuan(bank - books),
                ]
            )
    for o in c.outstanding:
        rows.append(
            [
                c.bank_account,
                "未达",
                f"未达账项 {o.reference}",
                "1",
                "",
                yuan(o.amount_fen),
                yuan(-o.amount_fen),
            ]
        )
    return rows


async def _unrecovered(session: AsyncSession) -> int:
    """What reversals could not take back (refunds paid out of money the bank took back)."""
    return int(
        (
            await session.execute(
                text(
                    "SELECT coalesce(sum(CASE WHEN t.debit_account_id = a.id THEN t.amount_fen"
                    " ELSE -t.amount_fen END), 0) FROM ledger_account a JOIN ledger_transfer t"
                    " ON a.id IN (t.debit_account_id, t.credit_account_id)"
                    " WHERE a.code = 'reversal_receivable' AND t.state = 'posted'"
                )
            )
        ).scalar_one()
    )


async def instructions_csv(session: AsyncSession, batch_code: str, *, secrecy: Secrecy) -> str:
    """The payment instruction file for the bank (UTF-8 with BOM, so Excel reads it), the
    payees opened with the platform key. A line still waiting for its payee account (the
    bank left out the payer's) is not in it until staff supply one."""
    batch = (
        await session.execute(
            text("SELECT id, annual_rate, day_count, due_on FROM refund_batch WHERE code = :c"),
            {"c": batch_code},
        )
    ).one_or_none()
    if batch is None:
        raise NotFound(f"no refund batch {batch_code}", code=ErrorCode.LEDGER_NO_BATCH)
    rows = (
        await session.execute(
            text(
                "SELECT instruction_ref, payee, principal_fen, interest_fen, days, status"
                " FROM refund_line WHERE batch_id = :id AND NOT needs_payee"
                " ORDER BY instruction_ref"
            ),
            {"id": batch.id},
        )
    ).all()
    out = io.StringIO()
    writer = csvfile.writer(out)
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
        name, account = open_payee(secrecy, instruction_ref=r.instruction_ref, box=r.payee)
        writer.writerow(
            [
                r.instruction_ref,
                name,
                account,
                yuan(r.principal_fen + r.interest_fen),
                "CNY",
                yuan(r.principal_fen),
                yuan(r.interest_fen),
                r.days,
                str(batch.annual_rate),
                batch.day_count,
                batch.due_on.isoformat(),
                f"保证金退还 {r.instruction_ref}",
                r.status,
            ]
        )
    return "\ufeff" + out.getvalue()


async def list_statements(
    session: AsyncSession, page: LimitOffset
) -> tuple[list[dict[str, Any]], int]:
    """A page of the imported statements, newest first, with how their lines stand now and
    their balances against the books (``ledger/reconcile.py``), and how many there are."""
    statements, lines_ = BankStatement.__table__, StatementLine.__table__  # type: ignore[attr-defined]
    s, line = statements.c, lines_.c

    def lines(status: str) -> Any:
        return func.count(line.id).filter(line.status == status).label(status)

    query = (
        select(
            s.id,
            s.file_sha256.label("sha256"),
            s.format,
            s.bank_account,
            s.statement_ref,
            s.line_count,
            s.imported_by,
            s.imported_at,
            lines("booked"),
            lines("suspense"),
            lines("resolved"),
        )
        .select_from(statements.outerjoin(lines_, line.statement_id == s.id))
        .group_by(s.id)
        .order_by(s.id.desc())
    )
    rows, total = await paginate(session, query, page)
    checks = {c.statement_id: c for c in await check_statements(session)} if rows else {}
    return [{**r._mapping, **_balances(checks.get(r.id))} for r in rows], total


def _balances(c: StatementCheck | None) -> dict[str, int | None]:
    if c is None:
        return {}
    has = c.bank_closing_fen is not None
    return {
        "opening_fen": c.bank_opening_fen,
        "closing_fen": c.bank_closing_fen,
        "books_opening_fen": c.books_opening_fen if c.bank_opening_fen is not None else None,
        "books_closing_fen": c.books_closing_fen if has else None,
        "difference_fen": c.closing_difference_fen,
        "unexplained_fen": c.unexplained_closing_fen,
    }


async def list_refund_batches(
    session: AsyncSession, page: LimitOffset
) -> tuple[list[dict[str, Any]], int]:
    """A page of the refund batches, newest first, with their totals and how many lines are
    paid, and how many batches there are."""
    batches, refund_lines = RefundBatch.__table__, RefundLine.__table__  # type: ignore[attr-defined]
    b, f = batches.c, refund_lines.c
    query = (
        select(
            b.code,
            b.subject,
            b.paid_on,
            b.due_on,
            b.annual_rate,
            b.day_count,
            b.created_by,
            b.created_at,
            func.count(f.id).label("lines"),
            func.count(f.id).filter(f.status == "paid").label("paid"),
            func.coalesce(func.sum(f.principal_fen), 0).label("principal_fen"),
            func.coalesce(func.sum(f.interest_fen), 0).label("interest_fen"),
        )
        .select_from(batches.outerjoin(refund_lines, f.batch_id == b.id))
        .group_by(b.id)
        .order_by(b.id.desc())
    )
    rows, total = await paginate(session, query, page)
    return [
        {
            **r._mapping,
            "annual_rate": str(r.annual_rate),
            "principal_fen": int(r.principal_fen),
            "interest_fen": int(r.interest_fen),
        }
        for r in rows
    ], total
