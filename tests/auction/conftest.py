"""Auction fixtures: the desk (staff, a seller, the calendar), a valid auction body, bank
payments of deposits, and approved bidders with paddles."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from auction.announcements import announce_auction, create_auction
from auction.models import Auction
from auction.registration import apply, decide, deposit_subject
from auction.schemas import AuctionIn
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.db import make_sessionmaker
from tendering.core.holidays import enter_calendar_year
from tendering.core.money import yuan
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey
from tendering.ledger import get_deposit
from tendering.ledger.imports import import_statement
from tendering.ledger.statements import CSV_COLUMNS

BANK_ACCOUNT = "110060149018800012345"
CST = timedelta(hours=8)


def actor_of(person: Any) -> Actor:
    return Actor(
        person.user.id,
        person.username,
        Role(person.user.role),
        person.organization.id,
        OrgKind(person.organization.kind),
    )


def working_day(moment: datetime) -> datetime:
    """``moment`` moved to the next Monday-Friday (Beijing) at 10:00 (the test calendar
    marks no holidays: plain weeks)."""
    local = (moment + CST).replace(hour=10, minute=0, second=0, microsecond=0)
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return local - CST


def body(
    now: datetime, *, mode: str = "listing", kind: str = "land_use", **changes: Any
) -> dict[str, Any]:
    """A valid auction (create body) whose registration is open at ``now``."""
    starts = now + timedelta(days=21)
    subject: dict[str, Any] = {
        "land_use": {
            "parcel_no": "2026-G-07",
            "location": "某某县城东新区纬三路北侧",
            "area_m2": "12345.67",
            "use": "住宅用地",
            "term_years": 70,
            "planning": "容积率 1.0-2.2, 建筑密度 ≤ 25%, 绿地率 ≥ 35%",
        },
        "state_property": {
            "location": "某某县人民路 8 号",
            "description": "县属国有企业 100% 股权",
        },
        "rural_property": {
            "right_type": "land_management",
            "location": "某某县青山村 3 组",
            "area_m2": "52000",
            "term_years": 10,
            "collective": "某某县青山村股份经济合作社",
            "use": "种植",
        },
    }[kind]
    data: dict[str, Any] = {
        "title": "城东新区 2026-G-07 号地块国有建设用地使用权",
        "kind": kind,
        "mode": mode,
        "subject": subject,
        "seller_id": 0,
        "start_price_fen": 100_000_000,
        "increment_fen": 1_000_000,
        "deposit_fen": 20_000_000,
        "announce_at": (now - timedelta(minutes=1)).isoformat(),
        "registration_from": (now - timedelta(minutes=1)).isoformat(),
        "registration_to": (starts + timedelta(days=5)).isoformat(),
        "deposit_deadline": (starts + timedelta(days=4)).isoformat(),
        "starts_at": starts.isoformat(),
        "listing_ends_at": working_day(starts + timedelta(days=11)).isoformat(),
    }
    if mode == "live":
        data["listing_ends_at"] = None
        data["registration_to"] = (starts - timedelta(hours=2)).isoformat()
        data["deposit_deadline"] = (starts - timedelta(hours=3)).isoformat()
    data.update(changes)
    return data


@pytest.fixture(autouse=True)
async def _no_clock_jobs_left(request: pytest.FixtureRequest) -> Any:
    """Clock jobs an auction test queued (opening, bids) are for auctions its transaction
    rolled back, some deferred by a whole countdown: drop them, or a later test's burst
    worker waits for them (minutes) and finds nothing to do."""
    if "settings" not in request.fixturenames:
        yield
        return
    from arq.constants import job_key_prefix

    from tendering.core.jobs import connect_queue

    settings = request.getfixturevalue("settings")  # torn down after this fixture
    yield
    queue = await connect_queue(settings)
    try:
        ids = await queue.zrange(settings.queue_name, 0, -1)
        clocks = [i for i in ids if b"auction_clock" in i]
        if clocks:
            await queue.zrem(settings.queue_name, *clocks)
            await queue.delete(*(job_key_prefix.encode() + i for i in clocks))
    finally:
        await queue.aclose()


@pytest.fixture
def key() -> PlatformKey:
    return PlatformKey(Ed25519PrivateKey.generate())


@pytest.fixture
def secrecy(key: PlatformKey) -> Secrecy:
    return Secrecy.of(key)


@pytest.fixture
async def calendar(engine: AsyncEngine) -> None:
    """This year and the next entered as plain weeks (periods end only in entered years)."""
    year = datetime.now(UTC).year
    async with make_sessionmaker(engine)() as session, session.begin():
        for y in (year, year + 1):
            await enter_calendar_year(
                session, actor="system:test", year=y, source="测试日历", days=[]
            )


@dataclass
class Desk:
    staff: Any
    seller: Any
    reserver: Any

    @property
    def actor(self) -> Actor:
        return actor_of(self.staff)


@pytest.fixture
async def desk(people: Any, calendar: None) -> Desk:
    seller = await people.user(Role.STAFF, organization=await people.organization(OrgKind.TENDERER))
    return Desk(
        staff=await people.user(Role.STAFF),
        seller=seller,
        reserver=await people.user(Role.STAFF),
    )


async def made(
    session: AsyncSession, desk: Desk, *, announce: bool = True, **changes: Any
) -> Auction:
    """An auction made (and announced) through the services, with the desk's reserve user."""
    from tendering.core.clock import db_now

    now = await db_now(session)
    data = body(now, **changes)
    data["seller_id"] = desk.seller.organization.id
    data.setdefault("reserve_user_id", desk.reserver.user.id)
    row = await create_auction(session, actor=desk.actor, data=AuctionIn.model_validate(data))
    if announce:
        row = await announce_auction(session, actor=desk.actor, code=row.code)
    return row


async def pay(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    staff: Actor,
    org_id: int,
    code: str,
    amount_fen: int,
    value_time: datetime,
    ref: str,
) -> None:
    """A bank statement line paying ``amount_fen`` into the organization's deposit account."""
    account = await get_deposit(
        session, secrecy=secrecy, bidder_org_id=org_id, subject=deposit_subject(code)
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerow(
        {
            "bank_account": BANK_ACCOUNT,
            "bank_ref": ref,
            "value_time": value_time.isoformat(),
            "booking_date": value_time.date().isoformat(),
            "direction": "C",
            "amount": yuan(amount_fen),
            "currency": "CNY",
            "virtual_account": account.number,
            "counterparty_name": f"竞买人{org_id}",
            "counterparty_account": f"62220{org_id:014d}",
            "memo": f"竞买保证金 {code}",
        }
    )
    await import_statement(session, out.getvalue().encode(), secrecy=secrecy, actor=staff)


async def approved_bidders(
    session: AsyncSession, people: Any, desk: Desk, secrecy: Secrecy, auction: Auction, count: int
) -> list[tuple[Any, str]]:
    """``count`` bidders who applied, paid in time and were approved: (person, paddle)."""
    from tendering.core.clock import db_now

    found = []
    for n in range(count):
        person = await people.user(Role.BIDDER)
        await apply(session, secrecy=secrecy, actor=actor_of(person), code=auction.code)
        await pay(
            session,
            secrecy=secrecy,
            staff=desk.actor,
            org_id=person.organization.id,
            code=auction.code,
            amount_fen=auction.deposit_fen,
            value_time=await db_now(session) - timedelta(seconds=30),
            ref=f"T{auction.id}-{n}-{person.organization.id}",
        )
        read = await decide(
            session,
            secrecy=secrecy,
            actor=desk.actor,
            code=auction.code,
            ref=(await _own_ref(session, secrecy, person, auction.code)),
            approve=True,
            note="",
        )
        found.append((person, read.paddle))
    return found


async def _own_ref(session: AsyncSession, secrecy: Secrecy, person: Any, code: str) -> str:
    from auction.registration import own_registration

    read = await own_registration(session, secrecy=secrecy, actor=actor_of(person), code=code)
    return read.ref
