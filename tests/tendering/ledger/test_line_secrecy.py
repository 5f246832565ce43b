"""Bank statement lines and refund lines read as a database administrator would: no table may
say who paid a deposit, from which account, or with which memo, nor who a refund goes to
(招标投标法第二十二条); the platform, with its key, still shows staff the payer and refunds the
way the money came (原路退回)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.secrecy import Secrecy
from tendering.ledger.payers import SealedPayeeBroken, SealedPayerBroken, open_payer
from tendering.ledger.reports import instructions_csv
from tendering.ledger.suspense import list_suspense
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement

STAFF = Actor.system("dba-test")
PAYER = "保密付款人路桥建设有限公司"
ACCOUNT = "6217000011112222333"
MEMO = "投标保证金 JY-2026-0042-01 附言7731"
# The suspense line: another payer, another account, a memo naming the same lot.
STRAY = ("甲乙丙丁戊己庚辛壬癸工程咨询集团股份有限公司第二分公司", "6217000099998888777", MEMO)
SECRETS = (PAYER, ACCOUNT, MEMO, "JY-2026-0042-01", "附言7731", STRAY[0], STRAY[1])


@pytest.fixture
async def imported(people, login, client):
    """A deposit paid in full by PAYER (booked) and a stray payment (suspense), by the API."""
    bidder = await people.user(Role.BIDDER)
    h = {
        "staff": await login(await people.user(Role.STAFF)),
        "supervisor": await login(await people.user(Role.SUPERVISOR)),
    }
    opened = await client.post(
        "/api/ledger/deposits",
        headers=h["staff"],
        json={
            "bidder_org_id": bidder.organization.id,
            "subject": "lot:L-42",
            "amount_due_fen": 100_000,
            "deadline": DEADLINE.isoformat(),
        },
    )
    assert opened.status_code == 201, opened.text
    raw = csv_statement(
        [
            Line(
                "PAY-1",
                100_000,
                before(),
                opened.json()["number"],
                name=PAYER,
                account=ACCOUNT,
                memo=MEMO,
            ),
            Line(
                "PAY-2",
                700,
                before(),
                "8866000000000000",
                name=STRAY[0],
                account=STRAY[1],
                memo=STRAY[2],
            ),
        ]
    )
    r = await client.post("/api/ledger/statements", headers=h["staff"], content=raw)
    assert (r.json()["booked"], r.json()["suspense"]) == (1, 1), r.text
    return h


def _nowhere(rows: dict[str, list[str]], secrets: Iterable[str]) -> None:
    for table, texts in rows.items():
        for row in texts:
            for secret in secrets:
                assert secret not in row, (table, secret, row)


async def _columns(maker, table: str) -> set[str]:
    async with maker() as session:
        found = await session.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
            {"t": table},
        )
        return set(found.scalars())


async def _every_row_as_text(maker) -> dict[str, list[str]]:
    async with maker() as session:
        tables = (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ).scalars()
        return {
            t: list((await session.execute(text(f'SELECT x::text FROM "{t}" x'))).scalars())
            for t in list(tables)
        }


async def test_no_table_holds_the_payer_its_account_or_the_memo(imported, maker):
    rows = await _every_row_as_text(maker)
    lines = rows["statement_line"]
    assert len(lines) == 2 and all("PAY-" in line for line in lines)  # the scan reads them
    _nowhere(rows, SECRETS)
    columns = await _columns(maker, "statement_line")
    assert {"counterparty_name", "counterparty_account", "memo"}.isdisjoint(columns)


async def test_staff_still_see_the_payer_and_refunds_go_back_to_the_payers_account(
    imported, client
):
    h = imported
    (line,) = (await client.get("/api/ledger/suspense", headers=h["supervisor"])).json()["items"]
    assert (line["bank_ref"], line["amount_fen"]) == ("PAY-2", 700)
    assert (line["counterparty_name"], line["counterparty_account"], line["memo"]) == STRAY
    resolved = await client.post(
        f"/api/ledger/suspense/{line['id']}/resolve",
        headers=h["staff"],
        json={"refund_fen": 700, "note": "退回付款人"},
    )
    assert resolved.status_code == 201, resolved.text
    refund = resolved.json()["refund"]
    assert (refund["payee_name"], refund["payee_account"]) == STRAY[:2]
    batch = await client.post(
        "/api/ledger/refund-batches",
        headers=h["staff"],
        json={"subject": "lot:L-42", "paid_on": "2026-12-10"},
    )
    assert batch.status_code == 201, batch.text
    ((payee_name, payee_account),) = [
        (x["payee_name"], x["payee_account"]) for x in batch.json()["lines"]
    ]
    assert (payee_name, payee_account) == (PAYER, ACCOUNT)


async def test_the_boxes_are_alike_and_open_only_with_the_key_in_their_own_row(imported, maker):
    async with maker() as session:
        rows = (
            await session.execute(
                text("SELECT id, bank_account, bank_ref, payer FROM statement_line ORDER BY id")
            )
        ).all()
    paid, stray = rows
    # A short name and a long one seal to boxes of one length.
    assert len(paid.payer) == len(stray.payer)
    opened = open_payer(SECRECY, bank_account=paid.bank_account, bank_ref="PAY-1", box=paid.payer)
    assert (opened.name, opened.account, opened.memo) == (PAYER, ACCOUNT, MEMO)
    stranger = Secrecy.from_seed(os.urandom(32))
    with pytest.raises(SealedPayerBroken):
        open_payer(stranger, bank_account=paid.bank_account, bank_ref="PAY-1", box=paid.payer)
    with pytest.raises(SealedPayerBroken):
        open_payer(SECRECY, bank_account=paid.bank_account, bank_ref="PAY-2", box=paid.payer)
    # The booked line's box moved into the suspense line's row: refused, not shown as its payer.
    async with maker() as session:  # closed without commit: the swap is rolled back
        await session.execute(
            text("UPDATE statement_line SET payer = :box WHERE id = :id"),
            {"box": paid.payer, "id": stray.id},
        )
        with pytest.raises(SealedPayerBroken, match="PAY-2"):
            await list_suspense(session, secrecy=SECRECY)


# Who a reissued refund goes to after the bank sent it back (退票).
NEW_PAYEE = ("保密新收款人机电安装有限公司", "6217000055554444333")
PAYEES = (PAYER, ACCOUNT, STRAY[0], STRAY[1], *NEW_PAYEE)


@pytest.fixture
async def refunded(imported, client):
    """The stray payment refunded from suspense, the deposit refunded by a batch (asked
    twice with one key) and that refund reissued to another account; the API's answers."""
    h = imported
    (line,) = (await client.get("/api/ledger/suspense", headers=h["supervisor"])).json()["items"]
    resolved = await client.post(
        f"/api/ledger/suspense/{line['id']}/resolve",
        headers=h["staff"],
        json={"refund_fen": 700, "note": "退回付款人"},
    )
    assert resolved.status_code == 201, resolved.text
    ask = {"subject": "lot:L-42", "paid_on": "2026-12-10", "idempotency_key": "k-42"}
    batch = await client.post("/api/ledger/refund-batches", headers=h["staff"], json=ask)
    assert batch.status_code == 201, batch.text
    again = await client.post("/api/ledger/refund-batches", headers=h["staff"], json=ask)
    assert again.status_code == 201, again.text
    (first,) = batch.json()["lines"]
    returned = await client.post(
        f"/api/ledger/refund-lines/{first['instruction_ref']}/returned",
        headers=h["staff"],
        json={"payee_name": NEW_PAYEE[0], "payee_account": NEW_PAYEE[1], "reason": "已销户"},
    )
    assert returned.status_code == 201, returned.text
    return h, resolved.json()["refund"], batch.json(), again.json()


async def test_no_table_but_the_audit_chain_holds_a_payee_after_refunds(refunded, maker):
    rows = await _every_row_as_text(maker)
    assert len(rows["refund_line"]) == 3  # the suspense refund, the returned one, its reissue
    # The audit chain is the supervisors' record and still names payees; what it holds is a
    # decision of its own. Pinned here so a change to it is seen, not slipped in.
    del rows["audit_event"]
    async with maker() as session:
        audit = (await session.execute(text("SELECT action, payload::text FROM audit_event"))).all()
    naming = {action for action, payload in audit if any(p in payload for p in PAYEES)}
    assert naming == {"suspense.refunded", "refund.batch_created", "refund.reissued"}, naming
    _nowhere(rows, PAYEES)
    assert {"payee_name", "payee_account"}.isdisjoint(await _columns(maker, "refund_line"))


async def test_the_api_and_the_instructions_still_name_the_payees(refunded, client):
    h, refund, batch, again = refunded
    assert (refund["payee_name"], refund["payee_account"]) == STRAY[:2]
    assert again["lines"] == batch["lines"]  # answered again from the sealed rows, alike
    (line,) = batch["lines"]
    assert (line["payee_name"], line["payee_account"]) == (PAYER, ACCOUNT)
    payees = {}
    for code in (batch["code"], refund["instruction_ref"].rsplit("-", 1)[0]):
        r = await client.get(
            f"/api/ledger/refund-batches/{code}/instructions", headers=h["supervisor"]
        )
        assert r.status_code == 200, r.text
        for row in csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))):
            payees[row["instruction_ref"]] = (
                row["payee_name"],
                row["payee_account"],
                row["status"],
            )
    ref = line["instruction_ref"]
    assert payees == {
        refund["instruction_ref"]: (*STRAY[:2], "pending"),
        ref: (PAYER, ACCOUNT, "returned"),
        ref.removesuffix("-0001") + "-0002": (*NEW_PAYEE, "pending"),
    }


async def test_a_payee_box_opens_only_in_its_own_refund_line(refunded, maker):
    _, _, batch, _ = refunded
    async with maker() as session:
        rows = (await session.execute(text("SELECT id, payee FROM refund_line ORDER BY id"))).all()
    # A short name and a long one seal to boxes of one length.
    assert len({len(r.payee) for r in rows}) == 1
    # One line's box moved into another's row: refused, not shown as its payee.
    async with maker() as session:  # closed without commit: the swap is rolled back
        await session.execute(
            text("UPDATE refund_line SET payee = :box WHERE id = :id"),
            {"box": rows[0].payee, "id": rows[-1].id},
        )
        with pytest.raises(SealedPayeeBroken, match=batch["code"]):
            await instructions_csv(session, batch["code"], secrecy=SECRECY)
        with pytest.raises(SealedPayeeBroken):
            await instructions_csv(
                session, batch["code"], secrecy=Secrecy.from_seed(os.urandom(32))
            )
