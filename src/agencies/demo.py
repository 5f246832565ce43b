"""The agencies' demo step: the county's 136 filed agencies across the five service
categories, this year's pool, three years of integrity events (so every grade appears, D
included), and one completed selection: drawn, the first pick declining, the backup
accepting, the engagement rated.

Deterministic (a fixed ``random.Random``): every demo database holds the same agencies. The
demo's own agency (``AGY-0001``, login ``agency``) is one of them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from agencies.credit import rescore_all, today
from agencies.models import (
    Agency,
    AgencyCertificate,
    AgencyEvent,
    AgencyStaff,
    EventState,
    FilingState,
    PoolEntry,
    PoolState,
    ServiceCategory,
)
from agencies.selection import complete_engagement, draw_selection, respond, start_selection
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.service import NewOrganization, create_organizations
from tendering.core.demo import DemoBook, credit_code

__all__ = ["AGENCY_COUNT", "add_demo_agencies"]

AGENCY_COUNT = 136
_WORDS = [
    "恒信",
    "中衡",
    "华诚",
    "正源",
    "立信",
    "天健",
    "永泰",
    "建诚",
    "信达",
    "明德",
    "中正",
    "广联",
]
_PLACES = [
    "某某",
    "东江",
    "南山",
    "北辰",
    "西湖",
    "青峰",
    "金河",
    "银川",
    "云台",
    "长林",
    "平安",
    "兴华",
]
_SUFFIX = {
    ServiceCategory.TENDER_AGENT: "招标代理有限公司",
    ServiceCategory.COST_CONSULTING: "工程造价咨询有限公司",
    ServiceCategory.APPRAISAL: "资产评估有限公司",
    ServiceCategory.AUDIT: "会计师事务所(普通合伙)",
    ServiceCategory.SURVEYING: "测绘有限公司",
}
_CERTIFICATE = {
    ServiceCategory.TENDER_AGENT: "招标代理机构登记",
    ServiceCategory.COST_CONSULTING: "工程造价咨询企业甲级资质",
    ServiceCategory.APPRAISAL: "资产评估机构备案",
    ServiceCategory.AUDIT: "会计师事务所执业证书",
    ServiceCategory.SURVEYING: "测绘资质证书乙级",
}
_STAFF = ["王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄强", "周婷", "吴刚"]
# (event type, how likely an agency has one in three years)
_EVENTS = (
    ("rating.5", 0.5),
    ("rating.4", 0.6),
    ("rating.3", 0.3),
    ("rating.2", 0.15),
    ("award.commendation", 0.15),
    ("award.model", 0.08),
    ("violation.late_filing", 0.15),
    ("violation.procedure", 0.1),
    ("violation.false_material", 0.04),
    ("violation.collusion", 0.03),
)


def _actor(user: User, kind: OrgKind) -> Actor:
    return Actor(user.id, user.username, Role(user.role), user.organization_id, kind)


def _agency_actor(org: Organization) -> Actor:
    """The demo answers for a drawn agency that has no login of its own."""
    return Actor(None, "system:demo", Role.AGENCY, org.id, OrgKind.AGENCY, system_name="demo")


async def _organizations(session: AsyncSession, book: DemoBook) -> list[Organization]:
    new = []
    for n in range(2, AGENCY_COUNT + 1):
        category = list(ServiceCategory)[n % len(ServiceCategory)]
        word, place = _WORDS[n % len(_WORDS)], _PLACES[(n // len(_WORDS)) % len(_PLACES)]
        new.append(
            NewOrganization(
                code=f"AGY-{n:04d}",
                name=f"{place}{word}{_SUFFIX[category]}",
                kind=OrgKind.AGENCY,
                region="某某县",
                credit_code=credit_code("91", f"{40000000 + n:08d}"),
            )
        )
    # At once: one by one, 135 organizations were most of the demo's time.
    return [book.organizations["agency"], *await create_organizations(session, new)]


def _categories(n: int, rng: random.Random) -> list[ServiceCategory]:
    first = list(ServiceCategory)[n % len(ServiceCategory)]
    second = rng.choice(list(ServiceCategory))
    return [first] if second == first or rng.random() < 0.6 else [first, second]


async def _file(
    session: AsyncSession, orgs: list[Organization], reviewer: User, year: int, rng: random.Random
) -> list[Agency]:
    filed = []
    for n, org in enumerate(orgs, start=1):
        categories = _categories(n, rng)
        agency = Agency(
            organization_id=org.id,  # type: ignore[arg-type]
            code=org.code,
            name=org.name,
            credit_code=org.credit_code or "",
            contact=f"{rng.choice(_STAFF)} 0571-8{n:07d}",
            categories=[c.value for c in categories],
            state=FilingState.APPROVED,
            review_note="材料齐全, 同意备案",
            reviewed_by=reviewer.id,
        )
        session.add(agency)
        # Drawn here, in the order of the random draws that made the demo's data so far.
        filed.append((n, agency, categories, rng.sample(_STAFF, 2)))
    await session.flush()  # every agency's id, in one INSERT
    for n, agency, categories, staff in filed:
        for category in categories:
            # A few certificates lapsed last year: those agencies are avoided in draws.
            expires = date(year - 1, 12, 31) if n % 29 == 0 else date(year + 3, 6, 30)
            session.add(
                AgencyCertificate(
                    agency_id=agency.id,  # type: ignore[arg-type]
                    category=category.value,
                    name=_CERTIFICATE[category],
                    number=f"ZZ-{category.value[:3].upper()}-{n:05d}",
                    issued_on=date(year - 4, 3, 1),
                    expires_on=expires,
                )
            )
            session.add(
                PoolEntry(
                    agency_id=agency.id,  # type: ignore[arg-type]
                    category=category.value,
                    year=year,
                    state=PoolState.APPROVED,
                    reason="符合入库条件",
                    decided_by=reviewer.id,
                )
            )
        for name in staff:
            session.add(
                AgencyStaff(
                    agency_id=agency.id,  # type: ignore[arg-type]
                    name=name,
                    title="项目负责人",
                    qualification="一级造价工程师" if n % 2 else "注册会计师",
                )
            )
    await session.flush()
    return [agency for _, agency, _, _ in filed]


async def _events(
    session: AsyncSession, agencies: list[Agency], staff: Actor, on: date, rng: random.Random
) -> int:
    """Three years of history, written as rows and scored once afterwards (recording them
    one by one would fill the grade history with the demo's own ups and downs)."""
    count = 0
    for n, agency in enumerate(agencies, start=1):
        draws = [
            (type_code, on - timedelta(days=rng.randrange(0, 1000)))
            for type_code, chance in _EVENTS
            if rng.random() < chance
        ]
        if n % 17 == 0:  # one sanctioned agency (grade D) in every category, at least
            draws += [
                ("violation.collusion", on - timedelta(days=40)),
                ("violation.false_material", on - timedelta(days=40)),
            ]
        for type_code, occurred_on in draws:
            session.add(
                AgencyEvent(
                    agency_id=agency.id,  # type: ignore[arg-type]
                    type_code=type_code,
                    occurred_on=occurred_on,
                    note="演示数据 (demo)",
                    source="demo",
                    state=EventState.RECORDED,
                    recorded_by=staff.ref,
                )
            )
            count += 1
    await session.flush()
    return count


async def _selection(
    session: AsyncSession, book: DemoBook, staff: Actor, orgs: list[Organization]
) -> str | None:
    """One selection for the school's new building: drawn, a decline, the backup accepts,
    the engagement rated 5 by the client."""
    if book.key is None:
        return None
    witness = book.users["supervisor"]
    selection = await start_selection(
        session,
        secrecy=book.secrecy,
        actor=staff,
        project="某某县第一中学教学楼 工程造价咨询",
        client=book.organizations["school"].code,
        category=ServiceCategory.COST_CONSULTING,
        count=1,
        backups=3,
        witness_id=witness.id,  # type: ignore[arg-type]
        max_open=3,
    )
    signed = await draw_selection(
        session,
        secrecy=book.secrecy,
        key=book.key,
        actor=_actor(witness, OrgKind.SUPERVISOR),
        code=selection.code,
        witness_entropy="财政局 赵红 现场见证 7391",
    )
    first, backup = signed["categories"][0]["picks"][:2]
    by_code = {o.code: o for o in orgs}
    await respond(
        session,
        actor=_agency_actor(by_code[first]),
        code=selection.code,
        accept=False,
        note="项目负责人在外地执业, 无法承接",
    )
    await respond(
        session, actor=_agency_actor(by_code[backup]), code=selection.code, accept=True, note=""
    )
    await complete_engagement(
        session, actor=staff, code=selection.code, agency_code=backup, rating=5, note="按期完成"
    )
    return selection.code


async def add_demo_agencies(session: AsyncSession, book: DemoBook) -> None:
    rng = random.Random(22)  # noqa: S311 -- demo data, the same on every run
    on = await today(session)
    staff_user = book.users["staff"]
    staff = _actor(staff_user, OrgKind.CENTER)
    orgs = await _organizations(session, book)
    agencies = await _file(session, orgs, staff_user, on.year, rng)
    events = await _events(session, agencies, staff, on, rng)
    await rescore_all(session, on=on, actor=staff)
    code = await _selection(session, book, staff, orgs)
    book.notes.append(
        f"{len(agencies)} agencies filed, in the {on.year} pool, with {events} integrity events;"
        + (f" selection {code} drawn and engaged." if code else " no selection (no signing key).")
    )
