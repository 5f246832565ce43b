from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.errors import InvalidInput
from tendering.ledger import deposit_status
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import balances, platform_accounts
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, camt053, csv_statement

STAFF = Actor.system("test-staff")


async def _import(maker, raw):
    async with maker() as session, session.begin():
        return await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def _lines(maker):
    async with maker() as session:
        rows = (
            await session.execute(
                text("SELECT bank_ref, status, reason FROM statement_line ORDER BY id")
            )
        ).all()
    return {r.bank_ref: (r.status, r.reason) for r in rows}


@pytest.mark.parametrize("build", [csv_statement, camt053])
async def test_lines_are_matched_or_parked_with_reason(open_account, maker, build):
    a = await open_account(due=5_000_000)
    b = await open_account(due=5_000_000)
    c = await open_account(due=5_000_000)
    d = await open_account(due=5_000_000)
    raw = build(
        [
            Line("R1", 5_000_000, before(), a.number),
            Line("R2", 4_000_000, before(), b.number),
            Line("R3", 6_000_000, before(), c.number),
            Line("R4", 5_000_000, DEADLINE + timedelta(seconds=1), d.number),
            Line("R5", 5_000_000, before(), "8866000000000000"),
        ]
    )
    result = await _import(maker, raw)
    assert (result.booked, result.suspense, result.lines) == (3, 2, 5)
    # on the bidder's own account, short and over are the bidder's (partial / an excess)
    assert await _lines(maker) == {
        "R1": ("booked", ""),
        "R2": ("booked", ""),
        "R3": ("booked", ""),
        "R4": ("suspense", "after_deadline"),
        "R5": ("suspense", "unknown_account"),
    }
    async with maker() as session:
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
        assert (status.state, status.received_fen) == ("received", 5_000_000)
        short = await deposit_status(session, b.bidder_org_id, b.subject, DEADLINE, secrecy=SECRECY)
        assert (short.state, short.received_fen) == ("partial", 4_000_000)
        over = await deposit_status(session, c.bidder_org_id, c.subject, DEADLINE, secrecy=SECRECY)
        assert (over.state, over.received_fen) == ("received", 6_000_000)
        late = await deposit_status(session, d.bidder_org_id, d.subject, DEADLINE, secrecy=SECRECY)
        assert late.state == "none"
        ids = await platform_accounts(session)
        bal = await balances(session, [ids["suspense"], ids["bank_clearing"]])
        assert bal[ids["suspense"]].credits_posted == 10_000_000
        assert bal[ids["bank_clearing"]].debits_posted == 25_000_000


async def test_importing_the_same_file_twice_changes_nothing(open_account, maker):
    a = await open_account()
    raw = csv_statement([Line("R1", 5_000_000, before(), a.number)])
    first = await _import(maker, raw)
    second = await _import(maker, raw)
    assert not first.already_imported and second.already_imported
    assert second.statement_id == first.statement_id
    async with maker() as session:
        n = (await session.execute(text("SELECT count(*) FROM ledger_transfer"))).scalar()
    assert n == 1


async def test_a_line_seen_in_an_earlier_statement_is_skipped(open_account, maker):
    a = await open_account()
    line = Line("R1", 5_000_000, before(), a.number)
    await _import(maker, csv_statement([line]))
    again = await _import(maker, camt053([line, Line("R2", 100, before(), "x")]))
    assert (again.duplicates, again.booked, again.suspense) == (1, 0, 1)


async def test_partial_payments_complete_the_deposit(open_account, maker):
    a = await open_account(due=5_000_000)
    await _import(maker, csv_statement([Line("R1", 2_000_000, before(90), a.number)]))
    async with maker() as session:
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
    assert (status.state, status.received_fen) == ("partial", 2_000_000)
    await _import(maker, csv_statement([Line("R2", 3_000_000, before(30), a.number)]))
    async with maker() as session:
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
    assert (status.state, status.received_fen) == ("received", 5_000_000)
    assert await _lines(maker) == {"R1": ("booked", ""), "R2": ("booked", "")}


@pytest.mark.parametrize(
    ("raw", "line", "words"),
    [
        (b"bank_account,bank_ref\n", 1, "header"),
        (
            csv_statement([Line("R1", 100, before(), "x"), Line("R1", 200, before(), "x")]),
            3,
            "repeats",
        ),
        (
            csv_statement([Line("R1", 100, before(), "x")]).replace(b"1.00", b"1.001"),
            2,
            "two decimals",
        ),
        (
            csv_statement([Line("R1", 100, before(), "x")]).replace(b"1.00", b"1e3"),
            2,
            "no exponent",
        ),
        (csv_statement([Line("R1", 100, before(), "x")]).replace(b",C,", b",X,"), 2, "direction"),
        (
            camt053([Line("R1", 100, before(), "x")]).replace(b"</Ntry>", b"</Ntr>"),
            20,
            "well-formed",
        ),
        (camt053([Line("R1", 100, before(), "x")]).replace(b"CRDT", b"CREDIT"), 8, "CdtDbtInd"),
    ],
)
async def test_a_malformed_file_is_refused_whole_with_line_and_problem(maker, raw, line, words):
    with pytest.raises(InvalidInput) as info:
        await _import(maker, raw)
    assert info.value.details["line"] == line
    assert words in info.value.details["problem"]
    async with maker() as session:
        n = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM statement_line) + (SELECT count(*) FROM"
                    " ledger_transfer) + (SELECT count(*) FROM bank_statement)"
                )
            )
        ).scalar()
    assert n == 0
