"""The auction's rules: bid validity, the phases of both modes, pause; a state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from auction.rules import (
    Accepted,
    Mode,
    Phase,
    Refusal,
    Refused,
    RuleBroken,
    State,
    Terms,
    advance,
    initial_state,
    judge_bid,
    next_boundary,
    open_live,
    outcome,
    pause,
    resume,
    steps,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
YUAN = 100
LISTING = Terms(
    mode=Mode.LISTING,
    start_price=1_000_000 * YUAN,
    increment=10_000 * YUAN,
    starts_at=T0,
    listing_ends_at=T0 + timedelta(days=10),
)
ENGLISH = Terms(mode=Mode.ENGLISH, start_price=500_000 * YUAN, increment=5_000 * YUAN, starts_at=T0)
FREEZE = T0 + timedelta(days=10) - timedelta(hours=1)
LISTING_END = T0 + timedelta(days=10)


def bid(terms: Terms, state: State, paddle: str, amount: int, at: datetime) -> State:
    decision = judge_bid(terms, state, paddle=paddle, amount=amount, approved=True, now=at)
    assert isinstance(decision, Accepted), decision
    return decision.state


def refusal(terms: Terms, state: State, amount: int, at: datetime, **kw: object) -> Refusal:
    decision = judge_bid(
        terms,
        state,
        paddle=str(kw.get("paddle", "A001")),
        amount=amount,
        approved=bool(kw.get("approved", True)),
        now=at,
    )
    assert isinstance(decision, Refused), decision
    return decision.reason


def listing_with(*bids: tuple[str, int]) -> State:
    state = initial_state(LISTING)
    at = T0 + timedelta(days=1)
    for paddle, amount in bids:
        state = bid(LISTING, state, paddle, amount, at)
        at += timedelta(hours=1)
    return state


def test_the_first_bid_is_the_start_price_plus_whole_increments():
    state = initial_state(LISTING)
    at = T0 + timedelta(hours=1)
    assert refusal(LISTING, state, LISTING.start_price - 1, at) is Refusal.BELOW_START
    assert refusal(LISTING, state, LISTING.start_price + 1, at) is Refusal.NOT_INCREMENT
    assert bid(LISTING, state, "A001", LISTING.start_price, at).price == LISTING.start_price
    two_up = LISTING.start_price + 2 * LISTING.increment
    assert bid(LISTING, state, "A001", two_up, at).price == two_up


def test_a_later_bid_is_the_current_price_plus_a_positive_whole_multiple():
    state = listing_with(("A001", LISTING.start_price))
    at = T0 + timedelta(days=2)
    price = LISTING.start_price
    assert refusal(LISTING, state, price, at) is Refusal.OUTBID
    assert refusal(LISTING, state, price - LISTING.increment, at) is Refusal.OUTBID
    assert refusal(LISTING, state, price + LISTING.increment // 2, at) is Refusal.NOT_INCREMENT
    assert bid(LISTING, state, "A002", price + 3 * LISTING.increment, at).bids == 2


def test_an_outbid_refusal_names_the_current_price():
    state = listing_with(("A001", LISTING.start_price))
    decision = judge_bid(
        LISTING,
        state,
        paddle="A002",
        amount=LISTING.start_price,
        approved=True,
        now=T0 + timedelta(days=2),
    )
    assert isinstance(decision, Refused)
    assert decision.price == LISTING.start_price
    assert "当前价为 1,000,000.00 元" in decision.message
    assert "the current price is 1000000.00" in decision.message


def test_an_unapproved_bidder_and_a_bid_before_the_listing_are_refused():
    state = initial_state(LISTING)
    assert (
        refusal(LISTING, state, LISTING.start_price, T0 + timedelta(hours=1), approved=False)
        is Refusal.NOT_APPROVED
    )
    assert refusal(LISTING, state, LISTING.start_price, T0 - timedelta(seconds=1)) is (
        Refusal.NOT_OPEN
    )


def test_two_bidders_at_freeze_time_freeze_then_prepare_then_bid_against_the_clock():
    state = listing_with(("A001", LISTING.start_price), ("A002", LISTING.start_price + 10**6))
    assert advance(LISTING, state, FREEZE - timedelta(microseconds=1)).phase is Phase.LISTING
    frozen = advance(LISTING, state, FREEZE)
    assert frozen.phase is Phase.FROZEN
    assert refusal(LISTING, state, LISTING.start_price + 2 * 10**6, FREEZE) is Refusal.NOT_OPEN
    assert advance(LISTING, state, LISTING_END).phase is Phase.PREPARATION
    timed_at = LISTING_END + LISTING.preparation
    timed = advance(LISTING, state, timed_at)
    assert timed.phase is Phase.TIMED
    assert timed.price == LISTING.start_price + 10**6  # from the highest listing price
    assert timed.ends_at == timed_at + LISTING.countdown


def test_every_timed_bid_restarts_the_countdown():
    state = listing_with(("A001", LISTING.start_price), ("A002", LISTING.start_price + 10**6))
    start = LISTING_END + LISTING.preparation
    at = start + timedelta(minutes=3)
    decision = judge_bid(
        LISTING, state, paddle="A001", amount=state.price + 10**6, approved=True, now=at
    )
    assert isinstance(decision, Accepted)
    assert decision.countdown_restarted
    assert decision.ends_at == at + LISTING.countdown
    ended = advance(LISTING, decision.state, at + LISTING.countdown)
    assert ended.phase is Phase.ENDED
    result = outcome(ended)
    assert result is not None
    assert (result.winner, result.price) == ("A001", LISTING.start_price + 2 * 10**6)


def test_no_timed_bid_leaves_the_highest_listing_bid_standing():
    state = listing_with(("A001", LISTING.start_price), ("A002", LISTING.start_price + 10**6))
    ended = advance(LISTING, state, LISTING_END + LISTING.preparation + LISTING.countdown)
    result = outcome(ended)
    assert result is not None
    assert (result.winner, result.price) == ("A002", LISTING.start_price + 10**6)


def test_one_bidder_only_ends_the_listing_at_the_listing_price():
    state = listing_with(("A001", LISTING.start_price), ("A001", LISTING.start_price + 10**6))
    assert advance(LISTING, state, FREEZE).phase is Phase.LISTING
    late = bid(LISTING, state, "A002", LISTING.start_price + 2 * 10**6, FREEZE)
    # The freeze was decided at its time, with one bidder: a second one now does not freeze.
    assert advance(LISTING, late, FREEZE + timedelta(minutes=1)).phase is Phase.LISTING
    ended = advance(LISTING, state, LISTING_END)
    assert ended.phase is Phase.ENDED
    result = outcome(ended)
    assert result is not None
    assert (result.winner, result.price) == ("A001", LISTING.start_price + 10**6)


def test_a_bid_at_the_end_time_is_too_late():
    state = listing_with(("A001", LISTING.start_price))
    assert refusal(LISTING, state, LISTING.start_price + 10**6, LISTING_END) is Refusal.ENDED


def test_an_english_auction_waits_for_the_auctioneer():
    state = initial_state(ENGLISH)
    later = T0 + timedelta(days=1)
    assert advance(ENGLISH, state, later).phase is Phase.SCHEDULED
    assert refusal(ENGLISH, state, ENGLISH.start_price, later) is Refusal.NOT_OPEN
    with pytest.raises(RuleBroken):
        open_live(ENGLISH, state, T0 - timedelta(minutes=1))
    live = open_live(ENGLISH, state, later)
    assert live.ends_at == later + ENGLISH.countdown
    with pytest.raises(RuleBroken):
        open_live(ENGLISH, live, later)
    with pytest.raises(RuleBroken):
        open_live(LISTING, initial_state(LISTING), later)


def test_a_pause_freezes_the_countdown_and_refuses_every_bid():
    opened = T0 + timedelta(hours=1)
    live = bid(
        ENGLISH,
        open_live(ENGLISH, initial_state(ENGLISH), opened),
        "A001",
        ENGLISH.start_price,
        opened,
    )
    paused = pause(ENGLISH, live, opened + timedelta(minutes=1))
    assert paused.paused_left == ENGLISH.countdown - timedelta(minutes=1)
    much_later = opened + timedelta(hours=5)
    assert advance(ENGLISH, paused, much_later) == paused
    assert refusal(ENGLISH, paused, ENGLISH.start_price * 2, much_later) is Refusal.PAUSED
    with pytest.raises(RuleBroken):
        pause(ENGLISH, paused, much_later)
    resumed = resume(ENGLISH, paused, much_later)
    assert resumed.ends_at == much_later + ENGLISH.countdown - timedelta(minutes=1)
    with pytest.raises(RuleBroken):
        resume(ENGLISH, resumed, much_later)


def test_an_ended_or_scheduled_auction_cannot_pause():
    with pytest.raises(RuleBroken):
        pause(ENGLISH, initial_state(ENGLISH), T0)
    ended = advance(LISTING, initial_state(LISTING), LISTING_END)
    with pytest.raises(RuleBroken):
        pause(LISTING, ended, LISTING_END)
    assert outcome(ended) is not None and outcome(ended).winner is None


def test_terms_refuse_nonsense():
    with pytest.raises(ValueError, match="positive"):
        Terms(mode=Mode.ENGLISH, start_price=0, increment=1, starts_at=T0)
    with pytest.raises(ValueError, match="end after"):
        Terms(mode=Mode.LISTING, start_price=1, increment=1, starts_at=T0, listing_ends_at=T0)


@given(
    first=st.integers(0, 200_000),
    second=st.integers(0, 200_000),
    bids=st.integers(0, 3),
)
def test_advancing_late_is_advancing_on_time(first: int, second: int, bids: int):
    """A job that runs late, or twice, decides what one on time would have."""
    terms = Terms(
        mode=Mode.LISTING,
        start_price=100,
        increment=10,
        starts_at=T0,
        listing_ends_at=T0 + timedelta(hours=20),
        freeze_before=timedelta(hours=1),
        preparation=timedelta(minutes=15),
        countdown=timedelta(minutes=4),
    )
    state = initial_state(terms)
    for n in range(bids):
        state = bid(terms, state, f"A{n % 2}", 100 + 10 * n, T0 + timedelta(hours=n + 1))
    t1 = T0 + timedelta(seconds=min(first, second))
    t2 = T0 + timedelta(seconds=max(first, second))
    assert advance(terms, advance(terms, state, t1), t2) == advance(terms, state, t2)


# --- the state machine ---------------------------------------------------------------------

PADDLES = ("A001", "A002", "A003", "A004")


class AuctionMachine(RuleBasedStateMachine):
    """Random bids, waits, pauses and resumes in either mode, against the invariants."""

    @initialize(
        english=st.sampled_from((False, False, True)),
        start=st.integers(1, 1_000),
        step=st.integers(1, 100),
        listing_minutes=st.integers(30, 180),
        freeze_minutes=st.integers(0, 10),
        preparation_minutes=st.integers(0, 15),
        countdown_seconds=st.integers(30, 600),
        opening_bids=st.integers(0, 2),
    )
    def start(
        self,
        english: bool,
        start: int,
        step: int,
        listing_minutes: int,
        freeze_minutes: int,
        preparation_minutes: int,
        countdown_seconds: int,
        opening_bids: int,
    ) -> None:
        self.terms = Terms(
            mode=Mode.ENGLISH if english else Mode.LISTING,
            start_price=start,
            increment=step,
            starts_at=T0,
            listing_ends_at=None if english else T0 + timedelta(minutes=listing_minutes),
            freeze_before=timedelta(minutes=freeze_minutes),
            preparation=timedelta(minutes=preparation_minutes),
            countdown=timedelta(seconds=countdown_seconds),
        )
        self.now = T0
        self.state = initial_state(self.terms)
        self.accepted: list[tuple[str, int]] = []
        self.phases_seen: set[Phase] = set()
        if english and opening_bids:
            self.state = open_live(self.terms, self.state, self.now)
        for paddle in PADDLES[:opening_bids]:  # most runs should reach the later phases
            self.bids(paddle, 0 if self.state.price is None else 1, off=False)

    def _at_now(self) -> State:
        before = self.state
        after = advance(self.terms, before, self.now)
        if after.phase is Phase.TIMED and before.phase is not Phase.TIMED:
            assert after.price == before.price  # timed bidding starts from the listing price
        self.phases_seen.add(after.phase)
        event(f"phase {after.phase}")
        return after

    @rule(seconds=st.one_of(st.integers(0, 30), st.integers(0, 600)))
    def wait(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.state = self._at_now()

    @rule(freeze=st.booleans(), offset=st.integers(-2, 2))
    def wait_for_a_boundary(self, freeze: bool, offset: int) -> None:
        """Land next to the phase's end (or the listing's freeze time), where rules bite."""
        state = self._at_now()
        if state.ends_at is None:
            return
        boundary = state.ends_at
        if freeze and state.phase is Phase.LISTING:
            boundary -= self.terms.freeze_before
        self.now = max(self.now, boundary + timedelta(seconds=offset))
        self.state = self._at_now()

    @precondition(lambda self: self.terms.mode is Mode.ENGLISH)
    @rule()
    def auctioneer_opens(self) -> None:
        if self.state.phase is Phase.SCHEDULED:
            self.state = open_live(self.terms, self.state, self.now)
        else:
            with pytest.raises(RuleBroken):
                open_live(self.terms, self.state, self.now)

    @rule(paddle=st.sampled_from(PADDLES), steps=st.integers(-2, 4), off=st.booleans())
    def any_bid(self, paddle: str, steps: int, off: bool) -> None:
        self.bids(paddle, steps, off)

    def bids(self, paddle: str, steps: int, off: bool) -> None:
        state = self._at_now()
        base = self.terms.start_price if state.price is None else state.price
        amount = (
            base + steps * self.terms.increment + (1 if off and self.terms.increment > 1 else 0)
        )
        decision = judge_bid(
            self.terms, state, paddle=paddle, amount=amount, approved=True, now=self.now
        )
        if state.paused:
            assert isinstance(decision, Refused)
            assert decision.reason is Refusal.PAUSED
        if isinstance(decision, Refused):
            self.state = state
            return
        assert state.phase in (Phase.LISTING, Phase.TIMED, Phase.LIVE)
        assert state.ends_at is not None and self.now < state.ends_at
        assert state.price is None or amount > state.price
        assert (amount - base) % self.terms.increment == 0
        after = decision.state
        if state.phase in (Phase.TIMED, Phase.LIVE):
            # The countdown only grows: a bid restarts it, never shortens it.
            assert after.ends_at is not None and after.ends_at >= state.ends_at
            assert after.ends_at == self.now + self.terms.countdown
        else:
            assert after.ends_at == state.ends_at
        self.accepted.append((paddle, amount))
        self.state = after

    @rule(paddle=st.sampled_from(PADDLES), steps=st.integers(1, 3))
    def bids_in_whole_increments(self, paddle: str, steps: int) -> None:
        self.bids(paddle, steps - (1 if self.state.price is None else 0), off=False)

    @rule(approved=st.just(False), paddle=st.sampled_from(PADDLES))
    def an_unapproved_bidder_bids(self, approved: bool, paddle: str) -> None:
        state = self._at_now()
        amount = (state.price or self.terms.start_price) + self.terms.increment
        decision = judge_bid(
            self.terms, state, paddle=paddle, amount=amount, approved=approved, now=self.now
        )
        assert isinstance(decision, Refused)

    @rule(seconds=st.integers(0, 120))
    def auctioneer_pauses_then_waits(self, seconds: int) -> None:
        state = self._at_now()
        try:
            paused = pause(self.terms, state, self.now)
        except RuleBroken:
            assert state.paused or state.phase in (Phase.SCHEDULED, Phase.ENDED)
            return
        left = paused.paused_left
        self.now += timedelta(seconds=seconds)
        assert advance(self.terms, paused, self.now) == paused  # the clock stands still
        assert paused.price == state.price
        self.state = paused
        assert left == state.ends_at - (self.now - timedelta(seconds=seconds))

    @precondition(lambda self: self.state.paused)
    @rule()
    def auctioneer_resumes(self) -> None:
        left = self.state.paused_left
        self.state = resume(self.terms, self.state, self.now)
        assert self.state.ends_at == self.now + left

    @invariant()
    def prices_strictly_increase(self) -> None:
        amounts = [amount for _, amount in self.accepted]
        assert all(a < b for a, b in pairwise(amounts))
        assert self.state.bids == len(self.accepted)
        if self.accepted:
            assert self.state.price == amounts[-1]
            assert self.state.leader == self.accepted[-1][0]

    @invariant()
    def the_winner_is_the_highest_accepted_bid(self) -> None:
        result = outcome(self.state)
        if result is None:
            return
        if self.accepted:
            paddle, amount = max(self.accepted, key=lambda pair: pair[1])
            assert (result.winner, result.price) == (paddle, amount)
        else:
            assert (result.winner, result.price) == (None, None)

    @invariant()
    def timed_bidding_needs_two_bidders_and_starts_from_the_listing_price(self) -> None:
        if Phase.FROZEN in self.phases_seen or Phase.TIMED in self.phases_seen:
            assert len({paddle for paddle, _ in self.accepted}) >= 2
        if self.terms.mode is Mode.ENGLISH:
            assert not self.phases_seen & {Phase.LISTING, Phase.FROZEN, Phase.TIMED}

    @invariant()
    def nothing_changes_before_the_next_boundary_and_something_at_it(self) -> None:
        state = advance(self.terms, self.state, self.now)
        boundary = next_boundary(self.terms, state)
        if boundary is None:
            assert advance(self.terms, state, self.now + timedelta(days=400)) == state
            return
        tick = timedelta(microseconds=1)
        assert advance(self.terms, state, max(self.now, boundary - tick)) == state
        crossed = steps(self.terms, state, max(self.now, boundary))
        assert crossed and crossed[-1] == advance(self.terms, state, boundary)

    @invariant()
    def a_paused_auction_keeps_its_time_left(self) -> None:
        if self.state.paused:
            assert self.state.ends_at is None
            assert self.state.paused_left is not None
            assert self.state.paused_left >= timedelta(0)


AuctionMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
test_auction_machine = AuctionMachine.TestCase
