from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from tendering.cli import main
from tendering.core.auth.actor import Actor
from tendering.ledger.imports import import_statement
from tests.tendering.ledger.conftest import SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement

# The CLI runs on an event loop and a connection of its own: it must see committed rows.
pytestmark = pytest.mark.committed


async def _run(database_url: str) -> tuple[int, str]:
    def invoke() -> tuple[int, str]:
        result = CliRunner().invoke(main, ["ledger", "verify"], env={"DATABASE_URL": database_url})
        return result.exit_code, result.output

    return await asyncio.to_thread(invoke)


async def test_ledger_verify_passes_then_catches_a_tampered_balance(
    open_account, maker, database_url
):
    a = await open_account()
    async with maker() as session, session.begin():
        await import_statement(
            session,
            csv_statement([Line("R1", 5_000_000, before(), a.number)]),
            actor=Actor.system("test"),
            secrecy=SECRECY,
        )
    code, output = await _run(database_url)
    assert (code, output.startswith("ledger OK")) == (0, True)
    async with maker() as session, session.begin():
        await session.execute(
            text("UPDATE ledger_account SET credits_posted = credits_posted + 1 WHERE id = :id"),
            {"id": a.ledger_account_id},
        )
    code, output = await _run(database_url)
    assert code == 1
    assert f"account deposit:{a.number}" in output
    assert "posted debits 5000000 ≠ posted credits 5000001" in output
    async with maker() as session, session.begin():  # put it back for the closing verify
        await session.execute(
            text("UPDATE ledger_account SET credits_posted = credits_posted - 1 WHERE id = :id"),
            {"id": a.ledger_account_id},
        )


async def test_ledger_verify_catches_a_line_neither_booked_nor_parked(
    open_account, maker, database_url
):
    a = await open_account()
    async with maker() as session, session.begin():
        await import_statement(
            session,
            csv_statement([Line("R1", 5_000_000, before(), a.number)]),
            actor=Actor.system("test"),
            secrecy=SECRECY,
        )
        await session.execute(text("UPDATE statement_line SET transfer_id = NULL"))
    code, output = await _run(database_url)
    assert code == 1 and "bank_ref R1" in output
    async with maker() as session, session.begin():
        await session.execute(
            text("UPDATE statement_line SET transfer_id = (SELECT min(id) FROM ledger_transfer)")
        )


async def test_ledger_verify_catches_a_refund_marked_paid_without_its_payment(
    open_account, maker, database_url
):
    from datetime import date

    from tendering.ledger import create_refund_batch

    a = await open_account()
    async with maker() as session, session.begin():
        await import_statement(
            session,
            csv_statement([Line("R1", 5_000_000, before(), a.number)]),
            actor=Actor.system("test"),
            secrecy=SECRECY,
        )
        await create_refund_batch(
            session,
            subject=a.subject,
            paid_on=date(2026, 12, 5),
            actor=Actor.system("test"),
            secrecy=SECRECY,
        )
        await session.execute(text("UPDATE refund_line SET status = 'paid'"))
    code, output = await _run(database_url)
    assert code == 1 and "is paid but its payment transfer is pending" in output
    async with maker() as session, session.begin():
        await session.execute(text("UPDATE refund_line SET status = 'pending'"))
