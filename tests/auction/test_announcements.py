"""Creating, editing and announcing auctions, and the sealed reserve, on real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from auction.announcements import announce_auction, edit_auction
from auction.models import AuctionState
from auction.reserve import enter_reserve, open_reserve, reserve_commitment
from auction.schemas import AuctionIn
from tendering.core.clock import db_now
from tendering.core.errors import Conflict, Forbidden, InvalidInput, RuleViolation

from .conftest import actor_of, body, made


async def chain(session, code: str) -> list[tuple[str, dict]]:
    rows = await session.execute(
        text("SELECT action, payload FROM audit_event WHERE stream = :s ORDER BY seq"),
        {"s": f"auction:{code}"},
    )
    return [(r.action, r.payload) for r in rows]


@pytest.mark.parametrize("kind", ["land_use", "state_property", "rural_property"])
@pytest.mark.parametrize("mode", ["listing", "live"])
async def test_every_kind_in_both_modes_is_created_and_announced(session, desk, kind, mode):
    row = await made(session, desk, kind=kind, mode=mode)
    assert row.code.startswith("PM-")
    assert row.state == AuctionState.ANNOUNCED
    assert row.announced_at is not None
    cutoff_from = row.listing_ends_at if mode == "listing" else row.starts_at
    assert row.reserve_cutoff_at == cutoff_from - timedelta(hours=1)
    actions = [a for a, _ in await chain(session, row.code)]
    assert actions == ["auction.created", "auction.announced"]
    announced = (await chain(session, row.code))[1][1]
    assert announced["rural"] is (kind == "rural_property")
    assert isinstance(row.subject.get("area_m2", "1"), str)  # no floats in the chain


async def test_a_draft_is_edited_an_announced_one_is_not(session, desk):
    draft = await made(session, desk, announce=False)
    now = await db_now(session)
    data = body(now, title="改名后的地块", seller_id=desk.seller.organization.id)
    edited = await edit_auction(
        session, actor=desk.actor, code=draft.code, data=AuctionIn.model_validate(data)
    )
    assert edited.title == "改名后的地块"
    await announce_auction(session, actor=desk.actor, code=draft.code)
    with pytest.raises(Conflict) as caught:
        await edit_auction(
            session, actor=desk.actor, code=draft.code, data=AuctionIn.model_validate(data)
        )
    assert caught.value.code == "auction.state"
    with pytest.raises(Conflict):
        await announce_auction(session, actor=desk.actor, code=draft.code)


async def test_announcing_too_late_for_the_twenty_days_is_refused(session, desk):
    now = await db_now(session)
    starts = now + timedelta(days=20, minutes=5)
    row = await made(
        session,
        desk,
        announce=False,
        announce_at=(now - timedelta(days=1)).isoformat(),
        registration_from=(now - timedelta(days=1)).isoformat(),
        starts_at=starts.isoformat(),
        registration_to=(starts - timedelta(hours=2)).isoformat(),
        deposit_deadline=(starts - timedelta(hours=3)).isoformat(),
        mode="live",
        listing_ends_at=None,
    )
    await session.execute(
        text("UPDATE auction SET starts_at = starts_at - interval '10 minutes' WHERE id = :id"),
        {"id": row.id},
    )
    with pytest.raises(RuleViolation) as caught:
        await announce_auction(session, actor=desk.actor, code=row.code)
    assert (caught.value.code, caught.value.field) == ("auction.period", "starts_at")


async def test_the_seller_must_be_a_selling_organization(session, desk, people):
    from tendering.core.auth.models import Role

    bidder = await people.user(Role.BIDDER)
    now = await db_now(session)
    data = AuctionIn.model_validate(body(now, seller_id=bidder.organization.id))
    from auction.announcements import create_auction

    with pytest.raises(InvalidInput) as caught:
        await create_auction(session, actor=desk.actor, data=data)
    assert caught.value.field == "seller_id"


async def test_the_reserve_is_sealed_committed_and_opened_against_its_commitment(
    session, desk, secrecy
):
    row = await made(session, desk)
    reserver = actor_of(desk.reserver)
    await enter_reserve(
        session, secrecy=secrecy, actor=reserver, code=row.code, reserve_fen=150_000_000
    )
    await enter_reserve(
        session, secrecy=secrecy, actor=reserver, code=row.code, reserve_fen=120_000_000
    )
    stored = (
        await session.execute(
            text("SELECT reserve_box, reserve_fen FROM auction WHERE id = :id"), {"id": row.id}
        )
    ).one()
    assert "120000000" not in stored.reserve_box and stored.reserve_fen is None
    entered = [p for a, p in await chain(session, row.code) if a == "auction.reserve_entered"]
    assert len(entered) == 2 and "reserve_fen" not in entered[-1]
    opened = await open_reserve(session, secrecy=secrecy, row=row)
    assert opened is not None and opened.reserve_fen == 120_000_000
    assert entered[-1]["commitment"] == reserve_commitment(
        row.code, 120_000_000, bytes.fromhex(opened.nonce)
    )


async def test_only_the_designated_user_enters_the_reserve_and_only_before_the_cutoff(
    session, desk, secrecy
):
    row = await made(session, desk)
    with pytest.raises(Forbidden):
        await enter_reserve(
            session, secrecy=secrecy, actor=desk.actor, code=row.code, reserve_fen=1
        )
    await session.execute(
        text(
            "UPDATE auction SET reserve_cutoff_at = clock_timestamp() - interval '1 second'"
            " WHERE id = :id"
        ),
        {"id": row.id},
    )
    with pytest.raises(Conflict) as caught:
        await enter_reserve(
            session, secrecy=secrecy, actor=actor_of(desk.reserver), code=row.code, reserve_fen=1
        )
    assert caught.value.code == "auction.reserve"


async def test_a_reserve_box_that_does_not_match_its_commitment_is_caught(session, desk, secrecy):
    from tendering.core.errors import Inconsistent

    row = await made(session, desk)
    await enter_reserve(
        session, secrecy=secrecy, actor=actor_of(desk.reserver), code=row.code, reserve_fen=5
    )
    row.reserve_commitment = "0" * 64
    with pytest.raises(Inconsistent):
        await open_reserve(session, secrecy=secrecy, row=row)
