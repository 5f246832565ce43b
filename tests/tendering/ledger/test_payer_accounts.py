"""Refunds go back the way the money came (原路退回): each payment to the payer's own account
(``RltdPties/DbtrAcct``, IBAN or ``Othr/Id``); a refund whose payer account the bank left out
waits, out of the instructions file, until staff supply one."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.errors import Conflict
from tendering.ledger import create_refund_batch
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.imports import import_statement
from tendering.ledger.reports import instructions_csv
from tendering.ledger.suspense import list_suspense, resolve_suspense
from tests.tendering.ledger.camt import Bank, entry, tx
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before

STAFF = Actor.system("test-staff")
PAID_ON = date(2026, 12, 10)


async def _import(maker, raw):
    async with maker() as session, session.begin():
        return await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)


async def _refund(maker, subject, **kw):
    async with maker() as session, session.begin():
        return await create_refund_batch(
            session, subject=subject, paid_on=PAID_ON, actor=STAFF, secrecy=SECRECY, **kw
        )


async def _instructions(maker, code):
    async with maker() as session:
        out = await instructions_csv(session, code, secrecy=SECRECY)
    return list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))


@pytest.mark.parametrize(("version", "iban"), [("02", False), ("08", True)])
async def test_a_refund_goes_back_to_the_payers_account(open_account, maker, version, iban):
    a = await open_account(due=5_000_000)
    account = "CN1234567890123456789" if iban else "6217000011112222333"
    paid = entry(
        "C1", before(), tx(5_000_000, a.number, name="甲建设公司", account=account, iban=iban)
    )
    await _import(maker, Bank().camt([paid], version=version))
    batch = await _refund(maker, a.subject)
    ((name, payee_account),) = [(x["payee_name"], x["payee_account"]) for x in batch.lines]
    assert (name, payee_account) == ("甲建设公司", account)
    rows = await _instructions(maker, batch.code)
    assert [(r["payee_name"], r["payee_account"]) for r in rows] == [("甲建设公司", account)]


async def test_two_payers_into_one_account_are_each_refunded_their_own(open_account, maker):
    a = await open_account(due=5_000_000)
    bank = Bank()
    await _import(
        maker,
        bank.camt(
            [
                entry("C1", before(300), tx(2_000_000, a.number, name="甲公司", account="111111")),
                entry("C2", before(200), tx(3_500_000, a.number, name="乙公司", account="222222")),
            ]
        ),
    )
    batch = await _refund(maker, a.subject)
    lines = sorted((x["payee_account"], x["principal_fen"]) for x in batch.lines)
    assert lines == [("111111", 2_000_000), ("222222", 3_500_000)]  # the excess goes back too


async def test_a_refund_without_the_payers_account_waits_for_staff(open_account, maker):
    a = await open_account(due=5_000_000)
    b = await open_account(due=5_000_000, subject=a.subject)
    await _import(
        maker,
        Bank().camt(
            [
                entry("C1", before(), tx(5_000_000, a.number, account=None)),
                entry("C2", before(), tx(5_000_000, b.number, account="6217000011112222333")),
            ]
        ),
    )
    batch = await _refund(maker, a.subject)
    waiting = next(x for x in batch.lines if x["number"] == a.number)
    assert waiting["needs_payee"] is True and waiting["payee_account"] == ""
    rows = await _instructions(maker, batch.code)
    assert [r["payee_account"] for r in rows] == ["6217000011112222333"]
    with pytest.raises(Conflict, match="payee"):
        async with maker() as session, session.begin():
            await confirm_refund_paid(
                session,
                instruction_ref=waiting["instruction_ref"],
                bank_ref="X",
                paid_at=DEADLINE,
                actor=STAFF,
            )


async def test_staff_supply_the_missing_account_with_a_reason(
    open_account, maker, people, login, client
):
    a = await open_account(due=5_000_000)
    await _import(
        maker, Bank().camt([entry("C1", before(), tx(5_000_000, a.number, account=None))])
    )
    batch = await _refund(maker, a.subject)
    (line,) = batch.lines
    ref = line["instruction_ref"]
    staff = await people.user(Role.STAFF)
    h = {
        "staff": await login(staff),
        "supervisor": await login(await people.user(Role.SUPERVISOR)),
        "bidder": await login(await people.user(Role.BIDDER)),
    }
    body = {
        "payee_name": "某某建设工程有限公司",
        "payee_account": "6228480012345678",
        "reason": "银行回单未载付款账号，经付款人书面确认",
    }
    for who in ("supervisor", "bidder"):
        r = await client.post(f"/api/ledger/refund-lines/{ref}/payee", headers=h[who], json=body)
        assert r.status_code == 403, (who, r.text)
    bad = await client.post(
        f"/api/ledger/refund-lines/{ref}/payee", headers=h["staff"], json=body | {"reason": ""}
    )
    assert bad.status_code == 400 and "reason" in bad.text
    r = await client.post(f"/api/ledger/refund-lines/{ref}/payee", headers=h["staff"], json=body)
    assert r.status_code == 201, r.text
    assert r.json()["needs_payee"] is False
    again = await client.post(
        f"/api/ledger/refund-lines/{ref}/payee", headers=h["staff"], json=body
    )
    assert again.status_code == 409
    rows = await _instructions(maker, batch.code)
    assert [(r["payee_name"], r["payee_account"]) for r in rows] == [
        ("某某建设工程有限公司", "6228480012345678")
    ]
    async with maker() as session:
        (event,) = (
            await session.execute(
                text(
                    "SELECT actor, payload FROM audit_event WHERE action = 'refund.payee_supplied'"
                )
            )
        ).all()
    assert event.actor == f"user:{staff.user.id}"
    assert event.payload["instruction"] == ref
    assert event.payload["reason"] == body["reason"]
    assert event.payload["payee_account"] == body["payee_account"]


async def test_a_split_suspense_line_keeps_its_payer_for_each_part(open_account, maker):
    a = await open_account(due=5_000_000)
    b = await open_account(due=3_000_000, subject=a.subject)
    bank = Bank()
    await _import(
        maker,
        bank.camt(
            [
                # one payment for two bidders' deposits, to a mistyped account
                entry(
                    "C1",
                    before(300),
                    tx(6_000_000, "8866000000000000", name="丙代理公司", account="333333"),
                ),
                # and a's own second payment from its own account
                entry("C2", before(200), tx(2_000_000, a.number, name="甲公司", account="111111")),
            ]
        ),
    )
    async with maker() as session, session.begin():
        (parked,) = await list_suspense(session, secrecy=SECRECY)
        await resolve_suspense(
            session,
            parked.id,
            secrecy=SECRECY,
            assign=[(a.number, 3_000_000), (b.number, 3_000_000)],
            refund_fen=0,
            actor=STAFF,
            note="代付两家",
        )
    batch = await _refund(maker, a.subject)
    lines = sorted((x["number"], x["payee_account"], x["principal_fen"]) for x in batch.lines)
    assert lines == sorted(
        [
            (a.number, "333333", 3_000_000),
            (a.number, "111111", 2_000_000),
            (b.number, "333333", 3_000_000),
        ]
    )
