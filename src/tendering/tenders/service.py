"""Use cases of tender publication: notices and their lifecycle (projects and lots are in
``tendering.tenders.projects``).

Each function is one change in the caller's transaction with its audit events recorded in
it; jobs are enqueued by the caller after commit. A notice moves draft → scheduled →
published → closed by guarded updates (``WHERE status = ...``), so a publication job that
runs twice, or races a staff member pressing "publish", publishes once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.blobs import StoredBlob
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, InvalidInput, NotFound
from tendering.core.holidays import load_calendar
from tendering.tenders.hooks import LotsPublished, lots_published
from tendering.tenders.lots import LotView
from tendering.tenders.models import (
    Amendment,
    Lot,
    LotResult,
    Notice,
    NoticeDocument,
    NoticeLot,
    NoticeStatus,
    TenderProject,
)
from tendering.tenders.projects import get_project, project_rules
from tendering.tenders.rules import check_schedule, describe_moment
from tendering.tenders.schemas import NoticeCreate

__all__ = [
    "attach_document",
    "close_notice",
    "create_notice",
    "due_notice_ids",
    "get_notice",
    "notice_lots",
    "publish_due_notice",
    "publish_notice",
    "record_for_lots",
    "record_lot_result",
    "schedule_notice",
    "terminate_notice",
]

_NOTICE_NOT_FOUND = "No such notice."


async def create_notice(session: AsyncSession, *, actor: Actor, data: NoticeCreate) -> Notice:
    project = await get_project(session, data.project)
    lots = list(
        (
            await session.scalars(
                select(Lot).where(col(Lot.project_id) == project.id, col(Lot.code).in_(data.lots))
            )
        ).all()
    )
    missing = sorted(set(data.lots) - {lot.code for lot in lots})
    if missing:
        raise InvalidInput(f"lots: {missing[0]} is not a lot of {project.code}.", field="lots")
    busy = (
        await session.scalars(
            select(col(Lot.code))
            .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
            .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
            .where(
                col(Lot.id).in_([lot.id for lot in lots]), col(Notice.status) != NoticeStatus.CLOSED
            )
        )
    ).first()
    if busy is not None:
        raise Conflict(
            f"Lot {busy} is already in a notice that is not closed.", code=ErrorCode.TENDER_LOT_BUSY
        )
    notice = Notice(
        project_id=project.id or 0,
        title=data.title,
        body=data.body,
        documents_from=data.documents_from,
        documents_to=data.documents_to,
        bid_deadline=data.bid_deadline,
        opening_at=data.opening_at,
    )
    session.add(notice)
    await session.flush()
    for lot in lots:
        session.add(NoticeLot(notice_id=notice.id or 0, lot_id=lot.id or 0))
    await session.flush()
    await record_for_lots(
        session, lots, action="notice.drafted", actor=actor, payload=_schedule_payload(notice)
    )
    return notice


async def get_notice(session: AsyncSession, notice_id: int, *, lock: bool = False) -> Notice:
    query = select(Notice).where(col(Notice.id) == notice_id)
    if lock:
        query = query.with_for_update()
    notice = (await session.scalars(query.execution_options(populate_existing=True))).first()
    if notice is None:
        raise NotFound(_NOTICE_NOT_FOUND, code=ErrorCode.TENDER_NO_NOTICE)
    return notice


async def notice_lots(session: AsyncSession, notice_id: int) -> list[Lot]:
    query = (
        select(Lot)
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .where(col(NoticeLot.notice_id) == notice_id)
        .order_by(col(Lot.code))
    )
    return list((await session.scalars(query)).all())


async def record_for_lots(
    session: AsyncSession,
    lots: list[Lot],
    *,
    action: str,
    actor: Actor | str,
    payload: dict[str, Any],
) -> None:
    """The same event in every lot's stream (a notice speaks for each of its lots)."""
    for lot in lots:
        await record(
            session, stream=lot_stream(lot.code), action=action, actor=actor, payload=payload
        )


def _schedule_payload(notice: Notice) -> dict[str, Any]:
    return {
        "notice": notice.id,
        "title": notice.title,
        "documents_from": rfc3339(notice.documents_from),
        "documents_to": rfc3339(notice.documents_to),
        "bid_deadline": rfc3339(notice.bid_deadline),
        "opening_at": rfc3339(notice.opening_at),
    }


async def _check_notice_schedule(session: AsyncSession, notice: Notice, at: datetime) -> None:
    project = await session.get(TenderProject, notice.project_id)
    if project is None:
        raise Inconsistent("project is missing")
    check_schedule(
        await project_rules(session, project),
        await load_calendar(session),
        published_at=at,
        documents_from=notice.documents_from,
        documents_to=notice.documents_to,
        bid_deadline=notice.bid_deadline,
        opening_at=notice.opening_at,
    )


def _refuse_state(notice: Notice, doing: str) -> Conflict:
    return Conflict(
        f"Notice {notice.id} is {notice.status}; it cannot be {doing} now.",
        code=ErrorCode.TENDER_NOTICE_STATE,
        details={"status": notice.status},
    )


async def attach_document(
    session: AsyncSession,
    *,
    actor: Actor,
    notice_id: int,
    title: str,
    filename: str,
    media_type: str,
    blob: StoredBlob,
    amendment_number: int | None = None,
) -> NoticeDocument:
    """Attach a stored blob. After publication a document belongs to an amendment."""
    notice = await get_notice(session, notice_id, lock=True)
    amendment_id = None
    if notice.status == NoticeStatus.CLOSED:
        raise _refuse_state(notice, "given documents")
    if notice.status == NoticeStatus.PUBLISHED or amendment_number is not None:
        amendment = (
            await session.scalars(
                select(Amendment).where(
                    col(Amendment.notice_id) == notice_id, col(Amendment.number) == amendment_number
                )
            )
        ).first()
        if amendment is None:
            raise InvalidInput(
                "A published notice takes new documents only with an amendment: give the "
                "amendment's number.",
                field="amendment",
            )
        amendment_id = amendment.id
    document = NoticeDocument(
        notice_id=notice_id,
        amendment_id=amendment_id,
        title=title,
        filename=filename,
        media_type=media_type,
        sha256=blob.sha256,
        size=blob.size,
    )
    session.add(document)
    await session.flush()
    payload = {"notice": notice_id, "document": document.id, "sha256": blob.sha256}
    payload |= {"size": blob.size, "filename": filename, "amendment": amendment_number}
    lots = await notice_lots(session, notice_id)
    await record_for_lots(
        session, lots, action="notice.document_attached", actor=actor, payload=payload
    )
    return document


async def schedule_notice(
    session: AsyncSession, *, actor: Actor, notice_id: int, publish_at: datetime
) -> Notice:
    """Set a draft (or re-set a scheduled) notice to be published at ``publish_at``.

    The caller enqueues ``publish_notice`` after commit; the sweeper covers a lost job.
    """
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED):
        raise _refuse_state(notice, "scheduled")
    now = await db_now(session)
    if publish_at <= now:
        raise InvalidInput(
            "publish_at must be in the future; to publish now, use publish.", field="publish_at"
        )
    await _check_notice_schedule(session, notice, publish_at)
    notice.status, notice.publish_at = NoticeStatus.SCHEDULED, publish_at
    await session.flush()
    lots = await notice_lots(session, notice_id)
    payload = _schedule_payload(notice) | {"publish_at": rfc3339(publish_at)}
    await record_for_lots(session, lots, action="notice.scheduled", actor=actor, payload=payload)
    return notice


async def publish_notice(session: AsyncSession, *, actor: Actor, notice_id: int) -> Notice:
    """Publish a draft or scheduled notice now."""
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED):
        raise _refuse_state(notice, "published")
    now = await db_now(session)
    await _check_notice_schedule(session, notice, now)
    if not await _mark_published(session, notice_id, actor, allowed=(notice.status,)):
        raise _refuse_state(notice, "published")
    return await get_notice(session, notice_id)


async def publish_due_notice(session: AsyncSession, notice_id: int) -> bool:
    """The job's half: publish ``notice_id`` if it is still scheduled and due. Idempotent."""
    return await _mark_published(
        session, notice_id, "system:publish_notice", allowed=(NoticeStatus.SCHEDULED,), due=True
    )


async def _mark_published(
    session: AsyncSession,
    notice_id: int,
    actor: Actor | str,
    *,
    allowed: tuple[str, ...],
    due: bool = False,
) -> bool:
    # The guard makes the transition happen once: a second job, or a job racing staff,
    # waits on the row lock, then finds the status changed and updates nothing.
    statement = (
        update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.status).in_(allowed))
        .values(status=NoticeStatus.PUBLISHED, published_at=func.clock_timestamp())
        .returning(col(Notice.published_at))
    )
    if due:
        statement = statement.where(col(Notice.publish_at) <= func.clock_timestamp())
    published_at = (await session.execute(statement)).scalar()
    if published_at is None:
        return False
    notice = await get_notice(session, notice_id)
    lots = await notice_lots(session, notice_id)
    payload = _schedule_payload(notice) | {"published_at": rfc3339(published_at)}
    await record_for_lots(session, lots, action="notice.published", actor=actor, payload=payload)
    # The opening's key ceremony listens (wired by app.register_contexts), in this transaction.
    views = tuple(LotView.of(lot) for lot in lots)
    await lots_published.announce(session, LotsPublished(lots=views, actor=actor))
    return True


async def due_notice_ids(session: AsyncSession) -> list[int]:
    query = select(col(Notice.id)).where(
        col(Notice.status) == NoticeStatus.SCHEDULED,
        col(Notice.publish_at) <= func.clock_timestamp(),
    )
    return [i for i in (await session.scalars(query)).all() if i is not None]


async def close_notice(session: AsyncSession, *, actor: Actor, notice_id: int) -> Notice:
    """Close a published notice once its bid deadline has passed.

    Before the deadline bidders may be preparing or have sealed bids (nobody may know
    which, so it is refused for every notice): ending it then is a termination, with a
    public reason (:func:`terminate_notice`).
    """
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status != NoticeStatus.PUBLISHED:
        raise _refuse_state(notice, "closed")
    now = await db_now(session)
    if now < notice.bid_deadline:
        raise Conflict(
            f"投标截止时间（{describe_moment(notice.bid_deadline)}）前不得关闭公告；确需终止招标的，"
            f"应说明理由并发布终止公告（POST /api/tenders/notices/{notice_id}/terminate）。 "
            "The bid deadline has not passed: bids may be sealed already, so the notice can "
            "only be terminated, with a public reason.",
            code=ErrorCode.TENDER_BEFORE_DEADLINE,
            details={"bid_deadline": rfc3339(notice.bid_deadline)},
        )
    notice.status, notice.closed_at = NoticeStatus.CLOSED, now
    await session.flush()
    lots = await notice_lots(session, notice_id)
    payload = {"notice": notice_id, "closed_at": rfc3339(notice.closed_at)}
    await record_for_lots(session, lots, action="notice.closed", actor=actor, payload=payload)
    return notice


async def terminate_notice(
    session: AsyncSession, *, actor: Actor, notice_id: int, reason: str
) -> Notice:
    """终止招标: close a published notice at any time, with a public reason, recorded as
    ``notice.terminated`` in every lot's stream (招标投标法实施条例 第三十一条: the termination
    is announced, and fees and deposits are returned). The notice takes no more bids."""
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status != NoticeStatus.PUBLISHED:
        raise _refuse_state(notice, "terminated")
    now = await db_now(session)
    notice.status, notice.closed_at = NoticeStatus.CLOSED, now
    notice.termination_reason = reason
    await session.flush()
    payload = {
        "notice": notice_id,
        "closed_at": rfc3339(now),
        "reason": reason,
        "before_deadline": now < notice.bid_deadline,
    }
    lots = await notice_lots(session, notice_id)
    await record_for_lots(session, lots, action="notice.terminated", actor=actor, payload=payload)
    return notice


async def record_lot_result(
    session: AsyncSession, *, lot_id: int, result: LotResult, at: datetime
) -> None:
    """What the opening decided for a lot (开标 or 流标), for the public record (OCDS lot
    status). The opening context calls it in the transaction that finishes the opening;
    once set it stays (a second call changes nothing)."""
    await session.execute(
        update(Lot)
        .where(col(Lot.id) == lot_id, col(Lot.result).is_(None))
        .values(result=result.value, result_at=at)
    )
