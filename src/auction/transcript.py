"""The auction transcript (竞价记录): every accepted bid, pause and the result, with the
audit chain's events and hashes, signed; what a supervisor downloads.

One JSON object, ``auction-transcript-v1``::

    {"version": "auction-transcript-v1", "auction": code, "stream": "auction:<code>",
     "bids": [{"seq", "paddle", "amount_fen", "phase", "accepted_at"}, ...],    # by seq
     "pauses": [{"after_seq", "reason", "fault", "paused_at", "resumed_at", ...}, ...],
     "result": {"outcome", "winner_paddle", "final_price_fen", "reserve_fen", "result_at",
                "result_sha256", "result_signature"} | null,
     "events": [{"stream", "seq", "action", "actor", "at", "payload", "prev_hash", "hash"}],
     "head": {"seq", "hash"}, "signature": base64}

``signature`` is the platform's Ed25519 over the canonical bytes of the object without it.
Whoever holds it can re-check it offline with :func:`check_transcript` (the chain's hashes
recomputed event by event, ``chain-v1``), and against the database with ``tendering audit
verify --stream auction:<code>`` (the head there must be the transcript's head, or later).
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auction.lookup import get_auction
from auction.models import AuctionBid, AuctionPause
from tendering.core.audit import auction_stream
from tendering.core.audit.chain import event_hash
from tendering.core.audit.service import list_events
from tendering.core.canonical import canonical_json
from tendering.core.clock import rfc3339
from tendering.core.errors import present
from tendering.core.signing import PlatformKey, verify_signature

__all__ = ["TRANSCRIPT_VERSION", "build_transcript", "check_transcript"]

TRANSCRIPT_VERSION = "auction-transcript-v1"
_GENESIS = bytes(32)


async def _events(session: AsyncSession, stream: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        after = events[-1]["seq"] if events else 0
        batch = await list_events(session, stream=stream, after_seq=after, limit=500)
        events += [dict(e) for e in batch]
        if len(batch) < 500:
            return events


async def build_transcript(session: AsyncSession, *, code: str, key: PlatformKey) -> dict[str, Any]:
    """The signed transcript of the auction as it stands (a closed auction's is final)."""
    row = await get_auction(session, code)
    auction_id = present(row.id, "auction.id")
    bids = (
        await session.scalars(
            select(AuctionBid)
            .where(col(AuctionBid.auction_id) == auction_id)
            .order_by(col(AuctionBid.seq))
        )
    ).all()
    pauses = (
        await session.scalars(
            select(AuctionPause)
            .where(col(AuctionPause.auction_id) == auction_id)
            .order_by(col(AuctionPause.paused_at), col(AuctionPause.id))
        )
    ).all()
    stream = auction_stream(code)
    events = await _events(session, stream)
    result = None
    if row.outcome is not None and row.result_at is not None:
        result = {
            "outcome": row.outcome,
            "winner_paddle": row.winner_paddle,
            "final_price_fen": row.final_price_fen,
            "reserve_fen": row.reserve_fen,
            "result_at": rfc3339(row.result_at),
            "result_sha256": row.result_sha256,
            "result_signature": row.result_signature,
        }
    body: dict[str, Any] = {
        "version": TRANSCRIPT_VERSION,
        "auction": code,
        "stream": stream,
        "bids": [
            {
                "seq": b.seq,
                "paddle": b.paddle,
                "amount_fen": b.amount_fen,
                "phase": b.phase,
                "accepted_at": rfc3339(present(b.accepted_at, "bid.accepted_at")),
            }
            for b in bids
        ],
        "pauses": [
            {
                "after_seq": p.after_seq,
                "reason": p.reason,
                "fault": p.fault,
                "paused_by": p.paused_by,
                "paused_at": rfc3339(p.paused_at),
                "remaining_ms": p.remaining_ms,
                "resumed_by": p.resumed_by,
                "resumed_at": rfc3339(p.resumed_at) if p.resumed_at else None,
                "resume_reason": p.resume_reason,
            }
            for p in pauses
        ],
        "result": result,
        "events": events,
        "head": {"seq": events[-1]["seq"], "hash": events[-1]["hash"]} if events else None,
    }
    body["signature"] = key.sign_b64(canonical_json(body))
    return body


def check_transcript(transcript: dict[str, Any], public_key: bytes) -> list[str]:
    """What is wrong with a transcript (empty when nothing): its signature, and every
    event's hash recomputed from the one before (``chain-v1``)."""
    problems: list[str] = []
    body = {k: v for k, v in transcript.items() if k != "signature"}
    try:
        signature = base64.b64decode(str(transcript.get("signature", "")), validate=True)
    except ValueError:
        signature = b""
    if not verify_signature(public_key, canonical_json(body), signature):
        problems.append("the platform's signature does not verify")
    prev = _GENESIS
    for expected_seq, event in enumerate(transcript.get("events", []), start=1):
        if event.get("seq") != expected_seq or event.get("prev_hash") != prev.hex():
            problems.append(f"event {event.get('seq')}: out of order or not chained")
        digest = event_hash(
            prev,
            stream=event["stream"],
            seq=event["seq"],
            action=event["action"],
            actor=event["actor"],
            at=event["at"],
            payload=event["payload"],
        )
        if digest.hex() != event.get("hash"):
            problems.append(f"event {event.get('seq')}: hash does not match its content")
        prev = digest
    return problems
