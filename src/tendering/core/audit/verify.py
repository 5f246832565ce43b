"""Verifying the chain straight from the tables, and signing checkpoints.

Both read a stream in keyset pages of ``seq`` (bounded memory, a million-event stream is
fine) and hand each row to the pure :class:`~tendering.core.audit.rules.StreamVerifier`.

    broken = [r async for r in verify_streams(session, public_key=key.public_raw) if not r.ok]
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit.chain import GENESIS, checkpoint_message
from tendering.core.audit.rules import (
    CheckpointRow,
    EventRow,
    Head,
    StreamReport,
    StreamVerifier,
)
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.signing import PlatformKey

__all__ = ["CheckpointRun", "sign_checkpoints", "verify_streams"]

log = logging.getLogger("tendering.audit")


# --- verification, straight from the table -------------------------------------------------

_ALL_STREAMS = text(
    """
    WITH RECURSIVE named(stream) AS (  -- distinct streams of audit_event by skipping the index
        SELECT min(stream) FROM audit_event
        UNION ALL
        SELECT (SELECT min(e.stream) FROM audit_event e WHERE e.stream > named.stream)
        FROM named WHERE named.stream IS NOT NULL
    )
    SELECT stream FROM named WHERE stream IS NOT NULL
    UNION SELECT stream FROM audit_stream
    UNION SELECT stream FROM audit_checkpoint
    ORDER BY stream
    """
)

_HEAD = text("SELECT seq, hash FROM audit_stream WHERE stream = :stream")

_EVENT_PAGE = text(
    """
    SELECT e.stream, e.seq, e.action, e.actor, e.at, e.payload, e.prev_hash, e.hash,
           c.hash AS checkpoint_hash, c.signature AS checkpoint_signature
    FROM audit_event e
    LEFT JOIN audit_checkpoint c ON c.stream = e.stream AND c.seq = e.seq
    WHERE e.stream = :stream AND e.seq > :after AND e.seq <= :upto
    ORDER BY e.seq
    LIMIT :limit
    """
)

_ORPHAN_CHECKPOINTS = text(
    """
    SELECT c.stream, c.seq, c.hash, c.signature FROM audit_checkpoint c
    WHERE c.stream = :stream AND NOT EXISTS (
        SELECT 1 FROM audit_event e WHERE e.stream = c.stream AND e.seq = c.seq
    )
    ORDER BY c.seq
    """
)

_NO_LIMIT = 2**31 - 1  # audit_event.seq is an INTEGER


async def verify_streams(
    session: AsyncSession,
    *,
    public_key: bytes | None,
    stream: str | None = None,
    batch_size: int = 5000,
) -> AsyncIterator[StreamReport]:
    """Re-check ``stream`` (or every stream) from the tables; one report per stream.

    Reads in keyset pages of ``batch_size`` rows, so memory stays flat however long a
    stream is. All reads share one snapshot (REPEATABLE READ, read-only) when the session
    has not begun yet, so appends committed meanwhile cannot look like tampering.
    ``public_key`` (raw Ed25519) checks checkpoint signatures; None skips that check.
    Raises ``NotFound`` for an unknown ``stream``.
    """
    if not session.in_transaction():
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    if stream is None:
        names = list((await session.execute(_ALL_STREAMS)).scalars())
    elif await _stream_known(session, stream):
        names = [stream]
    else:
        raise NotFound(
            f"There is no audit stream {stream!r}.",
            code=ErrorCode.AUDIT_STREAM_NOT_FOUND,
            field="stream",
        )
    for name in names:
        verifier = StreamVerifier(name, public_key=public_key)
        await _feed(session, verifier, name, after=0, upto=_NO_LIMIT, batch_size=batch_size)
        for cp in (await session.execute(_ORPHAN_CHECKPOINTS, {"stream": name})).all():
            verifier.checkpoint(CheckpointRow(*cp), row_hash=None)
        yield verifier.finish(await _head(session, name))


async def _stream_known(session: AsyncSession, stream: str) -> bool:
    found = await session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM audit_event WHERE stream = :s)"
            " OR EXISTS (SELECT 1 FROM audit_stream WHERE stream = :s)"
            " OR EXISTS (SELECT 1 FROM audit_checkpoint WHERE stream = :s)"
        ),
        {"s": stream},
    )
    return bool(found.scalar_one())


async def _head(session: AsyncSession, stream: str) -> Head | None:
    row = (await session.execute(_HEAD, {"stream": stream})).one_or_none()
    return Head(seq=row.seq, hash=row.hash) if row else None


async def _feed(
    session: AsyncSession,
    verifier: StreamVerifier,
    stream: str,
    *,
    after: int,
    upto: int,
    batch_size: int,
) -> None:
    while True:
        params = {"stream": stream, "after": after, "upto": upto, "limit": batch_size}
        rows = (await session.execute(_EVENT_PAGE, params)).all()
        for row in rows:
            verifier.event(EventRow(*row))
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


# --- signed checkpoints --------------------------------------------------------------------

# Streams whose head moved past their last checkpoint, with that checkpoint (if any).
_DUE = text(
    """
    SELECT s.stream, s.seq, s.hash, c.seq AS cp_seq, c.hash AS cp_hash, c.signature
    FROM audit_stream s
    LEFT JOIN LATERAL (
        SELECT seq, hash, signature FROM audit_checkpoint
        WHERE stream = s.stream ORDER BY seq DESC LIMIT 1
    ) c ON true
    WHERE s.seq > coalesce(c.seq, 0)
    ORDER BY s.stream
    """
)

_INSERT_CHECKPOINT = text(
    """
    INSERT INTO audit_checkpoint (stream, seq, hash, signature)
    VALUES (:stream, :seq, :hash, :signature)
    ON CONFLICT (stream, seq) DO NOTHING
    """
)


@dataclass(frozen=True)
class CheckpointRun:
    signed: list[tuple[str, int]]
    refused: list[StreamReport]


async def sign_checkpoints(
    session: AsyncSession, *, key: PlatformKey, batch_size: int = 5000
) -> CheckpointRun:
    """Sign (stream, seq, hash) of every stream whose head moved since its last checkpoint.

    The rows since the last checkpoint are re-checked first (that checkpoint's signature,
    then the chain from its hash to the head): the platform never signs a broken chain;
    such a stream is logged and left out. Idempotent: a checkpoint that exists stays.
    """
    signed: list[tuple[str, int]] = []
    refused: list[StreamReport] = []
    for due in (await session.execute(_DUE)).all():
        after = due.cp_seq or 0
        verifier = StreamVerifier(
            due.stream,
            public_key=key.public_raw,
            after_seq=after,
            after_hash=bytes.fromhex(due.cp_hash) if after else GENESIS,
        )
        if after:  # trust the last checkpoint only if it is really ours
            cp = CheckpointRow(due.stream, after, due.cp_hash, due.signature)
            verifier.checkpoint(cp, row_hash=cp.hash)
        await _feed(session, verifier, due.stream, after=after, upto=due.seq, batch_size=batch_size)
        report = verifier.finish(Head(seq=due.seq, hash=due.hash))
        if not report.ok:
            log.error("not signing %s: seq %s: %s", due.stream, report.first_bad_seq, report.reason)
            refused.append(report)
            continue
        message = checkpoint_message(stream=due.stream, seq=due.seq, hash_hex=due.hash)
        params = {"stream": due.stream, "seq": due.seq, "hash": due.hash}
        await session.execute(_INSERT_CHECKPOINT, {**params, "signature": key.sign_b64(message)})
        signed.append((due.stream, due.seq))
    return CheckpointRun(signed=signed, refused=refused)
