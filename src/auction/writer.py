"""The one writer of an auction's bids (docs/auctions.md, "One writer per auction").

Each process hands its bids on an auction to a ``clerk.BidClerk``, which keeps them in
arrival order and decides them in batches: one transaction per batch (:func:`decide`), under
``pg_advisory_xact_lock(WRITER_LOCK, auction_id)``, so across every process one batch of one
auction is decided at a time. The transaction reads the current price and the database
clock after taking the lock, judges each bid in order with ``rules.judge_bid``, and writes
the accepted ones (gapless ``seq``), their frames, their audit events and the new state in
that one transaction. The bidders hear the decision after the commit; a process that dies
first leaves nothing half-decided (the transaction rolls back, the lock goes with the
connection) and its bidders, who had no answer, retry with their idempotency keys::

    decision = await clerk.submit(auction_id, PendingBid(paddle="A017", amount_fen=n, key=k))
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auction.frames import FrameBook, iso
from auction.rules import Accepted, Phase, Refusal, State, Terms, judge_bid, steps
from auction.snapshot import (
    READ_FOR_WRITER,
    Snapshot,
    as_stored,
    columns_of,
    state_of,
    terms_of,
)
from tendering.core.audit import APPEND_CHAINED, ChainedEvents, auction_stream, chain_events
from tendering.core.channels import Frame
from tendering.core.clock import parse_rfc3339
from tendering.core.errors import ErrorCode, NotFound, TooManyRequests

__all__ = [
    "MAX_BATCH",
    "WRITER_LOCK",
    "BidDecision",
    "Decided",
    "PendingBid",
    "bid_unknown",
    "decide",
    "lock_auction",
    "phase_frame_fields",
    "write_state",
]

log = logging.getLogger("auction.writer")

# The first key of the two-key advisory lock: the auction's id is the second. Every change
# to an auction's live state (bids, pause, resume, open, closing) takes it first.
WRITER_LOCK = 0x41554354  # "AUCT"
WRITER_ACTOR = "system:auction.writer"
MAX_BATCH = 500

_LOCK = text("SELECT pg_advisory_xact_lock(:lock, :id)")

# Everything a batch changes, in one round trip: the accepted bids, their frames, their
# audit events (chained by ``chain_events`` just before), the writer's counters and the
# auction's live columns.
_WRITE_BATCH = """
    bids AS (
        INSERT INTO auction_bid (auction_id, seq, paddle, amount_fen, phase, idempotency_key,
                                 accepted_at)
        SELECT :id, s, p, a, ph, k, :at
        FROM unnest(CAST(:seqs AS int[]), CAST(:paddles AS text[]), CAST(:amounts AS bigint[]),
                    CAST(:phases AS text[]), CAST(:keys AS text[])) AS b(s, p, a, ph, k)
    ), frames AS (
        INSERT INTO auction_frame (auction_id, seq, kind, at, body)
        SELECT :id, s, k, :at, CAST(b AS jsonb)
        FROM unnest(CAST(:frame_seqs AS int[]), CAST(:frame_kinds AS text[]),
                    CAST(:frame_bodies AS text[])) AS f(s, k, b)
    ), live AS (
        INSERT INTO auction_live (auction_id, frame_seq, distinct_bidders, freeze_decided)
        VALUES (:id, :frame_seq, :bidders, :freeze_decided)
        ON CONFLICT (auction_id) DO UPDATE SET frame_seq = EXCLUDED.frame_seq,
            distinct_bidders = EXCLUDED.distinct_bidders,
            freeze_decided = EXCLUDED.freeze_decided
    )
    UPDATE auction SET state = :state, current_price_fen = :price, leader_paddle = :leader,
        last_seq = :last_seq, ends_at = :ends_at, paused = :paused,
        paused_remaining_ms = :paused_ms
    WHERE id = :id
"""
_WRITE = text("WITH " + APPEND_CHAINED + ", " + _WRITE_BATCH)


@dataclass(frozen=True, slots=True)
class PendingBid:
    """A bid as it reached the server: the bidder's paddle, the amount, the client's key."""

    paddle: str
    amount_fen: int
    key: str

    @property
    def stored_key(self) -> str:
        # Keys are the client's: scoped by paddle, so two bidders' keys never collide.
        return f"{self.paddle}:{self.key}"


@dataclass(frozen=True, slots=True)
class BidDecision:
    """The answer to one bid. ``refusal`` is ``None`` when accepted (``replayed`` when the
    key had been accepted before: the original decision, counted once)."""

    accepted: bool
    paddle: str
    amount_fen: int
    at: datetime  # the database clock of the decision (or of the original acceptance)
    price_fen: int | None  # the current price after the batch
    ends_at: datetime | None
    phase: str
    seq: int | None = None
    replayed: bool = False
    refusal: Refusal | None = None
    message: str = ""
    mismatch: bool = False  # the key was used before for another amount


@dataclass(slots=True)
class Decided:
    code: str
    decisions: list[BidDecision]
    frames: list[Frame] = field(default_factory=list)
    now: datetime | None = None


async def lock_auction(
    session: AsyncSession, auction_id: int, keys: Sequence[str] = ()
) -> tuple[Snapshot, datetime, dict[str, BidDecision]]:
    """Take the auction's writer lock in the session's transaction, then read its row, the
    database clock (after the lock: the time the decision is made) and the bids already
    accepted under ``keys`` (stored keys)."""
    # Two statements, not one: a statement's snapshot is taken when it starts, so a read in the
    # statement that waits for the lock could miss the batch committed while it waited.
    await session.execute(_LOCK, {"lock": WRITER_LOCK, "id": auction_id})
    found = (
        await session.execute(READ_FOR_WRITER, {"id": auction_id, "keys": list(keys)})
    ).one_or_none()
    if found is None:
        raise NotFound(
            "没有该拍卖 (no such auction)", code=ErrorCode.AUCTION_NOT_FOUND, field="auction"
        )
    known = {
        bid["key"]: BidDecision(
            True,
            bid["paddle"],
            bid["amount_fen"],
            parse_rfc3339(bid["accepted_at"]),
            None,
            None,
            bid["phase"],
            bid["seq"],
        )
        for bid in _json_list(found.known)
    }
    return Snapshot.of(found), found.now, known


def _json_list(value: Any) -> list[dict[str, Any]]:
    found = json.loads(value) if isinstance(value, str) else value
    return list(found or [])


def phase_frame_fields(terms: Terms, state: State) -> dict[str, Any]:
    """A phase frame's fields; ``ends_at`` is when bidding next changes (for a frozen
    listing: when timed bidding starts)."""
    return {
        "phase": str(state.phase),
        "price_fen": state.price,
        "leader": state.leader,
        "ends_at": iso(as_stored(terms, state).ends_at),
        "paused": state.paused,
    }


async def decide(session: AsyncSession, auction_id: int, bids: Sequence[PendingBid]) -> Decided:
    """Decide ``bids`` (in arrival order) in the session's transaction; the caller commits,
    then answers the bidders and publishes ``frames``."""
    row, now, known = await lock_auction(session, auction_id, [b.stored_key for b in bids])
    terms = terms_of(row)
    book = FrameBook(last_seq=row.frame_seq, at=now)
    events: list[tuple[str, dict[str, Any]]] = []
    to_write = state_of(row)
    judged = to_write
    for crossed in steps(terms, to_write, now):
        judged = crossed
        if crossed.phase is Phase.ENDED:
            break  # closing writes the result (``clock.py``); bids are refused meanwhile
        to_write = crossed
        book.add("phase", **phase_frame_fields(terms, crossed))
        events.append(("auction.phase_changed", phase_frame_fields(terms, crossed)))
    accepted: list[tuple[PendingBid, int, str]] = []
    decisions: list[BidDecision] = []
    first: dict[str, BidDecision] = {}
    for bid in bids:
        earlier = known.get(bid.stored_key) or first.get(bid.stored_key)
        if earlier is not None:
            decisions.append(_again(earlier, bid))
            continue
        outcome = judge_bid(
            terms, judged, paddle=bid.paddle, amount=bid.amount_fen, approved=True, now=now
        )
        if isinstance(outcome, Accepted):
            judged = to_write = outcome.state
            phase = str(judged.phase)
            accepted.append((bid, judged.bids, phase))
            body = {"bid_seq": judged.bids, "paddle": bid.paddle, "amount_fen": bid.amount_fen}
            book.add("bid", **body, phase=phase, ends_at=iso(judged.ends_at))
            events.append(("auction.bid_accepted", {**body, "phase": phase}))
            decision = BidDecision(
                True, bid.paddle, bid.amount_fen, now, None, None, phase, judged.bids
            )
        else:
            decision = BidDecision(
                False, bid.paddle, bid.amount_fen, now, None, None, str(judged.phase),
                refusal=outcome.reason, message=outcome.message,
            )  # fmt: skip
        first[bid.stored_key] = decision
        decisions.append(decision)
    if book.frames:
        # The events' seqs are claimed first (one round trip, the stream's head locked as
        # ``record`` locks it), then everything is written in one statement.
        audit = await chain_events(
            session, stream=auction_stream(row.code), actor=WRITER_ACTOR, events=events
        )
        await write_state(session, row, terms, to_write, book, accepted, audit=audit)
    price, ends_at = judged.price, judged.ends_at
    final = [_with_price(d, price, ends_at) for d in decisions]
    return Decided(code=row.code, decisions=final, frames=book.frames, now=now)


def _with_price(decision: BidDecision, price: int | None, ends_at: datetime | None) -> BidDecision:
    return BidDecision(
        decision.accepted,
        decision.paddle,
        decision.amount_fen,
        decision.at,
        price,
        ends_at,
        decision.phase,
        decision.seq,
        decision.replayed,
        decision.refusal,
        decision.message,
        decision.mismatch,
    )


def _again(earlier: BidDecision, bid: PendingBid) -> BidDecision:
    """A bid whose key was decided before: the same decision, or a mismatch refusal."""
    if earlier.amount_fen != bid.amount_fen:
        return BidDecision(
            False, bid.paddle, bid.amount_fen, earlier.at, None, None, earlier.phase,
            mismatch=True,
            message="该幂等键已用于另一金额的出价 (the key was used for another amount)",
        )  # fmt: skip
    return BidDecision(
        earlier.accepted, bid.paddle, bid.amount_fen, earlier.at, None, None, earlier.phase,
        earlier.seq, replayed=earlier.accepted, refusal=earlier.refusal, message=earlier.message,
    )  # fmt: skip


async def write_state(
    session: AsyncSession,
    row: Snapshot,
    terms: Terms,
    state: State,
    book: FrameBook,
    accepted: Sequence[tuple[PendingBid, int, str]] = (),
    *,
    audit: ChainedEvents | None = None,
) -> None:
    """Write ``state``, the ``accepted`` bids ``(bid, seq, phase)``, the book's frames and
    the ``audit`` events in one statement (the caller holds the writer lock)."""
    await session.execute(
        _WRITE,
        {
            **(audit or ChainedEvents.none()).params,
            **columns_of(terms, state, row),
            "at": book.at,
            "seqs": [seq for _, seq, _ in accepted],
            "paddles": [bid.paddle for bid, _, _ in accepted],
            "amounts": [bid.amount_fen for bid, _, _ in accepted],
            "phases": [phase for _, _, phase in accepted],
            "keys": [bid.stored_key for bid, _, _ in accepted],
            "frame_seq": book.last_seq,
            **book.params(),
        },
    )


def bid_unknown() -> TooManyRequests:
    return TooManyRequests(
        "出价结果未知，请使用同一幂等键重试 (the decision is unknown: retry with the same"
        " idempotency key; it will count once)",
        retry_after=1,
        code=ErrorCode.AUCTION_BID_UNKNOWN,
    )
