"""Bidders register and ask; the public (no login) searches, reads, downloads and follows.

Registration answers depend only on the caller's own organization (see
``tendering.tenders.registration``); every "not yours" is the same 404.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from tendering.core.auth.actor import Actor
from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.clock import db_now, rfc3339
from tendering.core.db import DbSession
from tendering.core.deps import AppSettings, Blobs, CurrentActor, Page, Secrets
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.pagination import OffsetPagination, page_of
from tendering.core.params import in_calendar
from tendering.core.secrecy import Secrecy
from tendering.tenders import amendments, queries, registration
from tendering.tenders.atom import atom_feed
from tendering.tenders.models import Category, NoticeStatus
from tendering.tenders.ocds import release_package
from tendering.tenders.schemas import (
    DepositRead,
    MessageRead,
    NoticeDetail,
    NoticeSummary,
    OcdsPackage,
    PathCode,
    PathId,
    PathRef,
    QuestionCreate,
    QuestionRead,
    RegistrationRead,
)

__all__ = ["BidderTenderController", "PublicNoticeController"]

log = logging.getLogger("tendering.tenders")


async def _registration_read(
    db_session: DbSession, actor: Actor, found: tuple[Any, str, int], secrecy: Secrecy
) -> RegistrationRead:
    row, lot_code, notice_id = found
    deposit = await registration.own_deposit(
        db_session, actor=actor, lot_code=lot_code, secrecy=secrecy
    )
    return RegistrationRead(
        ref=row.ref,
        lot=lot_code,
        notice=notice_id,
        registered_at=row.registered_at,
        deposit=None
        if deposit is None
        else DepositRead(
            account=deposit.number,
            amount_due_fen=deposit.amount_due_fen,
            deadline=deposit.deadline,
            state=deposit.state,
        ),
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class BidderTenderController(Controller):
    """投标人: register for a lot (获取招标文件), see only its own, ask questions."""

    path = "/api"
    tags = ["tenders (bidder)"]  # noqa: RUF012
    guards = [requires_role(Role.BIDDER)]  # noqa: RUF012

    @post(
        "/lots/{lot_code:str}/registration",
        status_code=200,
        summary="Register for a lot; registering again answers the same",
    )
    async def register(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, lot_code: PathCode
    ) -> RegistrationRead:
        found = await registration.register_for_lot(
            db_session, actor=actor, lot_code=lot_code, secrecy=secrecy
        )
        return await _registration_read(db_session, actor, found, secrecy)

    @get("/lots/{lot_code:str}/registration", summary="My registration for a lot")
    async def my_registration(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, lot_code: PathCode
    ) -> RegistrationRead:
        found = await registration.own_registration(
            db_session, actor=actor, lot_code=lot_code, secrecy=secrecy
        )
        return await _registration_read(db_session, actor, found, secrecy)

    @get("/registrations/{ref:str}", summary="My registration by its reference")
    async def registration_by_ref(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, ref: PathRef
    ) -> RegistrationRead:
        found = await registration.own_registration(
            db_session, actor=actor, ref=ref, secrecy=secrecy
        )
        return await _registration_read(db_session, actor, found, secrecy)

    @get("/my/registrations", summary="My registrations, newest first")
    async def my_registrations(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, page: Page
    ) -> OffsetPagination[RegistrationRead]:
        # Found by their keyed tags, so paged once found (core/pagination.page_of).
        found = await registration.own_registrations(db_session, actor=actor, secrecy=secrecy)
        shown = page_of(found, page)
        return OffsetPagination(
            items=[await _registration_read(db_session, actor, f, secrecy) for f in shown.items],
            limit=shown.limit,
            offset=shown.offset,
            total=shown.total,
        )

    @get("/my/messages", summary="Amendments delivered to my organization, newest first")
    async def my_messages(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, page: Page
    ) -> OffsetPagination[MessageRead]:
        found = await registration.own_messages(db_session, actor=actor, secrecy=secrecy)
        messages = [
            MessageRead(
                notice=a.notice_id, amendment=queries.amendment_read(a), delivered_at=a.issued_at
            )
            for a in found
        ]
        return page_of(messages, page)

    @post("/notices/{notice_id:int}/questions", summary="Ask a question (published anonymously)")
    async def ask(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        notice_id: PathId,
        data: JSONBody[QuestionCreate],
    ) -> QuestionRead:
        question = await amendments.ask_question(
            db_session,
            actor=actor,
            notice_id=notice_id,
            text=data.text,
            secrecy=secrecy,
        )
        return QuestionRead(
            number=question.number,
            text=question.text,
            asked_at=question.asked_at,
            answer=None,
            answered_at=None,
        )


class PublicNoticeController(Controller):
    """The public: no login."""

    path = "/api/public"
    tags = ["notices (public)"]  # noqa: RUF012
    security = [{}]  # noqa: RUF012

    @get(
        "/notices",
        opt=public("the public searches published notices (招标公告公开)"),
        summary="Search published notices, newest first",
    )
    async def search(
        self,
        db_session: DbSession,
        page: Page,
        category: FromQuery[Category | None] = None,
        status: FromQuery[NoticeStatus | None] = None,
        region: Annotated[str | None, QueryParameter(max_length=100, pattern=r"^[^\x00]*$")] = None,
        q: Annotated[
            str | None,
            QueryParameter(max_length=200, pattern=r"^[^\x00]*$", description="text in titles"),
        ] = None,
        published_from: FromQuery[datetime | None] = None,
        published_to: FromQuery[datetime | None] = None,
    ) -> OffsetPagination[NoticeSummary]:
        return await queries.search_notices(
            db_session,
            category=category,
            status=status,
            region=region,
            text=q,
            published_from=_aware(in_calendar(published_from, field="published_from")),
            published_to=_aware(in_calendar(published_to, field="published_to")),
            page=page,
        )

    @get(
        "/notices/{notice_id:int}",
        opt=public("a published notice is public"),
        summary="A notice with its lots, documents, amendments, Q&A",
    )
    async def detail(self, db_session: DbSession, notice_id: PathId) -> NoticeDetail:
        return await queries.notice_detail(db_session, notice_id, public=True)

    @get(
        "/notices/{notice_id:int}/documents/{document_id:int}",
        opt=public("published documents are public"),
        summary="Download a document",
        # Always bytes to save, never the uploader's type: a document sent as text/html or
        # image/svg+xml must not become a page of the platform (its type is in the notice).
        media_type="application/octet-stream",
    )
    async def document(
        self,
        db_session: DbSession,
        blob_store: Blobs,
        notice_id: PathId,
        document_id: PathId,
    ) -> Stream:
        doc = await queries.notice_document(db_session, notice_id, document_id, public=True)
        store = blob_store
        if not store.exists(doc.sha256):  # fail before the headers go out
            log.error("notice %s document %s: blob %s is missing", notice_id, doc.id, doc.sha256)
            raise NotFound(
                "This document's file is missing; the center has been told.",
                code=ErrorCode.TENDER_DOCUMENT_MISSING,
            )
        digest = base64.b64encode(bytes.fromhex(doc.sha256)).decode()
        return Stream(
            store.read_chunks(doc.sha256),
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}",
                "X-Content-Type-Options": "nosniff",
                "Content-Length": str(doc.size),
                "X-Content-SHA256": doc.sha256,
                "Repr-Digest": f"sha-256=:{digest}:",
            },
        )

    @get(
        "/notices/{notice_id:int}/ocds",
        opt=public("open data (OCDS) is public"),
        summary="The notice as an OCDS 1.1 release package",
    )
    async def ocds(
        self, db_session: DbSession, settings: AppSettings, notice_id: PathId
    ) -> OcdsPackage:
        detail = await queries.notice_detail(db_session, notice_id, public=True)
        now = rfc3339(await db_now(db_session))
        # The configured public address, never the Host header: a request naming another
        # host must not make the package (cached, mirrored) link there.
        return release_package(detail, base_url=settings.public_base_url, published_date=now)

    @get(
        "/feed.atom",
        opt=public("the feed of public notices is public"),
        summary="Atom feed of new notices and amendments",
    )
    async def feed(self, db_session: DbSession, settings: AppSettings) -> Response[bytes]:
        entries = await queries.feed_entries(db_session)
        base_url = settings.public_base_url  # never the Host header, as above
        body = atom_feed(entries, base_url=base_url, now=await db_now(db_session))
        return Response(body, media_type="application/atom+xml; charset=utf-8")
