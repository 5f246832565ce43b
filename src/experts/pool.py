"""Keeping the pool: declared relations, penalties and suspensions, each recorded in the
global audit chain (they decide who may be drawn, so a bureau sees when they changed)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from experts.models import Expert, ExpertPenalty, ExpertRelation, ExpertStatus
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.errors import ErrorCode, Inconsistent, InvalidInput, NotFound

__all__ = ["add_penalty", "add_relation", "get_expert", "parse_day", "set_status"]


async def get_expert(session: AsyncSession, code: str, *, lock: bool = False) -> Expert:
    query = select(Expert).where(col(Expert.code) == code)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFound(f"专家 {code} 不存在 (no expert {code})", code=ErrorCode.EXPERT_NOT_FOUND)
    return row


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: 日期无效 (not a date)", field=field) from None


async def _count(
    session: AsyncSession, table: type[ExpertRelation | ExpertPenalty], expert_id: int
) -> int:
    found = await session.scalar(select(func.count()).where(col(table.expert_id) == expert_id))
    return int(found or 0)


async def add_relation(
    session: AsyncSession, *, code: str, organization: str, relation: str, actor: Actor
) -> int:
    """Record a declared relation; how many the expert has declared."""
    expert = await get_expert(session, code)
    if expert.id is None:
        raise Inconsistent("expert.id is missing")
    session.add(ExpertRelation(expert_id=expert.id, organization=organization, relation=relation))
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="expert.relation_declared",
        actor=actor,
        payload={"expert": code, "organization": organization, "relation": relation},
    )
    return await _count(session, ExpertRelation, expert.id)


async def add_penalty(
    session: AsyncSession,
    *,
    code: str,
    reason: str,
    penalized_on: date,
    until: date | None,
    actor: Actor,
) -> int:
    """Record a penalty (in force from ``penalized_on`` until ``until``, or for good)."""
    if until is not None and until < penalized_on:
        raise InvalidInput("until 不能早于 penalized_on (until cannot be earlier)", field="until")
    expert = await get_expert(session, code)
    if expert.id is None:
        raise Inconsistent("expert.id is missing")
    session.add(
        ExpertPenalty(expert_id=expert.id, reason=reason, penalized_on=penalized_on, until=until)
    )
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="expert.penalized",
        actor=actor,
        payload={
            "expert": code,
            "reason": reason,
            "from": penalized_on.isoformat(),
            "until": until.isoformat() if until else None,
        },
    )
    return await _count(session, ExpertPenalty, expert.id)


async def set_status(
    session: AsyncSession, *, code: str, status: ExpertStatus, until: date | None, actor: Actor
) -> Expert:
    """Suspend (until a date, or until lifted) or reinstate an expert."""
    if status == ExpertStatus.ACTIVE and until is not None:
        raise InvalidInput(
            "恢复正常时不能指定暂停截止日 (an active expert has no suspended_until)",
            field="suspended_until",
        )
    expert = await get_expert(session, code, lock=True)
    expert.status = status.value
    expert.suspended_until = until
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="expert.status_set",
        actor=actor,
        payload={
            "expert": code,
            "status": status.value,
            "until": until.isoformat() if until else None,
        },
    )
    return expert
