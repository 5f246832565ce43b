"""What other contexts learn about a lot: plain values, never the tables.

The bids and the opening read lots through these (exported by ``tendering.tenders``)::

    lot = await lot_view(session, code="JY-2026-0001-01", lock=True)  # LotView or None
    lot = await lot_view(session, lot_id=7)
    terms = await published_lot(session, "JY-2026-0001-01")  # PublishedLot or None
    periods = await lots_taking_bids(session)  # [BiddingPeriod(lot_id, code, starts_at, deadline)]
    ok = select(func.clock_timestamp()).where(func.clock_timestamp() < bid_deadline_sql(lot_id))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.clock import db_now
from tendering.tenders.models import Lot, Notice, NoticeLot, NoticeStatus

__all__ = [
    "BiddingPeriod",
    "LotView",
    "PublishedLot",
    "bid_deadline_sql",
    "lot_view",
    "lots_taking_bids",
    "published_lot",
]


@dataclass(frozen=True)
class LotView:
    """A lot and its opening-key custodians (user ids; any ``custodian_k`` of them open)."""

    id: int
    code: str
    title: str
    custodian_ids: tuple[int, ...]
    custodian_k: int

    @classmethod
    def of(cls, lot: Lot) -> LotView:
        return cls(
            id=lot.id or 0,
            code=lot.code,
            title=lot.title,
            custodian_ids=tuple(lot.custodian_ids),
            custodian_k=lot.custodian_k,
        )


@dataclass(frozen=True)
class PublishedLot:
    """A lot whose notice is published (or closed): what a bid must meet."""

    lot_id: int
    code: str
    bid_deadline: datetime
    opening_at: datetime
    deposit_fen: int
    bid_fields: list[dict[str, Any]]
    max_bid_mb: int


class BiddingPeriod(NamedTuple):
    lot_id: int
    code: str
    starts_at: datetime  # the notice's publication
    deadline: datetime


async def lot_view(
    session: AsyncSession, *, lot_id: int | None = None, code: str | None = None, lock: bool = False
) -> LotView | None:
    """The lot by id or by code, published or not; ``lock`` holds its row until commit."""
    if (lot_id is None) == (code is None):
        raise TypeError("lot_view takes lot_id or code")
    query = select(Lot).where(col(Lot.id) == lot_id if code is None else col(Lot.code) == code)
    if lock:
        query = query.with_for_update()
    lot = (await session.scalars(query)).one_or_none()
    return LotView.of(lot) if lot is not None else None


async def published_lot(session: AsyncSession, code: str) -> PublishedLot | None:
    """The lot with its published or closed notice; ``None`` for any other lot."""
    query = (
        select(Lot, Notice)
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
        .where(
            col(Lot.code) == code,
            col(Notice.status).in_([NoticeStatus.PUBLISHED, NoticeStatus.CLOSED]),
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    lot, notice = row
    return PublishedLot(
        lot_id=lot.id or 0,
        code=lot.code,
        bid_deadline=notice.bid_deadline,
        opening_at=notice.opening_at,
        deposit_fen=lot.deposit_fen,
        bid_fields=list(lot.bid_fields),
        max_bid_mb=lot.max_bid_mb,
    )


async def lots_taking_bids(session: AsyncSession) -> list[BiddingPeriod]:
    """Every lot whose notice is published and whose bid deadline has not passed."""
    query = (
        select(col(Lot.id), col(Lot.code), col(Notice.published_at), col(Notice.bid_deadline))
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
        .where(
            col(Notice.status) == NoticeStatus.PUBLISHED,
            col(Notice.bid_deadline) > await db_now(session),
            col(Notice.published_at).is_not(None),
        )
    )
    rows = (await session.execute(query)).all()
    return [
        BiddingPeriod(r[0], r[1], r[2], r[3]) for r in rows if r[0] is not None and r[2] is not None
    ]


def bid_deadline_sql(lot_id: int) -> ScalarSelect[datetime]:
    """The lot's bid deadline while its notice is published (NULL otherwise), as a scalar
    subquery: a statement that writes a bid judges the deadline in itself, by the database
    clock, reading the deadline an amendment may have just moved."""
    return (
        select(func.min(col(Notice.bid_deadline)))
        .join(NoticeLot, col(NoticeLot.notice_id) == col(Notice.id))
        .where(col(NoticeLot.lot_id) == lot_id, col(Notice.status) == NoticeStatus.PUBLISHED)
        .scalar_subquery()
    )
