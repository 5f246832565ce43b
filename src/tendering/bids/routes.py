"""Sealed-bid API.

    POST   /api/organizations/me/bid-keys            bidder: register a signing public key
    GET    /api/organizations/me/bid-keys            bidder: its organization's keys
    POST   /api/organizations/me/bid-keys/{id}/revoke
    GET    /api/lots/{code}/opening-key              public: key_id, public key, bid form
    PUT    /api/lots/{code}/bid                      bidder: the tbid1 file, streamed;
                                                     header X-Bid-Signature; answers the receipt
    GET    /api/lots/{code}/bid                      bidder: its current bid's receipt
    DELETE /api/lots/{code}/bid                      bidder: withdraw before the deadline

The upload is read chunk by chunk (the route lifts Litestar's 10 MB body limit and applies
the lot's own), checked while it streams, and decided in one short transaction after it
ends; no transaction is open while bytes arrive.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody

from tendering.bids import keys, service
from tendering.bids.lot_keys import lot_key
from tendering.bids.schemas import BidderKeyCreate, BidderKeyRead, LotKeyRead, SignedReceipt
from tendering.bids.upload import stage_envelope
from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.crypto import hpke
from tendering.core.crypto.envelope import EnvelopeValidator
from tendering.core.db import DbSession
from tendering.core.deps import (
    Blobs,
    CurrentActor,
    Page,
    Secrets,
    SessionMaker,
    SigningKey,
    UploadSlot,
)
from tendering.core.errors import (
    EnvelopeError,
    EnvelopeTooLarge,
    ErrorCode,
    Inconsistent,
    InvalidInput,
    PayloadTooLarge,
    PlatformError,
)
from tendering.core.pagination import OffsetPagination
from tendering.core.params import PathCode

__all__ = ["BidController", "BidderKeyController", "refusal"]

BIDDER = requires_role(Role.BIDDER)
Signature = Annotated[
    str,
    HeaderParameter(
        name="X-Bid-Signature",
        min_length=1,
        max_length=200,
        description="standard base64 Ed25519 signature over the file's raw SHA-256",
    ),
]


def refusal(error: EnvelopeError) -> PlatformError:
    """An envelope that cannot be accepted, as the 4xx that says why."""
    if isinstance(error, EnvelopeTooLarge):
        return PayloadTooLarge(f"投标文件过大 (too large: {error.message}).", code=error.code)
    return InvalidInput(f"投标文件格式错误 (malformed envelope: {error.message}).", code=error.code)


def _key_read(key: Any) -> BidderKeyRead:
    return BidderKeyRead(
        id=key.id,
        public_key=key.public_key,
        label=key.label,
        registered_at=key.registered_at,
        revoked_at=key.revoked_at,
    )


class BidderKeyController(Controller):
    path = "/api/organizations/me/bid-keys"
    tags = ["bids"]  # noqa: RUF012
    guards = [BIDDER]  # noqa: RUF012

    @post("/", summary="Register a bidder signing key (Ed25519)")
    async def register(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        data: JSONBody[BidderKeyCreate],
    ) -> BidderKeyRead:
        key = await keys.register_bidder_key(
            db_session, actor=actor, public_key=data.public_key, label=data.label
        )
        return _key_read(key)

    @get("/", summary="My organization's signing keys, oldest first")
    async def list_keys(
        self, db_session: DbSession, actor: CurrentActor, page: Page
    ) -> OffsetPagination[BidderKeyRead]:
        registered, total = await keys.list_bidder_keys(db_session, page, actor=actor)
        return OffsetPagination(
            items=[_key_read(k) for k in registered],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )

    @post("/{key_id:int}/revoke", status_code=200, summary="Revoke a signing key")
    async def revoke(
        self, db_session: DbSession, actor: CurrentActor, key_id: FromPath[int]
    ) -> BidderKeyRead:
        key = await keys.revoke_bidder_key(db_session, actor=actor, key_id=key_id)
        return _key_read(key)


class BidController(Controller):
    path = "/api/lots"
    tags = ["bids"]  # noqa: RUF012

    @get(
        "/{lot_code:str}/opening-key",
        opt=public("the opening public key is published with the notice"),
        summary="The lot's opening public key and bid form (to seal a bid)",
    )
    async def opening_key(self, db_session: DbSession, lot_code: PathCode) -> LotKeyRead:
        terms = await service.lot_terms(db_session, lot_code)
        key = await lot_key(db_session, terms.lot_id)
        if key is None:
            raise Inconsistent("the lot has no opening key")
        return LotKeyRead(
            lot=terms.code,
            key_id=terms.key_id,
            public_key=terms.public_key,
            suite=hpke.SUITE_NAME,
            k=key.k,
            n=key.n,
            bid_deadline=terms.bid_deadline,
            opening_at=terms.opening_at,
            bid_fields=terms.bid_fields,
            max_bytes=terms.max_bytes,
        )

    @put(
        "/{lot_code:str}/bid",
        guards=[BIDDER],
        status_code=201,
        request_max_body_size=None,
        summary="Submit (or replace) a sealed bid: the tbid1 file as the raw body",
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],  # the raw body streams, checked as it arrives
        actor: CurrentActor,
        upload_slot: UploadSlot,
        sessionmaker: SessionMaker,
        platform_key: SigningKey,
        secrecy: Secrets,
        blob_store: Blobs,
        lot_code: PathCode,
        x_bid_signature: Signature,
    ) -> SignedReceipt:
        async with sessionmaker() as session, session.begin():
            terms = await service.lot_terms(session, lot_code)
            bidder = await service.check_before_upload(
                session, actor=actor, terms=terms, platform_key=platform_key
            )
        announced = request.content_length
        if announced is not None and announced > terms.max_bytes:
            raise PayloadTooLarge(
                f"投标文件过大 (too large: {announced} bytes, the limit is {terms.max_bytes}).",
                code=ErrorCode.ENVELOPE_TOO_LARGE,
            )
        store = blob_store
        validator = EnvelopeValidator(
            expected_lot=terms.code,
            expected_bidder=bidder,
            expected_key_id=terms.key_id,
            max_size=terms.max_bytes,
        )
        try:
            staged = await stage_envelope(
                request.stream(),
                store=store,
                validator=validator,
                secrecy=secrecy,
            )
        except EnvelopeError as error:
            raise refusal(error) from None
        try:
            async with sessionmaker() as session, session.begin():
                document = await service.submit_bid(
                    session,
                    actor=actor,
                    terms=terms,
                    checked=staged.checked,
                    signature=x_bid_signature,
                    platform_key=platform_key,
                )
                await staged.settle(store)
        finally:
            await staged.discard()
        return SignedReceipt(**document)

    @get("/{lot_code:str}/bid", guards=[BIDDER], summary="My current bid's receipt")
    async def my_bid(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        platform_key: SigningKey,
        lot_code: PathCode,
    ) -> SignedReceipt:
        terms = await service.lot_terms(db_session, lot_code)
        document = await service.own_bid(
            db_session,
            actor=actor,
            terms=terms,
            platform_key=platform_key,
        )
        return SignedReceipt(**document)

    @delete("/{lot_code:str}/bid", guards=[BIDDER], summary="Withdraw my bid before the deadline")
    async def withdraw(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        platform_key: SigningKey,
        lot_code: PathCode,
    ) -> None:
        terms = await service.lot_terms(db_session, lot_code)
        await service.withdraw_bid(
            db_session,
            actor=actor,
            terms=terms,
            platform_key=platform_key,
        )
