from __future__ import annotations

import logging

from sqlalchemy import text

from tendering.ledger.jobs import verify_ledger_hourly


async def test_hourly_check_records_problems_in_the_audit_chain(open_account, maker, caplog):
    a = await open_account()
    assert await verify_ledger_hourly({"sessionmaker": maker}) == 0
    async with maker() as session, session.begin():
        await session.execute(
            text("UPDATE ledger_account SET credits_posted = 7 WHERE id = :id"),
            {"id": a.ledger_account_id},
        )
    with caplog.at_level(logging.ERROR, logger="tendering.ledger.jobs"):
        assert await verify_ledger_hourly({"sessionmaker": maker}) >= 1
    assert "ledger verify found" in caplog.text
    async with maker() as session, session.begin():
        payload = (
            await session.execute(
                text("SELECT payload FROM audit_event WHERE action = 'ledger.verify_failed'")
            )
        ).scalar_one()
        assert any(a.number in p for p in payload["problems"])
        await session.execute(
            text("UPDATE ledger_account SET credits_posted = 0 WHERE id = :id"),
            {"id": a.ledger_account_id},
        )
