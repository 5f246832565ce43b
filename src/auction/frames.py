"""An auction's live frames: written with the change that makes them, pushed after commit.

A frame is a JSON object ``{"seq", "kind", "at", ...}``: ``seq`` gapless per auction
(``auction_live.frame_seq``), ``at`` the database clock of the change (RFC 3339), ``kind``
one of ``bid`` (``bid_seq``, ``paddle``, ``amount_fen``, ``phase``, ``ends_at``), ``phase``
(``phase``, ``price_fen``, ``leader``, ``ends_at``), ``pause`` (``reason``, ``fault``,
``remaining_ms``, and for a fault ``signature``), ``resume`` (``reason``, ``ends_at``) and
``result`` (``outcome``, ``winner_paddle``, ``final_price_fen``). The transaction that makes
the change inserts its frames (:data:`INSERT_FRAMES`); after it commits they are published
on the auction's channel (:func:`auction_channel`); watchers follow it with the database
catch-up of ``core.channels.follow`` (:func:`frames_after`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tendering.core.channels import Frame, channel_name
from tendering.core.clock import rfc3339

__all__ = [
    "INSERT_FRAMES",
    "FrameBook",
    "auction_channel",
    "frames_after",
    "iso",
]

FRAMES_PER_READ = 500

INSERT_FRAMES = text(
    """
    INSERT INTO auction_frame (auction_id, seq, kind, at, body)
    SELECT :id, s, k, :at, CAST(b AS jsonb)
    FROM unnest(CAST(:frame_seqs AS int[]), CAST(:frame_kinds AS text[]),
                CAST(:frame_bodies AS text[])) AS f(s, k, b)
    """
)

_SAVE_COUNTER = text(
    """
    INSERT INTO auction_live (auction_id, frame_seq) VALUES (:id, :frame_seq)
    ON CONFLICT (auction_id) DO UPDATE SET frame_seq = EXCLUDED.frame_seq
    """
)

_AFTER = text(
    """
    SELECT seq, kind, at, body FROM auction_frame
    WHERE auction_id = :id AND seq > :after ORDER BY seq LIMIT :limit
    """
)


def auction_channel(database_url: str, code: str) -> str:
    return channel_name(database_url, "auction", code)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


@dataclass(slots=True)
class FrameBook:
    """The frames one transaction adds, numbered from the auction's counter."""

    last_seq: int
    at: datetime
    frames: list[Frame] = field(default_factory=list)

    def add(self, kind: str, **body: Any) -> Frame:
        self.last_seq += 1
        frame: Frame = {"seq": self.last_seq, "kind": kind, "at": rfc3339(self.at), **body}
        self.frames.append(frame)
        return frame

    def params(self) -> dict[str, Any]:
        """The ``frame_*`` parameters of :data:`INSERT_FRAMES`."""
        return {
            "frame_seqs": [f["seq"] for f in self.frames],
            "frame_kinds": [f["kind"] for f in self.frames],
            "frame_bodies": [
                json.dumps(
                    {k: v for k, v in f.items() if k not in ("seq", "kind", "at")},
                    ensure_ascii=False,
                )
                for f in self.frames
            ],
        }

    async def save(self, session: AsyncSession, auction_id: int) -> None:
        """Insert the frames and move the counter (outside the writer's one statement)."""
        if not self.frames:
            return
        await session.execute(INSERT_FRAMES, {"id": auction_id, "at": self.at, **self.params()})
        await session.execute(_SAVE_COUNTER, {"id": auction_id, "frame_seq": self.last_seq})


async def frames_after(
    conn: AsyncSession | AsyncConnection,
    auction_id: int,
    after: int,
    *,
    limit: int = FRAMES_PER_READ,
) -> list[Frame]:
    """The stored frames after ``after``, in order (at most ``limit``)."""
    rows = await conn.execute(_AFTER, {"id": auction_id, "after": after, "limit": limit})
    return [{"seq": row.seq, "kind": row.kind, "at": rfc3339(row.at), **row.body} for row in rows]
