"""Appending to the audit chain, inside the caller's transaction.

Every change in the platform calls :func:`record` with the same session that makes the
change, before it commits: both land together or neither does.

    await record(session, stream=lot_stream("L-2026-001"), action="notice.published",
                 actor=actor, payload={"notice": "N-1"})
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit.chain import GENESIS, event_hash
from tendering.core.auth.actor import Actor
from tendering.core.canonical import canonical_json
from tendering.core.clock import rfc3339

__all__ = [
    "GLOBAL",
    "RecordedEvent",
    "auction_stream",
    "draw_stream",
    "lot_stream",
    "record",
]

GLOBAL = "global"


def lot_stream(code: str) -> str:
    return f"lot:{code}"


def auction_stream(code: str) -> str:
    return f"auction:{code}"


def draw_stream(code: str) -> str:
    return f"draw:{code}"


class RecordedEvent(dict[str, Any]):
    """The appended event as the auditor sees it (``seq``, ``hash``, ``at`` ...)."""


# Claims the next seq of a stream and returns the previous head hash in one round trip.
# RETURNING reads the newest row version (the one this statement locked), so the hash is the
# previous event's even when another transaction committed an append while we waited. The
# row lock serializes appends to one stream until the caller commits, so seq is gapless: a
# rolled-back transaction gives its number back with everything else.
_ADVANCE_HEAD = text(
    """
    INSERT INTO audit_stream (stream, seq, hash) VALUES (:stream, 1, '')
    ON CONFLICT (stream) DO UPDATE SET seq = audit_stream.seq + 1
    RETURNING seq, hash AS prev, clock_timestamp() AS at
    """
)

_APPEND = text(
    """
    WITH event AS (
        INSERT INTO audit_event (stream, seq, action, actor, at, payload, prev_hash, hash)
        VALUES (:stream, :seq, :action, :actor, :at, CAST(:payload AS jsonb), :prev, :hash)
    )
    UPDATE audit_stream SET hash = :hash WHERE stream = :stream
    """
)


async def record(
    session: AsyncSession,
    *,
    stream: str,
    action: str,
    actor: Actor | str,
    payload: dict[str, Any],
) -> RecordedEvent:
    """Append one event to ``stream`` in the session's transaction; returns it.

    ``payload`` must be canonical-JSON-able (no floats); it is stored as jsonb.
    """
    actor_ref = actor if isinstance(actor, str) else actor.ref
    payload_json = canonical_json(payload).decode()  # refuses floats before anything is written
    row = (await session.execute(_ADVANCE_HEAD, {"stream": stream})).one()
    seq: int = row.seq
    prev = bytes.fromhex(row.prev) if seq > 1 else GENESIS
    at = rfc3339(row.at.astimezone(UTC))
    digest = event_hash(
        prev, stream=stream, seq=seq, action=action, actor=actor_ref, at=at, payload=payload
    ).hex()
    await session.execute(
        _APPEND,
        {
            "stream": stream,
            "seq": seq,
            "action": action,
            "actor": actor_ref,
            "at": row.at,
            "payload": payload_json,
            "prev": prev.hex(),
            "hash": digest,
        },
    )
    return RecordedEvent(
        stream=stream,
        seq=seq,
        action=action,
        actor=actor_ref,
        at=at,
        payload=payload,
        prev_hash=prev.hex(),
        hash=digest,
    )
