"""``tendering demo``: a realistic county trading center for newcomers to click around.

The demo is a list of steps run in order in ONE transaction (all of it or none of it):
the kernel's own steps make the organizations and a login for every role, and the working-
day calendar of this year and the next (periods end only in entered years); each context
adds its data (notices, deposits ...) with ``register_demo_step`` in
``tendering.app.register_contexts``::

    async def tenders_demo(session: AsyncSession, book: DemoBook) -> None:
        school = book.organizations["school"]
        ...
        book.notes.append("3 notices published: 县第一中学教学楼 ...")

    register_demo_step(tenders_demo)

It fills an empty database only; with organizations present it changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.passwords import hash_password
from tendering.core.auth.rules import credit_code_check_char
from tendering.core.auth.service import create_organization, create_user
from tendering.core.clock import db_now
from tendering.core.holidays import add_shipped_days, enter_calendar_year, entered_years
from tendering.core.holidays.models import DayKind
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = [
    "DEMO_CENTER_CODE",
    "PROVISIONAL_SOURCE",
    "DemoBook",
    "DemoLogin",
    "DemoStep",
    "credit_code",
    "demo_logins",
    "provisional_days",
    "register_demo_step",
    "run_demo",
]

REGION = "某某县"
REGION_CODE = "339901"  # 行政区划代码 of the fictional county (3399xx is not assigned)
DEMO_CENTER_CODE = "CTR-0001"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    organization: str  # the organization's name
    display_name: str


@dataclass
class DemoBook:
    """What the steps share: organizations and users by key, logins to print, notes; and the
    platform's secrecy, which sealed rows (deposit accounts) are written with."""

    secrecy: Secrecy
    organizations: dict[str, Organization] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    custodians: list[int] = field(default_factory=list)  # user ids holding opening-key shares
    key: PlatformKey | None = None  # to sign what a step signs (a demo draw's transcript)
    # (bidder organization id, deposit subject) a step wants paid in full before its
    # deadline: the ledger's ``add_demo_requested_deposits`` step books them from one
    # bank statement (an auction's approved demo bidders need their deposits received).
    deposits_due: list[tuple[int, str]] = field(default_factory=list)


DemoStep = Callable[[AsyncSession, DemoBook], Awaitable[None]]

_STEPS: dict[str, DemoStep] = {}


def register_demo_step(step: DemoStep) -> None:
    """Add ``step`` after the kernel's and those registered before it (idempotent)."""
    _STEPS[f"{step.__module__}.{step.__qualname__}"] = step


# --- 统一社会信用代码 (GB 32100-2015) with real check digits, for realistic credit codes ---

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organization code


def _org_code(serial: str) -> str:
    """8 digits plus the GB 11714 check character."""
    total = sum(int(c) * w for c, w in zip(serial, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return serial + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(kind: str, serial: str) -> str:
    """An 18-character unified social credit code: ``kind`` is the 2-character
    department+type (``91`` company, ``11`` government body, ``12`` public institution),
    ``serial`` the 8 digits of the organization code before its check character."""
    body = kind + REGION_CODE + _org_code(serial)
    return body + credit_code_check_char(body)


# --- the county ---


@dataclass(frozen=True)
class _Org:
    key: str
    code: str
    name: str
    kind: OrgKind
    credit: str


_ORGS = (
    _Org("center", DEMO_CENTER_CODE, "某某县公共资源交易中心", OrgKind.CENTER, "12/00010001"),
    _Org("finance", "SUP-0001", "某某县财政局", OrgKind.SUPERVISOR, "11/00020002"),
    _Org("housing", "SUP-0002", "某某县住房和城乡建设局", OrgKind.SUPERVISOR, "11/00020003"),
    _Org("school", "TND-0001", "某某县第一中学", OrgKind.TENDERER, "12/00030004"),
    _Org("transport", "TND-0002", "某某县交通运输局", OrgKind.TENDERER, "11/00030005"),
    _Org("agency", "AGY-0001", "恒信招标代理有限公司", OrgKind.AGENCY, "91/10040006"),
    _Org("bidder1", "BID-0001", "某某县宏达建筑工程有限公司", OrgKind.BIDDER, "91/20050007"),
    _Org("bidder2", "BID-0002", "华建路桥集团有限公司", OrgKind.BIDDER, "91/20050008"),
    _Org("bidder3", "BID-0003", "中盛建设发展有限公司", OrgKind.BIDDER, "91/20050009"),
    _Org("bidder4", "BID-0004", "金诚家具制造有限公司", OrgKind.BIDDER, "91/20050010"),
    _Org("bidder5", "BID-0005", "瑞丰市政工程有限公司", OrgKind.BIDDER, "91/20050011"),
    _Org("bidder6", "BID-0006", "明远办公设备有限公司", OrgKind.BIDDER, "91/20050012"),
)

# (username, role, organization key, display name)
_USERS = (
    ("admin", Role.ADMIN, "center", "系统管理员 王建国"),
    ("staff", Role.STAFF, "center", "交易中心 李明"),
    ("staff2", Role.STAFF, "center", "交易中心 陈静"),
    ("auctioneer", Role.AUCTIONEER, "center", "拍卖主持人 刘洋"),
    ("expert", Role.EXPERT, "center", "评标专家 周志强"),
    ("supervisor", Role.SUPERVISOR, "finance", "财政局 赵红"),
    ("supervisor2", Role.SUPERVISOR, "housing", "住建局 孙伟"),
    ("agency", Role.AGENCY, "agency", "代理机构 吴芳"),
    *((f"bidder{n}", Role.BIDDER, f"bidder{n}", f"投标人{n} 联系人") for n in range(1, 7)),
)


def _password(role: Role) -> str:
    return f"demo-{role.value}-2026"


def demo_logins() -> list[DemoLogin]:
    """The kernel's demo logins (the same on every demo database)."""
    names = {o.key: o.name for o in _ORGS}
    return [
        DemoLogin(username, _password(role), role, names[org], display)
        for username, role, org, display in _USERS
    ]


async def _county(session: AsyncSession, book: DemoBook) -> None:
    """The center, bureaus, tenderers, an agency, bidder companies and their logins."""
    for spec in _ORGS:
        kind, serial = spec.credit.split("/")
        book.organizations[spec.key] = await create_organization(
            session,
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            region=REGION,
            credit_code=credit_code(kind, serial),
        )
    # One Argon2id hash (~0.2 s of a core) per password, not per login: the demo's 16 logins
    # share 7 published passwords, and a hash of one says nothing the printed table does not.
    hashes: dict[str, str] = {}
    for login, (_, _, org, _) in zip(demo_logins(), _USERS, strict=True):
        if login.password not in hashes:
            hashes[login.password] = await asyncio.to_thread(hash_password, login.password)
        book.users[login.username] = await create_user(
            session,
            username=login.username,
            password=login.password,
            role=login.role,
            organization=book.organizations[org],
            display_name=login.display_name,
            password_hash=hashes[login.password],
        )
        book.logins.append(login)


# 《全国年节及纪念日放假办法》 (2024): the holidays on fixed dates of the solar calendar. The
# others (春节, 清明, 端午, 中秋) and every 调休 come from the State Council's yearly notice.
_FIXED_HOLIDAYS: tuple[tuple[tuple[int, int], str], ...] = (
    ((1, 1), "元旦"),
    ((5, 1), "劳动节"),
    ((5, 2), "劳动节"),
    ((10, 1), "国庆节"),
    ((10, 2), "国庆节"),
    ((10, 3), "国庆节"),
)
PROVISIONAL_SOURCE = "演示用临时日历: 仅含固定日期的法定节假日, 未依国务院通知核对 (demo only)"


def provisional_days(year: int) -> list[tuple[date, DayKind, str]]:
    """A stand-in table for a year the platform does not ship: the fixed-date holidays only."""
    return [
        (date(year, month, day), DayKind.HOLIDAY, f"{name}(演示临时)")
        for (month, day), name in _FIXED_HOLIDAYS
    ]


async def _calendar(session: AsyncSession, book: DemoBook) -> None:
    """The demo's periods end this year or next: the shipped years as shipped, and for a
    year the platform does not ship, a provisional table (said so in the notes)."""
    await add_shipped_days(session)
    entered = {row.year for row in await entered_years(session)}
    this_year = (await db_now(session)).year
    for year in (this_year, this_year + 1):
        if year in entered:
            continue
        await enter_calendar_year(
            session,
            actor="system:demo",
            year=year,
            source=PROVISIONAL_SOURCE,
            days=provisional_days(year),
        )
        book.notes.append(
            f"{year}年节假日安排 is not shipped: the demo entered a provisional table (元旦, "
            f"劳动节, 国庆节 only); enter the State Council's notice with PUT /api/calendar/{year} "
            "before real use."
        )


async def database_is_empty(session: AsyncSession) -> bool:
    count = (await session.execute(select(func.count()).select_from(Organization))).scalar_one()
    return int(count) == 0


async def run_demo(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    secrecy: Secrecy,
    key: PlatformKey | None = None,
) -> DemoBook | None:
    """Fill an empty database; ``None`` (and nothing changed) when it is not empty."""
    async with sessionmaker() as session, session.begin():
        # One demo at a time: a second `tendering demo` waits here, then finds data.
        await session.execute(select(func.pg_advisory_xact_lock(0x7E0D_0001)))
        if not await database_is_empty(session):
            return None
        book = DemoBook(secrecy=secrecy, key=key)
        for step in (_county, _calendar, *_STEPS.values()):
            await step(session, book)
        return book


async def has_demo(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """True when the demo's trading center exists (its logins were printed once)."""
    async with sessionmaker() as session:
        found = await session.execute(
            select(col(Organization.id)).where(col(Organization.code) == DEMO_CENTER_CODE)
        )
        return found.first() is not None
