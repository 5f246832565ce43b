from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind
from tendering.core.clock import rfc3339
from tendering.core.errors import InvalidInput
from tendering.ledger import (
    deposit_status,
    open_deposit_account,
    reveal_deposits,
    rules,
    set_deposit_terms,
)
from tendering.ledger.imports import import_statement
from tendering.ledger.rules import is_valid_account_number
from tests.tendering.ledger.conftest import DEADLINE, SECRECY
from tests.tendering.ledger.files import Line, csv_statement

STAFF = Actor.system("test")


async def test_opening_twice_answers_the_same_account(open_account, people, maker):
    org = await people.organization(OrgKind.BIDDER)
    first = await open_account(org_id=org.id)
    again = await open_account(org_id=org.id)
    other = await open_account(org_id=org.id, subject="auction:A-1")
    assert first.number == again.number != other.number
    assert is_valid_account_number(first.number)


async def test_only_bidder_organizations_get_accounts(people, maker):
    agency = await people.organization(OrgKind.AGENCY)
    async with maker() as session, session.begin():
        for org_id in (agency.id, 987654):
            with pytest.raises(InvalidInput):
                await open_deposit_account(
                    session,
                    bidder_org_id=org_id,
                    subject="lot:X",
                    amount_due_fen=1,
                    deadline=DEADLINE,
                    secrecy=SECRECY,
                )


async def test_a_moved_deadline_admits_a_payment_after_the_old_one(open_account, maker):
    a = await open_account()
    later = DEADLINE + timedelta(days=15)
    async with maker() as session, session.begin():
        assert (
            await set_deposit_terms(session, subject=a.subject, deadline=later, secrecy=SECRECY)
            == 1
        )
        result = await import_statement(
            session,
            csv_statement([Line("R1", a.amount_due_fen, DEADLINE + timedelta(days=1), a.number)]),
            actor=STAFF,
            secrecy=SECRECY,
        )
        assert result.booked == 1
        status = await deposit_status(session, a.bidder_org_id, a.subject, later, secrecy=SECRECY)
    assert status.state == "received"


async def test_status_is_none_without_an_account(people, maker):
    async with maker() as session:
        status = await deposit_status(session, 1, "lot:NONE", DEADLINE, secrecy=SECRECY)
    assert (status.state, status.number) == ("none", None)


async def _events(session, action: str, stream: str = "global") -> list[dict]:
    rows = await session.execute(
        text("SELECT payload FROM audit_event WHERE stream = :s AND action = :a ORDER BY seq"),
        {"s": stream, "a": action},
    )
    return [r.payload for r in rows]


async def test_opening_records_only_a_commitment_its_nonce_opens(open_account, maker):
    a = await open_account()
    async with maker() as session:
        (payload,) = await _events(session, "deposit.opened")
        nonce = (
            await session.execute(
                text("SELECT nonce FROM deposit_account WHERE number = :n"), {"n": a.number}
            )
        ).scalar_one()
    opened = rules.committed_opening(
        number=a.number, bidder_org_id=a.bidder_org_id, subject=a.subject
    )
    assert payload == {"commitment": rules.commitment(opened, nonce)}
    assert len(nonce) == 32


async def test_a_terms_change_is_one_event_however_many_accounts_it_moves(open_account, maker):
    await open_account(subject="lot:MANY")
    await open_account(subject="lot:MANY")
    later = DEADLINE + timedelta(days=15)
    async with maker() as session, session.begin():
        assert (
            await set_deposit_terms(session, subject="lot:MANY", deadline=later, secrecy=SECRECY)
            == 2
        )
        assert (
            await set_deposit_terms(session, subject="lot:NOBODY", deadline=later, secrecy=SECRECY)
            == 0
        )
        events = await _events(session, "deposit.terms_changed")
    shown = {"deadline": rfc3339(later), "amount_due_fen": None}
    assert events == [shown | {"subject": "lot:MANY"}, shown | {"subject": "lot:NOBODY"}]


async def test_the_reveal_opens_each_accounts_commitment_in_its_subjects_stream(
    open_account, maker
):
    accounts = [await open_account(subject="lot:SECRET") for _ in range(2)]
    await open_account(subject="lot:OTHER")
    async with maker() as session, session.begin():
        committed = [p["commitment"] for p in await _events(session, "deposit.opened")]
        assert (
            await reveal_deposits(session, subject="lot:SECRET", actor=STAFF, secrecy=SECRECY) == 2
        )
        assert (
            await reveal_deposits(session, subject="lot:SECRET", actor=STAFF, secrecy=SECRECY) == 0
        )
        revealed = await _events(session, "deposit.revealed", "lot:SECRET")
    assert {(r["number"], r["bidder_org_id"]) for r in revealed} == {
        (a.number, a.bidder_org_id) for a in accounts
    }
    for shown in revealed:
        fields = {k: v for k, v in shown.items() if k != "nonce"}
        assert rules.commitment(fields, shown["nonce"]) in committed[:2]
