"""Key ceremony and opening API.

POST /api/custodians/me/key                   a custodian registers its key {passphrase}
GET  /api/custodians/me/key
POST /api/lots/{code}/key-ceremony            staff: hold a ceremony publication could not
POST /api/lots/{code}/opening                 staff: start the opening (idempotent)
POST /api/lots/{code}/opening/passphrase      a custodian enters its passphrase
GET  /api/lots/{code}/opening                 state; results once finished
GET  /api/lots/{code}/opening/events?after_seq=N   the steps after N (live polling)
GET  /api/lots/{code}/opening/record          the signed PDF (开标记录表), once finished
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from tendering.core.auth.guards import requires_login, requires_role
from tendering.core.auth.models import Role
from tendering.core.channels import Frame
from tendering.core.db import DbSession
from tendering.core.deps import AppSettings, Blobs, CurrentActor, SessionMaker
from tendering.core.errors import ErrorCode, InvalidInput, NotFound
from tendering.core.params import PathCode
from tendering.opening import ceremony, live, service
from tendering.opening.models import BidOutcome, OpeningState
from tendering.opening.runner import RUNNER_STATE_KEY, OpeningRunner
from tendering.opening.schemas import (
    CustodianKeyRead,
    LotKeyCeremonyRead,
    OpeningEventRead,
    OpeningRead,
    OpeningResultRead,
    PassphraseEntry,
)

__all__ = ["CustodianController", "OpeningController"]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
AfterSeq = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="events after this seq")]


Runner = NamedDependency[OpeningRunner]
LastEventId = Annotated[
    str | None,
    HeaderParameter(name="Last-Event-ID", max_length=20, description="resume after this seq"),
]


def _runner(state: State) -> OpeningRunner:
    """This process's runner (``runner.start_runner`` makes it at start-up)."""
    runner: OpeningRunner = state[RUNNER_STATE_KEY]
    return runner


async def _read(db_session: DbSession, view: service.OpeningView) -> OpeningRead:
    opening = view.opening
    read = OpeningRead(
        lot=view.lot.code,
        state=opening.state,
        started_at=opening.started_at,
        finished_at=opening.finished_at,
        custodians_entered=len(view.entered),
        custodians_needed=view.k,
    )
    if opening.state == OpeningState.STARTED:
        return read  # nothing about the bids before they are open
    results = await service.results_of(db_session, view.lot.lot_id)
    read.valid_bids = opening.valid_bids
    read.record_sha256 = opening.record_sha256
    read.record_signature = opening.record_signature
    read.results = [
        OpeningResultRead(
            bidder=r.bidder,
            bidder_name=name,
            seq=r.seq,
            price_fen=r.price_fen,
            receipt_sha256=r.receipt_sha256,
            outcome=r.outcome,
            reason=r.reason,
            may_claim_loss=r.outcome == BidOutcome.PLATFORM_FAULT,
        )
        for r, name in results
    ]
    return read


class CustodianController(Controller):
    path = "/api/custodians/me/key"
    tags = ["opening"]  # noqa: RUF012
    guards = [requires_login]  # noqa: RUF012

    @post("/", summary="Register my custodian key, wrapped by my passphrase")
    async def register(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        data: JSONBody[PassphraseEntry],
    ) -> CustodianKeyRead:
        ready = await ceremony.register_custodian_key(
            db_session, actor=actor, passphrase=data.passphrase
        )
        return CustodianKeyRead(**ready.__dict__)

    @get("/", summary="My custodian key (public half)")
    async def mine(self, db_session: DbSession, actor: CurrentActor) -> CustodianKeyRead:
        ready = await ceremony.custodian_status(db_session, actor.user_id or 0)
        if ready is None:
            raise NotFound(
                "您尚未登记保管人密钥 (no custodian key).", code=ErrorCode.OPENING_NO_CUSTODIAN_KEY
            )
        return CustodianKeyRead(**ready.__dict__)


class OpeningController(Controller):
    path = "/api/lots"
    tags = ["opening"]  # noqa: RUF012
    dependencies = {"runner": Provide(_runner, sync_to_thread=False)}  # noqa: RUF012

    @post("/{lot_code:str}/key-ceremony", guards=[STAFF], summary="Hold the lot's key ceremony")
    async def key_ceremony(
        self, db_session: DbSession, actor: CurrentActor, lot_code: PathCode
    ) -> LotKeyCeremonyRead:
        key = await ceremony.hold_key_ceremony(db_session, lot_code=lot_code, actor=actor)
        return LotKeyCeremonyRead(
            lot=lot_code,
            key_id=key.key_id,
            public_key=key.public_key,
            k=key.k,
            n=key.n,
            held_at=key.held_at,
        )

    @post("/{lot_code:str}/opening", guards=[STAFF], summary="Start the opening (开标)")
    async def start(
        self, actor: CurrentActor, runner: Runner, sessionmaker: SessionMaker, lot_code: PathCode
    ) -> OpeningRead:
        async with runner.announcer.transaction(sessionmaker) as session:
            view = await service.start_opening(session, actor=actor, lot_code=lot_code)
            read = await _read(session, view)
        return read

    @post(
        "/{lot_code:str}/opening/passphrase",
        guards=[requires_login],
        status_code=200,
        summary="A custodian enters its passphrase; the k-th starts opening the bids",
        description=(
            "The k-th passphrase rebuilds the key and answers at once with state `opening`; "
            "the bids are opened in the background. Follow `/opening/live` or poll "
            "`GET /opening` until the state is `opened` or `failed`."
        ),
    )
    async def passphrase(
        self,
        actor: CurrentActor,
        runner: Runner,
        sessionmaker: SessionMaker,
        lot_code: PathCode,
        data: JSONBody[PassphraseEntry],
    ) -> OpeningRead:
        try:
            async with runner.announcer.transaction(sessionmaker) as session:
                view, private_key = await service.enter_passphrase(
                    session, actor=actor, lot_code=lot_code, passphrase=data.passphrase
                )
                read = await _read(session, view)
        except InvalidInput as refused:
            if refused.code == ErrorCode.OPENING_WRONG_PASSPHRASE:
                await service.record_refused_passphrase(
                    sessionmaker, actor=actor, lot_code=lot_code
                )
            raise
        if private_key is not None:
            runner.start(
                lot_code=view.lot.code,
                lot_id=view.lot.lot_id,
                private_key=private_key,
                actor=actor,
            )
            del private_key
        return read

    @get("/{lot_code:str}/opening", guards=[requires_login], summary="The opening's state")
    async def state(self, db_session: DbSession, lot_code: PathCode) -> OpeningRead:
        return await _read(db_session, await service.opening_view(db_session, lot_code))

    @get(
        "/{lot_code:str}/opening/events",
        guards=[requires_login],
        summary="The opening's steps after after_seq (poll, or resume after a reconnect)",
    )
    async def events(
        self, db_session: DbSession, lot_code: PathCode, after_seq: AfterSeq = 0
    ) -> list[OpeningEventRead]:
        events = await service.events_after(db_session, lot_code, after_seq)
        return [
            OpeningEventRead(seq=e.seq, at=e.at, kind=e.kind, payload=e.payload) for e in events
        ]

    @get(
        "/{lot_code:str}/opening/live",
        guards=[requires_login],
        summary="The opening's steps pushed as server-sent events until it finishes",
        media_type="text/event-stream",
    )
    async def live(
        self,
        db_session: DbSession,
        channels: NamedDependency[ChannelsPlugin],
        sessionmaker: SessionMaker,
        settings: AppSettings,
        lot_code: PathCode,
        after_seq: AfterSeq = 0,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        await service.events_after(db_session, lot_code, 2**31 - 1)  # 404 for an unknown lot
        resume = last_event_id or ""
        frames = live.watch(
            channels,
            sessionmaker,
            database_url=settings.async_database_url,
            lot_code=lot_code,
            after_seq=int(resume) if resume.isdigit() else after_seq,
        )
        return ServerSentEvent(_messages(frames))

    @get(
        "/{lot_code:str}/opening/record",
        guards=[requires_login],
        summary="The opening record PDF; X-Record-Signature signs its SHA-256",
        media_type="application/pdf",
    )
    async def record_pdf(
        self, db_session: DbSession, blob_store: Blobs, lot_code: PathCode
    ) -> Response[bytes]:
        view = await service.opening_view(db_session, lot_code)
        sha = view.opening.record_sha256
        if sha is None or view.opening.record_signature is None:
            raise NotFound("开标记录尚未生成 (no record yet).", code=ErrorCode.OPENING_NO_RECORD)
        with blob_store.open(sha) as handle:
            body = handle.read()
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "X-Record-SHA256": sha,
                "X-Record-Signature": view.opening.record_signature,
                "Content-Disposition": f'attachment; filename="opening-{lot_code}.pdf"',
            },
        )


async def _messages(frames: AsyncIterator[Frame]) -> AsyncIterator[ServerSentEventMessage]:
    async for frame in frames:
        yield ServerSentEventMessage(
            data=json.dumps(frame, ensure_ascii=False), event=frame["kind"], id=frame["seq"]
        )
