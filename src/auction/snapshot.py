"""The auction row as the rules see it, and the rules' state written back as columns.

The bid path reads one row (``auction`` joined with ``auction_live``) with plain SQL, not the
ORM (DESIGN.md, "Hot paths"), into a :class:`Snapshot`; :func:`terms_of` and
:func:`state_of` turn it into ``rules.Terms`` / ``rules.State``; :func:`columns_of` gives the
values to write back.

The table has one ``preparing`` state where the rules have two phases, ``frozen`` (until the
listing ends) and ``preparation`` (then the preparation period): both take no bids and lead
to timed bidding at the same moment, so a frozen listing is stored as ``preparing`` until
timed bidding starts (listing end + preparation), which reads back as ``preparation``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from auction.models import AuctionMode, AuctionState
from auction.rules import Mode, Phase, State, Terms

__all__ = [
    "READ_FOR_WRITER",
    "READ_ONE",
    "READ_RUNNING",
    "Snapshot",
    "as_stored",
    "columns_of",
    "state_of",
    "terms_of",
]

_COLUMNS = """
    SELECT a.id, a.code, a.mode, a.state, a.start_price_fen, a.increment_fen, a.starts_at,
           a.listing_ends_at, a.freeze_before_seconds, a.preparation_seconds,
           a.countdown_seconds, a.current_price_fen, a.leader_paddle, a.last_seq, a.ends_at,
           a.paused, a.paused_remaining_ms,
           coalesce(l.frame_seq, 0) AS frame_seq,
           coalesce(l.distinct_bidders, 0) AS distinct_bidders,
           coalesce(l.freeze_decided, false) AS freeze_decided
    FROM auction a LEFT JOIN auction_live l ON l.auction_id = a.id
"""

# The writer's read, in the statement after it took the auction's advisory lock (so its
# snapshot, taken after the lock, sees every batch committed before): the row, locked against
# changes made outside the bid path (staff editing it; uncontended otherwise), the database
# clock, and the bids already accepted under the batch's idempotency keys.
READ_FOR_WRITER = text(
    """
    SELECT a.id, a.code, a.mode, a.state, a.start_price_fen, a.increment_fen, a.starts_at,
           a.listing_ends_at, a.freeze_before_seconds, a.preparation_seconds,
           a.countdown_seconds, a.current_price_fen, a.leader_paddle, a.last_seq, a.ends_at,
           a.paused, a.paused_remaining_ms,
           coalesce(l.frame_seq, 0) AS frame_seq,
           coalesce(l.distinct_bidders, 0) AS distinct_bidders,
           coalesce(l.freeze_decided, false) AS freeze_decided,
           clock_timestamp() AS now,
           (SELECT coalesce(json_agg(json_build_object(
                'key', b.idempotency_key, 'seq', b.seq, 'paddle', b.paddle,
                'amount_fen', b.amount_fen, 'phase', b.phase, 'accepted_at', b.accepted_at)),
                '[]')
            FROM auction_bid b
            WHERE b.auction_id = a.id AND b.idempotency_key = ANY(CAST(:keys AS text[])))
           AS known
    FROM auction a LEFT JOIN auction_live l ON l.auction_id = a.id
    WHERE a.id = :id
    FOR UPDATE OF a
    """
)

# The row as it is now, for a reader (a watcher's first state), without a lock.
READ_ONE = text(_COLUMNS + " WHERE a.id = :id")

# What the clock's sweeper looks at: every auction whose clock may be running.
READ_RUNNING = text(
    _COLUMNS
    + """ WHERE a.state IN ('listing', 'preparing', 'timed', 'live')
        OR (a.state = 'announced' AND a.mode = 'listing'
            AND a.starts_at <= clock_timestamp() + make_interval(secs => :ahead))"""
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    code: str
    mode: str
    state: str
    start_price_fen: int
    increment_fen: int
    starts_at: datetime
    listing_ends_at: datetime | None
    freeze_before_seconds: int
    preparation_seconds: int
    countdown_seconds: int
    current_price_fen: int | None
    leader_paddle: str | None
    last_seq: int
    ends_at: datetime | None
    paused: bool
    paused_remaining_ms: int | None
    frame_seq: int
    distinct_bidders: int
    freeze_decided: bool

    @classmethod
    def of(cls, row: Any) -> Snapshot:
        return cls(**{name: getattr(row, name) for name in cls.__slots__})


_PHASE_OF_STATE = {
    AuctionState.LISTING: Phase.LISTING,
    AuctionState.PREPARING: Phase.PREPARATION,
    AuctionState.TIMED: Phase.TIMED,
    AuctionState.LIVE: Phase.LIVE,
    AuctionState.CLOSED: Phase.ENDED,
    AuctionState.CANCELLED: Phase.ENDED,
}


def terms_of(row: Snapshot) -> Terms:
    listing = row.mode == AuctionMode.LISTING
    return Terms(
        mode=Mode.LISTING if listing else Mode.ENGLISH,
        start_price=row.start_price_fen,
        increment=row.increment_fen,
        starts_at=row.starts_at,
        listing_ends_at=row.listing_ends_at if listing else None,
        freeze_before=timedelta(seconds=row.freeze_before_seconds),
        preparation=timedelta(seconds=row.preparation_seconds),
        countdown=timedelta(seconds=row.countdown_seconds),
    )


def state_of(row: Snapshot) -> State:
    """The rules' state of the row; a draft or announced auction is ``scheduled`` (a draft
    never starts by itself: it has no boundary)."""
    phase = _PHASE_OF_STATE.get(AuctionState(row.state), Phase.SCHEDULED)
    ends_at = row.ends_at
    if phase is Phase.SCHEDULED:
        listing = row.mode == AuctionMode.LISTING and row.state == AuctionState.ANNOUNCED
        ends_at = row.starts_at if listing else None
    elif phase is Phase.LISTING and ends_at is None and not row.paused:
        ends_at = row.listing_ends_at
    elif phase is Phase.ENDED:
        ends_at = None
    paused = row.paused and phase is not Phase.ENDED
    return State(
        phase=phase,
        ends_at=None if paused else ends_at,
        price=row.current_price_fen,
        leader=row.leader_paddle,
        bidders=row.distinct_bidders,
        bids=row.last_seq,
        paused_left=timedelta(milliseconds=row.paused_remaining_ms or 0) if paused else None,
        freeze_decided=row.freeze_decided,
    )


def as_stored(terms: Terms, state: State) -> State:
    """``state`` as the table keeps it: a frozen listing is ``preparation`` until timed
    bidding starts (the listing end plus the preparation period)."""
    if state.phase is not Phase.FROZEN:
        return state
    return replace(
        state,
        phase=Phase.PREPARATION,
        ends_at=None if state.ends_at is None else state.ends_at + terms.preparation,
        paused_left=None if state.paused_left is None else state.paused_left + terms.preparation,
    )


def columns_of(terms: Terms, state: State, row: Snapshot) -> dict[str, Any]:
    """The values of the writer's ``UPDATE`` for ``state`` (never ``ended``: closing is the
    result's to write, ``settle``)."""
    kept = as_stored(terms, state)
    phase, ends_at, left = kept.phase, kept.ends_at, kept.paused_left
    stored = {
        Phase.LISTING: AuctionState.LISTING,
        Phase.PREPARATION: AuctionState.PREPARING,
        Phase.TIMED: AuctionState.TIMED,
        Phase.LIVE: AuctionState.LIVE,
    }.get(phase)
    return {
        "id": row.id,
        "state": str(stored) if stored is not None else row.state,
        "price": state.price,
        "leader": state.leader,
        "last_seq": state.bids,
        "ends_at": ends_at if stored is not None else row.ends_at,
        "paused": left is not None,
        "paused_ms": None if left is None else left // timedelta(milliseconds=1),
        "bidders": state.bidders,
        "freeze_decided": state.freeze_decided,
    }
