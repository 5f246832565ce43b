"""What the draws' service and queries share: the view of a row, sealing, loading."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.canonical import canonical_json
from tendering.core.draw import Category
from tendering.core.draws.models import Draw, DrawKind, DrawState
from tendering.core.errors import Conflict, ErrorCode, NotFound, PlatformError
from tendering.core.secrecy import Secrecy

__all__ = [
    "DrawView",
    "SealedDrawBroken",
    "categories_of",
    "expect_state",
    "load_row",
    "open_part",
    "seal_encoded",
    "seal_part",
    "transcript_sha256",
]


class SealedDrawBroken(PlatformError):
    """A draw's sealed secret, pools or transcript does not open with the platform key."""

    default_code = ErrorCode.DRAW_SEALED_BROKEN


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawView:
    code: str
    kind: DrawKind
    subject: str
    title: str
    supplements: str | None
    state: DrawState
    sealed: bool
    commitment: str
    pool_hash: str | None
    transcript_sha256: str | None
    requested_by: int
    witness_id: int
    scheduled_at: datetime | None
    pools_fixed_at: datetime | None
    drawn_at: datetime | None
    released_at: datetime | None

    @classmethod
    def of(cls, row: Draw) -> DrawView:
        return cls(
            code=row.code,
            kind=DrawKind(row.kind),
            subject=row.subject,
            title=row.title,
            supplements=row.supplements,
            state=DrawState(row.state),
            sealed=row.sealed,
            commitment=row.commitment,
            pool_hash=row.pool_hash,
            transcript_sha256=row.transcript_sha256,
            requested_by=row.requested_by,
            witness_id=row.witness_id,
            scheduled_at=row.scheduled_at,
            pools_fixed_at=row.pools_fixed_at,
            drawn_at=row.drawn_at,
            released_at=row.released_at,
        )


def transcript_sha256(transcript: dict[str, Any]) -> str:
    """SHA-256 (hex) of a signed transcript's canonical bytes: what ``draw.drawn`` records."""
    return hashlib.sha256(canonical_json(transcript)).hexdigest()


def seal_part(secrecy: Secrecy, what: str, code: str, value: dict[str, Any]) -> str:
    return secrecy.seal(f"draw_{what}:{code}", value)


def seal_encoded(secrecy: Secrecy, what: str, code: str, document: bytes) -> str:
    """:func:`seal_part` for a JSON object already encoded; :func:`open_part` opens it."""
    return secrecy.seal_json(f"draw_{what}:{code}", document)


def open_part(secrecy: Secrecy, what: str, code: str, box: str | None) -> dict[str, Any]:
    try:
        if box is None:
            raise ValueError(what)
        return secrecy.open(f"draw_{what}:{code}", box)
    except (InvalidTag, ValueError, TypeError):
        raise SealedDrawBroken(
            f"抽取 {code} 的密封数据无法打开 (the sealed {what} of draw {code} does not open with"
            " the platform key as this draw's own: the row was altered in the database, or the"
            " platform runs with another signing key)"
        ) from None


async def load_row(session: AsyncSession, code: str, *, lock: bool = False) -> Draw:
    query = select(Draw).where(col(Draw.code) == code)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()
    if row is None:
        raise NotFound(
            f"抽取 {code} 不存在 (there is no draw {code})", code=ErrorCode.DRAW_NOT_FOUND
        )
    return row


def expect_state(row: Draw, state: DrawState, step: str) -> None:
    if row.state != state:
        raise Conflict(
            f"抽取 {row.code} 现在是 {row.state} 状态，不能{step} (draw {row.code} is {row.state};"
            f" this step needs it {state.value})",
            code=ErrorCode.DRAW_STATE,
            details={"state": row.state, "needed": state.value},
        )


def categories_of(pools: dict[str, Any]) -> list[Category]:
    """The pools a draw fixed, as sealed by the platform (checked when they were fixed; the
    seal shows they were not altered since): rebuilt without checking each entry again."""
    return [Category.stored(c) for c in pools["categories"]]
