"""Use cases of tender publication: projects, lots, notices and their lifecycle.

Each function is one change in the caller's transaction with its audit events recorded in
it; jobs are enqueued by the caller after commit. A notice moves draft → scheduled →
published → closed by guarded updates (``WHERE status = ...``), so a publication job that
runs twice, or races a staff member pressing "publish", publishes once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, User
from tendering.core.blobs import StoredBlob
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, InvalidInput, NotFound
from tendering.tenders.models import (
    Amendment,
    Lot,
    Notice,
    NoticeDocument,
    NoticeLot,
    NoticeStatus,
    TenderProject,
    TenderRuleSetting,
)
from tendering.tenders.rules import ScheduleRules, check_deposit, check_schedule, parse_bid_fields
from tendering.tenders.schemas import LotCreate, NoticeCreate, ProjectCreate, RuleSettings

__all__ = [
    "add_lot",
    "attach_document",
    "center_rules",
    "close_notice",
    "create_notice",
    "create_project",
    "due_notice_ids",
    "get_notice",
    "get_project",
    "notice_lots",
    "project_lots",
    "project_rules",
    "publish_due_notice",
    "publish_notice",
    "record_for_lots",
    "schedule_notice",
    "update_center_rules",
]

_NOTICE_NOT_FOUND = "No such notice."


async def center_rules(session: AsyncSession) -> ScheduleRules:
    row = await session.get(TenderRuleSetting, 1)
    if row is None:
        return ScheduleRules()
    return ScheduleRules(
        min_document_days=row.min_document_days,
        min_bid_days=row.min_bid_days,
        max_deposit_bp=row.max_deposit_bp,
        amendment_days=row.amendment_days,
    )


async def update_center_rules(
    session: AsyncSession, *, actor: Actor, values: RuleSettings
) -> ScheduleRules:
    statement = insert(TenderRuleSetting).values(id=1, **values.model_dump())
    statement = statement.on_conflict_do_update(index_elements=["id"], set_=values.model_dump())
    await session.execute(statement)
    await record(
        session,
        stream=GLOBAL,
        action="tender_rules.updated",
        actor=actor,
        payload=values.model_dump(),
    )
    return ScheduleRules(**values.model_dump())


async def project_rules(session: AsyncSession, project: TenderProject) -> ScheduleRules:
    return (await center_rules(session)).overridden(project.rule_overrides)


async def get_project(session: AsyncSession, code: str) -> TenderProject:
    project = (
        await session.scalars(select(TenderProject).where(col(TenderProject.code) == code))
    ).first()
    if project is None:
        raise NotFound(f"No project has the transaction code {code!r}.", code="tender.no_project")
    return project


async def project_lots(session: AsyncSession, project: TenderProject) -> list[Lot]:
    query = select(Lot).where(col(Lot.project_id) == project.id).order_by(col(Lot.code))
    return list((await session.scalars(query)).all())


async def create_project(
    session: AsyncSession, *, actor: Actor, data: ProjectCreate
) -> TenderProject:
    tenderer = (
        await session.scalars(select(Organization).where(col(Organization.code) == data.tenderer))
    ).first()
    if tenderer is None or tenderer.kind != OrgKind.TENDERER:
        raise InvalidInput(
            f"tenderer must be the code of a tenderer organization (招标人); {data.tenderer!r} "
            "is not one.",
            field="tenderer",
        )
    overrides = data.rule_overrides.model_dump(exclude_none=True)
    values: dict[str, Any] = data.model_dump(exclude={"tenderer", "rule_overrides"})
    statement = (
        insert(TenderProject)
        .values(**values, tenderer_id=tenderer.id, rule_overrides=overrides)
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(col(TenderProject.id))
    )
    project_id = (await session.execute(statement)).scalar()
    if project_id is None:
        raise Conflict(
            f"A project with the transaction code {data.code} already exists.",
            code="tender.duplicate_project",
            field="code",
        )
    await record(
        session,
        stream=GLOBAL,
        action="project.created",
        actor=actor,
        payload={"project": data.code, "tenderer": tenderer.code, "overrides": overrides},
    )
    return await get_project(session, data.code)


async def add_lot(
    session: AsyncSession, *, actor: Actor, project_code: str, data: LotCreate
) -> Lot:
    project = await get_project(session, project_code)
    rules = await project_rules(session, project)
    check_deposit(rules, deposit_fen=data.deposit_fen, estimated_price_fen=data.estimated_price_fen)
    fields = parse_bid_fields([f.model_dump() for f in data.bid_fields])
    await _check_custodians(session, data.custodians, data.custodian_k)
    code = f"{project.code}-{data.number:02d}"
    statement = (
        insert(Lot)
        .values(
            project_id=project.id or 0,
            code=code,
            title=data.title,
            estimated_price_fen=data.estimated_price_fen,
            deposit_fen=data.deposit_fen,
            bid_fields=[f.to_json() for f in fields],
            custodian_ids=data.custodians,
            custodian_k=data.custodian_k,
        )
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(col(Lot.id))
    )
    lot_id = (await session.execute(statement)).scalar()
    if lot_id is None:
        raise Conflict(f"Lot {code} already exists.", code="tender.duplicate_lot", field="number")
    await record(
        session,
        stream=lot_stream(code),
        action="lot.created",
        actor=actor,
        payload={
            "project": project.code,
            "lot": code,
            "estimated_price_fen": data.estimated_price_fen,
            "deposit_fen": data.deposit_fen,
            "custodians": data.custodians,
            "custodian_k": data.custodian_k,
        },
    )
    lot = await session.get(Lot, lot_id)
    assert lot is not None
    return lot


async def _check_custodians(session: AsyncSession, ids: list[int], k: int) -> None:
    if len(set(ids)) != len(ids):
        raise InvalidInput("custodians must not name a user twice.", field="custodians")
    if ids and k > len(ids):
        raise InvalidInput(
            f"custodian_k ({k}) must not exceed the number of custodians ({len(ids)}).",
            field="custodian_k",
        )
    if ids:
        found = set(
            (await session.scalars(select(col(User.id)).where(col(User.id).in_(ids)))).all()
        )
        missing = sorted(set(ids) - found)
        if missing:
            raise InvalidInput(f"custodians: no user has the id {missing[0]}.", field="custodians")


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
            f"Lot {busy} is already in a notice that is not closed.", code="tender.lot_busy"
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
        raise NotFound(_NOTICE_NOT_FOUND, code="tender.no_notice")
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
    assert project is not None
    check_schedule(
        await project_rules(session, project),
        published_at=at,
        documents_from=notice.documents_from,
        documents_to=notice.documents_to,
        bid_deadline=notice.bid_deadline,
        opening_at=notice.opening_at,
    )


def _refuse_state(notice: Notice, doing: str) -> Conflict:
    return Conflict(
        f"Notice {notice.id} is {notice.status}; it cannot be {doing} now.",
        code="tender.notice_state",
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
    return True


async def due_notice_ids(session: AsyncSession) -> list[int]:
    query = select(col(Notice.id)).where(
        col(Notice.status) == NoticeStatus.SCHEDULED,
        col(Notice.publish_at) <= func.clock_timestamp(),
    )
    return [i for i in (await session.scalars(query)).all() if i is not None]


async def close_notice(session: AsyncSession, *, actor: Actor, notice_id: int) -> Notice:
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status != NoticeStatus.PUBLISHED:
        raise _refuse_state(notice, "closed")
    notice.status, notice.closed_at = NoticeStatus.CLOSED, await db_now(session)
    await session.flush()
    lots = await notice_lots(session, notice_id)
    payload = {"notice": notice_id, "closed_at": rfc3339(notice.closed_at)}
    await record_for_lots(session, lots, action="notice.closed", actor=actor, payload=payload)
    return notice
