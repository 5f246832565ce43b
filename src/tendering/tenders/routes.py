"""Thin controllers: staff publish, bidders register and ask, the public reads.

Jobs are enqueued only after the transaction commits (the handler commits first), so a
job never looks for a row that is not there yet; if enqueueing fails after the commit, the
sweeper publishes the notice within a minute of its time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter

from tendering.core import jobs
from tendering.core.auth.guards import requires_role
from tendering.core.auth.models import Organization, Role
from tendering.core.db import DbSession
from tendering.core.deps import (
    AppSettings,
    Blobs,
    CurrentActor,
    Page,
    Queue,
    Secrets,
    UploadSlot,
)
from tendering.core.errors import Inconsistent, InvalidInput
from tendering.core.pagination import OffsetPagination
from tendering.tenders import amendments, projects, queries, service
from tendering.tenders.models import Category, Lot, NoticeStatus, ProcurementMethod, TenderProject
from tendering.tenders.schemas import (
    MAX_ID,
    AmendmentCreate,
    AmendmentRead,
    AnswerCreate,
    BidFieldSpec,
    DocumentRead,
    LotCreate,
    LotRead,
    NoticeCreate,
    NoticeDetail,
    NoticeSummary,
    PathCode,
    PathId,
    ProjectCreate,
    ProjectRead,
    QuestionRead,
    RuleSettings,
    ScheduleRequest,
    TerminationCreate,
)

__all__ = ["StaffTenderController"]

log = logging.getLogger("tendering.tenders")

_STAFF = requires_role(Role.STAFF)
_BIDDER = requires_role(Role.BIDDER)


async def _project_read(db_session: DbSession, project: TenderProject) -> ProjectRead:
    tenderer = await db_session.get(Organization, project.tenderer_id)
    if tenderer is None:
        raise Inconsistent("tenderer is missing")
    return ProjectRead(
        code=project.code,
        title=project.title,
        tenderer=tenderer.code,
        tenderer_name=tenderer.name,
        category=Category(project.category),
        method=ProcurementMethod(project.method),
        funding_source=project.funding_source,
        region=project.region,
        estimated_price_fen=project.estimated_price_fen,
        lots=[_lot_read(lot) for lot in await projects.project_lots(db_session, project)],
    )


def _lot_read(lot: Lot) -> LotRead:
    return LotRead(
        code=lot.code,
        title=lot.title,
        estimated_price_fen=lot.estimated_price_fen,
        deposit_fen=lot.deposit_fen,
        bid_fields=[BidFieldSpec(**f) for f in lot.bid_fields],
        max_bid_mb=lot.max_bid_mb,
    )


class StaffTenderController(Controller):
    """交易中心工作人员: projects, lots, notices, documents, schedule, amendments, answers."""

    path = "/api/tenders"
    tags = ["tenders (staff)"]  # noqa: RUF012
    guards = [_STAFF]  # noqa: RUF012

    @get("/rules", summary="The center's schedule-rule defaults")
    async def rules(self, db_session: DbSession) -> RuleSettings:
        rules = await projects.center_rules(db_session)
        return RuleSettings(**{k: getattr(rules, k) for k in RuleSettings.model_fields})

    @put("/rules", summary="Change the center's schedule-rule defaults")
    async def set_rules(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[RuleSettings]
    ) -> RuleSettings:
        await projects.update_center_rules(db_session, actor=actor, values=data)
        return data

    @post("/projects", summary="Create a tender project (transaction code)")
    async def create_project(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[ProjectCreate]
    ) -> ProjectRead:
        project = await projects.create_project(db_session, actor=actor, data=data)
        return await _project_read(db_session, project)

    @get("/projects/{code:str}")
    async def project(self, db_session: DbSession, code: PathCode) -> ProjectRead:
        return await _project_read(db_session, await projects.get_project(db_session, code))

    @post("/projects/{code:str}/lots", summary="Add a lot (标段) to a project")
    async def add_lot(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        code: PathCode,
        data: JSONBody[LotCreate],
    ) -> LotRead:
        lot = await projects.add_lot(db_session, actor=actor, project_code=code, data=data)
        return _lot_read(lot)

    @post("/notices", summary="Draft a notice (招标公告) for lots of a project")
    async def create_notice(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[NoticeCreate]
    ) -> NoticeDetail:
        notice = await service.create_notice(db_session, actor=actor, data=data)
        return await queries.notice_detail(db_session, notice.id, public=False)  # type: ignore[arg-type]

    @get("/notices", summary="Notices in every state (drafts and scheduled first), filtered")
    async def notices(
        self,
        db_session: DbSession,
        page: Page,
        status: FromQuery[NoticeStatus | None] = None,
        category: FromQuery[Category | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=200, pattern=r"^[^\x00]*$")] = None,
    ) -> OffsetPagination[NoticeSummary]:
        return await queries.search_notices(
            db_session,
            status=status,
            category=category,
            text=q,
            page=page,
            public=False,
        )

    @get("/notices/{notice_id:int}", summary="A notice in any state")
    async def notice(self, db_session: DbSession, notice_id: PathId) -> NoticeDetail:
        return await queries.notice_detail(db_session, notice_id, public=False)

    @post(
        "/notices/{notice_id:int}/documents",
        summary="Upload a document (raw body; ?title=&filename=[&amendment=])",
        request_max_body_size=None,
    )
    async def upload(
        self,
        db_session: DbSession,
        request: Request[Any, Any, Any],  # the raw body streams to the blob store
        actor: CurrentActor,
        upload_slot: UploadSlot,
        settings: AppSettings,
        blob_store: Blobs,
        notice_id: PathId,
        title: Annotated[str, QueryParameter(min_length=1, max_length=300)],
        filename: Annotated[str, QueryParameter(min_length=1, max_length=255)],
        amendment: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
    ) -> DocumentRead:
        if "/" in filename or "\\" in filename:
            raise InvalidInput(
                "filename must be a plain file name, without folders.", field="filename"
            )
        await service.get_notice(db_session, notice_id)
        # Staged, and kept only once the document is attached: a refused upload (closed
        # notice, no amendment) leaves nothing in the store.
        staged = await blob_store.stage_stream(request.stream(), limit=settings.max_document_bytes)
        media_type = request.headers.get("content-type") or "application/octet-stream"
        try:
            document = await service.attach_document(
                db_session,
                actor=actor,
                notice_id=notice_id,
                title=title,
                filename=filename,
                media_type=media_type.split(";")[0].strip()[:100],
                blob=staged.blob,
                amendment_number=amendment,
            )
            await asyncio.to_thread(blob_store.keep, staged)
        finally:
            await asyncio.to_thread(staged.discard)
        detail = await queries.notice_detail(db_session, notice_id, public=False)
        return next(d for d in detail.documents if d.id == document.id)

    @post("/notices/{notice_id:int}/schedule", summary="Publish automatically at a time")
    async def schedule(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        queue: Queue,
        notice_id: PathId,
        data: JSONBody[ScheduleRequest],
    ) -> NoticeDetail:
        await service.schedule_notice(
            db_session,
            actor=actor,
            notice_id=notice_id,
            publish_at=data.publish_at,
        )
        await db_session.commit()
        try:
            if queue is None:
                raise RuntimeError("the job queue is not connected yet")
            await jobs.enqueue(
                queue,
                "publish_notice",
                notice_id,
                key=f"notice:{notice_id}",
                at=data.publish_at,
            )
        except Exception:
            # Committed already: the sweeper publishes it within a minute of its time.
            log.exception("could not enqueue publish_notice for notice %s", notice_id)
        return await queries.notice_detail(db_session, notice_id, public=False)

    @post("/notices/{notice_id:int}/publish", summary="Publish now")
    async def publish(
        self, db_session: DbSession, actor: CurrentActor, notice_id: PathId
    ) -> NoticeDetail:
        await service.publish_notice(db_session, actor=actor, notice_id=notice_id)
        return await queries.notice_detail(db_session, notice_id, public=False)

    @post("/notices/{notice_id:int}/close", summary="Close a notice after its bid deadline")
    async def close(
        self, db_session: DbSession, actor: CurrentActor, notice_id: PathId
    ) -> NoticeDetail:
        await service.close_notice(db_session, actor=actor, notice_id=notice_id)
        return await queries.notice_detail(db_session, notice_id, public=False)

    @post(
        "/notices/{notice_id:int}/terminate", summary="Terminate a notice (终止招标), with a reason"
    )
    async def terminate(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        notice_id: PathId,
        data: JSONBody[TerminationCreate],
    ) -> NoticeDetail:
        await service.terminate_notice(
            db_session, actor=actor, notice_id=notice_id, reason=data.reason
        )
        return await queries.notice_detail(db_session, notice_id, public=False)

    @post("/notices/{notice_id:int}/amendments", summary="Issue a clarification or amendment")
    async def amend(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        notice_id: PathId,
        data: JSONBody[AmendmentCreate],
    ) -> AmendmentRead:
        amendment = await amendments.issue_amendment(
            db_session,
            actor=actor,
            notice_id=notice_id,
            data=data,
            secrecy=secrecy,
        )
        return queries.amendment_read(amendment)

    @post("/notices/{notice_id:int}/questions/{number:int}/answer", summary="Answer publicly")
    async def answer(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        notice_id: PathId,
        number: PathId,
        data: JSONBody[AnswerCreate],
    ) -> QuestionRead:
        question = await amendments.answer_question(
            db_session,
            actor=actor,
            notice_id=notice_id,
            number=number,
            answer=data.answer,
        )
        return QuestionRead(
            number=question.number,
            text=question.text,
            asked_at=question.asked_at,
            answer=question.answer,
            answered_at=question.answered_at,
        )
