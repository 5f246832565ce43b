from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from tendering.core import demo
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.passwords import PasswordChecks
from tendering.core.auth.rules import credit_code_check_char
from tendering.core.auth.service import log_in
from tendering.core.calendar import is_working_day
from tendering.core.clock import db_now
from tendering.core.db import make_sessionmaker
from tendering.core.demo import (
    PROVISIONAL_SOURCE,
    DemoBook,
    credit_code,
    register_demo_step,
    run_demo,
)
from tendering.core.holidays import entered_years, load_calendar
from tendering.core.holidays.shipped import SHIPPED_YEARS
from tendering.core.secrecy import Secrecy

SECRECY = Secrecy.from_seed(bytes(32))


@pytest.fixture(autouse=True)
def own_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_STEPS", {})


def test_credit_codes_carry_valid_check_characters() -> None:
    # The example code printed in GB 32100-2015: 91350100M000100Y43.
    assert credit_code_check_char("91350100M000100Y4") == "3"
    code = credit_code("91", "20050007")
    assert len(code) == 18
    assert code.startswith("91339901")
    assert credit_code_check_char(code[:17]) == code[17]


async def test_demo_fills_an_empty_database_with_every_kind_and_role(engine) -> None:
    book = await run_demo(make_sessionmaker(engine), secrecy=SECRECY)
    assert book is not None

    async with make_sessionmaker(engine)() as session:
        kinds = set((await session.execute(select(Organization.kind))).scalars())
        roles = set((await session.execute(select(User.role))).scalars())
        bidders = (
            await session.execute(
                select(func.count()).where(Organization.kind == OrgKind.BIDDER)  # type: ignore[arg-type]
            )
        ).scalar_one()
        codes = list((await session.execute(select(Organization.credit_code))).scalars())
    assert kinds == {k.value for k in OrgKind}
    assert roles == {r.value for r in Role}
    assert bidders >= 5
    assert all(code is not None and len(code) == 18 for code in codes)
    names = {o.name for o in book.organizations.values()}
    assert {"某某县公共资源交易中心", "某某县财政局", "某某县第一中学", "某某县交通运输局"} <= names

    # Every printed login works.
    checks = PasswordChecks(workers=1, queue=len(book.logins))
    for login in book.logins:
        async with make_sessionmaker(engine)() as session:
            _, _, user = await log_in(
                session,
                username=login.username,
                password=login.password,
                hours=1,
                passwords=checks,
            )
        assert user.role == login.role.value
    checks.close()


async def test_demo_refuses_a_database_that_has_organizations(engine, people) -> None:
    await people.organization(OrgKind.BIDDER, name="已有公司")

    assert await run_demo(make_sessionmaker(engine), secrecy=SECRECY) is None

    async with make_sessionmaker(engine)() as session:
        count = (await session.execute(select(func.count()).select_from(User))).scalar_one()
    assert count == 0


async def test_registered_steps_run_after_the_county_in_the_same_transaction(engine) -> None:
    order: list[str] = []

    async def tenders_step(session: Any, book: DemoBook) -> None:
        assert "school" in book.organizations  # the county is there already
        order.append("tenders")
        book.notes.append("3 notices published")

    async def broken_step(session: Any, book: DemoBook) -> None:
        order.append("broken")
        raise RuntimeError("demo step failed")

    register_demo_step(tenders_step)
    register_demo_step(broken_step)
    register_demo_step(tenders_step)  # registering twice keeps one

    with pytest.raises(RuntimeError, match="demo step failed"):
        await run_demo(make_sessionmaker(engine), secrecy=SECRECY)
    assert order == ["tenders", "broken"]
    # All or nothing: the failed step left no organizations behind.
    async with make_sessionmaker(engine)() as session:
        count = (await session.execute(select(func.count()).select_from(Organization))).scalar_one()
    assert count == 0


async def test_demo_enters_the_calendar_its_periods_need(engine) -> None:
    book = await run_demo(make_sessionmaker(engine), secrecy=SECRECY)
    assert book is not None
    async with make_sessionmaker(engine)() as session:
        this_year = (await db_now(session)).year
        calendar = await load_calendar(session)
        sources = {row.year: row.source for row in await entered_years(session)}
    assert {this_year, this_year + 1} <= set(sources)
    assert sources.get(2026) == "国办发明电〔2025〕7号"  # a shipped year as shipped
    for year in (this_year, this_year + 1):
        if year in SHIPPED_YEARS:
            continue
        # Not shipped: a provisional table, and the visitor is told so.
        assert sources[year] == PROVISIONAL_SOURCE
        assert not is_working_day(calendar, date(year, 10, 2))
        assert any(f"{year}年节假日安排" in note for note in book.notes)
