"""The auction's rules: which bid is valid, and how an auction moves through its phases.

Pure: no I/O, every time passed in (the service passes the database clock it read in the
transaction that decides). An auction's stored :class:`State` plus a moment gives its state
at that moment (:func:`advance`); a bid is judged against that (:func:`judge_bid`)::

    state = advance(terms, stored, now)
    decision = judge_bid(terms, state, paddle="A017", amount=1_250_000_00, approved=True, now=now)
    if isinstance(decision, Accepted):
        state = decision.state

Two modes (自然资源部《招标拍卖挂牌出让国有建设用地使用权规定》, and the centers' online rules):

* **listing then timed bidding** (挂牌 + 限时竞价). Bids during the listing; at
  ``freeze_before`` before the listing ends, if two or more bidders have bid, the listing
  prices freeze until the listing ends, a preparation period follows, then timed bidding
  starts from the highest listing price with a countdown that every valid bid restarts.
  Otherwise the listing carries on to its end and the highest listing bid stands (one bidder
  only: at the listing price). No bid in timed bidding: the highest listing bid stands.
* **live English** (拍卖): an auctioneer opens it; then the same bids and the same countdown.

Every phase boundary is computed from the boundary before it, never from when someone looked:
advancing to ``t2`` directly or by way of ``t1`` gives the same state, so a job that runs late
or twice decides exactly what one on time would have. A pause freezes the clock of the phase
(its time left is kept) and nothing is accepted until the auctioneer resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from tendering.core.money import yuan

__all__ = [
    "BIDDING_PHASES",
    "Accepted",
    "Mode",
    "Outcome",
    "Phase",
    "Refusal",
    "Refused",
    "RuleBroken",
    "State",
    "Terms",
    "advance",
    "initial_state",
    "judge_bid",
    "next_boundary",
    "open_live",
    "outcome",
    "pause",
    "resume",
    "steps",
]


class Mode(StrEnum):
    LISTING = "listing"  # 挂牌 then 限时竞价
    ENGLISH = "english"  # 拍卖, run by an auctioneer


class Phase(StrEnum):
    SCHEDULED = "scheduled"  # announced; listing not started / not yet opened by the auctioneer
    LISTING = "listing"  # 挂牌期
    FROZEN = "frozen"  # listing prices frozen until the listing ends
    PREPARATION = "preparation"  # 准备期 before timed bidding
    TIMED = "timed"  # 限时竞价, countdown restarted by every valid bid
    LIVE = "live"  # English auction opened by the auctioneer
    ENDED = "ended"


BIDDING_PHASES = frozenset({Phase.LISTING, Phase.TIMED, Phase.LIVE})
_COUNTDOWN_PHASES = frozenset({Phase.TIMED, Phase.LIVE})
_PAUSABLE = frozenset({Phase.LISTING, Phase.FROZEN, Phase.PREPARATION, Phase.TIMED, Phase.LIVE})


@dataclass(frozen=True, slots=True)
class Terms:
    """What the announcement fixed: prices in fen, the durations of the phases.

    ``starts_at`` is when the listing starts (listing mode) or the earliest time the
    auctioneer may open (English); ``listing_ends_at`` the announced end of the listing.
    """

    mode: Mode
    start_price: int
    increment: int
    starts_at: datetime
    listing_ends_at: datetime | None = None
    freeze_before: timedelta = timedelta(hours=1)
    preparation: timedelta = timedelta(minutes=15)
    countdown: timedelta = timedelta(minutes=4)

    def __post_init__(self) -> None:
        if self.start_price <= 0 or self.increment <= 0:
            raise ValueError("start price and increment must be positive fen")
        if self.mode is Mode.LISTING and (
            self.listing_ends_at is None or self.listing_ends_at <= self.starts_at
        ):
            raise ValueError("a listing needs an end after its start")
        if self.countdown <= timedelta(0) or self.freeze_before < timedelta(0):
            raise ValueError("the countdown must be positive and the freeze not negative")


@dataclass(frozen=True, slots=True)
class State:
    """An auction's state as stored: the phase, the price and who leads it, and when the
    phase ends (``ends_at``; while paused, ``None`` and ``paused_left`` holds its time left).

    ``price`` is the highest accepted bid (``None`` before the first); ``leader`` its paddle;
    ``bidders`` how many bidders have bid, counted up to 2 (all the rules need: while it
    is 1, every bid came from the leader); ``bids`` how many bids were accepted;
    ``freeze_decided`` that the listing passed its freeze time without two bidders, so it
    runs to its end and never freezes.
    """

    phase: Phase
    ends_at: datetime | None
    price: int | None = None
    leader: str | None = None
    bidders: int = 0
    bids: int = 0
    paused_left: timedelta | None = None
    freeze_decided: bool = False

    @property
    def paused(self) -> bool:
        return self.paused_left is not None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an ended auction came out before the reserve is opened: the highest bid, if any."""

    winner: str | None
    price: int | None
    bids: int


class Refusal(StrEnum):
    """Why a bid was refused; the service maps each to its error code."""

    NOT_APPROVED = "not_approved"
    NOT_OPEN = "not_open"  # not started, frozen, in preparation
    PAUSED = "paused"
    ENDED = "ended"
    BELOW_START = "below_start"
    OUTBID = "outbid"
    NOT_INCREMENT = "not_increment"


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    message: str
    price: int | None  # the current price the bidder must beat


@dataclass(frozen=True, slots=True)
class Accepted:
    state: State  # the state after the bid
    ends_at: datetime | None  # when the phase now ends (the restarted countdown)
    countdown_restarted: bool


class RuleBroken(ValueError):
    """An auctioneer's action that the state does not allow (open twice, resume unpaused)."""


def initial_state(terms: Terms) -> State:
    """A newly announced auction: scheduled, the listing's start its first boundary."""
    return State(phase=Phase.SCHEDULED, ends_at=terms.starts_at if _listing(terms) else None)


def _listing(terms: Terms) -> bool:
    return terms.mode is Mode.LISTING


def advance(terms: Terms, state: State, now: datetime) -> State:
    """The state at ``now``: every phase boundary at or before ``now`` crossed, each from the
    time it fell due (so ``advance(advance(s, t1), t2) == advance(s, t2)`` for t1 ≤ t2).
    A paused auction does not move."""
    crossed = steps(terms, state, now)
    return crossed[-1] if crossed else state


def steps(terms: Terms, state: State, now: datetime) -> list[State]:
    """Each state :func:`advance` passes through on the way to ``now`` (empty: none), so
    the caller can announce every phase change, not just the last."""
    crossed: list[State] = []
    while not state.paused and state.ends_at is not None:
        moved = _step(terms, state, now)
        if moved is None:
            break
        crossed.append(moved)
        state = moved
    return crossed


def next_boundary(terms: Terms, state: State) -> datetime | None:
    """When the state next changes by itself (``None``: paused, ended, or waiting for the
    auctioneer): the time a job should look again."""
    if state.paused or state.ends_at is None:
        return None
    if state.phase is Phase.LISTING and not state.freeze_decided:
        return state.ends_at - terms.freeze_before
    return state.ends_at


def _step(terms: Terms, state: State, now: datetime) -> State | None:
    boundary = state.ends_at
    if boundary is None:
        return None
    if state.phase is Phase.SCHEDULED and boundary <= now:
        return replace(state, phase=Phase.LISTING, ends_at=terms.listing_ends_at)
    if state.phase is Phase.LISTING:
        freeze_at = boundary - terms.freeze_before
        if not state.freeze_decided and freeze_at <= now:
            if state.bidders >= 2:
                return replace(state, phase=Phase.FROZEN)
            return replace(state, freeze_decided=True)
        if boundary <= now:
            return replace(state, phase=Phase.ENDED, ends_at=None)
        return None
    if state.phase is Phase.FROZEN and boundary <= now:
        return replace(state, phase=Phase.PREPARATION, ends_at=boundary + terms.preparation)
    if state.phase is Phase.PREPARATION and boundary <= now:
        # Timed bidding starts from the highest listing price (the state's price).
        return replace(state, phase=Phase.TIMED, ends_at=boundary + terms.countdown)
    if state.phase in _COUNTDOWN_PHASES and boundary <= now:
        return replace(state, phase=Phase.ENDED, ends_at=None)
    return None


def judge_bid(
    terms: Terms, state: State, *, paddle: str, amount: int, approved: bool, now: datetime
) -> Accepted | Refused:
    """Accept or refuse one bid of ``amount`` fen by ``paddle`` at ``now``.

    Valid: the bidder approved; the auction, at ``now``, in a phase that takes bids and not
    paused; the amount the current price plus a positive whole number of increments (the
    first bid: the start price plus a whole number of increments, none included).
    In a countdown phase an accepted bid restarts the countdown from ``now``.
    """
    state = advance(terms, state, now)
    price = state.price
    if not approved:
        return Refused(
            Refusal.NOT_APPROVED, "您不是本场已审核通过的竞买人 (not an approved bidder)", price
        )
    if state.phase is Phase.ENDED:
        return Refused(Refusal.ENDED, "竞价已结束 (bidding has ended)", price)
    if state.paused:
        return Refused(Refusal.PAUSED, "竞价已暂停 (bidding is paused)", price)
    if state.phase not in BIDDING_PHASES:
        return Refused(
            Refusal.NOT_OPEN, f"当前阶段不接受出价 (no bids in phase {state.phase})", price
        )
    refused = _amount_problem(terms, price, amount)
    if refused is not None:
        return refused
    bidders = state.bidders
    if bidders == 0 or (bidders == 1 and paddle != state.leader):
        bidders += 1
    ends_at = state.ends_at
    restarted = state.phase in _COUNTDOWN_PHASES
    if restarted and ends_at is not None:
        ends_at = max(ends_at, now + terms.countdown)
    after = replace(
        state, price=amount, leader=paddle, bidders=bidders, bids=state.bids + 1, ends_at=ends_at
    )
    return Accepted(state=after, ends_at=ends_at, countdown_restarted=restarted)


def _amount_problem(terms: Terms, price: int | None, amount: int) -> Refused | None:
    step = terms.increment
    if price is None:
        if amount < terms.start_price:
            return Refused(
                Refusal.BELOW_START,
                f"首次出价不得低于起始价 {yuan(terms.start_price, grouped=True)} 元"
                f" (the first bid must be at least the start price {yuan(terms.start_price)})",
                None,
            )
        if (amount - terms.start_price) % step:
            return Refused(
                Refusal.NOT_INCREMENT,
                f"出价须为起始价加整数倍加价幅度 {yuan(step, grouped=True)} 元"
                f" (the bid must be the start price plus whole increments of {yuan(step)})",
                None,
            )
        return None
    if amount <= price:
        return Refused(
            Refusal.OUTBID,
            f"出价已被超过：当前价为 {yuan(price, grouped=True)} 元"
            f" (outbid: the current price is {yuan(price)})",
            price,
        )
    if (amount - price) % step:
        return Refused(
            Refusal.NOT_INCREMENT,
            f"出价须为当前价 {yuan(price, grouped=True)} 元"
            f"加整数倍加价幅度 {yuan(step, grouped=True)} 元"
            f" (the bid must be the current price {yuan(price)} plus whole increments of"
            f" {yuan(step)})",
            price,
        )
    return None


def open_live(terms: Terms, state: State, now: datetime) -> State:
    """The auctioneer opens an English auction: bidding starts with a full countdown."""
    if terms.mode is not Mode.ENGLISH:
        raise RuleBroken("挂牌项目按时间自动进行，无需主持人开拍 (a listing runs by its times)")
    if state.phase is not Phase.SCHEDULED:
        raise RuleBroken(f"拍卖已开始 (the auction is already {state.phase})")
    if now < terms.starts_at:
        raise RuleBroken("未到公告的拍卖开始时间 (before the announced start)")
    return replace(state, phase=Phase.LIVE, ends_at=now + terms.countdown)


def pause(terms: Terms, state: State, now: datetime) -> State:
    """Freeze the phase's clock at ``now``: its time left is kept until :func:`resume`."""
    state = advance(terms, state, now)
    if state.paused:
        raise RuleBroken("竞价已处于暂停状态 (already paused)")
    if state.phase not in _PAUSABLE or state.ends_at is None:
        raise RuleBroken(f"当前阶段不能暂停 (cannot pause in phase {state.phase})")
    return replace(state, ends_at=None, paused_left=max(state.ends_at - now, timedelta(0)))


def resume(terms: Terms, state: State, now: datetime) -> State:
    """Start the frozen clock again: the phase ends its time left after ``now``."""
    if state.paused_left is None:
        raise RuleBroken("竞价未暂停 (not paused)")
    return replace(state, ends_at=now + state.paused_left, paused_left=None)


def outcome(state: State) -> Outcome | None:
    """The highest bid of an ended auction (``None`` while it runs): the listing bid stands
    when timed bidding had no bid, and a lone bidder wins at the listing price."""
    if state.phase is not Phase.ENDED:
        return None
    return Outcome(winner=state.leader, price=state.price, bids=state.bids)
