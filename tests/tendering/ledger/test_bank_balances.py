"""Reconciliation against the bank: each statement's ``OPBD``/``CLBD`` balance against the
platform's bank clearing account as of that statement; ``ledger verify``, the API and the
daily reconciliation report show a difference to the fen, with what explains it."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from tendering.cli import main
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.ledger import create_refund_batch
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.imports import import_statement
from tendering.ledger.reports import daily_reconciliation, render_csv, render_pdf
from tendering.ledger.rules import CHINA
from tendering.ledger.verify import verify_ledger
from tests.pdf import pdf_text
from tests.tendering.ledger.camt import Bank, entry, statement, tx
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before

STAFF = Actor.system("test-staff")
DAY = timedelta(days=1)
DIFFERENCE = re.compile(r"(?<![\d.])1234\.56")  # the missing day's 1,234.56 yuan, alone
UNEXPLAINED = "未解释余额差额 Unexplained balance difference"


async def _import(maker, raw):
    async with maker() as session, session.begin():
        return await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def _problems(maker):
    async with maker() as session:
        return await verify_ledger(session)


async def _cli(database_url):
    def invoke():
        result = CliRunner().invoke(main, ["ledger", "verify"], env={"DATABASE_URL": database_url})
        return result.exit_code, result.output

    return await asyncio.to_thread(invoke)


def _days(a_number, b_number):
    """Three days of statements: each opens where the last closed."""
    bank = Bank()
    return [
        bank.camt([entry("C1", before(60 * 24 * 3), tx(5_000_000, a_number))]),
        bank.camt([entry("C2", before(60 * 24 * 2), tx(123_456, "8866000000000000"))]),
        bank.camt([entry("C3", before(60 * 24), tx(5_000_000, b_number))]),
    ]


async def test_statements_that_agree_with_the_books_pass(
    open_account, maker, people, login, client
):
    a, b = await open_account(), await open_account()
    for raw in _days(a.number, b.number):
        result = await _import(maker, raw)
        assert result.closing_fen is not None and result.difference_fen == 0
    assert await _problems(maker) == []
    h = await login(await people.user(Role.SUPERVISOR))
    listed = (await client.get("/api/ledger/statements", headers=h)).json()["items"]
    assert [
        (s["statement_ref"], s["closing_fen"], s["books_closing_fen"], s["difference_fen"])
        for s in listed
    ] == [
        ("STMT-3", 10_123_456, 10_123_456, 0),
        ("STMT-2", 5_123_456, 5_123_456, 0),
        ("STMT-1", 5_000_000, 5_000_000, 0),
    ]


async def test_every_statement_is_reachable_page_by_page(
    open_account, maker, people, login, client
):
    a, b = await open_account(), await open_account()
    for raw in _days(a.number, b.number):
        await _import(maker, raw)
    h = await login(await people.user(Role.SUPERVISOR))
    pages = [
        (
            await client.get(
                "/api/ledger/statements", params={"page_size": 2, "current_page": n}, headers=h
            )
        ).json()
        for n in (1, 2, 3)
    ]
    assert [[s["statement_ref"] for s in p["items"]] for p in pages] == [
        ["STMT-3", "STMT-2"],
        ["STMT-1"],
        [],
    ]
    assert [(p["total"], p["limit"], p["offset"]) for p in pages] == [
        (3, 2, 0),
        (3, 2, 2),
        (3, 2, 4),
    ]
    too_big = await client.get("/api/ledger/statements", params={"page_size": 101}, headers=h)
    assert too_big.status_code == 400 and too_big.json()["code"] == "input.invalid"


@pytest.mark.committed
async def test_a_missing_statement_fails_verify_to_the_fen(
    open_account, maker, people, login, client, database_url
):
    a, b = await open_account(), await open_account()
    first, second, third = _days(a.number, b.number)
    await _import(maker, first)
    result = await _import(maker, third)  # the second day's statement never came
    assert result.difference_fen == 123_456
    problems = await _problems(maker)
    assert problems and all("STMT-3" in p for p in problems), problems
    text_ = " ".join(problems)
    assert DIFFERENCE.search(text_) and "STMT-1" in text_  # the amount, the gap after STMT-1
    code, output = await _cli(database_url)
    assert code == 1 and DIFFERENCE.search(output)
    h = await login(await people.user(Role.SUPERVISOR))
    verify = (await client.get("/api/ledger/verify", headers=h)).json()
    assert verify["ok"] is False and any(DIFFERENCE.search(p) for p in verify["problems"])
    await _import(maker, second)  # it comes after all: bank and books agree again
    assert await _problems(maker) == []
    code, output = await _cli(database_url)
    assert code == 0, output


async def test_a_statement_whose_lines_do_not_make_its_balances(open_account, maker):
    a = await open_account()
    paid = [entry("C1", before(), tx(5_000_000, a.number))]
    await _import(maker, statement(paid, opening_fen=0, closing_fen=5_000_001))
    problems = await _problems(maker)
    assert len(problems) == 1 and re.search(r"(?<![\d.])0\.01 元", problems[0])
    assert "not in the file" in problems[0]
    async with maker() as session, session.begin():  # the bank's corrected figure
        await session.execute(text("UPDATE bank_statement SET closing_fen = 5000000"))


async def test_the_daily_reconciliation_shows_the_difference_and_what_explains_it(
    open_account, maker
):
    a, b = await open_account(), await open_account()
    first, second, third = _days(a.number, b.number)
    await _import(maker, first)
    await _import(maker, third)
    day = before(60 * 24).astimezone(CHINA).date()
    async with maker() as session:
        report = await daily_reconciliation(session, day)
    assert dict(report.facts)[UNEXPLAINED] == "1234.56 元"
    words = pdf_text(render_pdf(report))
    assert "STMT-3" in words and "STMT-1" in words and DIFFERENCE.search(words)
    assert DIFFERENCE.search(render_csv(report))
    await _import(maker, second)
    async with maker() as session:
        report = await daily_reconciliation(session, day)
    assert dict(report.facts)[UNEXPLAINED] == "0.00 元"
    assert report.notes == []  # nothing left to explain


async def test_a_refund_confirmed_by_hand_is_an_outstanding_item_until_the_bank_pays_it(
    open_account, maker
):
    a = await open_account()
    bank = Bank()
    await _import(maker, bank.camt([entry("C1", before(60 * 24 * 10), tx(5_000_000, a.number))]))
    async with maker() as session, session.begin():
        batch = await create_refund_batch(
            session, subject=a.subject, paid_on=date(2026, 12, 10), actor=STAFF, secrecy=SECRECY
        )
        (line,) = batch.lines
        await confirm_refund_paid(
            session,
            instruction_ref=line["instruction_ref"],
            bank_ref="OUT1",
            paid_at=DEADLINE + 2 * DAY,
            actor=STAFF,
        )
    # the bank's statement of a later day does not show the payment yet
    other = entry("C2", DEADLINE + 3 * DAY, tx(100, "8866000000000000"))
    result = await _import(maker, bank.camt([other]))
    total = line["principal_fen"] + line["interest_fen"]
    assert result.difference_fen == total  # the bank still holds what the books paid out
    assert await _problems(maker) == []  # explained: an outstanding item, not a disagreement
    day = (DEADLINE + 3 * DAY).astimezone(CHINA).date()
    async with maker() as session:
        report = await daily_reconciliation(session, day)
    assert line["instruction_ref"] in render_csv(report)
    paid = entry(
        "OUT1",
        DEADLINE + 4 * DAY,
        tx(total, memo=f"保证金退还 {line['instruction_ref']}"),
        credit=False,
    )
    result = await _import(maker, bank.camt([paid]))
    assert result.difference_fen == 0
