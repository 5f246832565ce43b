"""Races on real PostgreSQL, with connections of their own: one organization applying
several times at once, and staff approving many applications at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from auction.registration import apply, decide, list_applications
from tendering.core.auth.models import Role
from tendering.core.clock import db_now
from tendering.core.db import make_sessionmaker

from .conftest import actor_of, made, pay


@pytest.mark.committed
async def test_one_organization_applying_at_once_makes_one_application(
    engine, desk, people, secrecy
):
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        code = (await made(session, desk)).code
    bidder = actor_of(await people.user(Role.BIDDER))

    async def once():
        async with maker() as session, session.begin():
            return (await apply(session, secrecy=secrecy, actor=bidder, code=code)).ref

    refs = await asyncio.gather(*(once() for _ in range(6)))
    assert len(set(refs)) == 1
    async with maker() as session:
        assert len(await list_applications(session, secrecy=secrecy, code=code)) == 1
        applied = await session.scalar(
            text("SELECT count(*) FROM audit_event WHERE action = 'auction.registration_applied'")
        )
        assert applied == 1


@pytest.mark.committed
async def test_approvals_at_once_give_distinct_paddles(engine, desk, people, secrecy):
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        auction = await made(session, desk)
    refs = []
    for n in range(10):
        person = await people.user(Role.BIDDER)
        async with maker() as session, session.begin():
            read = await apply(session, secrecy=secrecy, actor=actor_of(person), code=auction.code)
            await pay(
                session,
                secrecy=secrecy,
                staff=desk.actor,
                org_id=person.organization.id,
                code=auction.code,
                amount_fen=auction.deposit_fen,
                value_time=await db_now(session) - timedelta(seconds=5),
                ref=f"RACE-{n}",
            )
        refs.append(read.ref)

    async def approve(ref: str) -> str | None:
        async with maker() as session, session.begin():
            read = await decide(
                session,
                secrecy=secrecy,
                actor=desk.actor,
                code=auction.code,
                ref=ref,
                approve=True,
                note="",
            )
            return read.paddle

    paddles = await asyncio.gather(*(approve(ref) for ref in refs))
    assert None not in paddles and len(set(paddles)) == 10
