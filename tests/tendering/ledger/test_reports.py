from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

from tendering.core.auth.actor import Actor
from tendering.ledger.imports import import_statement
from tendering.ledger.reports import (
    daily_reconciliation,
    deposit_statement,
    render_csv,
    render_pdf,
)
from tests.pdf import dark_pixels, pdf_text, render_first_page
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement


async def _statement_report(open_account, maker):
    a = await open_account()
    async with maker() as session, session.begin():
        await import_statement(
            session,
            csv_statement(
                [
                    Line("R1", 5_000_000, before(), a.number),
                    Line("R2", 10, before(), "8866000000000000"),
                ]
            ),
            actor=Actor.system("test"),
            secrecy=SECRECY,
        )
        return a, await deposit_statement(session, a.number, secrecy=SECRECY)


async def test_deposit_statement_pdf_shows_its_chinese_title(open_account, maker, tmp_path):
    a, report = await _statement_report(open_account, maker)
    pdf = render_pdf(report)
    assert b"/FontFile2" in pdf  # the TrueType font is embedded (a subset)

    png = await asyncio.to_thread(render_first_page, pdf, tmp_path / "page.png")
    assert dark_pixels(png) > 1000  # the page has ink on it, not a blank
    text_out = pdf_text(pdf)
    assert "投标保证金对账单" in text_out
    assert a.number in text_out and "保证金到账" in text_out


async def test_deposit_statement_csv_has_the_running_balance(open_account, maker):
    _, report = await _statement_report(open_account, maker)
    rows = list(csv.reader(io.StringIO(render_csv(report).lstrip("\ufeff"))))
    assert rows[0] == ["投标保证金对账单"]
    assert rows[-1][1:] == ["保证金到账", "R1", "50000.00", "", "50000.00"]


async def test_daily_reconciliation_matches_bank_and_ledger(open_account, maker, tmp_path):
    await _statement_report(open_account, maker)
    day = (DEADLINE - timedelta(hours=1)).date()
    async with maker() as session:
        report = await daily_reconciliation(session, day)
    facts = dict(report.facts)
    assert facts["银行净额 Bank net"] == "50000.10 元"
    assert facts["差额 Difference"] == "0.00 元"
    assert [r[2] for r in report.rows] == ["已入账", "挂账待查 unknown_account"]
    assert "银行对账日报" in pdf_text(render_pdf(report))
