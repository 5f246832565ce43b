"""Finding an auction and a bidder's paddle: what the bidding side (and every route) needs.

Registrations name neither auction nor organization (``models.py``), so a paddle is found by
recomputing the registration's keyed tag from the auction's id and the caller's
organization, and a paddle's registration by its ``paddle_tag``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auction.models import Auction, AuctionRegistration, RegistrationState
from tendering.core.auth.actor import Actor
from tendering.core.errors import ErrorCode, Forbidden, NotFound, present
from tendering.core.secrecy import Secrecy

__all__ = [
    "actors_registration",
    "auction_for_update",
    "get_auction",
    "paddle_of",
    "paddle_tag",
    "registration_of",
    "registration_tag",
]


def registration_tag(secrecy: Secrecy, auction_id: int, organization_id: int) -> str:
    return secrecy.tag("auction-registration", auction_id, organization_id)


def paddle_tag(secrecy: Secrecy, auction_id: int, paddle: str) -> str:
    return secrecy.tag("auction-paddle", auction_id, paddle)


def _missing(code: str) -> NotFound:
    return NotFound(
        f"没有编号为 {code} 的拍卖 (no auction with that code)",
        code=ErrorCode.AUCTION_NOT_FOUND,
        field="code",
    )


async def get_auction(session: AsyncSession, code: str) -> Auction:
    """The auction with public code ``code``, or 404 ``auction.not_found``."""
    found = (
        await session.execute(select(Auction).where(col(Auction.code) == code))
    ).scalar_one_or_none()
    if found is None:
        raise _missing(code)
    return found


async def auction_for_update(session: AsyncSession, code: str) -> Auction:
    """The auction row locked ``FOR UPDATE`` in the caller's transaction, freshly read (not
    the session's cached copy), or 404 ``auction.not_found``."""
    statement = (
        select(Auction)
        .where(col(Auction.code) == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = (await session.execute(statement)).scalar_one_or_none()
    if found is None:
        raise _missing(code)
    return found


async def registration_of(
    session: AsyncSession, *, secrecy: Secrecy, auction_id: int, organization_id: int
) -> AuctionRegistration | None:
    """The organization's application for the auction, if it applied."""
    tag = registration_tag(secrecy, auction_id, organization_id)
    statement = select(AuctionRegistration).where(col(AuctionRegistration.tag) == tag)
    return (await session.execute(statement)).scalar_one_or_none()


async def actors_registration(
    session: AsyncSession, *, secrecy: Secrecy, auction: Auction, actor: Actor
) -> AuctionRegistration | None:
    """The application of ``actor``'s organization for ``auction``, if it has one."""
    if actor.organization_id is None:
        return None
    return await registration_of(
        session,
        secrecy=secrecy,
        auction_id=present(auction.id, "auction.id"),
        organization_id=actor.organization_id,
    )


async def paddle_of(
    session: AsyncSession, auction_code: str, actor: Actor, *, secrecy: Secrecy
) -> str:
    """The approved paddle (竞买号) of ``actor``'s organization in the auction; 404
    ``auction.not_found`` for an unknown code, 403 ``auction.not_approved`` when the
    organization has no approved registration."""
    auction = await get_auction(session, auction_code)
    registration = await actors_registration(session, secrecy=secrecy, auction=auction, actor=actor)
    if registration is None or registration.state != RegistrationState.APPROVED:
        raise Forbidden(
            f"您的单位没有 {auction_code} 的已批准竞买申请 (no approved registration: "
            "apply, pay the deposit and wait for approval)",
            code=ErrorCode.AUCTION_NOT_APPROVED,
            field="auction",
        )
    return present(registration.paddle, "registration.paddle")
