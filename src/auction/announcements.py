"""Creating, editing and announcing auctions (staff): one function per change, one
transaction, its audit event in ``auction_stream(code)`` inside it.

A draft can be edited freely; announcing checks every period again against the database
clock (the announcement goes out now, so bidding must start at least 20 days from now) and
makes the auction public. Registration opens in its window from then on.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from auction.listing_rules import (
    Schedule,
    check_money,
    check_schedule,
    check_subject,
    reserve_cutoff,
)
from auction.lookup import auction_for_update
from auction.models import Auction, AuctionKind, AuctionState
from auction.schemas import AuctionIn
from tendering.core.audit import auction_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, User
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, InvalidInput, present
from tendering.core.holidays import load_calendar

__all__ = ["announce_auction", "create_auction", "edit_auction", "seller_name"]

# The seller of a land parcel or a state property is a government body or enterprise (a
# tenderer-kind organization) or the center itself; a rural right's seller is its village
# collective, registered as such an organization and named in the subject.
_SELLER_KINDS = (OrgKind.TENDERER, OrgKind.CENTER)


def _schedule(row: Auction | AuctionIn) -> Schedule:
    return Schedule(
        mode=str(row.mode),
        announce_at=row.announce_at.astimezone(UTC),
        registration_from=row.registration_from.astimezone(UTC),
        registration_to=row.registration_to.astimezone(UTC),
        deposit_deadline=row.deposit_deadline.astimezone(UTC),
        starts_at=row.starts_at.astimezone(UTC),
        listing_ends_at=row.listing_ends_at.astimezone(UTC) if row.listing_ends_at else None,
    )


async def seller_name(session: AsyncSession, seller_id: int) -> str:
    org = await session.get(Organization, seller_id)
    return org.name if org else ""


async def _check(session: AsyncSession, data: AuctionIn) -> None:
    """Everything a draft must satisfy: money, subject, periods, seller, reserve user."""
    check_money(
        start_price_fen=data.start_price_fen,
        increment_fen=data.increment_fen,
        deposit_fen=data.deposit_fen,
    )
    check_subject(str(data.kind), data.subject.stored())
    check_schedule(_schedule(data), await load_calendar(session))
    seller = await session.get(Organization, data.seller_id)
    if seller is None or seller.kind not in _SELLER_KINDS:
        raise InvalidInput(
            "出让方须为已登记的出让单位或村集体经济组织: seller_id must name a registered "
            "selling organization (a government body, enterprise or village collective).",
            field="seller_id",
        )
    if data.reserve_user_id is not None:
        user = await session.get(User, data.reserve_user_id)
        if user is None or not user.is_active:
            raise InvalidInput(
                "底价录入人须为有效用户: reserve_user_id must name an active user.",
                field="reserve_user_id",
            )


def _apply(row: Auction, data: AuctionIn) -> None:
    for name in (
        "title",
        "description",
        "seller_id",
        "start_price_fen",
        "increment_fen",
        "deposit_fen",
        "freeze_before_seconds",
        "preparation_seconds",
        "countdown_seconds",
        "reserve_user_id",
    ):
        setattr(row, name, getattr(data, name))
    schedule = _schedule(data)
    row.kind = str(data.kind)
    row.mode = str(data.mode)
    row.subject = data.subject.stored()
    row.announce_at = schedule.announce_at
    row.registration_from = schedule.registration_from
    row.registration_to = schedule.registration_to
    row.deposit_deadline = schedule.deposit_deadline
    row.starts_at = schedule.starts_at
    row.listing_ends_at = schedule.listing_ends_at
    row.reserve_cutoff_at = reserve_cutoff(schedule)


def _event(row: Auction) -> dict[str, object]:
    """What the chain says about an auction's terms (never the reserve)."""
    return {
        "code": row.code,
        "kind": row.kind,
        "mode": row.mode,
        "subject": row.subject,
        "seller_id": row.seller_id,
        "start_price_fen": row.start_price_fen,
        "increment_fen": row.increment_fen,
        "deposit_fen": row.deposit_fen,
        "starts_at": rfc3339(row.starts_at),
        "listing_ends_at": rfc3339(row.listing_ends_at) if row.listing_ends_at else None,
        "reserve_cutoff_at": rfc3339(row.reserve_cutoff_at),
    }


async def create_auction(session: AsyncSession, *, actor: Actor, data: AuctionIn) -> Auction:
    """A draft auction with its public code ``PM-<year>-<id>``."""
    await _check(session, data)
    row = Auction(code=f"tmp-{uuid.uuid4().hex}", created_by=actor.user_id)  # type: ignore[call-arg]
    _apply(row, data)
    session.add(row)
    await session.flush()
    year = (await db_now(session)).year
    row.code = f"PM-{year}-{present(row.id, 'auction.id'):05d}"
    await session.flush()
    await record(
        session,
        stream=auction_stream(row.code),
        action="auction.created",
        actor=actor,
        payload=_event(row),
    )
    return row


def _refuse_state(row: Auction, doing: str, *states: AuctionState) -> None:
    if row.state not in states:
        raise Conflict(
            f"拍卖 {row.code} 当前状态为 {row.state}，不能{doing} (the auction is {row.state}).",
            code=ErrorCode.AUCTION_STATE,
            field="state",
        )


async def edit_auction(
    session: AsyncSession, *, actor: Actor, code: str, data: AuctionIn
) -> Auction:
    """Replace a draft's terms (an announced auction is fixed)."""
    row = await auction_for_update(session, code)
    _refuse_state(row, "修改", AuctionState.DRAFT)
    await _check(session, data)
    _apply(row, data)
    await session.flush()
    await record(
        session,
        stream=auction_stream(code),
        action="auction.edited",
        actor=actor,
        payload=_event(row),
    )
    return row


async def announce_auction(session: AsyncSession, *, actor: Actor, code: str) -> Auction:
    """Publish the announcement now (出让公告): the periods are checked against the database
    clock; the auction becomes public and registration opens in its window."""
    row = await auction_for_update(session, code)
    _refuse_state(row, "发布公告", AuctionState.DRAFT)
    now = await db_now(session)
    # Announced now: registration cannot have opened before it (it opens now at the earliest).
    planned = _schedule(row)
    schedule = replace(
        planned, announce_at=now, registration_from=max(planned.registration_from, now)
    )
    check_schedule(schedule, await load_calendar(session), announced_at=now)
    row.state = AuctionState.ANNOUNCED
    row.announced_at = now
    await session.flush()
    await record(
        session,
        stream=auction_stream(code),
        action="auction.announced",
        actor=actor,
        payload={**_event(row), "announced_at": rfc3339(now), "rural": _rural(row)},
    )
    return row


def _rural(row: Auction) -> bool:
    return row.kind == AuctionKind.RURAL_PROPERTY
