"""The demo's experts: a generated city pool of a few thousand, and a draw for the demo
school's lot made, witnessed and answered (one decline, so a backup was called)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from experts.answers import answer
from experts.imports import import_experts
from experts.models import ExpertOutbox
from experts.requests import CST, draw_experts, fix_pools, request_draw
from experts.schemas import DrawRequestIn
from experts.synthetic import pool_csv
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.auth.models import OrgKind, Role, User
from tendering.core.clock import db_now
from tendering.core.demo import DemoBook

__all__ = ["DEMO_EXPERTS", "add_demo_experts"]

DEMO_EXPERTS = 3000


def _actor(user: User, kind: OrgKind) -> Actor:
    return Actor(user.id, user.username, Role(user.role), user.organization_id, kind)


async def _tokens(session: AsyncSession, book: DemoBook) -> list[str]:
    rows = (await session.scalars(select(ExpertOutbox).order_by(col(ExpertOutbox.id)))).all()
    return [book.secrecy.open("expert_outbox", r.box)["text"].rsplit("/", 1)[1] for r in rows]


async def add_demo_experts(session: AsyncSession, book: DemoBook) -> None:
    report = await import_experts(
        session, secrecy=book.secrecy, raw=pool_csv(DEMO_EXPERTS, seed=26), actor=SYSTEM
    )
    # One expert once worked for a bidder: the draw records the avoidance.
    await session.execute(
        text(
            "INSERT INTO expert_employment (expert_id, organization, started_on, ended_on)"
            " SELECT id, :org, DATE '2019-03-01', DATE '2024-06-30' FROM expert"
            " WHERE 'A0801' = ANY(specialties) ORDER BY code LIMIT 3"
        ),
        {"org": book.organizations["bidder1"].name},
    )
    staff = _actor(book.users["staff"], OrgKind.CENTER)
    witness = _actor(book.users["supervisor"], OrgKind.SUPERVISOR)
    start = (await db_now(session)).astimezone(CST) + timedelta(days=7)
    evaluation_at = start.replace(hour=9, minute=30, second=0, microsecond=0)
    request = await request_draw(
        session,
        secrecy=book.secrecy,
        spec=DrawRequestIn(
            lot=f"JY-{evaluation_at.year}-0001-01",
            title="教学楼土建工程 评标专家抽取",
            tenderer=book.organizations["school"].name,
            bidders=[book.organizations[f"bidder{n}"].name for n in (1, 2, 3)],
            evaluation_at=evaluation_at,
            place="某某县公共资源交易中心 第2评标室",
            tenderer_reps=2,
            categories=[
                {"specialty": "A0801", "count": 3, "backups": 2},
                {"specialty": "A0802", "count": 2, "backups": 1},
            ],
            witness_id=witness.user_id or 0,
        ),
        actor=staff,
    )
    await fix_pools(session, secrecy=book.secrecy, code=request.draw_code, actor=staff)
    note = f"{report.imported} 名评标专家入库; 专家抽取 {request.draw_code} 已固定候选池"
    if book.key is not None:
        await draw_experts(
            session,
            secrecy=book.secrecy,
            key=book.key,
            code=request.draw_code,
            witness_entropy="赵红 0815 晴",
            actor=witness,
        )
        tokens = await _tokens(session, book)
        await answer(session, secrecy=book.secrecy, token=tokens[0], accept=False)
        for token in tokens[1:]:
            await answer(session, secrecy=book.secrecy, token=token, accept=True)
        note += "，已由 supervisor 见证抽取，一人拒绝、备选已通知 (名单仅 staff 与 supervisor 可见)"
    book.notes.append(note)
