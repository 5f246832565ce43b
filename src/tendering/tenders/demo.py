"""Demo tenders for ``tendering demo``: three published notices a county center would run.

- 某某县第一中学教学楼建设工程 (works, two lots), with a clarification and registrations;
- 某某县城区道路沥青摊铺工程 (works), with a question and its answer;
- 某某县第一中学课桌椅采购项目 (goods).

A trial of the opening needs a lot whose bidding has ended, which the law puts 20 days away:
``tendering demo end-bidding LOT`` (:func:`end_demo_bidding`) ends bidding on a lot of the
demo database now, so staff can start its opening at once. It refuses any other database.

Each has its tender documents in the blob store (``settings.blob_dir``, the same data
directory ``tendering serve`` uses); registrations are tagged with that directory's (or
``TENDERING_SIGNING_KEY``'s) platform key, so the server finds them. Everything goes
through the service functions, so the audit chain records it as it would in real use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import lot_stream
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.blobs import BlobStore
from tendering.core.calendar import WorkingCalendar, add_working_days
from tendering.core.clock import db_now, rfc3339
from tendering.core.demo import DEMO_CENTER_CODE, DemoBook
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, NotFound
from tendering.core.holidays import load_calendar
from tendering.core.secrecy import Secrecy
from tendering.ledger import set_deposit_terms
from tendering.settings import Settings
from tendering.tenders import amendments, projects, registration, service
from tendering.tenders.models import AmendmentKind, Category, Lot, Notice, NoticeLot, NoticeStatus
from tendering.tenders.rules import CST, describe_moment
from tendering.tenders.schemas import (
    AmendmentCreate,
    BidFieldSpec,
    LotCreate,
    NoticeCreate,
    ProjectCreate,
)

__all__ = ["DEMO_ACTOR", "BiddingEnded", "add_demo_tenders", "end_demo_bidding"]

DEMO_ACTOR = Actor.system("demo")

_DURATION = BidFieldSpec(name="duration_days", type="integer", label="工期(日历天)", min=1)
_WARRANTY = BidFieldSpec(name="warranty_months", type="integer", label="质保期(月)", min=12)
_MANAGER = BidFieldSpec(name="project_manager", type="string", label="项目经理")


def _actor(user: User, kind: OrgKind) -> Actor:
    return Actor(user.id, user.username, Role(user.role), user.organization_id, kind)


def _at(calendar: WorkingCalendar, start: datetime, working_days: int, hour: int) -> datetime:
    """``hour``:30 Beijing time, ``working_days`` working days after ``start``."""
    day = add_working_days(calendar, start.astimezone(CST).date(), working_days)
    return datetime.combine(day, time(hour, 30), CST).astimezone(UTC)


async def _notice(
    session: AsyncSession,
    staff: Actor,
    store: BlobStore,
    project: ProjectCreate,
    lots: list[LotCreate],
    *,
    calendar: WorkingCalendar,
) -> int:
    await projects.create_project(session, actor=staff, data=project)
    codes = [
        (await projects.add_lot(session, actor=staff, project_code=project.code, data=lot)).code
        for lot in lots
    ]
    now = await db_now(session)
    notice = await service.create_notice(
        session,
        actor=staff,
        data=NoticeCreate(
            project=project.code,
            lots=codes,
            title=f"{project.title}招标公告",
            body=(
                f"{project.title}已由有关部门批准建设，资金来源为{project.funding_source}，"
                "现对该项目进行公开招标，欢迎符合资格条件的潜在投标人参加投标。"
            ),
            documents_from=now,
            documents_to=_at(calendar, now, 10, 17),
            bid_deadline=_at(calendar, now + timedelta(days=21), 1, 9),
            opening_at=_at(calendar, now + timedelta(days=21), 1, 9),
        ),
    )
    if notice.id is None:
        raise Inconsistent("notice.id is missing")
    text = f"{project.title}\n招标文件\n\n第一章 招标公告\n第二章 投标人须知\n".encode()
    blob = await store.write_bytes(text, limit=1024 * 1024)
    await service.attach_document(
        session,
        actor=staff,
        notice_id=notice.id,
        title="招标文件",
        filename=f"{project.code}-招标文件.txt",
        media_type="text/plain; charset=utf-8",
        blob=blob,
    )
    await service.publish_notice(session, actor=staff, notice_id=notice.id)
    return notice.id


async def add_demo_tenders(session: AsyncSession, book: DemoBook) -> None:
    """The demo step (registered with ``register_demo_step``)."""
    staff = _actor(book.users["staff"], OrgKind.CENTER)
    # Registered by the opening context's demo step, run first; k = 2 of them open a lot.
    custodians, k = book.custodians, min(2, len(book.custodians)) or 1
    settings = Settings.from_env()
    store = BlobStore(settings.blob_dir)
    calendar = await load_calendar(session)
    school, transport = book.organizations["school"].code, book.organizations["transport"].code
    year = (await db_now(session)).year

    def project(n: int, title: str, tenderer: str, category: Category, fen: int) -> ProjectCreate:
        return ProjectCreate(
            code=f"JY-{year}-{n:04d}",
            title=title,
            tenderer=tenderer,
            category=category,
            funding_source="县级财政资金",
            region="某某县",
            estimated_price_fen=fen,
        )

    building = await _notice(
        session,
        staff,
        store,
        project(1, "某某县第一中学教学楼建设工程", school, Category.WORKS, 2_860_000_000),
        [
            LotCreate(
                number=1,
                title="教学楼土建工程",
                estimated_price_fen=2_100_000_000,
                deposit_fen=40_000_000,
                bid_fields=[_DURATION, _MANAGER],
                custodians=custodians,
                custodian_k=k,
            ),
            LotCreate(
                number=2,
                title="教学楼安装工程",
                estimated_price_fen=760_000_000,
                deposit_fen=15_000_000,
                bid_fields=[_DURATION, _WARRANTY],
                custodians=custodians,
                custodian_k=k,
            ),
        ],
        calendar=calendar,
    )
    road = await _notice(
        session,
        staff,
        store,
        project(2, "某某县城区道路沥青摊铺工程", transport, Category.WORKS, 980_000_000),
        [
            LotCreate(
                number=1,
                title="城区道路沥青摊铺",
                estimated_price_fen=980_000_000,
                deposit_fen=19_000_000,
                bid_fields=[_DURATION],
                custodians=custodians,
                custodian_k=k,
            )
        ],
        calendar=calendar,
    )
    await _notice(
        session,
        staff,
        store,
        project(3, "某某县第一中学课桌椅采购项目", school, Category.GOODS, 86_000_000),
        [
            LotCreate(
                number=1,
                title="学生课桌椅1200套",
                estimated_price_fen=86_000_000,
                deposit_fen=1_700_000,
                bid_fields=[_WARRANTY],
                custodians=custodians,
                custodian_k=k,
            )
        ],
        calendar=calendar,
    )
    await _registrations_and_questions(session, book, building=building, road=road, year=year)
    book.notes.append(
        "3 notices published (教学楼建设工程 with 2 lots and a clarification, 道路沥青摊铺工程, "
        "课桌椅采购); bidder1-3 registered for the school's lots."
    )


async def _registrations_and_questions(
    session: AsyncSession, book: DemoBook, *, building: int, road: int, year: int
) -> None:
    staff = _actor(book.users["staff"], OrgKind.CENTER)
    bidders = [_actor(book.users[f"bidder{n}"], OrgKind.BIDDER) for n in (1, 2, 3, 5)]
    for bidder in bidders[:3]:
        for lot in (1, 2):
            await registration.register_for_lot(
                session, actor=bidder, lot_code=f"JY-{year}-0001-{lot:02d}", secrecy=book.secrecy
            )
    await registration.register_for_lot(
        session, actor=bidders[3], lot_code=f"JY-{year}-0002-01", secrecy=book.secrecy
    )
    await amendments.issue_amendment(
        session,
        secrecy=book.secrecy,
        actor=staff,
        notice_id=building,
        data=AmendmentCreate(
            kind=AmendmentKind.CLARIFICATION,
            title="关于教学楼土建工程工程量清单的澄清",
            body="工程量清单第3.2项“C30混凝土”数量更正为1260立方米，其余内容不变。",
        ),
    )
    question = await amendments.ask_question(
        session,
        actor=bidders[3],
        notice_id=road,
        text="沥青混合料是否允许使用再生料？",
        secrecy=book.secrecy,
    )
    await amendments.answer_question(
        session,
        actor=staff,
        notice_id=road,
        number=question.number,
        answer="面层不得使用再生料，基层再生料掺量不超过30%。",
    )


@dataclass(frozen=True)
class BiddingEnded:
    notice_id: int
    lots: list[str]
    old_deadline: datetime
    ended_at: datetime


async def end_demo_bidding(
    session: AsyncSession, *, lot_code: str, secrecy: Secrecy
) -> BiddingEnded:
    """演示: end bidding now on the demo lot ``lot_code`` (and the other lots of its notice),
    so its opening can be tried without waiting the 20 days the law requires.

    The notice's bid deadline and opening time become now (the database clock), the
    deposits' deadlines with them; recorded as ``notice.demo_bidding_ended`` in every lot's
    stream. Refused on a database the demo did not make, and for a lot whose bidding is
    not open.
    """
    demo_center = await session.scalar(
        select(col(Organization.id)).where(col(Organization.code) == DEMO_CENTER_CODE)
    )
    if demo_center is None:
        raise Conflict(
            "这不是演示数据库：只有 `tendering demo` 建立的演示数据库可以提前结束投标。 This is "
            "not the demo database: only a database `tendering demo` filled may end bidding "
            "early.",
            code=ErrorCode.DEMO_NOT_A_DEMO,
        )
    notice_id = await session.scalar(
        select(col(Notice.id))
        .join(NoticeLot, col(NoticeLot.notice_id) == col(Notice.id))
        .join(Lot, col(Lot.id) == col(NoticeLot.lot_id))
        .where(col(Lot.code) == lot_code, col(Notice.status) == NoticeStatus.PUBLISHED)
    )
    if notice_id is None:
        raise NotFound(f"No published notice has the lot {lot_code}.", code=ErrorCode.TENDER_NO_LOT)
    notice = await service.get_notice(session, notice_id, lock=True)
    now = await db_now(session)
    old_deadline = notice.bid_deadline
    if now >= old_deadline:
        raise Conflict(
            f"{lot_code} 的投标已于 {describe_moment(old_deadline)} 截止 (bidding ended): "
            "start its opening.",
            code=ErrorCode.TENDER_DEADLINE_PASSED,
        )
    notice.bid_deadline, notice.opening_at = now, now
    notice.documents_to = min(notice.documents_to, now)
    await session.flush()
    lots = await service.notice_lots(session, notice_id)
    for lot in lots:
        await set_deposit_terms(
            session,
            secrecy=secrecy,
            subject=lot_stream(lot.code),
            deadline=now,
            actor=DEMO_ACTOR,
        )
    await service.record_for_lots(
        session,
        lots,
        action="notice.demo_bidding_ended",
        actor=DEMO_ACTOR,
        payload={
            "notice": notice_id,
            "old_deadline": rfc3339(old_deadline),
            "new_deadline": rfc3339(now),
            "note": "演示: bidding ended early for a trial of the opening (demo database only)",
        },
    )
    return BiddingEnded(notice_id, [lot.code for lot in lots], old_deadline, now)
