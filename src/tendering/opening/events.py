"""The opening's step events (``opening_event``): what the live channel shows, in order.

Each step added is also kept on the session, for :class:`tendering.opening.live.Announcer`
to publish once the transaction has committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.channels import Frame
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import ErrorCode, NotFound
from tendering.opening.models import Opening, OpeningEvent
from tendering.tenders import lot_view

__all__ = ["add_event", "add_events", "frame_of", "take_announcements"]

_PENDING = "opening.announcements"
_CODES = "opening.lot_codes"


def frame_of(event: OpeningEvent) -> Frame:
    return {"seq": event.seq, "at": rfc3339(event.at), "kind": event.kind, "payload": event.payload}


async def add_event(
    session: AsyncSession, lot_id: int, kind: str, payload: dict[str, Any]
) -> OpeningEvent:
    """Append a step; ``seq`` is gapless per lot (the opening row's counter, under its lock)."""
    return (await add_events(session, lot_id, kind, [payload]))[0]


async def add_events(
    session: AsyncSession, lot_id: int, kind: str, payloads: list[dict[str, Any]]
) -> list[OpeningEvent]:
    """Append one step of ``kind`` per payload, in order, with one counter update."""
    if not payloads:
        return []
    last = (
        await session.execute(
            update(Opening)
            .where(col(Opening.lot_id) == lot_id)
            .values(last_event_seq=col(Opening.last_event_seq) + len(payloads))
            .returning(col(Opening.last_event_seq))
        )
    ).scalar_one()
    at = await db_now(session)
    first = last - len(payloads) + 1
    events = [
        OpeningEvent(lot_id=lot_id, seq=first + i, at=at, kind=kind, payload=payload)
        for i, payload in enumerate(payloads)
    ]
    session.add_all(events)
    await session.flush()
    codes: dict[int, str] = session.info.setdefault(_CODES, {})
    if lot_id not in codes:
        lot = await lot_view(session, lot_id=lot_id)
        if lot is None:
            raise NotFound(f"没有标段 #{lot_id} (no such lot).", code=ErrorCode.OPENING_NO_LOT)
        codes[lot_id] = lot.code
    session.info.setdefault(_PENDING, []).extend((codes[lot_id], frame_of(e)) for e in events)
    return events


def take_announcements(session: AsyncSession) -> list[tuple[str, Frame]]:
    """The (lot code, frame) of each step ``session`` added, once."""
    pending: list[tuple[str, Frame]] = session.info.pop(_PENDING, [])
    return pending
