"""The opening's step events (``opening_event``): what the live channel shows, in order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.clock import db_now
from tendering.opening.models import Opening, OpeningEvent

__all__ = ["add_event"]


async def add_event(
    session: AsyncSession, lot_id: int, kind: str, payload: dict[str, Any]
) -> OpeningEvent:
    """Append a step; ``seq`` is gapless per lot (the opening row's counter, under its lock)."""
    seq = (
        await session.execute(
            update(Opening)
            .where(col(Opening.lot_id) == lot_id)
            .values(last_event_seq=col(Opening.last_event_seq) + 1)
            .returning(col(Opening.last_event_seq))
        )
    ).scalar_one()
    event = OpeningEvent(
        lot_id=lot_id, seq=seq, at=await db_now(session), kind=kind, payload=payload
    )
    session.add(event)
    await session.flush()
    return event
