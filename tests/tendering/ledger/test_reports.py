from __future__ import annotations

import asyncio
import csv
import io
import subprocess
from datetime import timedelta

from tendering.core.auth.actor import Actor
from tendering.ledger.imports import import_statement
from tendering.ledger.reports import (
    daily_reconciliation,
    deposit_statement,
    render_csv,
    render_pdf,
)
from tests.tendering.ledger.conftest import DEADLINE, before
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
        )
        return a, await deposit_statement(session, a.number)


def _png_is_not_blank(path) -> bool:
    data = path.read_bytes()
    # a PPM/PGM would be easier; pdftoppm -png gives PNG: decode with the stdlib zlib
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = [], 8
    width = height = 0
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[i + 8 : i + 16])
        if kind == b"IDAT":
            chunks.append(data[i + 8 : i + 8 + length])
        i += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    # any byte that is not white (0xff) beyond the filter bytes means something was drawn
    dark = sum(1 for b in raw if b < 0x80)
    return width > 0 and height > 0 and dark > 1000


async def test_deposit_statement_pdf_shows_its_chinese_title(open_account, maker, tmp_path):
    a, report = await _statement_report(open_account, maker)
    pdf = render_pdf(report)
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    assert b"/FontFile2" in pdf  # the TrueType font is embedded (a subset)

    def extract() -> str:
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                str(path),
                str(tmp_path / "page"),
            ],
            check=True,
        )
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout

    text_out = await asyncio.to_thread(extract)
    assert "投标保证金对账单" in text_out
    assert a.number in text_out and "保证金到账" in text_out
    (png,) = tmp_path.glob("page*.png")
    assert _png_is_not_blank(png)


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
    pdf = render_pdf(report)
    (tmp_path / "r.pdf").write_bytes(pdf)
    out = await asyncio.to_thread(
        subprocess.run,
        ["pdftotext", str(tmp_path / "r.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "银行对账日报" in out.stdout
