from __future__ import annotations

from datetime import timedelta

import pytest

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind
from tendering.core.errors import InvalidInput
from tendering.ledger import deposit_status, open_deposit_account, set_deposit_terms
from tendering.ledger.imports import import_statement
from tendering.ledger.rules import is_valid_account_number
from tests.tendering.ledger.conftest import DEADLINE
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
                )


async def test_a_moved_deadline_admits_a_payment_after_the_old_one(open_account, maker):
    a = await open_account()
    later = DEADLINE + timedelta(days=15)
    async with maker() as session, session.begin():
        assert await set_deposit_terms(session, subject=a.subject, deadline=later) == 1
        result = await import_statement(
            session,
            csv_statement([Line("R1", a.amount_due_fen, DEADLINE + timedelta(days=1), a.number)]),
            actor=STAFF,
        )
        assert result.booked == 1
        status = await deposit_status(session, a.bidder_org_id, a.subject, later)
    assert status.state == "received"


async def test_status_is_none_without_an_account(people, maker):
    async with maker() as session:
        status = await deposit_status(session, 1, "lot:NONE", DEADLINE)
    assert (status.state, status.number) == ("none", None)
