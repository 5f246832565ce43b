"""A camt.053 entry carrying several transactions (a batch of transfers to different virtual
accounts): every transaction is booked on its own, or the whole statement is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.ledger import deposit_status
from tendering.ledger.imports import import_statement
from tendering.ledger.statements import MalformedStatement, parse_statement
from tendering.ledger.suspense import list_suspense
from tests.tendering.ledger.camt import entry, statement, tx
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before

STAFF = Actor.system("test-staff")


async def _import(maker, raw):
    async with maker() as session, session.begin():
        return await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def _status(maker, deposit):
    async with maker() as session:
        return await deposit_status(
            session, deposit.bidder_org_id, deposit.subject, DEADLINE, secrecy=SECRECY
        )


@pytest.mark.parametrize("version", ["02", "08"])
def test_each_transaction_of_a_batch_entry_is_a_line_of_its_own(version):
    raw = statement(
        [
            entry(
                "B1",
                before(),
                tx(5_000_000, "8866000000000001", ref="B1-T1", name="甲公司", account="111"),
                tx(3_000_000, "8866000000000002", ref="B1-T2", name="乙公司", account="222"),
                tx(2_000_000, "8866000000000003", name="丙公司", account="333", iban=True),
            )
        ],
        version=version,
    )
    lines = parse_statement(raw).lines
    assert [
        (ln.bank_ref, ln.entry_ref, ln.tx_ref, ln.amount_fen, ln.virtual_account) for ln in lines
    ] == [
        ("B1/1", "B1", "B1-T1", 5_000_000, "8866000000000001"),
        ("B1/2", "B1", "B1-T2", 3_000_000, "8866000000000002"),
        ("B1/3", "B1", "", 2_000_000, "8866000000000003"),
    ]
    assert [ln.counterparty_name for ln in lines] == ["甲公司", "乙公司", "丙公司"]
    assert [ln.counterparty_account for ln in lines] == ["111", "222", "333"]


@pytest.mark.parametrize("version", ["02", "08"])
async def test_a_batch_entry_books_every_transfer_to_its_own_account(open_account, maker, version):
    a = await open_account(due=5_000_000)
    b = await open_account(due=3_000_000)
    raw = statement(
        [
            entry(
                "B1",
                before(),
                tx(5_000_000, a.number, ref="T1", name="甲公司", account="6222000000000001"),
                tx(3_000_000, b.number, ref="T2", name="乙公司", account="6222000000000002"),
                tx(700, "8866000000000000", ref="T3", name="丙公司", account="6222000000000003"),
            )
        ],
        version=version,
    )
    result = await _import(maker, raw)
    assert (result.lines, result.booked, result.suspense) == (3, 2, 1)
    assert (await _status(maker, a)).state == "received"
    assert (await _status(maker, b)).state == "received"
    async with maker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT bank_ref, entry_ref, tx_ref, amount_fen, status, reason,"
                    " deposit_account_id FROM statement_line ORDER BY id"
                )
            )
        ).all()
        (stray,) = await list_suspense(session, secrecy=SECRECY)
    assert [tuple(r) for r in rows] == [
        ("B1/1", "B1", "T1", 5_000_000, "booked", "", a.id),
        ("B1/2", "B1", "T2", 3_000_000, "booked", "", b.id),
        ("B1/3", "B1", "T3", 700, "suspense", "unknown_account", None),
    ]
    # the money nobody could attribute is parked with its own payer, not the batch's first
    assert (stray.amount_fen, stray.counterparty_name, stray.counterparty_account) == (
        700,
        "丙公司",
        "6222000000000003",
    )


@pytest.mark.parametrize("version", ["02", "08"])
async def test_a_batch_whose_sum_is_not_the_entry_amount_refuses_the_statement(
    open_account, maker, version
):
    a = await open_account(due=5_000_000)
    raw = statement(
        [
            entry("OK1", before(), tx(5_000_000, a.number)),
            entry(
                "B2",
                before(),
                tx(5_000_000, a.number, ref="T1"),
                tx(3_000_000, "8866000000000002", ref="T2"),
                amount_fen=9_000_000,
            ),
        ],
        version=version,
    )
    with pytest.raises(MalformedStatement) as info:
        await _import(maker, raw)
    problem = info.value.details["problem"]
    assert "B2" in problem and "90000.00" in problem and "80000.00" in problem
    async with maker() as session:
        stored = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM statement_line) + (SELECT count(*) FROM"
                    " ledger_transfer) + (SELECT count(*) FROM bank_statement)"
                )
            )
        ).scalar()
    assert stored == 0  # nothing of the statement, not even the good entry before it
    assert (await _status(maker, a)).state == "none"


async def test_a_batch_transaction_without_an_amount_is_refused():
    raw = statement(
        [entry("B3", before(), tx(100, "8866000000000001", ref="T1"), tx(200, "", ref="T2"))],
        version="08",
    ).replace(b'<Amt Ccy="CNY">2.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>', b"")
    with pytest.raises(MalformedStatement, match="B3"):
        parse_statement(raw)


async def test_a_batch_line_seen_again_in_a_later_statement_is_skipped(open_account, maker):
    a = await open_account(due=5_000_000)
    b = await open_account(due=3_000_000)
    batch = entry("B1", before(), tx(5_000_000, a.number), tx(3_000_000, b.number))
    await _import(maker, statement([batch], stmt_id="S1"))
    # the same day's statement again, by the bank's other channel in the older version
    again = await _import(maker, statement([batch], stmt_id="S1", version="02"))
    assert (again.duplicates, again.booked) == (2, 0)
    assert (await _status(maker, a)).received_fen == 5_000_000
