"""Drawn places and their answers: each pick of a transcript is one ``expert_assignment``.

The first ``count`` picks of a category are asked at once (a one-time link, answered
within the request's ``confirm_minutes``); the rest wait as backups in pick order. A
decline or no answer in time calls the category's next backup; when none is left the caller
(``answers.py``) tops the category up with a supplementary draw. The expert of a place is
only in its sealed ``box``, sealed for ``"expert_assignment:<draw>:<slot>"``: a box moved to
another place does not open there, and only the platform, drawing, can write one, so nobody
can put an expert on a committee outside the draw.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from experts.models import AssignmentState, Expert, ExpertAssignment, ExpertDrawRequest
from experts.notifier import queue_message
from experts.personal import SealedPersonalBroken, open_personal
from tendering.core.clock import db_now
from tendering.core.secrecy import Secrecy

__all__ = [
    "Place",
    "ask",
    "call_next",
    "open_places",
    "place_assignments",
    "token_sha256",
]

LINK_PATH = "/api/experts/answers/"
_CST = timezone(timedelta(hours=8), "CST")  # times in messages read as Beijing time


@dataclass(frozen=True, slots=True)
class Place:
    """A drawn place, opened: which pick of which category, and its answer."""

    draw_code: str
    slot: int
    category: str
    order: int  # within its category: below ``count`` serves, the rest are backups
    expert: str
    state: AssignmentState
    deadline: datetime | None
    answered_at: datetime | None


def token_sha256(token: str) -> str:
    # A path may carry any code point (a lone surrogate too): hash it, never fail on it.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _purpose(code: str, slot: int) -> str:
    return f"expert_assignment:{code}:{slot}"


def open_place(secrecy: Secrecy, row: ExpertAssignment) -> Place:
    try:
        value = secrecy.open(_purpose(row.draw_code, row.slot), row.box)
    except (InvalidTag, ValueError, TypeError):
        raise SealedPersonalBroken(
            f"抽取 {row.draw_code} 第{row.slot}位的密封记录无法打开 (the sealed place"
            f" {row.slot} of draw {row.draw_code} does not open as its own: it was altered)"
        ) from None
    return Place(
        row.draw_code,
        row.slot,
        row.category,
        int(value["order"]),
        str(value["expert"]),
        AssignmentState(row.state),
        row.deadline,
        row.answered_at,
    )


async def place_assignments(
    session: AsyncSession,
    secrecy: Secrecy,
    request: ExpertDrawRequest,
    transcript: dict[str, Any],
) -> list[ExpertAssignment]:
    """One row per pick of the signed transcript; the serving picks are asked at once."""
    rows = []
    slot = 0
    for category in transcript["categories"]:
        for order, expert in enumerate(category["picks"]):
            row = ExpertAssignment(
                draw_code=request.draw_code,
                slot=slot,
                category=category["category"],
                box=secrecy.seal(
                    _purpose(request.draw_code, slot), {"expert": expert, "order": order}
                ),
                state=AssignmentState.WAITING.value,
            )
            session.add(row)
            rows.append(row)
            slot += 1
    serving = {c["category"]: c["count"] for c in transcript["categories"]}
    asked = [row for row in rows if open_place(secrecy, row).order < serving[row.category]]
    # The serving places are asked together: one clock, one read of their experts, one write.
    codes = [open_place(secrecy, row).expert for row in asked]
    found = await session.scalars(select(Expert).where(col(Expert.code).in_(codes)))
    experts = {e.code: e for e in found.all()}
    now = await db_now(session)
    for row, code in zip(asked, codes, strict=True):
        await ask(session, secrecy, request, row, now=now, expert=experts[code], flush=False)
    await session.flush()
    return rows


async def ask(
    session: AsyncSession,
    secrecy: Secrecy,
    request: ExpertDrawRequest,
    row: ExpertAssignment,
    *,
    now: datetime | None = None,
    expert: Expert | None = None,
    flush: bool = True,
) -> None:
    """Give the place a one-time link and queue the message to its expert (``now`` and
    ``expert``: already read by a caller asking many; ``flush=False``: it flushes)."""
    place = open_place(secrecy, row)
    token = secrets.token_urlsafe(32)
    now = now or await db_now(session)
    row.state = AssignmentState.NOTIFIED.value
    row.token_sha256 = token_sha256(token)
    row.deadline = now + timedelta(minutes=request.confirm_minutes)
    if expert is None or expert.code != place.expert:
        found = await session.scalars(select(Expert).where(col(Expert.code) == place.expert))
        expert = found.one()
    phone = open_personal(secrecy, expert.id_tag, expert.personal).phone
    when = request.evaluation_at.astimezone(_CST).strftime("%Y-%m-%d %H:%M")
    until = row.deadline.astimezone(_CST).strftime("%m-%d %H:%M")
    text = (
        f"{expert.name}专家：您被抽取参加{request.title}（标段{request.lot}）评标，时间{when}，"
        f"地点{request.place}。请于{until}前确认或拒绝：{LINK_PATH}{token}"
    )
    await queue_message(session, secrecy, to=phone, text=text, flush=flush)
    if flush:
        await session.flush()


async def call_next(
    session: AsyncSession,
    secrecy: Secrecy,
    request: ExpertDrawRequest,
    category: str,
    codes: list[str] | None = None,
) -> bool:
    """Ask the category's next waiting backup, in ``codes`` (the request's draws, first
    to last; by default ``request``'s own) in pick order; False when none is left."""
    waiting = (
        await session.scalars(
            select(ExpertAssignment)
            .where(
                col(ExpertAssignment.draw_code).in_(codes or [request.draw_code]),
                col(ExpertAssignment.category) == category,
                col(ExpertAssignment.state) == AssignmentState.WAITING.value,
            )
            .order_by(col(ExpertAssignment.id))
            .limit(1)
            .with_for_update()
        )
    ).first()
    if waiting is None:
        return False
    await ask(session, secrecy, request, waiting)
    return True


async def open_places(session: AsyncSession, secrecy: Secrecy, codes: list[str]) -> list[Place]:
    rows = (
        await session.scalars(
            select(ExpertAssignment)
            .where(col(ExpertAssignment.draw_code).in_(codes))
            .order_by(col(ExpertAssignment.id))
        )
    ).all()
    return [open_place(secrecy, r) for r in rows]
