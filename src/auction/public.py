"""Public announcements (出让公告): the list, one auction, the Atom feed and an OCDS-like
release package. Only announced auctions are public; nothing here tells who registered or
how many, and the reserve shows only after the result (in the result event, not here).

OCDS-like: one contracting process per auction (``ocid`` = prefix + code), one release per
state; the subject goes in ``tender.items[0]`` with its attributes, rural property rights
carry ``tender.mainProcurementCategory = "ruralPropertyRight"`` and ``rural: true``, and a
sold auction an ``awards`` entry naming the winner only by paddle (竞买号). Amounts are yuan
(two-decimal numbers, exact in JSON text).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auction.lookup import get_auction
from auction.models import Auction, AuctionKind, AuctionState
from auction.schemas import PublicAuction
from tendering.core.auth.models import Organization
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode, NotFound
from tendering.core.pagination import LimitOffset, OffsetPagination, paginate

__all__ = [
    "KIND_NAMES",
    "OcdsAuctionPackage",
    "atom_feed",
    "public_auction",
    "public_auctions",
    "release_package",
]

KIND_NAMES = {
    AuctionKind.LAND_USE: "国有建设用地使用权",
    AuctionKind.STATE_PROPERTY: "国有产权",
    AuctionKind.RURAL_PROPERTY: "农村产权",
}
ATOM_NS = "http://www.w3.org/2005/Atom"
OCID_PREFIX = "ocds-tndrng-pm"
_HIDDEN = (AuctionState.DRAFT,)


def _public(row: Auction, seller: str) -> PublicAuction:
    closed = row.state == AuctionState.CLOSED
    return PublicAuction(
        code=row.code,
        title=row.title,
        kind=AuctionKind(row.kind),
        kind_name=KIND_NAMES[AuctionKind(row.kind)],
        rural=row.kind == AuctionKind.RURAL_PROPERTY,
        mode=row.mode,
        state=row.state,
        subject=row.subject,
        description=row.description,
        seller_name=seller,
        start_price_fen=row.start_price_fen,
        increment_fen=row.increment_fen,
        deposit_fen=row.deposit_fen,
        announced_at=row.announced_at,
        registration_from=row.registration_from,
        registration_to=row.registration_to,
        deposit_deadline=row.deposit_deadline,
        starts_at=row.starts_at,
        listing_ends_at=row.listing_ends_at,
        current_price_fen=row.current_price_fen,
        outcome=row.outcome if closed else None,
        winner_paddle=row.winner_paddle if closed else None,
        final_price_fen=row.final_price_fen if closed else None,
        result_at=row.result_at if closed else None,
    )


def _query(kind: AuctionKind | None, rural: bool | None) -> Any:
    query = (
        select(Auction, col(Organization.name))
        .join(Organization, col(Organization.id) == col(Auction.seller_id))
        .where(col(Auction.state).not_in(_HIDDEN))
    )
    if kind is not None:
        query = query.where(col(Auction.kind) == kind)
    if rural is not None:
        op = col(Auction.kind) == AuctionKind.RURAL_PROPERTY
        query = query.where(op if rural else ~op)
    return query.order_by(col(Auction.announced_at).desc(), col(Auction.id).desc())


async def public_auctions(
    session: AsyncSession, page: LimitOffset, *, kind: AuctionKind | None, rural: bool | None
) -> OffsetPagination[PublicAuction]:
    rows, total = await paginate(session, _query(kind, rural), page)
    items = [_public(row, name) for row, name in rows]
    return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)


async def public_auction(session: AsyncSession, code: str) -> PublicAuction:
    row = await get_auction(session, code)
    if row.state in _HIDDEN:
        raise NotFound(
            f"没有编号为 {code} 的拍卖公告 (no announced auction with that code)",
            code=ErrorCode.AUCTION_NOT_FOUND,
            field="code",
        )
    seller = await session.get(Organization, row.seller_id)
    return _public(row, seller.name if seller else "")


async def feed_rows(session: AsyncSession, *, limit: int = 50) -> list[PublicAuction]:
    rows = (await session.execute(_query(None, None).limit(limit))).all()
    return [_public(row, name) for row, name in rows]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(items: list[PublicAuction], *, base_url: str, now: datetime) -> bytes:
    """RFC 4287 feed of announcements, newest first; rural rights are titled 【农村产权】."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    self_url = f"{base_url}/api/public/auctions/feed.atom"
    _sub(feed, "id", self_url)
    _sub(feed, "title", "公共资源交易中心 土地和产权交易公告 Land and property auctions")
    newest = items[0].announced_at if items and items[0].announced_at else now
    _sub(feed, "updated", rfc3339(newest))
    _sub(feed, "link", href=self_url, rel="self")
    _sub(_sub(feed, "author"), "name", "公共资源交易中心")
    for item in items:
        node = _sub(feed, "entry")
        link = f"{base_url}/api/public/auctions/{item.code}"
        _sub(node, "id", f"{base_url}/auctions/{item.code}")
        _sub(node, "title", f"【{item.kind_name}】{item.title}")
        at = rfc3339(item.announced_at or now)
        _sub(node, "updated", at)
        _sub(node, "published", at)
        _sub(node, "link", href=link, rel="alternate", type="application/json")
        _sub(node, "link", href=f"{link}/ocds", rel="related", type="application/json")
        _sub(node, "category", term=item.kind.value, label=item.kind_name)
        _sub(node, "summary", f"{item.seller_name}: 起始价 {_yuan(item.start_price_fen)} 元")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


class OcdsAuctionPackage(BaseModel):
    uri: str
    version: str = "1.1"
    publishedDate: str  # OCDS spells it so
    publisher: dict[str, str]
    releases: list[dict[str, Any]] = Field(default_factory=list)


def _value(fen: int) -> dict[str, Any]:
    # OCDS amounts are numbers: whole yuan as an integer, else two decimals (exact in JSON
    # text, as Python prints the shortest float that reads back the same).
    whole, cents = divmod(fen, 100)
    return {"amount": whole if cents == 0 else fen / 100, "currency": "CNY"}


def release_package(
    item: PublicAuction, *, base_url: str, published_date: str
) -> OcdsAuctionPackage:
    ocid = f"{OCID_PREFIX}-{item.code}"
    status = {"closed": "complete", "cancelled": "cancelled"}.get(item.state.value, "active")
    if item.outcome == "failed":
        status = "unsuccessful"
    release: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{item.code}-{item.state.value}",
        "date": rfc3339(item.result_at or item.announced_at)
        if item.announced_at
        else published_date,
        "tag": ["award"] if item.outcome == "sold" else ["tender"],
        "initiationType": "tender",
        "language": "zh",
        "parties": [{"id": "seller", "name": item.seller_name, "roles": ["procuringEntity"]}],
        "tender": {
            "id": item.code,
            "title": item.title,
            "status": status,
            "procurementMethod": "open",
            "procurementMethodDetails": "挂牌出让" if item.mode == "listing" else "拍卖出让",
            "mainProcurementCategory": (
                "ruralPropertyRight" if item.rural else f"{item.kind.value}Right"
            ),
            "rural": item.rural,
            "value": _value(item.start_price_fen),
            "minValue": _value(item.start_price_fen),
            "bidIncrement": _value(item.increment_fen),
            "deposit": _value(item.deposit_fen),
            "tenderPeriod": {
                "startDate": rfc3339(item.registration_from),
                "endDate": rfc3339(item.registration_to),
            },
            "auctionPeriod": {
                "startDate": rfc3339(item.starts_at),
                "endDate": rfc3339(item.listing_ends_at) if item.listing_ends_at else None,
            },
            "items": [
                {
                    "id": "1",
                    "description": item.title,
                    "classification": item.kind.value,
                    "attributes": item.subject,
                }
            ],
        },
    }
    if item.outcome == "sold" and item.final_price_fen is not None:
        release["awards"] = [
            {
                "id": f"{item.code}-award",
                "status": "active",
                "date": rfc3339(item.result_at) if item.result_at else published_date,
                "value": _value(item.final_price_fen),
                "suppliers": [
                    {"id": f"paddle-{item.winner_paddle}", "name": f"竞买号 {item.winner_paddle}"}
                ],
            }
        ]
    return OcdsAuctionPackage(
        uri=f"{base_url}/api/public/auctions/{item.code}/ocds",
        publishedDate=published_date,
        publisher={"name": "公共资源交易中心 Public Resource Trading Center"},
        releases=[release],
    )
