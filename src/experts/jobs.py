"""The experts' background work, each re-reading the database (safe to run twice or late):
silence past the deadline calls the next backup, a supplementary draw gets its pools fixed
(the witness then draws it), the outbox is sent, and a draw whose evaluation has started is
released (its list published, who served written)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from experts.answers import expire_unanswered
from experts.models import ExpertDrawRequest, RequestState
from experts.notifier import deliver_outbox
from experts.requests import fix_supplement, release_experts, waiting_supplements
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now
from tendering.core.db import session_scope
from tendering.core.secrecy import Secrecy

__all__ = [
    "deliver_expert_messages",
    "expire_expert_answers",
    "fix_supplementary_pools",
    "release_started_evaluations",
]


def _secrecy(ctx: dict[str, Any]) -> Secrecy:
    return Secrecy.of(ctx["platform_key"])


async def expire_expert_answers(ctx: dict[str, Any]) -> int:
    async with session_scope(ctx["sessionmaker"]) as session:
        return await expire_unanswered(session, secrecy=_secrecy(ctx))


async def fix_supplementary_pools(ctx: dict[str, Any]) -> int:
    """Fix the pools of each supplementary draw whose earlier draws are made, one
    transaction each (one that fails does not hold the others back)."""
    async with session_scope(ctx["sessionmaker"]) as session:
        due = await waiting_supplements(session)
    actor = Actor.system("experts.fix_supplementary_pools")
    fixed = 0
    for code in due:
        async with session_scope(ctx["sessionmaker"]) as session:
            fixed += await fix_supplement(session, secrecy=_secrecy(ctx), code=code, actor=actor)
    return fixed


async def deliver_expert_messages(ctx: dict[str, Any]) -> int:
    async with session_scope(ctx["sessionmaker"]) as session:
        return await deliver_outbox(session, _secrecy(ctx))


async def release_started_evaluations(ctx: dict[str, Any]) -> int:
    """Release every first draw whose evaluation time has come."""
    async with session_scope(ctx["sessionmaker"]) as session:
        now = await db_now(session)
        due = (
            await session.scalars(
                select(col(ExpertDrawRequest.draw_code)).where(
                    col(ExpertDrawRequest.state) == RequestState.DRAWN.value,
                    col(ExpertDrawRequest.supplements).is_(None),
                    col(ExpertDrawRequest.evaluation_at) <= now,
                )
            )
        ).all()
    actor = Actor.system("experts.release_started_evaluations")
    for code in due:
        async with session_scope(ctx["sessionmaker"]) as session:
            await release_experts(session, secrecy=_secrecy(ctx), code=code, actor=actor)
    return len(due)
