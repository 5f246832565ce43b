from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, RuleViolation
from tendering.ledger import deposit_status, reveal_deposits, rules
from tendering.ledger.imports import import_statement
from tendering.ledger.suspense import list_suspense, resolve_suspense
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, csv_statement

STAFF = Actor.system("test-staff")


async def _park(maker, line):
    async with maker() as session, session.begin():
        await import_statement(session, csv_statement([line]), actor=STAFF, secrecy=SECRECY)
        (parked,) = await list_suspense(session, secrecy=SECRECY)
    return parked


def _typo(number: str) -> str:
    """The number with its third-last digit mistyped: no account (the check digits catch it)."""
    return number[:-3] + str((int(number[-3]) + 1) % 10) + number[-2:]


async def test_staff_assign_an_unknown_account_payment(open_account, maker):
    a = await open_account()
    parked = await _park(maker, Line("R1", 5_000_000, before(), _typo(a.number)))
    assert parked.reason == "unknown_account"
    async with maker() as session, session.begin():
        await resolve_suspense(
            session,
            parked.id,
            secrecy=SECRECY,
            assign=[(a.number, 5_000_000)],
            refund_fen=0,
            actor=STAFF,
            note="子账号填错一位",
        )
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
        assert status.state == "received"
        events = (
            (
                await session.execute(
                    text("SELECT action FROM audit_event WHERE action LIKE 'suspense.%'")
                )
            )
            .scalars()
            .all()
        )
    assert events == ["suspense.assigned"]


async def _split_overpayment(session, parked, a):
    """5,000 yuan of the parked 5,500 to the account, the other 500 refunded."""
    return await resolve_suspense(
        session,
        parked.id,
        secrecy=SECRECY,
        assign=[(a.number, 5_000_000)],
        refund_fen=500_000,
        actor=STAFF,
        paid_on=date(2026, 12, 2),
    )


async def test_split_a_payment_to_a_mistyped_account_between_deposit_and_refund(
    open_account, maker
):
    a = await open_account(due=5_000_000)
    parked = await _park(maker, Line("R1", 5_500_000, before(), _typo(a.number)))
    assert parked.reason == "unknown_account"
    async with maker() as session, session.begin():
        out = await _split_overpayment(session, parked, a)
        assert out["refund"]["principal_fen"] == 500_000
        assert out["refund"]["payee_account"] == "6222020200112233445"
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
    assert status.state == "received"


async def test_a_late_payment_assigned_stays_late(open_account, maker):
    a = await open_account()
    parked = await _park(maker, Line("R1", 5_000_000, DEADLINE.replace(hour=2), a.number))
    assert parked.reason == "after_deadline"
    async with maker() as session, session.begin():
        await resolve_suspense(
            session,
            parked.id,
            secrecy=SECRECY,
            assign=[(a.number, 5_000_000)],
            refund_fen=0,
            actor=STAFF,
        )
        status = await deposit_status(
            session, a.bidder_org_id, a.subject, DEADLINE, secrecy=SECRECY
        )
    assert status.state == "none"


async def test_parts_must_add_up_and_a_line_is_resolved_once(open_account, maker):
    a = await open_account()
    parked = await _park(maker, Line("R1", 1_000, before(), _typo(a.number)))
    with pytest.raises(RuleViolation):
        async with maker() as session, session.begin():
            await resolve_suspense(
                session,
                parked.id,
                secrecy=SECRECY,
                assign=[(a.number, 999)],
                refund_fen=0,
                actor=STAFF,
            )
    async with maker() as session, session.begin():
        await resolve_suspense(
            session, parked.id, secrecy=SECRECY, assign=[], refund_fen=1_000, actor=STAFF
        )
    with pytest.raises(Conflict):
        async with maker() as session, session.begin():
            await resolve_suspense(
                session, parked.id, secrecy=SECRECY, assign=[], refund_fen=1_000, actor=STAFF
            )


async def test_the_chain_hides_which_account_got_the_money_until_its_reveal(open_account, maker):
    a = await open_account(due=5_000_000)
    parked = await _park(maker, Line("R1", 5_500_000, before(), _typo(a.number)))
    async with maker() as session, session.begin():
        out = await _split_overpayment(session, parked, a)
        (recorded,) = await _payloads(session, "suspense.split")
        await reveal_deposits(session, subject=a.subject, actor=STAFF, secrecy=SECRECY)
        (revealed,) = await _payloads(session, "deposit.revealed", a.subject)
    assert out["assigned"] == [{"number": a.number, "amount_fen": 5_000_000}]
    shown = str(recorded)
    for secret in (a.number, a.subject, "某某建设工程有限公司", "6222020200112233445"):
        assert secret not in shown
    assert recorded["refund"]["principal_fen"] == 500_000
    (part,) = recorded["assigned"]
    assert part["amount_fen"] == 5_000_000
    fields = rules.committed_assignment(
        line=parked.id, part=1, number=revealed["number"], amount_fen=part["amount_fen"]
    )
    assert rules.commitment(fields, revealed["nonce"]) == part["commitment"]


async def test_a_refund_of_money_for_no_account_still_names_its_payer(open_account, maker):
    parked = await _park(maker, Line("R1", 1_000, before(), "8866000000000000"))
    async with maker() as session, session.begin():
        await resolve_suspense(
            session, parked.id, secrecy=SECRECY, assign=[], refund_fen=1_000, actor=STAFF
        )
        (recorded,) = await _payloads(session, "suspense.refunded")
    assert recorded["assigned"] == []
    assert recorded["refund"]["payee_name"] == "某某建设工程有限公司"


async def _payloads(session, action: str, stream: str = "global") -> list[dict]:
    rows = await session.execute(
        text("SELECT payload FROM audit_event WHERE stream = :s AND action = :a ORDER BY seq"),
        {"s": stream, "a": action},
    )
    return [r.payload for r in rows]
