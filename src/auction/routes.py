"""Auction API (announcements, reserve, registration, result, transcript); docs/auctions.md.

POST /api/auctions                                    staff: a draft auction
GET  /api/auctions[?state=]                           staff, auctioneer, supervisor
GET  /api/auctions/{code}                             staff, auctioneer, supervisor
PUT  /api/auctions/{code}                             staff: edit a draft
POST /api/auctions/{code}/announce                    staff: publish the announcement
PUT  /api/auctions/{code}/reserve                     the designated user: seal the 底价
GET  /api/auctions/{code}/registrations               staff: applications to review
POST /api/auctions/{code}/registrations/{ref}/decision  staff {approve, note}
POST /api/auctions/{code}/registration                bidder: apply (deposit account)
GET  /api/auctions/{code}/registration                bidder: our application, paddle
GET  /api/auctions/{code}/result                      anyone logged in, once settled
GET  /api/auctions/{code}/result.pdf                  the signed 成交确认书
GET  /api/auctions/{code}/transcript                  supervisor, staff: signed transcript
GET  /api/public/auctions[?kind=&rural=]              anyone: announcements
GET  /api/public/auctions/feed.atom                   anyone: Atom feed
GET  /api/public/auctions/{code}                      anyone
GET  /api/public/auctions/{code}/ocds                 anyone: OCDS-like release package
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy import select
from sqlmodel import col

from auction import announcements, public, registration, reserve, transcript
from auction.lookup import get_auction
from auction.models import Auction, AuctionKind, AuctionState
from auction.result import Settlement, settlement_of
from auction.schemas import (
    AuctionIn,
    AuctionRead,
    DecisionIn,
    PublicAuction,
    RegistrationRead,
    ReserveIn,
    ReserveRead,
    ResultRead,
    TranscriptRead,
)
from tendering.core.auth.guards import public as public_route
from tendering.core.auth.guards import requires_login, requires_role
from tendering.core.auth.models import Role
from tendering.core.clock import db_now, rfc3339
from tendering.core.db import DbSession
from tendering.core.deps import Blobs, CurrentActor, Page, Secrets, SigningKey
from tendering.core.errors import Conflict, ErrorCode, present
from tendering.core.pagination import OffsetPagination, page_of, paginate
from tendering.core.params import PathCode

__all__ = ["AuctionController", "PublicAuctionController", "auction_handlers"]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
READERS = requires_role(Role.STAFF, Role.AUCTIONEER, Role.SUPERVISOR, Role.ADMIN)
BIDDER = requires_role(Role.BIDDER)
RegistrationRef = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{32}$")]


async def _read(db_session: DbSession, row: Auction) -> AuctionRead:
    return AuctionRead.of(row, await announcements.seller_name(db_session, row.seller_id))


class AuctionController(Controller):
    path = "/api/auctions"
    tags = ["auctions"]  # noqa: RUF012

    @post("/", guards=[STAFF], summary="Create a draft auction (land, state or rural property)")
    async def create(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[AuctionIn]
    ) -> AuctionRead:
        row = await announcements.create_auction(db_session, actor=actor, data=data)
        return await _read(db_session, row)

    @get("/", guards=[READERS], summary="Auctions, newest first")
    async def list_auctions(
        self,
        db_session: DbSession,
        page: Page,
        in_state: Annotated[AuctionState | None, QueryParameter(name="state")] = None,
    ) -> OffsetPagination[AuctionRead]:
        query = select(Auction).order_by(col(Auction.id).desc())
        if in_state is not None:
            query = query.where(col(Auction.state) == in_state)
        rows, total = await paginate(db_session, query, page)
        items = [await _read(db_session, row) for (row,) in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @get("/{code:str}", guards=[READERS], summary="One auction (never its reserve)")
    async def detail(self, db_session: DbSession, code: PathCode) -> AuctionRead:
        return await _read(db_session, await get_auction(db_session, code))

    @put("/{code:str}", guards=[STAFF], summary="Edit a draft auction")
    async def edit(
        self, db_session: DbSession, actor: CurrentActor, code: PathCode, data: JSONBody[AuctionIn]
    ) -> AuctionRead:
        row = await announcements.edit_auction(db_session, actor=actor, code=code, data=data)
        return await _read(db_session, row)

    @post("/{code:str}/announce", guards=[STAFF], summary="Publish the announcement (出让公告)")
    async def announce(
        self, db_session: DbSession, actor: CurrentActor, code: PathCode
    ) -> AuctionRead:
        row = await announcements.announce_auction(db_session, actor=actor, code=code)
        return await _read(db_session, row)

    @put(
        "/{code:str}/reserve",
        guards=[requires_login],
        summary="Enter the sealed reserve price (底价): the designated user, before the cut-off",
    )
    async def enter_reserve(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        code: PathCode,
        data: JSONBody[ReserveIn],
    ) -> ReserveRead:
        row = await reserve.enter_reserve(
            db_session, secrecy=secrecy, actor=actor, code=code, reserve_fen=data.reserve_fen
        )
        return ReserveRead(
            code=row.code,
            commitment=present(row.reserve_commitment, "reserve_commitment"),
            entered_at=present(row.reserve_entered_at, "reserve_entered_at"),
            cutoff_at=row.reserve_cutoff_at,
        )

    @get("/{code:str}/registrations", guards=[STAFF], summary="Applications to review")
    async def applications(
        self, db_session: DbSession, secrecy: Secrets, page: Page, code: PathCode
    ) -> OffsetPagination[RegistrationRead]:
        reads = await registration.list_applications(db_session, secrecy=secrecy, code=code)
        return page_of(reads, page)

    @post(
        "/{code:str}/registrations/{ref:str}/decision",
        guards=[STAFF],
        summary="Approve (a paddle is given) or reject an application",
    )
    async def decide(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        code: PathCode,
        ref: RegistrationRef,
        data: JSONBody[DecisionIn],
    ) -> RegistrationRead:
        return await registration.decide(
            db_session,
            secrecy=secrecy,
            actor=actor,
            code=code,
            ref=ref,
            approve=data.approve,
            note=data.note,
        )

    @post("/{code:str}/registration", guards=[BIDDER], summary="Apply to bid (竞买申请)")
    async def apply(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, code: PathCode
    ) -> RegistrationRead:
        return await registration.apply(db_session, secrecy=secrecy, actor=actor, code=code)

    @get("/{code:str}/registration", guards=[BIDDER], summary="Our application and paddle")
    async def own(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, code: PathCode
    ) -> RegistrationRead:
        return await registration.own_registration(
            db_session, secrecy=secrecy, actor=actor, code=code
        )

    @get("/{code:str}/result", guards=[requires_login], summary="The result, once settled")
    async def result(self, db_session: DbSession, code: PathCode) -> ResultRead:
        return ResultRead(**asdict(_settled(await get_auction(db_session, code))))

    @get(
        "/{code:str}/result.pdf",
        guards=[requires_login],
        summary="成交确认书 PDF; X-Result-Signature signs its SHA-256",
        media_type="application/pdf",
    )
    async def result_pdf(
        self, db_session: DbSession, blob_store: Blobs, code: PathCode
    ) -> Response[bytes]:
        settled = _settled(await get_auction(db_session, code))
        sha = settled.result_sha256
        with blob_store.open(sha) as handle:
            body = handle.read()
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "X-Result-SHA256": sha,
                "X-Result-Signature": settled.result_signature,
                "Content-Disposition": f'attachment; filename="auction-result-{code}.pdf"',
            },
        )

    @get(
        "/{code:str}/transcript",
        guards=[requires_role(Role.SUPERVISOR, Role.STAFF, Role.ADMIN)],
        summary="The signed auction transcript: bids, pauses, result, chain hashes",
    )
    async def transcript(
        self, db_session: DbSession, platform_key: SigningKey, code: PathCode
    ) -> TranscriptRead:
        built = await transcript.build_transcript(db_session, code=code, key=platform_key)
        return TranscriptRead(**built)


def _settled(row: Auction) -> Settlement:
    if row.outcome is None or row.result_sha256 is None:
        raise Conflict(
            f"{row.code} 尚无结果 (no result yet)", code=ErrorCode.AUCTION_STATE, field="code"
        )
    return settlement_of(row)


_PUBLIC = public_route("auction announcements are public")


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


class PublicAuctionController(Controller):
    path = "/api/public/auctions"
    tags = ["auctions"]  # noqa: RUF012
    security = [{}]  # noqa: RUF012

    @get("/", opt=_PUBLIC, summary="Announced auctions, newest first (rural property marked rural)")
    async def list_public(
        self,
        db_session: DbSession,
        page: Page,
        kind: Annotated[AuctionKind | None, QueryParameter()] = None,
        rural: Annotated[bool | None, QueryParameter()] = None,
    ) -> OffsetPagination[PublicAuction]:
        return await public.public_auctions(db_session, page, kind=kind, rural=rural)

    @get("/feed.atom", opt=_PUBLIC, summary="Atom feed of auction announcements")
    async def feed(self, db_session: DbSession, request: Request[Any, Any, Any]) -> Response[bytes]:
        items = await public.feed_rows(db_session)
        body = public.atom_feed(items, base_url=_base_url(request), now=await db_now(db_session))
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @get("/{code:str}", opt=_PUBLIC, summary="One announced auction")
    async def detail(self, db_session: DbSession, code: PathCode) -> PublicAuction:
        return await public.public_auction(db_session, code)

    @get("/{code:str}/ocds", opt=_PUBLIC, summary="The auction as an OCDS-like release package")
    async def ocds(
        self, db_session: DbSession, request: Request[Any, Any, Any], code: PathCode
    ) -> public.OcdsAuctionPackage:
        item = await public.public_auction(db_session, code)
        now = rfc3339(await db_now(db_session))
        return public.release_package(item, base_url=_base_url(request), published_date=now)


auction_handlers: list[Any] = [AuctionController, PublicAuctionController]
