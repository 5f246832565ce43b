"""The pre-selection pool (预选库): an agency with an approved filing applies for a category
and a year; staff approve or reject with the reason; everyone sees who is in.

Events in the global audit stream: ``agency.pool_applied``, ``agency.pool_decided``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from agencies.lookup import agency_by_code, own_agency
from agencies.models import Agency, FilingState, PoolEntry, PoolState, ServiceCategory
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now
from tendering.core.errors import Conflict, ErrorCode, NotFound, RuleViolation
from tendering.core.pagination import LimitOffset, paginate

__all__ = ["apply_to_pool", "decide_pool_entry", "list_pool", "own_pool_entries"]


async def apply_to_pool(
    session: AsyncSession, *, actor: Actor, category: ServiceCategory, year: int
) -> tuple[PoolEntry, Agency]:
    """The actor's agency applies (again, after a rejection) for ``category`` in ``year``."""
    agency = await own_agency(session, actor, lock=True)
    if agency.state != FilingState.APPROVED:
        raise RuleViolation(
            f"备案通过审核后才能申请入库 (the filing must be approved first; it is {agency.state})",
            code=ErrorCode.AGENCY_FILING_STATE,
            field="category",
        )
    if category.value not in agency.categories:
        raise RuleViolation(
            f"贵机构未备案 {category.value} 服务类别 (the filing does not name the category"
            f" {category.value})",
            code=ErrorCode.AGENCY_CATEGORY,
            field="category",
        )
    entry = (
        await session.scalars(
            select(PoolEntry)
            .where(
                col(PoolEntry.agency_id) == agency.id,
                col(PoolEntry.category) == category.value,
                col(PoolEntry.year) == year,
            )
            .with_for_update()
        )
    ).one_or_none()
    if entry is not None and entry.state != PoolState.REJECTED:
        raise Conflict(
            f"已申请 {year} 年 {category.value} 入库，现为 {entry.state} (already {entry.state})",
            code=ErrorCode.AGENCY_POOL_STATE,
            details={"state": entry.state},
        )
    if entry is None:
        entry = PoolEntry(
            agency_id=agency.id,  # type: ignore[arg-type]
            category=category.value,
            year=year,
            state=PoolState.APPLIED,
        )
        session.add(entry)
    entry.state, entry.reason, entry.decided_by, entry.decided_at = (
        PoolState.APPLIED,
        "",
        None,
        None,
    )
    entry.applied_at = await db_now(session)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.pool_applied",
        actor=actor,
        payload={"agency": agency.code, "category": category.value, "year": year},
    )
    return entry, agency


async def decide_pool_entry(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str,
    category: ServiceCategory,
    year: int,
    approve: bool,
    reason: str,
) -> tuple[PoolEntry, Agency]:
    """Staff approve or reject an application (a rejection carries its reason)."""
    agency = await agency_by_code(session, code)
    entry = (
        await session.scalars(
            select(PoolEntry)
            .where(
                col(PoolEntry.agency_id) == agency.id,
                col(PoolEntry.category) == category.value,
                col(PoolEntry.year) == year,
            )
            .with_for_update()
        )
    ).one_or_none()
    if entry is None:
        raise NotFound(
            f"{code} 未申请 {year} 年 {category.value} 入库 (no such application)",
            code=ErrorCode.AGENCY_NOT_FOUND,
        )
    if entry.state != PoolState.APPLIED:
        raise Conflict(
            f"该申请已是 {entry.state} (the application is already {entry.state})",
            code=ErrorCode.AGENCY_POOL_STATE,
            details={"state": entry.state},
        )
    entry.state = PoolState.APPROVED if approve else PoolState.REJECTED
    entry.reason = reason
    entry.decided_by = actor.user_id
    entry.decided_at = await db_now(session)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.pool_decided",
        actor=actor,
        payload={
            "agency": code,
            "category": category.value,
            "year": year,
            "state": entry.state,
            "reason": reason,
        },
    )
    return entry, agency


async def list_pool(
    session: AsyncSession,
    page: LimitOffset,
    *,
    year: int,
    category: ServiceCategory | None = None,
    state: PoolState = PoolState.APPROVED,
) -> tuple[Sequence[tuple[PoolEntry, Agency]], int]:
    """The pool of ``year`` (approved entries unless ``state`` says otherwise)."""
    query = (
        select(PoolEntry, Agency)
        .join(Agency, col(Agency.id) == col(PoolEntry.agency_id))
        .where(col(PoolEntry.year) == year, col(PoolEntry.state) == state.value)
        .order_by(col(PoolEntry.category), col(Agency.code))
    )
    if category is not None:
        query = query.where(col(PoolEntry.category) == category.value)
    rows, total = await paginate(session, query, page)
    return [(r[0], r[1]) for r in rows], total


async def own_pool_entries(
    session: AsyncSession, actor: Actor, page: LimitOffset
) -> tuple[list[PoolEntry], Agency, int]:
    """A page of the actor's agency's pool applications (newest year first), the agency, and
    their count."""
    agency = await own_agency(session, actor)
    query = (
        select(PoolEntry)
        .where(col(PoolEntry.agency_id) == agency.id)
        .order_by(col(PoolEntry.year).desc(), col(PoolEntry.category))
    )
    rows, total = await paginate(session, query, page)
    return [r[0] for r in rows], agency, total
