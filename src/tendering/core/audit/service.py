"""Appending to the audit chain, inside the caller's transaction.

Every change in the platform calls :func:`record` with the same session that makes the
change, before it commits: both land together or neither does.

Appending locks the stream's head row until the caller commits, so appends to one stream
are serialized; a transaction that appends to several streams should do so in a fixed order
(its own lot or auction stream first, ``global`` last) so two of them cannot deadlock.

    await record(session, stream=lot_stream("L-2026-001"), action="notice.published",
                 actor=actor, payload={"notice": "N-1"})
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit.chain import GENESIS, check_event_fields, event_hash
from tendering.core.auth.actor import Actor
from tendering.core.canonical import canonical_json
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.pagination import LimitOffset

__all__ = [
    "APPEND_CHAINED",
    "GLOBAL",
    "ChainedEvents",
    "RecordedEvent",
    "StreamHead",
    "auction_stream",
    "chain_events",
    "draw_stream",
    "events_page",
    "list_events",
    "list_streams",
    "lot_stream",
    "record",
    "streams_page",
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


# Claims the next ``n`` seqs of a stream at once (as ``_ADVANCE_HEAD`` claims one).
_ADVANCE_HEAD_BY = text(
    """
    INSERT INTO audit_stream (stream, seq, hash) VALUES (:stream, :n, '')
    ON CONFLICT (stream) DO UPDATE SET seq = audit_stream.seq + :n
    RETURNING seq, hash AS prev, clock_timestamp() AS at
    """
)

# The writes of :func:`chain_events`, as two CTEs for a statement of the caller's (which
# starts ``WITH`` and binds ``**ChainedEvents.params``): the events, and the head's hash.
APPEND_CHAINED = """
    audit_events AS (
        INSERT INTO audit_event (stream, seq, action, actor, at, payload, prev_hash, hash)
        SELECT :audit_stream, s, a, :audit_actor, :audit_at, CAST(p AS jsonb), ph, h
        FROM unnest(CAST(:audit_seqs AS int[]), CAST(:audit_actions AS text[]),
                    CAST(:audit_payloads AS text[]), CAST(:audit_prevs AS text[]),
                    CAST(:audit_hashes AS text[])) AS e(s, a, p, ph, h)
    ), audit_head AS (
        UPDATE audit_stream SET hash = :audit_head
        WHERE stream = :audit_stream AND cardinality(CAST(:audit_seqs AS int[])) > 0
    )
"""


@dataclass(frozen=True, slots=True)
class ChainedEvents:
    """Events chained by :func:`chain_events`, written by a statement with
    ``APPEND_CHAINED`` in the same transaction."""

    events: list[RecordedEvent]
    params: dict[str, Any]

    @staticmethod
    def none() -> ChainedEvents:
        """Nothing to append (``APPEND_CHAINED`` then writes nothing)."""
        return ChainedEvents(
            [],
            {
                "audit_stream": "",
                "audit_actor": "",
                "audit_at": None,
                "audit_seqs": [],
                "audit_actions": [],
                "audit_payloads": [],
                "audit_prevs": [],
                "audit_hashes": [],
                "audit_head": "",
            },
        )


async def chain_events(
    session: AsyncSession,
    *,
    stream: str,
    actor: Actor | str,
    events: list[tuple[str, dict[str, Any]]],
) -> ChainedEvents:
    """:func:`record` for several events of one stream and actor, in one round trip: claims
    their seqs (locking the head until the caller commits, as ``record`` does), chains their
    hashes here, and leaves the writing to the caller's next statement (``APPEND_CHAINED``),
    so a batch appends in two round trips whatever its size, the second shared."""
    if not events:
        return ChainedEvents.none()
    actor_ref = actor if isinstance(actor, str) else actor.ref
    encoded = [_encoded(stream, action, actor_ref, payload) for action, payload in events]
    row = (await session.execute(_ADVANCE_HEAD_BY, {"stream": stream, "n": len(encoded)})).one()
    chained = _chained(stream, actor_ref, row, encoded)
    return ChainedEvents(
        chained,
        {
            "audit_stream": stream,
            "audit_actor": actor_ref,
            "audit_at": row.at,
            "audit_seqs": [e["seq"] for e in chained],
            "audit_actions": [e["action"] for e in chained],
            "audit_payloads": [payload_json for _, payload_json, _ in encoded],
            "audit_prevs": [e["prev_hash"] for e in chained],
            "audit_hashes": [e["hash"] for e in chained],
            "audit_head": chained[-1]["hash"],
        },
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

    ``payload`` must be a canonical-JSON-able object (no floats); it is stored as jsonb.
    A field that breaks the ``chain-v1`` formats raises ``ValueError`` before anything is
    written.
    """
    actor_ref = actor if isinstance(actor, str) else actor.ref
    encoded = _encoded(stream, action, actor_ref, payload)
    row = (await session.execute(_ADVANCE_HEAD, {"stream": stream})).one()
    (event,) = _chained(stream, actor_ref, row, [encoded])
    await session.execute(
        _APPEND,
        {
            "stream": stream,
            "seq": event["seq"],
            "action": action,
            "actor": actor_ref,
            "at": row.at,
            "payload": encoded[1],
            "prev": event["prev_hash"],
            "hash": event["hash"],
        },
    )
    return event


def _encoded(
    stream: str, action: str, actor_ref: str, payload: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    """An event's action, its payload as stored (canonical JSON: floats refused before
    anything is written) and as hashed: what the table will hold (tuples become lists, enums
    their values), so the auditor who reads the row back recomputes exactly this hash."""
    check_event_fields(stream=stream, action=action, actor=actor_ref, payload=payload)
    payload_json = canonical_json(payload).decode()
    return action, payload_json, json.loads(payload_json)


def _chained(
    stream: str, actor_ref: str, head: Any, encoded: list[tuple[str, str, dict[str, Any]]]
) -> list[RecordedEvent]:
    """The events linked after the stream's previous head; ``head`` is the row that claimed
    their seqs (the last of them, the previous hash, the database clock)."""
    seq = int(head.seq) - len(encoded) + 1
    prev = bytes.fromhex(head.prev) if seq > 1 else GENESIS
    at = rfc3339(head.at.astimezone(UTC))
    chained: list[RecordedEvent] = []
    for action, _, payload in encoded:
        digest = event_hash(
            prev, stream=stream, seq=seq, action=action, actor=actor_ref, at=at, payload=payload
        )
        chained.append(
            RecordedEvent(
                stream=stream,
                seq=seq,
                action=action,
                actor=actor_ref,
                at=at,
                payload=payload,
                prev_hash=prev.hex(),
                hash=digest.hex(),
            )
        )
        prev, seq = digest, seq + 1
    return chained


# --- reading the chain ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamHead:
    """A stream's head (last seq and hash) and its last signed checkpoint, if any."""

    stream: str
    seq: int
    hash: str
    checkpoint_seq: int | None
    checkpoint_hash: str | None
    checkpoint_signature: str | None
    checkpoint_signed_at: datetime | None


_STREAMS = text(
    """
    SELECT s.stream, s.seq, s.hash, c.seq, c.hash, c.signature, c.signed_at
    FROM audit_stream s
    LEFT JOIN LATERAL (
        SELECT seq, hash, signature, signed_at FROM audit_checkpoint
        WHERE stream = s.stream ORDER BY seq DESC LIMIT 1
    ) c ON true
    WHERE s.stream > :after
    ORDER BY s.stream
    LIMIT :limit
    """
)

_EVENTS = text(
    """
    SELECT stream, seq, action, actor, at, payload, prev_hash, hash FROM audit_event
    WHERE stream = :stream AND seq > :after
    ORDER BY seq
    LIMIT :limit
    """
)


_STREAMS_PAGE = text(
    """
    SELECT s.stream, s.seq, s.hash, c.seq, c.hash, c.signature, c.signed_at
    FROM audit_stream s
    LEFT JOIN LATERAL (
        SELECT seq, hash, signature, signed_at FROM audit_checkpoint
        WHERE stream = s.stream ORDER BY seq DESC LIMIT 1
    ) c ON true
    WHERE s.stream > :after
    ORDER BY s.stream
    LIMIT :limit OFFSET :offset
    """
)

_EVENTS_PAGE = text(
    """
    SELECT stream, seq, action, actor, at, payload, prev_hash, hash FROM audit_event
    WHERE stream = :stream AND seq > :after
    ORDER BY seq
    LIMIT :limit OFFSET :offset
    """
)


async def streams_page(
    session: AsyncSession, page: LimitOffset, *, after: str = ""
) -> tuple[list[StreamHead], int]:
    """A page of the streams named after ``after``, in name order, each with its head, and
    how many such streams there are."""
    total = await session.scalar(
        text("SELECT count(*) FROM audit_stream WHERE stream > :after"), {"after": after}
    )
    params = {"after": after, "limit": page.limit, "offset": page.offset}
    rows = await session.execute(_STREAMS_PAGE, params)
    return [StreamHead(*row) for row in rows.all()], int(total or 0)


async def events_page(
    session: AsyncSession, page: LimitOffset, *, stream: str, after_seq: int = 0
) -> tuple[list[RecordedEvent], int]:
    """A page of the events of ``stream`` with seq above ``after_seq``, as stored, and how
    many there are: the head's seq less ``after_seq``, as seq is gapless (``verify`` finds a
    stream where it is not), so a long stream is read without counting it for every page."""
    head = (
        await session.execute(
            text("SELECT seq FROM audit_stream WHERE stream = :stream"), {"stream": stream}
        )
    ).scalar_one_or_none()
    if head is None:
        raise NotFound(
            f"There is no audit stream {stream!r}.",
            code=ErrorCode.AUDIT_STREAM_NOT_FOUND,
            field="stream",
        )
    params = {"stream": stream, "after": after_seq, "limit": page.limit, "offset": page.offset}
    rows = (await session.execute(_EVENTS_PAGE, params)).all()
    return [_recorded(row) for row in rows], max(int(head) - after_seq, 0)


def _recorded(row: Any) -> RecordedEvent:
    return RecordedEvent(
        stream=row.stream,
        seq=row.seq,
        action=row.action,
        actor=row.actor,
        at=rfc3339(row.at),
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


async def list_streams(
    session: AsyncSession, *, after: str = "", limit: int = 100
) -> list[StreamHead]:
    """Streams in name order after ``after`` (keyset paging), each with its head."""
    rows = await session.execute(_STREAMS, {"after": after, "limit": limit})
    return [StreamHead(*row) for row in rows.all()]


async def list_events(
    session: AsyncSession, *, stream: str, after_seq: int = 0, limit: int = 100
) -> list[RecordedEvent]:
    """Up to ``limit`` events of ``stream`` with seq above ``after_seq``, as stored."""
    rows = (
        await session.execute(_EVENTS, {"stream": stream, "after": after_seq, "limit": limit})
    ).all()
    if not rows:
        head = await session.execute(
            text("SELECT 1 FROM audit_stream WHERE stream = :stream"), {"stream": stream}
        )
        if head.first() is None:
            raise NotFound(
                f"There is no audit stream {stream!r}.",
                code=ErrorCode.AUDIT_STREAM_NOT_FOUND,
                field="stream",
            )
    return [_recorded(row) for row in rows]
