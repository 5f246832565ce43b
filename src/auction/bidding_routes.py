"""The bidding API: bids over HTTP and WebSocket, the live feed, the auctioneer's gavel.

POST /api/auctions/{code}/bids          bidder {amount_fen, idempotency_key}: 201 or a 4xx why
GET  /api/auctions/{code}/frames        anyone: the live frames after ``after_seq`` (catch-up)
WS   /api/auctions/{code}/live          anyone watches (``?after_seq=N`` resumes); a logged-in
                                        approved bidder also bids: send
                                        ``{"type": "bid", "amount_fen", "idempotency_key"}``
POST /api/auctions/{code}/open          auctioneer: open a live (English) auction
POST /api/auctions/{code}/pause         auctioneer {reason, fault}: freeze the countdown
POST /api/auctions/{code}/resume        auctioneer {reason}
POST /api/auctions/{code}/clock         staff, auctioneer: run the clock now (as the job does)

Watchers see paddles, never names. A bid's decision comes from the auction's one writer
(``writer.py``); the live frames from the room of this process (``live.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

from litestar import Controller, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import WebSocketDisconnect
from litestar.params import JSONBody, QueryParameter
from pydantic import ValidationError

from auction.bid_schemas import BidIn, BidRead, ClockRead, FramesRead, PauseIn, ResumeIn
from auction.bidding import Bidding, bidding_of
from auction.clock import Moved, open_auction, pause_auction, resume_auction, run_clock
from auction.writer import BidDecision
from tendering.core.auth.actor import Actor
from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.db import session_scope
from tendering.core.deps import Blobs, CurrentActor, Secrets, SigningKey
from tendering.core.errors import PlatformError
from tendering.core.params import PathCode

__all__ = ["BiddingController", "bidding_handlers", "live_socket"]

BIDDER = requires_role(Role.BIDDER)
GAVEL = requires_role(Role.AUCTIONEER, Role.STAFF)

AfterSeq = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="frames after this seq")]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="at most this many frames")]


def _provide_bidding(state: State, channels: NamedDependency[ChannelsPlugin]) -> Bidding:
    return bidding_of(state, channels)


# The auction's writers, clocks and live rooms, given to handlers by name like core/deps.py's.
BIDDING = {"bidding": Provide(_provide_bidding, sync_to_thread=False)}
Live = NamedDependency[Bidding]


def _bid_read(code: str, decision: BidDecision, bidding: Live) -> BidRead:
    return BidRead(
        auction=code,
        seq=decision.seq or 0,
        paddle=decision.paddle,
        amount_fen=decision.amount_fen,
        accepted_at=decision.at,
        price_fen=decision.price_fen,
        ends_at=decision.ends_at,
        phase=decision.phase,
        replayed=decision.replayed,
        server_time=bidding.server_time(),
    )


async def _after_commit(bidding: Live, moved: Moved) -> ClockRead:
    """Publish what a committed change wrote. Its next boundary needs no job from here: the
    sweeper enqueues every boundary due before its next run, at its time (``jobs.py``)."""
    await bidding.publish(moved.code, moved.frames)
    state = moved.state
    return ClockRead(
        auction=moved.code,
        phase=None if state is None else str(state.phase),
        ends_at=None if state is None else state.ends_at,
        paused=bool(state and state.paused),
        price_fen=None if state is None else state.price,
        frames=moved.frames,
    )


class BiddingController(Controller):
    path = "/api/auctions"
    tags = ["auction bidding"]  # noqa: RUF012
    dependencies = BIDDING

    @post("/{code:str}/bids", guards=[BIDDER], status_code=201, summary="Place a bid")
    async def place_bid(
        self,
        bidding: Live,
        code: PathCode,
        data: JSONBody[BidIn],
        actor: CurrentActor,
    ) -> BidRead:
        """Decided by the auction's one writer, by the database clock. A refusal says why:
        409 ``auction.outbid`` (with the current price), 400 ``auction.not_increment`` /
        ``auction.below_start``, 409 ``auction.ended`` / ``auction.paused`` /
        ``auction.not_open``, 403 ``auction.not_approved``; 429 ``auction.bid_unknown``:
        retry with the same key."""
        decision = await bidding.bid(
            code, actor, amount_fen=data.amount_fen, key=data.idempotency_key
        )
        return _bid_read(code, decision, bidding)

    @get(
        "/{code:str}/frames",
        opt=public("anyone may watch a live auction: frames show paddles, never names"),
        summary="The live frames after a sequence number",
    )
    async def frames(
        self,
        bidding: Live,
        code: PathCode,
        after_seq: AfterSeq = 0,
        limit: Limit = 500,
    ) -> FramesRead:
        found = await bidding.frames(code, after_seq, limit)
        return FramesRead(auction=code, frames=found, server_time=bidding.server_time())

    @post("/{code:str}/open", guards=[GAVEL], status_code=200, summary="Open a live auction")
    async def open(self, bidding: Live, code: PathCode, actor: CurrentActor) -> ClockRead:
        async with session_scope(bidding.sessionmaker) as session:
            moved = await open_auction(session, code=code, actor=actor)
        return await _after_commit(bidding, moved)

    @post("/{code:str}/pause", guards=[GAVEL], status_code=200, summary="Pause the countdown")
    async def pause(
        self,
        bidding: Live,
        code: PathCode,
        data: JSONBody[PauseIn],
        actor: CurrentActor,
        platform_key: SigningKey,
    ) -> ClockRead:
        async with session_scope(bidding.sessionmaker) as session:
            moved = await pause_auction(
                session,
                code=code,
                actor=actor,
                reason=data.reason,
                fault=data.fault,
                key=platform_key,
            )
        return await _after_commit(bidding, moved)

    @post("/{code:str}/resume", guards=[GAVEL], status_code=200, summary="Resume the countdown")
    async def resume(
        self,
        bidding: Live,
        code: PathCode,
        data: JSONBody[ResumeIn],
        actor: CurrentActor,
    ) -> ClockRead:
        async with session_scope(bidding.sessionmaker) as session:
            moved = await resume_auction(session, code=code, actor=actor, reason=data.reason)
        return await _after_commit(bidding, moved)

    @post("/{code:str}/clock", guards=[GAVEL], status_code=200, summary="Run the clock now")
    async def clock(
        self,
        bidding: Live,
        code: PathCode,
        secrecy: Secrets,
        platform_key: SigningKey,
        blob_store: Blobs,
    ) -> ClockRead:
        """What the clock job does at a boundary (idempotent): phase changes that fell due,
        and the result once bidding has ended."""
        auction_id = await bidding.auction_id(code)
        async with session_scope(bidding.sessionmaker) as session:
            moved = await run_clock(
                session, auction_id=auction_id, secrecy=secrecy, key=platform_key, store=blob_store
            )
        return await _after_commit(bidding, moved)


@websocket(
    "/api/auctions/{code:str}/live",
    dependencies=BIDDING,
    opt=public("anyone may watch a live auction; bidding on it needs an approved login"),
)
async def live_socket(socket: WebSocket[Any, Any, Any], code: PathCode, bidding: Live) -> None:
    """Watch (and, logged in and approved, bid on) an auction; ``?after_seq=N`` resumes."""
    try:
        after = max(0, int(socket.query_params.get("after_seq", "0")))
    except ValueError:
        after = 0
    try:
        auction_id = await bidding.auction_id(code[:64])
    except PlatformError as error:
        await socket.close(code=4000 + error.status, reason=str(error.code))
        return
    await socket.accept()
    sending = asyncio.Lock()

    async def send(text: str) -> None:
        async with sending:
            await socket.send_text(text)

    user = socket.scope.get("user")
    actor = user if isinstance(user, Actor) else None
    reader = asyncio.create_task(_read_bids(socket, bidding, code, actor, send))
    try:
        async with contextlib.aclosing(bidding.hub.watch(auction_id, after)) as messages:
            async for message in messages:
                if reader.done():
                    break  # the client went away
                await send(message)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader


async def _read_bids(
    socket: WebSocket[Any, Any, Any], bidding: Live, code: str, actor: Actor | None, send: Any
) -> None:
    """Bids sent on the socket, each decided in its own task (the socket keeps reading)."""
    pending: set[asyncio.Task[None]] = set()
    try:
        while True:
            raw = await socket.receive_text()
            task = asyncio.create_task(_one_bid(bidding, code, actor, raw, send))
            pending.add(task)
            task.add_done_callback(pending.discard)
    except (WebSocketDisconnect, RuntimeError):
        return


async def _one_bid(bidding: Live, code: str, actor: Actor | None, raw: str, send: Any) -> None:
    key: str | None = None
    try:
        body = json.loads(raw)
        key = body.get("idempotency_key") if isinstance(body, dict) else None
        if actor is None or actor.role != Role.BIDDER:
            answer: dict[str, Any] = {
                "type": "refused",
                "code": "auth.role_required",
                "detail": "竞买需以竞买人身份登录 (log in as a bidder to bid)",
            }
        else:
            bid = BidIn.model_validate(body)
            decision = await bidding.bid(
                code, actor, amount_fen=bid.amount_fen, key=bid.idempotency_key
            )
            answer = {
                "type": "accepted",
                **_bid_read(code, decision, bidding).model_dump(mode="json"),
            }
    except PlatformError as error:
        answer = {"type": "refused", **error.to_body()}
    except (ValidationError, ValueError, AttributeError) as error:
        answer = {
            "type": "refused",
            "status": 400,
            "code": "input.invalid",
            "detail": str(error)[:500],
        }
    answer["idempotency_key"] = key
    with contextlib.suppress(Exception):
        await send(json.dumps(answer, ensure_ascii=False, default=str))


bidding_handlers: list[Any] = [BiddingController, live_socket]
