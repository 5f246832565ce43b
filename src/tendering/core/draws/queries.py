"""Reading draws: the list every context's draws share, a transcript for whoever may see
it now, and what the audit chain published."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import draw_stream
from tendering.core.auth.actor import Actor
from tendering.core.draw import Category
from tendering.core.draws.models import Draw, DrawKind, DrawState
from tendering.core.draws.views import DrawView, categories_of, load_row, open_part
from tendering.core.errors import Conflict, ErrorCode, Forbidden
from tendering.core.pagination import LimitOffset, paginate
from tendering.core.secrecy import Secrecy

__all__ = [
    "chain_values",
    "draw_pools",
    "get_draw",
    "list_draws",
    "may_read_sealed",
    "read_transcript",
]


async def draw_pools(session: AsyncSession, *, secrecy: Secrecy, code: str) -> list[Category]:
    """The fixed pools of a draw, opened (for the context that owns the draw)."""
    row = await load_row(session, code)
    if row.pools is None:
        raise Conflict(
            f"抽取 {code} 的候选池尚未固定 (the pools of draw {code} are not fixed yet)",
            code=ErrorCode.DRAW_STATE,
        )
    return categories_of(open_part(secrecy, "pools", code, row.pools))


def may_read_sealed(view: DrawView, actor: Actor) -> bool:
    """Who may see a sealed draw's list before it is released: the staff member who runs it
    and the witnessing supervisor (and the platform's own jobs)."""
    return actor.user_id is None or actor.user_id in (view.requested_by, view.witness_id)


async def read_transcript(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> dict[str, Any]:
    """The signed transcript, exactly the DESIGN.md object, for whoever may see it now."""
    row = await load_row(session, code)
    if row.published is not None:
        return row.published
    if row.state not in (DrawState.DRAWN, DrawState.RELEASED):
        raise Conflict(
            f"抽取 {code} 尚未进行 (draw {code} has not been made yet: it is {row.state})",
            code=ErrorCode.DRAW_STATE,
            details={"state": row.state},
        )
    if not may_read_sealed(DrawView.of(row), actor):
        raise Forbidden(
            f"抽取 {code} 的结果在评标开始前保密，只有经办人和见证人可以查看 (the list of draw"
            f" {code} is sealed until the evaluation starts: only the staff member running it"
            " and the witness may see it)",
            code=ErrorCode.DRAW_SEALED,
        )
    return open_part(secrecy, "transcript", code, row.transcript)


async def get_draw(session: AsyncSession, code: str) -> DrawView:
    return DrawView.of(await load_row(session, code))


async def list_draws(
    session: AsyncSession,
    page: LimitOffset,
    *,
    kind: DrawKind | None = None,
    subject: str | None = None,
) -> tuple[list[DrawView], int]:
    """Draws of every context, newest first."""
    query = select(Draw).order_by(col(Draw.id).desc())
    if kind is not None:
        query = query.where(col(Draw.kind) == kind.value)
    if subject is not None:
        query = query.where(col(Draw.subject) == subject)
    rows, total = await paginate(session, query, page)
    return [DrawView.of(r[0]) for r in rows], total


_CHAIN = text(
    "SELECT action, payload FROM audit_event WHERE stream = :stream"
    " AND action IN ('draw.scheduled', 'draw.pools_fixed', 'draw.drawn') ORDER BY seq"
)


async def chain_values(session: AsyncSession, code: str) -> dict[str, str]:
    """What the audit chain published for draw ``code``: ``commitment``, ``pool_hash`` and
    ``transcript_sha256``, each present once its step happened."""
    found: dict[str, str] = {}
    for _action, payload in (await session.execute(_CHAIN, {"stream": draw_stream(code)})).all():
        for name in ("commitment", "pool_hash", "transcript_sha256"):
            if name in payload and name not in found:
                found[name] = str(payload[name])
    return found
