"""The auctions' demo steps: a land parcel in listing, a rural land-contract right (土地经营权)
open for registration, and a live English auction the auctioneer can open at once, with
approved demo bidders (paddles) and sealed reserves.

Two steps around the ledger's ``add_demo_requested_deposits`` (``tendering/app.py`` runs them
in order): :func:`add_demo_auctions` makes the auctions and the applications and asks for
the deposits (``book.deposits_due``); the bank statement pays them before each deadline;
:func:`approve_demo_bidders` approves the applications through the normal rule (the ledger
must say received). The land parcel and the live auction were announced in the past (the
periods are checked against those planned dates when they are made); their announcement
events say ``"demo": true``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from auction.announcements import announce_auction, create_auction
from auction.lookup import get_auction, registration_of
from auction.models import Auction, AuctionState
from auction.registration import decide, deposit_subject, register
from auction.reserve import seal_reserve
from auction.schemas import AuctionIn
from tendering.core.audit import auction_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role, User
from tendering.core.auth.service import create_organization
from tendering.core.calendar import roll_to_working_day
from tendering.core.clock import db_now, rfc3339
from tendering.core.demo import DemoBook, credit_code
from tendering.core.errors import present
from tendering.core.holidays import load_calendar

__all__ = ["add_demo_auctions", "approve_demo_bidders"]

CST = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
_BIDDERS = {"land": ("bidder1", "bidder2"), "live": ("bidder1", "bidder2", "bidder3")}


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, Role(user.role), user.organization_id, OrgKind.CENTER)


async def _working_end(session: AsyncSession, after: datetime) -> datetime:
    """15:00 Beijing time on the first working day on or after ``after``'s date."""
    calendar = await load_calendar(session)
    day = roll_to_working_day(calendar, after.astimezone(CST).date())
    return datetime.combine(day, time(15, 0), tzinfo=CST).astimezone(UTC)


async def _sellers(session: AsyncSession, book: DemoBook) -> tuple[int, int]:
    bureau = await create_organization(
        session,
        code="TND-0003",
        name="某某县自然资源和规划局",
        kind=OrgKind.TENDERER,
        region="某某县",
        credit_code=credit_code("11", "00030006"),
    )
    collective = await create_organization(
        session,
        code="TND-0004",
        name="某某县青山村股份经济合作社",
        kind=OrgKind.TENDERER,
        region="某某县",
        credit_code=credit_code("N2", "00030007"),
    )
    book.organizations["land_bureau"], book.organizations["collective"] = bureau, collective
    return present(bureau.id, "bureau.id"), present(collective.id, "collective.id")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def _backdated(session: AsyncSession, actor: Actor, row: Auction, state: str) -> None:
    """Announced at its planned time (in the past) and now in ``state``."""
    row.state = state
    row.announced_at = row.announce_at  # the countdown fields stay the bidding side's
    await session.flush()
    await record(
        session,
        stream=auction_stream(row.code),
        action="auction.announced",
        actor=actor,
        payload={"code": row.code, "announced_at": rfc3339(row.announce_at), "demo": True},
    )


async def _land(session: AsyncSession, actor: Actor, seller: int, reserver: int) -> Auction:
    now = await db_now(session)
    ends = await _working_end(session, now + 9 * DAY)
    data: dict[str, Any] = {
        "title": "城东新区 G2026-07 号地块国有建设用地使用权挂牌出让",
        "kind": "land_use",
        "mode": "listing",
        "subject": {
            "parcel_no": f"G{now.year}-07",
            "location": "某某县城东新区纬三路北侧、经五路东侧",
            "area_m2": "23456.78",
            "use": "城镇住宅用地",
            "term_years": 70,
            "planning": "容积率 1.0–2.2；建筑密度 ≤ 25%；绿地率 ≥ 35%；建筑限高 54 米",
        },
        "seller_id": seller,
        "start_price_fen": 4_680_000_000,
        "increment_fen": 10_000_000,
        "deposit_fen": 936_000_000,
        "announce_at": _iso(now - 25 * DAY),
        "registration_from": _iso(now - 25 * DAY),
        "registration_to": _iso(ends - 2 * DAY),
        "deposit_deadline": _iso(ends - 2 * DAY - timedelta(hours=1)),
        "starts_at": _iso(now - 2 * DAY),
        "listing_ends_at": _iso(ends),
        "reserve_user_id": reserver,
    }
    row = await create_auction(session, actor=actor, data=AuctionIn.model_validate(data))
    await _backdated(session, actor, row, AuctionState.LISTING)
    return row


async def _rural(session: AsyncSession, actor: Actor, seller: int, reserver: int) -> Auction:
    now = await db_now(session)
    starts = now + 21 * DAY
    data: dict[str, Any] = {
        "title": "青山村 3 组 78 亩土地经营权流转",
        "kind": "rural_property",
        "mode": "listing",
        "subject": {
            "right_type": "land_management",
            "location": "某某县青山镇青山村 3 组",
            "area_m2": "52000",
            "use": "种植（粮食作物）",
            "term_years": 10,
            "collective": "某某县青山村股份经济合作社",
        },
        "seller_id": seller,
        "start_price_fen": 46_800_000,
        "increment_fen": 500_000,
        "deposit_fen": 5_000_000,
        "announce_at": _iso(now),
        "registration_from": _iso(now),
        "registration_to": _iso(starts + 8 * DAY),
        "deposit_deadline": _iso(starts + 8 * DAY - timedelta(hours=2)),
        "starts_at": _iso(starts),
        "listing_ends_at": _iso(await _working_end(session, starts + 11 * DAY)),
        "reserve_user_id": reserver,
    }
    row = await create_auction(session, actor=actor, data=AuctionIn.model_validate(data))
    return await announce_auction(session, actor=actor, code=row.code)


async def _live(session: AsyncSession, actor: Actor, seller: int, reserver: int) -> Auction:
    now = await db_now(session)
    data: dict[str, Any] = {
        "title": "县属国有企业闲置办公楼（人民路 8 号）拍卖",
        "kind": "state_property",
        "mode": "live",
        "subject": {
            "location": "某某县人民路 8 号",
            "area_m2": "1860.5",
            "use": "办公",
            "description": "四层框架结构办公楼及其占用范围内的国有土地使用权",
        },
        "seller_id": seller,
        "start_price_fen": 860_000_000,
        "increment_fen": 5_000_000,
        "deposit_fen": 100_000_000,
        "announce_at": _iso(now - 22 * DAY),
        "registration_from": _iso(now - 22 * DAY),
        "registration_to": _iso(now - timedelta(hours=2)),
        "deposit_deadline": _iso(now - timedelta(hours=3)),
        "starts_at": _iso(now - timedelta(minutes=1)),
        "reserve_user_id": reserver,
    }
    row = await create_auction(session, actor=actor, data=AuctionIn.model_validate(data))
    await _backdated(session, actor, row, AuctionState.ANNOUNCED)
    return row


async def add_demo_auctions(session: AsyncSession, book: DemoBook) -> None:
    """The three auctions, sealed reserves, and the demo bidders' applications."""
    staff, reserver = book.users["staff"], book.users["staff2"]
    actor, reserve_actor = _actor(staff), _actor(reserver)
    bureau, collective = await _sellers(session, book)
    reserver_id = present(reserver.id, "staff2.id")
    land = await _land(session, actor, bureau, reserver_id)
    rural = await _rural(session, actor, collective, reserver_id)
    live = await _live(
        session, actor, present(book.organizations["center"].id, "center"), reserver_id
    )
    for row, fen in ((land, 5_200_000_000), (live, 900_000_000), (rural, 50_000_000)):
        await seal_reserve(
            session, secrecy=book.secrecy, actor=reserve_actor, row=row, reserve_fen=fen
        )
    for key, row in (("land", land), ("live", live)):
        for username in _BIDDERS[key]:
            user = book.users[username]
            org = present(user.organization_id, "organization_id")
            await register(
                session,
                secrecy=book.secrecy,
                auction=row,
                organization_id=org,
                user_id=present(user.id, "user.id"),
            )
            book.deposits_due.append((org, deposit_subject(row.code)))
    book.notes.append(
        f"auctions: {land.code} (land parcel, in listing until "
        f"{rfc3339(present(land.listing_ends_at, 'listing end'))}), {rural.code} (rural "
        f"土地经营权, registration open) and {live.code} (live English auction: log in as "
        "auctioneer and open it now)."
    )


async def approve_demo_bidders(session: AsyncSession, book: DemoBook) -> None:
    """Approve the applications whose deposits the bank statement paid; note the paddles."""
    actor = _actor(book.users["staff"])
    paddles: list[str] = []
    for org, subject in book.deposits_due:
        code = subject.partition(":")[2]
        auction = await get_auction(session, code)
        row = await registration_of(
            session,
            secrecy=book.secrecy,
            auction_id=present(auction.id, "auction.id"),
            organization_id=org,
        )
        if row is None:
            continue
        read = await decide(
            session,
            secrecy=book.secrecy,
            actor=actor,
            code=code,
            ref=row.ref,
            approve=True,
            note="演示: 资格审查通过",
        )
        name = next(u.username for u in book.users.values() if u.organization_id == org)
        paddles.append(f"{name} has paddle {read.paddle} in {code}")
    if paddles:
        book.notes.append("approved demo bidders: " + "; ".join(paddles) + ".")
