"""Finding an agency's filing: by its public code, or the caller's own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from agencies.models import Agency
from tendering.core.auth.actor import Actor
from tendering.core.errors import ErrorCode, NotFound

__all__ = ["agency_by_code", "own_agency"]


async def agency_by_code(session: AsyncSession, code: str, *, lock: bool = False) -> Agency:
    query = select(Agency).where(col(Agency.code) == code)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFound(
            f"代理机构 {code} 未备案 (there is no agency filing {code})",
            code=ErrorCode.AGENCY_NOT_FOUND,
        )
    return row


async def own_agency(session: AsyncSession, actor: Actor, *, lock: bool = False) -> Agency:
    """The filing of the actor's own agency (404 before it filed)."""
    query = select(Agency).where(col(Agency.organization_id) == actor.organization_id)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFound(
            "贵机构尚未备案 (your agency has not filed yet: PUT /api/agencies/me)",
            code=ErrorCode.AGENCY_NOT_FOUND,
        )
    return row
