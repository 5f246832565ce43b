"""Reports: a bidder's deposit statement (保证金对账单) and the daily bank reconciliation
(银行对账日报), as PDF and CSV.

    report = await deposit_statement(session, number, secrecy=secrecy)
    report = await daily_reconciliation(session, day)
    pdf_bytes, csv_text = render_pdf(report), render_csv(report)

Rendering (and the CJK font) is ``tendering.core.reports``; this module gathers the facts.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.money import yuan
from tendering.core.reports import Report, render_csv, render_pdf
from tendering.core.secrecy import Secrecy
from tendering.ledger.eligibility import deposit_status
from tendering.ledger.payers import open_payee
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
                " AND state <> 'voided' ORDER BY coalesce(value_at, created_at), id"
            ),
            {"id": deposit.ledger_account_id},
        )
    ).all()
    balance = 0
    table = []
    for r in rows:
        balance += r.amount_fen if r.is_credit else -r.amount_fen
        when = (r.value_at or r.created_at).astimezone(CHINA)
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
    return Report(
        title="银行对账日报",
        facts=[
            ("记账日期 Booking date", day.isoformat()),
            ("银行净额 Bank net", f"{yuan(bank_total)} 元"),
            ("账务净额 Ledger net", f"{yuan(ledger_total)} 元"),
            ("差额 Difference", f"{yuan(bank_total - ledger_total)} 元"),
            ("全部待查 Open suspense", f"{open_suspense[0]} 笔 / {yuan(int(open_suspense[1]))} 元"),
        ],
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


async def instructions_csv(session: AsyncSession, batch_code: str, *, secrecy: Secrecy) -> str:
    """The payment instruction file for the bank (UTF-8 with BOM, so Excel reads it), the
    payees opened with the platform key."""
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
                " FROM refund_line WHERE batch_id = :id ORDER BY instruction_ref"
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


async def list_statements(session: AsyncSession, *, limit: int = 100) -> list[dict[str, Any]]:
    """Imported statements, newest first, with how their lines stand now."""
    rows = (
        await session.execute(
            text(
                "SELECT s.id, s.file_sha256 AS sha256, s.format, s.bank_account,"
                " s.statement_ref, s.line_count, s.imported_by, s.imported_at,"
                " count(l.id) FILTER (WHERE l.status = 'booked') AS booked,"
                " count(l.id) FILTER (WHERE l.status = 'suspense') AS suspense,"
                " count(l.id) FILTER (WHERE l.status = 'resolved') AS resolved"
                " FROM bank_statement s LEFT JOIN statement_line l ON l.statement_id = s.id"
                " GROUP BY s.id ORDER BY s.id DESC LIMIT :limit"
            ),
            {"limit": limit},
        )
    ).all()
    return [dict(r._mapping) for r in rows]


async def list_refund_batches(session: AsyncSession, *, limit: int = 100) -> list[dict[str, Any]]:
    """Refund batches, newest first, with their totals and how many lines are paid."""
    rows = (
        await session.execute(
            text(
                "SELECT b.code, b.subject, b.paid_on, b.due_on, b.annual_rate, b.day_count,"
                " b.created_by, b.created_at, count(f.id) AS lines,"
                " count(f.id) FILTER (WHERE f.status = 'paid') AS paid,"
                " coalesce(sum(f.principal_fen), 0) AS principal_fen,"
                " coalesce(sum(f.interest_fen), 0) AS interest_fen"
                " FROM refund_batch b LEFT JOIN refund_line f ON f.batch_id = b.id"
                " GROUP BY b.id ORDER BY b.id DESC LIMIT :limit"
            ),
            {"limit": limit},
        )
    ).all()
    return [
        {
            **r._mapping,
            "annual_rate": str(r.annual_rate),
            "principal_fen": int(r.principal_fen),
            "interest_fen": int(r.interest_fen),
        }
        for r in rows
    ]
