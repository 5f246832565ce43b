"""The deposit_account table read as a database administrator would: it must not say who
paid a deposit for which lot, or how many did (招标投标法第二十二条)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind
from tendering.core.clock import rfc3339
from tendering.core.secrecy import Secrecy
from tendering.ledger import deposit_status, get_deposit, reveal_deposits
from tendering.ledger.holders import SealedTermsBroken, open_terms
from tendering.ledger.imports import import_statement
from tendering.ledger.service import list_deposits
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement

STAFF = Actor.system("dba-test")
# Two lots with their own public terms; one bidder bids on both.
LOTS = {
    "lot:JY-2026-0042-01": (4_321_000, DEADLINE),
    "lot:JY-2026-0077-02": (9_876_500, DEADLINE + timedelta(days=3)),
}
BIDS = {"lot:JY-2026-0042-01": [0, 1, 2], "lot:JY-2026-0077-02": [2, 3]}
COLUMNS = {
    "id",
    "number",
    "holder_tag",
    "terms",
    "state",
    "ledger_account_id",
    "reason",
    "created_at",
    "nonce",
}


@pytest.fixture
async def paid(people, open_account, maker):
    """Four bidders, two lots, five accounts, every deposit paid by bank statement."""
    orgs = [
        await people.organization(OrgKind.BIDDER, code=f"BID-SECRET-{n}", name=f"保密建设{n}公司")
        for n in range(4)
    ]
    accounts = []
    for subject, bidders in BIDS.items():
        due, deadline = LOTS[subject]
        for n in bidders:
            accounts.append(
                await open_account(subject=subject, due=due, deadline=deadline, org_id=orgs[n].id)
            )
    names = {o.id: o.name for o in orgs}
    lines = [
        Line(f"PAY-{i}", a.amount_due_fen, before(), a.number, name=names[a.bidder_org_id])
        for i, a in enumerate(accounts)
    ]
    async with maker() as session, session.begin():
        result = await import_statement(session, csv_statement(lines), secrecy=SECRECY, actor=STAFF)
    assert result.booked == len(accounts)
    return orgs, accounts


async def _table(maker) -> tuple[list[str], list[tuple]]:
    async with maker() as session:
        result = await session.execute(text("SELECT * FROM deposit_account ORDER BY id"))
        return list(result.keys()), [tuple(r) for r in result.all()]


async def test_no_column_names_a_lot_an_organization_an_amount_or_a_deadline(paid, maker):
    orgs, _ = paid
    columns, rows = await _table(maker)
    assert set(columns) == COLUMNS
    assert len(rows) == 5
    words = [*LOTS, *(s.split(":", 1)[1] for s in LOTS)]
    words += [o.code for o in orgs] + [o.name for o in orgs]
    values: list[object] = [o.id for o in orgs]
    for due, deadline in LOTS.values():
        values += [due, str(due), deadline, rfc3339(deadline), deadline.isoformat()]
    for row in rows:
        by_name = dict(zip(columns, row, strict=True))
        # the only numbers are the row's own ids; the only time is when the row was made
        assert {c for c, v in by_name.items() if isinstance(v, int)} == {"id", "ledger_account_id"}
        assert {c for c, v in by_name.items() if isinstance(v, datetime)} == {"created_at"}
        for column, cell in by_name.items():
            if column not in ("id", "ledger_account_id"):
                assert cell not in values, (column, cell)
            if isinstance(cell, str):
                assert not any(w in cell for w in words), (column, cell)


async def test_no_column_groups_the_rows_so_no_group_by_counts_a_lots_bidders(paid, maker):
    columns, rows = await _table(maker)
    for i, column in enumerate(columns):
        seen = [row[i] for row in rows]
        # Either one value for all (state, reason) or one per row (tags, boxes, numbers, ...):
        # never a value shared by some rows, which would name a group such as a lot.
        assert len(set(seen)) in (1, len(rows)), (column, seen)
    tags = [row[columns.index("holder_tag")] for row in rows]
    assert all(len(t) == 64 and int(t, 16) >= 0 for t in tags)


async def test_the_ledger_accounts_name_only_the_random_number(paid, maker):
    _, accounts = paid
    async with maker() as session:
        codes = (
            await session.execute(
                text(
                    "SELECT a.code FROM ledger_account a JOIN deposit_account d"
                    " ON d.ledger_account_id = a.id ORDER BY d.id"
                )
            )
        ).scalars()
        assert list(codes) == [f"deposit:{a.number}" for a in accounts]


async def test_the_boxes_open_with_the_platform_key_only_and_only_in_their_own_row(paid, maker):
    _, accounts = paid
    columns, rows = await _table(maker)
    row = dict(zip(columns, rows[0], strict=True))
    other = dict(zip(columns, rows[1], strict=True))
    terms = open_terms(
        SECRECY, number=row["number"], holder_tag=row["holder_tag"], box=row["terms"]
    )
    assert (terms.bidder_org_id, terms.subject) == (accounts[0].bidder_org_id, accounts[0].subject)
    stranger = Secrecy.from_seed(os.urandom(32))
    with pytest.raises(InvalidTag):
        stranger.open(f"deposit:{row['number']}", row["terms"])
    with pytest.raises(SealedTermsBroken):
        open_terms(stranger, number=row["number"], holder_tag=row["holder_tag"], box=row["terms"])
    # A box, or a box with its tag, moved into another row is refused, not read as that row's.
    with pytest.raises(SealedTermsBroken):
        open_terms(SECRECY, number=row["number"], holder_tag=row["holder_tag"], box=other["terms"])
    with pytest.raises(SealedTermsBroken):
        open_terms(SECRECY, number=other["number"], holder_tag=row["holder_tag"], box=row["terms"])


async def test_the_platform_still_finds_every_account_by_lot_and_by_bidder(paid, maker):
    orgs, accounts = paid
    async with maker() as session, session.begin():
        for subject, bidders in BIDS.items():
            listed = await list_deposits(session, secrecy=SECRECY, subject=subject)
            assert sorted(v.bidder_org_id for v in listed) == sorted(orgs[n].id for n in bidders)
            assert {(v.amount_due_fen, v.deadline) for v in listed} == {LOTS[subject]}
        both = await list_deposits(session, secrecy=SECRECY, bidder_org_id=orgs[2].id)
        assert sorted(v.subject for v in both) == sorted(LOTS)
        for a in accounts:
            found = await get_deposit(
                session, secrecy=SECRECY, bidder_org_id=a.bidder_org_id, subject=a.subject
            )
            assert found.number == a.number
            status = await deposit_status(
                session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
            )
            assert status.state == "received"
        # Under another key the same questions find nothing at all.
        stranger = Secrecy.from_seed(os.urandom(32))
        for subject in LOTS:
            assert await list_deposits(session, secrecy=stranger, subject=subject) == []
            assert (
                await reveal_deposits(session, secrecy=stranger, subject=subject, actor=STAFF) == 0
            )
        status = await deposit_status(
            session, orgs[0].id, "lot:JY-2026-0042-01", DEADLINE, secrecy=stranger
        )
        assert status.state == "none"
