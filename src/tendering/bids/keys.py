"""Bidders' Ed25519 signing keys, registered to their organization (``tendering keygen``).

A key is not secret and says nothing about which lot it signs for, so its registration and
revocation go into the global audit stream with the organization.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids.models import BidderKey
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now
from tendering.core.crypto.bidder_keys import parse_public_key
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, InvalidInput, NotFound
from tendering.core.pagination import LimitOffset, paginate

__all__ = ["list_bidder_keys", "register_bidder_key", "revoke_bidder_key"]


async def register_bidder_key(
    session: AsyncSession, *, actor: Actor, public_key: str, label: str = ""
) -> BidderKey:
    if actor.organization_id is None or actor.user_id is None:
        raise Inconsistent("actor.organization_id or actor.user_id is missing")
    try:
        parse_public_key(public_key)
    except ValueError as error:
        raise InvalidInput(f"public_key: {error}.", field="public_key") from None
    exists = await session.scalar(select(BidderKey).where(col(BidderKey.public_key) == public_key))
    if exists is not None:
        raise _already_registered()
    key = BidderKey(
        organization_id=actor.organization_id,
        public_key=public_key,
        label=label,
        registered_by=actor.user_id,
    )
    # Two requests with the same new key both pass the check above; the unique index decides,
    # and the loser's insert fails inside its savepoint, answered as the sequential case is.
    try:
        async with session.begin_nested():
            session.add(key)
            await session.flush()
    except IntegrityError:
        raise _already_registered() from None
    await record(
        session,
        stream=GLOBAL,
        action="bid.key_registered",
        actor=actor,
        payload={"organization": actor.organization_id, "public_key": public_key, "key": key.id},
    )
    return key


def _already_registered() -> Conflict:
    return Conflict(
        "public_key: 该公钥已登记 (this key is already registered).",
        code=ErrorCode.BID_KEY_REGISTERED,
        field="public_key",
    )


async def list_bidder_keys(
    session: AsyncSession, page: LimitOffset, *, actor: Actor
) -> tuple[list[BidderKey], int]:
    """A page of the caller's organization's keys, oldest first, and how many it has."""
    query = (
        select(BidderKey)
        .where(col(BidderKey.organization_id) == actor.organization_id)
        .order_by(col(BidderKey.id))
    )
    rows, total = await paginate(session, query, page)
    return [key for (key,) in rows], total


async def revoke_bidder_key(session: AsyncSession, *, actor: Actor, key_id: int) -> BidderKey:
    key = await session.get(BidderKey, key_id, with_for_update=True)
    if key is None or key.organization_id != actor.organization_id:
        raise NotFound("No such bidder key of your organization.", code=ErrorCode.BID_NO_KEY)
    if key.revoked_at is None:
        key.revoked_at = await db_now(session)
        await session.flush()
        await record(
            session,
            stream=GLOBAL,
            action="bid.key_revoked",
            actor=actor,
            payload={"organization": key.organization_id, "key": key.id},
        )
    return key
