"""Registration: apply, deposit through the ledger, approval only with the deposit received
by the deadline, random paddles, and secrecy of who registered and how many."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from auction import paddle_of
from auction.models import AuctionState
from auction.registration import apply, decide, list_applications, own_registration
from tendering.core.auth.models import Role
from tendering.core.clock import db_now
from tendering.core.errors import Conflict, Forbidden

from .conftest import actor_of, approved_bidders, made, pay


async def test_apply_opens_a_deposit_account_and_is_idempotent(session, desk, people, secrecy):
    auction = await made(session, desk)
    bidder = await people.user(Role.BIDDER)
    first = await apply(session, secrecy=secrecy, actor=actor_of(bidder), code=auction.code)
    again = await apply(session, secrecy=secrecy, actor=actor_of(bidder), code=auction.code)
    assert first.ref == again.ref
    assert first.state == "applied" and first.paddle is None
    assert first.deposit_account and first.deposit_status == "none"


async def test_approval_needs_the_deposit_received_by_the_deadline(session, desk, people, secrecy):
    auction = await made(session, desk)
    bidder = await people.user(Role.BIDDER)
    read = await apply(session, secrecy=secrecy, actor=actor_of(bidder), code=auction.code)
    with pytest.raises(Conflict) as caught:
        await decide(
            session,
            secrecy=secrecy,
            actor=desk.actor,
            code=auction.code,
            ref=read.ref,
            approve=True,
            note="",
        )
    assert (caught.value.code, caught.value.field) == ("auction.registration_state", "deposit")
    # paid, but with a value time after the deposit deadline: still not received in time
    await pay(
        session,
        secrecy=secrecy,
        staff=desk.actor,
        org_id=bidder.organization.id,
        code=auction.code,
        amount_fen=auction.deposit_fen,
        value_time=auction.deposit_deadline + timedelta(minutes=1),
        ref="LATE-1",
    )
    with pytest.raises(Conflict):
        await decide(
            session,
            secrecy=secrecy,
            actor=desk.actor,
            code=auction.code,
            ref=read.ref,
            approve=True,
            note="",
        )
    await pay(
        session,
        secrecy=secrecy,
        staff=desk.actor,
        org_id=bidder.organization.id,
        code=auction.code,
        amount_fen=auction.deposit_fen,
        value_time=await db_now(session) - timedelta(seconds=5),
        ref="INTIME-1",
    )
    approved = await decide(
        session,
        secrecy=secrecy,
        actor=desk.actor,
        code=auction.code,
        ref=read.ref,
        approve=True,
        note="资格审查通过",
    )
    assert approved.state == "approved" and approved.paddle and len(approved.paddle) == 4
    assert (
        await paddle_of(session, auction.code, actor_of(bidder), secrecy=secrecy) == approved.paddle
    )
    with pytest.raises(Conflict):
        await decide(
            session,
            secrecy=secrecy,
            actor=desk.actor,
            code=auction.code,
            ref=read.ref,
            approve=False,
            note="",
        )


async def test_paddles_are_unique_and_not_in_order_of_approval(session, desk, people, secrecy):
    auction = await made(session, desk)
    bidders = await approved_bidders(session, people, desk, secrecy, auction, 8)
    paddles = [p for _, p in bidders]
    assert len(set(paddles)) == 8
    assert paddles != sorted(paddles)  # 1 in 8! by chance: approval order does not number them
    for person, paddle in bidders:
        assert await paddle_of(session, auction.code, actor_of(person), secrecy=secrecy) == paddle


async def test_a_rejected_or_unknown_bidder_has_no_paddle(session, desk, people, secrecy):
    auction = await made(session, desk)
    bidder, stranger = await people.user(Role.BIDDER), await people.user(Role.BIDDER)
    read = await apply(session, secrecy=secrecy, actor=actor_of(bidder), code=auction.code)
    await decide(
        session,
        secrecy=secrecy,
        actor=desk.actor,
        code=auction.code,
        ref=read.ref,
        approve=False,
        note="资质不符",
    )
    for person in (bidder, stranger):
        with pytest.raises(Forbidden) as caught:
            await paddle_of(session, auction.code, actor_of(person), secrecy=secrecy)
        assert caught.value.code == "auction.not_approved"


async def test_registration_is_open_only_in_its_window(session, desk, people, secrecy):
    draft = await made(session, desk, announce=False)
    bidder = await people.user(Role.BIDDER)
    with pytest.raises(Conflict) as caught:
        await apply(session, secrecy=secrecy, actor=actor_of(bidder), code=draft.code)
    assert caught.value.code == "auction.registration_state"
    with pytest.raises(Forbidden):
        await apply(session, secrecy=secrecy, actor=desk.actor, code=draft.code)


async def test_the_tables_neither_name_nor_count_an_auctions_registrants(
    session, desk, people, secrecy
):
    one, two = await made(session, desk), await made(session, desk)
    await approved_bidders(session, people, desk, secrecy, one, 3)
    await approved_bidders(session, people, desk, secrecy, two, 1)
    columns = {
        r.column_name
        for r in await session.execute(
            text(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'auction_registration'"
            )
        )
    }
    assert not columns & {"auction_id", "organization_id", "user_id"}
    raw = (
        await session.execute(
            text("SELECT string_agg(holder || tag, '') FROM auction_registration")
        )
    ).scalar()
    assert one.code not in raw and two.code not in raw
    # the chain holds only random refs, in the global stream: no per-auction count there
    streams = {
        r.stream
        for r in await session.execute(
            text("SELECT stream FROM audit_event WHERE action LIKE 'auction.registration%'")
        )
    }
    assert streams == {"global"}
    # the platform (with its key) still finds them
    assert len(await list_applications(session, secrecy=secrecy, code=one.code)) == 3
    assert len(await list_applications(session, secrecy=secrecy, code=two.code)) == 1


async def test_own_registration_shows_the_paddle_never_other_names(session, desk, people, secrecy):
    auction = await made(session, desk)
    [(person, paddle)] = await approved_bidders(session, people, desk, secrecy, auction, 1)
    read = await own_registration(
        session, secrecy=secrecy, actor=actor_of(person), code=auction.code
    )
    assert read.paddle == paddle and read.deposit_status == "received"
    assert read.organization_name is None


async def test_no_approval_once_bidding_has_started(session, desk, people, secrecy):
    auction = await made(session, desk, mode="live")
    bidder = await people.user(Role.BIDDER)
    read = await apply(session, secrecy=secrecy, actor=actor_of(bidder), code=auction.code)
    auction.state = AuctionState.LIVE
    await session.flush()
    with pytest.raises(Conflict):
        await decide(
            session,
            secrecy=secrecy,
            actor=desk.actor,
            code=auction.code,
            ref=read.ref,
            approve=True,
            note="",
        )
