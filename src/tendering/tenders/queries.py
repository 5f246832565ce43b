"""Reading notices: the public search, a notice's detail, documents, the feed's entries.

The public sees published and closed notices only; a draft or scheduled notice is the same
404 as one that does not exist. Nothing here reads registrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.auth.models import Organization
from tendering.core.errors import ErrorCode, Inconsistent, NotFound
from tendering.core.pagination import LimitOffset, OffsetPagination, paginate
from tendering.tenders.models import (
    Amendment,
    AmendmentKind,
    Category,
    Lot,
    LotResult,
    Notice,
    NoticeDocument,
    NoticeLot,
    NoticeStatus,
    ProcurementMethod,
    Question,
    TenderProject,
)
from tendering.tenders.schemas import (
    AmendmentRead,
    BidFieldSpec,
    DocumentRead,
    LotRead,
    NoticeDetail,
    NoticeSummary,
    QuestionRead,
)

__all__ = [
    "PUBLIC_STATUSES",
    "FeedEntry",
    "amendment_read",
    "feed_entries",
    "notice_detail",
    "notice_document",
    "search_notices",
]

PUBLIC_STATUSES = (NoticeStatus.PUBLISHED, NoticeStatus.CLOSED)


def _summary(notice: Notice, project: TenderProject, lots: list[str]) -> NoticeSummary:
    if notice.id is None:
        raise Inconsistent("notice.id is missing")
    return NoticeSummary(
        id=notice.id,
        project=project.code,
        title=notice.title,
        category=Category(project.category),
        method=ProcurementMethod(project.method),
        region=project.region,
        status=NoticeStatus(notice.status),
        published_at=notice.published_at,
        bid_deadline=notice.bid_deadline,
        lots=lots,
    )


async def search_notices(
    session: AsyncSession,
    *,
    category: Category | None = None,
    status: NoticeStatus | None = None,
    region: str | None = None,
    text: str | None = None,
    published_from: datetime | None = None,
    published_to: datetime | None = None,
    page: LimitOffset,
    public: bool = True,
) -> OffsetPagination[NoticeSummary]:
    """Notices matching every given filter, newest first, and how many match; the public
    sees published and closed ones only, staff (``public=False``) every state."""
    visible = list(PUBLIC_STATUSES) if public else list(NoticeStatus)
    if status is not None and status not in visible:
        return OffsetPagination(items=[], limit=page.limit, offset=page.offset, total=0)
    statuses = [status] if status is not None else visible
    query = (
        select(Notice, TenderProject)
        .join(TenderProject, col(TenderProject.id) == col(Notice.project_id))
        .where(col(Notice.status).in_(statuses))
    )
    if category is not None:
        query = query.where(col(TenderProject.category) == category)
    if region:
        query = query.where(col(TenderProject.region) == region)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(col(Notice.title).ilike(pattern), col(TenderProject.title).ilike(pattern))
        )
    if published_from is not None:
        query = query.where(col(Notice.published_at) >= published_from)
    if published_to is not None:
        query = query.where(col(Notice.published_at) < published_to)
    query = query.order_by(col(Notice.published_at).desc().nulls_first(), col(Notice.id).desc())
    rows, total = await paginate(session, query, page)
    lots: dict[int, list[str]] = {}
    if rows:
        ids = [notice.id for notice, _ in rows if notice.id is not None]
        lot_codes = (
            select(col(NoticeLot.notice_id), col(Lot.code))
            .join(Lot, col(Lot.id) == col(NoticeLot.lot_id))
            .where(col(NoticeLot.notice_id).in_(ids))
            .order_by(col(Lot.code))
        )
        for notice_id, code in (await session.execute(lot_codes)).all():
            lots.setdefault(notice_id, []).append(code)
    items = [_summary(n, p, lots.get(n.id or 0, [])) for n, p in rows]
    return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)


def amendment_read(amendment: Amendment) -> AmendmentRead:
    return AmendmentRead(
        number=amendment.number,
        kind=AmendmentKind(amendment.kind),
        title=amendment.title,
        body=amendment.body,
        issued_at=amendment.issued_at,
        old_deadline=amendment.old_deadline,
        new_deadline=amendment.new_deadline,
        old_opening=amendment.old_opening,
        new_opening=amendment.new_opening,
        deadline_pushed=amendment.pushed,
        question=amendment.question,
    )


async def _public_notice(session: AsyncSession, notice_id: int, *, public: bool) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None or (public and notice.status not in PUBLIC_STATUSES):
        raise NotFound("No such notice.", code=ErrorCode.TENDER_NO_NOTICE)
    return notice


async def notice_detail(session: AsyncSession, notice_id: int, *, public: bool) -> NoticeDetail:
    notice = await _public_notice(session, notice_id, public=public)
    project = await session.get(TenderProject, notice.project_id)
    if project is None:
        raise Inconsistent("project is missing")
    tenderer = await session.get(Organization, project.tenderer_id)
    if tenderer is None:
        raise Inconsistent("tenderer is missing")
    lots = list(
        (
            await session.scalars(
                select(Lot)
                .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
                .where(col(NoticeLot.notice_id) == notice_id)
                .order_by(col(Lot.code))
            )
        ).all()
    )
    amendments = list(
        (
            await session.scalars(
                select(Amendment)
                .where(col(Amendment.notice_id) == notice_id)
                .order_by(col(Amendment.number))
            )
        ).all()
    )
    numbers = {a.id: a.number for a in amendments}
    documents = (
        await session.scalars(
            select(NoticeDocument)
            .where(col(NoticeDocument.notice_id) == notice_id)
            .order_by(col(NoticeDocument.id))
        )
    ).all()
    questions = (
        await session.scalars(
            select(Question)
            .where(col(Question.notice_id) == notice_id)
            .order_by(col(Question.number))
        )
    ).all()
    summary = _summary(notice, project, [lot.code for lot in lots])
    return NoticeDetail(
        **summary.model_dump(),
        body=notice.body,
        tenderer=tenderer.code,
        tenderer_name=tenderer.name,
        funding_source=project.funding_source,
        documents_from=notice.documents_from,
        documents_to=notice.documents_to,
        opening_at=notice.opening_at,
        publish_at=notice.publish_at,
        closed_at=notice.closed_at,
        termination_reason=notice.termination_reason,
        lot_details=[
            LotRead(
                code=lot.code,
                title=lot.title,
                estimated_price_fen=lot.estimated_price_fen,
                deposit_fen=lot.deposit_fen,
                bid_fields=[BidFieldSpec(**f) for f in lot.bid_fields],
                max_bid_mb=lot.max_bid_mb,
                result=LotResult(lot.result) if lot.result else None,
                result_at=lot.result_at,
            )
            for lot in lots
        ],
        documents=[
            DocumentRead(
                id=d.id,
                title=d.title,
                filename=d.filename,
                media_type=d.media_type,
                sha256=d.sha256,
                size=d.size,
                amendment=numbers.get(d.amendment_id),
                url=f"/api/public/notices/{notice_id}/documents/{d.id}",
            )
            for d in documents
        ],
        amendments=[amendment_read(a) for a in amendments],
        questions=[
            QuestionRead(
                number=q.number,
                text=q.text,
                asked_at=q.asked_at,
                answer=q.answer,
                answered_at=q.answered_at,
            )
            for q in questions
        ],
    )


async def notice_document(
    session: AsyncSession, notice_id: int, document_id: int, *, public: bool
) -> NoticeDocument:
    await _public_notice(session, notice_id, public=public)
    document = await session.get(NoticeDocument, document_id)
    if document is None or document.notice_id != notice_id:
        raise NotFound("This notice has no such document.", code=ErrorCode.TENDER_NO_DOCUMENT)
    return document


@dataclass(frozen=True, slots=True)
class FeedEntry:
    notice_id: int
    notice_title: str
    project: str
    at: datetime
    amendment: Amendment | None


async def feed_entries(session: AsyncSession, *, limit: int = 50) -> list[FeedEntry]:
    """Newest publications and amendments of public notices, newest first."""
    published = (
        await session.execute(
            select(Notice, col(TenderProject.code))
            .join(TenderProject, col(TenderProject.id) == col(Notice.project_id))
            .where(col(Notice.status).in_(PUBLIC_STATUSES))
            .order_by(col(Notice.published_at).desc())
            .limit(limit)
        )
    ).all()
    amended = (
        await session.execute(
            select(Amendment, Notice, col(TenderProject.code))
            .join(Notice, col(Notice.id) == col(Amendment.notice_id))
            .join(TenderProject, col(TenderProject.id) == col(Notice.project_id))
            .where(col(Notice.status).in_(PUBLIC_STATUSES))
            .order_by(col(Amendment.issued_at).desc())
            .limit(limit)
        )
    ).all()
    entries = [
        FeedEntry(n.id or 0, n.title, code, n.published_at, None)
        for n, code in published
        if n.published_at is not None
    ] + [FeedEntry(n.id or 0, n.title, code, a.issued_at, a) for a, n, code in amended]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
