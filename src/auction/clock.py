"""The auction's clock and its auctioneer: phase changes, closing, open, pause and resume.

Every function here takes the auction's writer lock first (``writer.lock_auction``), as the
bid batches do, so a pause, a phase change or the closing falls between two batches, never
inside one; the database clock read after the lock decides. Each returns a :class:`Moved`:
the frames to publish after the caller commits and when the clock must look again
(``next_at``: the caller enqueues ``auction_clock`` for then, ``jobs.py``).

Closing (:func:`run_clock`) is idempotent: it asks the rules what the auction is at the
database's now, writes the phase changes that fell due, and when bidding has ended calls
auction-core's ``settle`` once (a closed auction is left alone). Run early it changes
nothing and says when to come back; run late it decides what it would have on time (every
boundary is computed from the one before it); run twice, the second finds it closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auction.frames import FrameBook, iso
from auction.lookup import auction_for_update
from auction.models import Auction, AuctionState
from auction.result import settle
from auction.rules import (
    Phase,
    RuleBroken,
    State,
    Terms,
    next_boundary,
    open_live,
    pause,
    resume,
    steps,
)
from auction.snapshot import Snapshot, as_stored, state_of, terms_of
from auction.writer import lock_auction, phase_frame_fields, write_state
from tendering.core.audit import auction_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.blobs import BlobStore
from tendering.core.canonical import canonical_json
from tendering.core.channels import Frame
from tendering.core.clock import rfc3339
from tendering.core.errors import Conflict, ErrorCode, NotFound
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = [
    "CLOCK_ACTOR",
    "Moved",
    "auction_id_of",
    "open_auction",
    "pause_auction",
    "resume_auction",
    "run_clock",
]

CLOCK_ACTOR = "system:auction.clock"

_PAUSE = text(
    """
    INSERT INTO auction_pause (auction_id, after_seq, reason, fault, paused_by, paused_at,
                               remaining_ms)
    VALUES (:id, :after_seq, :reason, :fault, :by, :at, :remaining_ms)
    """
)
_RESUME = text(
    """
    UPDATE auction_pause SET resumed_by = :by, resumed_at = :at, resume_reason = :reason
    WHERE auction_id = :id AND resumed_at IS NULL
    """
)


@dataclass(slots=True)
class Moved:
    code: str
    frames: list[Frame] = field(default_factory=list)
    next_at: datetime | None = None
    settled: bool = False
    state: State | None = None


async def auction_id_of(session: AsyncSession, code: str) -> int:
    found = (
        await session.execute(select(col(Auction.id)).where(col(Auction.code) == code))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"没有编号为 {code} 的拍卖 (no auction with that code)",
            code=ErrorCode.AUCTION_NOT_FOUND,
            field="code",
        )
    return int(found)


class _Change:
    """One locked change: the row, its terms, the state brought to the database's now with
    each phase change that fell due written as a frame and an audit event."""

    def __init__(self, row: Snapshot, now: datetime) -> None:
        self.row, self.now = row, now
        self.terms: Terms = terms_of(row)
        self.book = FrameBook(last_seq=row.frame_seq, at=now)
        self.events: list[tuple[str, dict[str, Any], str]] = []
        self.state = state_of(row)
        self.ended = False
        for crossed in steps(self.terms, self.state, now):
            if crossed.phase is Phase.ENDED:
                self.ended = True
                break
            self.state = crossed
            fields = phase_frame_fields(self.terms, crossed)
            self.note("phase", "auction.phase_changed", CLOCK_ACTOR, **fields)

    def note(self, kind: str, action: str, actor: str, **body: Any) -> None:
        self.book.add(kind, **body)
        self.events.append((action, body, actor))

    async def write(self, session: AsyncSession) -> Moved:
        if self.book.frames:
            await write_state(session, self.row, self.terms, self.state, self.book)
        stream = auction_stream(self.row.code)
        for action, payload, actor in self.events:
            await record(session, stream=stream, action=action, actor=actor, payload=payload)
        return Moved(
            code=self.row.code,
            frames=self.book.frames,
            next_at=None
            if self.ended
            else next_boundary(self.terms, as_stored(self.terms, self.state)),
            state=self.state,
        )


async def _locked(session: AsyncSession, code: str) -> _Change:
    row, now, _ = await lock_auction(session, await auction_id_of(session, code))
    return _Change(row, now)


def _refuse(error: RuleBroken) -> Conflict:
    return Conflict(str(error), code=ErrorCode.AUCTION_STATE, field="state")


def _closed(change: _Change) -> Conflict | None:
    if change.ended or change.state.phase is Phase.ENDED:
        return Conflict("竞价已结束 (bidding has ended)", code=ErrorCode.AUCTION_ENDED)
    return None


async def open_auction(session: AsyncSession, *, code: str, actor: Actor) -> Moved:
    """The auctioneer opens a live (English) auction: bidding starts, the countdown runs."""
    change = await _locked(session, code)
    if change.row.state not in (AuctionState.ANNOUNCED, AuctionState.LIVE):
        raise Conflict(
            f"拍卖处于 {change.row.state} 状态，不能开拍 (cannot open in state {change.row.state})",
            code=ErrorCode.AUCTION_STATE,
            field="state",
        )
    try:
        change.state = open_live(change.terms, change.state, change.now)
    except RuleBroken as error:
        raise _refuse(error) from error
    fields = phase_frame_fields(change.terms, change.state)
    change.note("phase", "auction.opened", actor.ref, **fields)
    return await change.write(session)


async def pause_auction(
    session: AsyncSession,
    *,
    code: str,
    actor: Actor,
    reason: str,
    fault: bool,
    key: PlatformKey,
) -> Moved:
    """Freeze the countdown with a recorded reason; a pause after a system fault is signed
    by the platform (over the canonical pause record) and announced to every watcher."""
    change = await _locked(session, code)
    if (closed := _closed(change)) is not None:
        raise closed
    try:
        paused = pause(change.terms, change.state, change.now)
    except RuleBroken as error:
        raise _refuse(error) from error
    left = paused.paused_left or timedelta(0)
    remaining_ms = left // timedelta(milliseconds=1)
    pause_record: dict[str, Any] = {
        "auction": change.row.code,
        "after_seq": paused.bids,
        "reason": reason,
        "fault": fault,
        "paused_at": rfc3339(change.now),
        "remaining_ms": remaining_ms,
        "by": actor.ref,
    }
    if fault:
        pause_record["signature"] = key.sign_b64(canonical_json(pause_record))
    await session.execute(
        _PAUSE,
        {
            "id": change.row.id,
            "after_seq": paused.bids,
            "reason": reason,
            "fault": fault,
            "by": actor.ref,
            "at": change.now,
            "remaining_ms": remaining_ms,
        },
    )
    change.state = paused
    change.note("pause", "auction.paused", actor.ref, **pause_record)
    return await change.write(session)


async def resume_auction(session: AsyncSession, *, code: str, actor: Actor, reason: str) -> Moved:
    """Start the frozen countdown again with what was left of it."""
    change = await _locked(session, code)
    try:
        change.state = resume(change.terms, change.state, change.now)
    except RuleBroken as error:
        raise _refuse(error) from error
    await session.execute(
        _RESUME, {"id": change.row.id, "by": actor.ref, "at": change.now, "reason": reason}
    )
    change.note(
        "resume",
        "auction.resumed",
        actor.ref,
        reason=reason,
        by=actor.ref,
        **{
            k: v for k, v in phase_frame_fields(change.terms, change.state).items() if k != "paused"
        },
    )
    return await change.write(session)


async def run_clock(
    session: AsyncSession,
    *,
    auction_id: int,
    secrecy: Secrecy,
    key: PlatformKey,
    store: BlobStore,
) -> Moved:
    """Bring the auction to the database's now; settle it once bidding has ended."""
    row, now, _ = await lock_auction(session, auction_id)
    if row.state in (AuctionState.CLOSED, AuctionState.CANCELLED, AuctionState.DRAFT):
        return Moved(code=row.code)
    change = _Change(row, now)
    moved = await change.write(session)
    if not change.ended:
        return moved
    auction = await auction_for_update(session, row.code)
    settlement = await settle(session, auction, secrecy=secrecy, key=key, store=store)
    book = FrameBook(last_seq=change.book.last_seq, at=now)
    book.add(
        "result",
        outcome=str(settlement.outcome),
        winner_paddle=settlement.winner_paddle,
        final_price_fen=settlement.final_price_fen,
        result_at=iso(settlement.result_at),
    )
    await book.save(session, auction_id)
    return Moved(code=row.code, frames=[*moved.frames, *book.frames], settled=True)
