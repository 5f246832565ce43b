"""Fixtures for tender publication: a staff member, a tenderer, and a builder that drives
the API the way staff would (calendar, project, lots, notice, publication)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tendering.core.auth.models import OrgKind, Role
from tendering.core.calendar import WorkingCalendar, is_working_day
from tendering.core.holidays.shipped import SHIPPED_DAYS, SHIPPED_YEARS
from tendering.tenders.rules import CST, roll_moment

# What the desk enters before its first notice: the shipped years as shipped, this year and
# the next otherwise as plain weeks (a test calendar, not a real year's holidays).
TEST_CALENDAR = WorkingCalendar.of(
    holidays=[d for d, kind, _ in SHIPPED_DAYS if kind == "holiday"],
    workdays=[d for d, kind, _ in SHIPPED_DAYS if kind == "workday"],
)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def calendar_years() -> list[int]:
    """The years a test's periods reach: this one and the next."""
    year = datetime.now(UTC).year
    return [year, year + 1]


def calendar_body(year: int) -> dict[str, Any]:
    """``PUT /api/calendar/{year}``: a shipped year's rows, else none (a plain week)."""
    return {
        "source": SHIPPED_YEARS.get(year, "测试日历 test calendar"),
        "days": [
            {"day": d.isoformat(), "kind": kind, "name": name}
            for d, kind, name in SHIPPED_DAYS
            if d.year == year
        ],
    }


def on_working_day(moment: datetime) -> bool:
    return is_working_day(TEST_CALENDAR, moment.astimezone(CST).date())


def working_start(*days: float, after: datetime | None = None) -> datetime:
    """The first start, whole days after ``after`` (default: in 5 minutes), from which each
    of ``days`` later is a working day: boundary tests need exact periods that end on one."""
    start = after or datetime.now(UTC) + timedelta(minutes=5)
    while not all(on_working_day(start + timedelta(days=d)) for d in days):
        start += timedelta(days=1)
    return start


def first_working_day_after(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(TEST_CALENDAR, day):
        day += timedelta(days=1)
    return day


async def move_deadline(engine: AsyncEngine, notice_id: int, deadline: str) -> None:
    """Time passing, for a test: set the notice's bid deadline and opening to the SQL
    expression ``deadline`` (e.g. ``clock_timestamp() - interval '1 second'``)."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"UPDATE tender_notice SET bid_deadline = {deadline}, opening_at = {deadline}"
                " WHERE id = :id"
            ),
            {"id": notice_id},
        )


async def time_passes(engine: AsyncEngine, notice_id: int, interval: timedelta) -> None:
    """As if ``interval`` had passed since the notice was published: every time of the
    notice moves that much into the past."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE tender_notice SET published_at = published_at - CAST(:i AS interval),"
                " documents_from = documents_from - CAST(:i AS interval),"
                " documents_to = documents_to - CAST(:i AS interval),"
                " bid_deadline = bid_deadline - CAST(:i AS interval),"
                " opening_at = opening_at - CAST(:i AS interval) WHERE id = :id"
            ),
            {"id": notice_id, "i": interval},
        )


@dataclass
class TenderDesk:
    client: Any
    people: Any
    login: Any
    staff_headers: dict[str, str] = field(default_factory=dict)
    tenderer_code: str = ""
    _projects: int = 0
    _calendar: bool = False

    async def enter_calendar(self) -> None:
        """Enter this year's and next year's tables (tests start from empty tables)."""
        for year in calendar_years():
            response = await self.client.put(
                f"/api/calendar/{year}", headers=self.staff_headers, json=calendar_body(year)
            )
            assert response.status_code == 200, response.text
        self._calendar = True

    async def project(
        self,
        *,
        category: str = "works",
        region: str = "某某县",
        title: str = "某某县第一中学教学楼建设工程",
        **overrides: int,
    ) -> str:
        self._projects += 1
        code = f"JY-2026-{self._projects:04d}"
        response = await self.client.post(
            "/api/tenders/projects",
            headers=self.staff_headers,
            json={
                "code": code,
                "title": title,
                "tenderer": self.tenderer_code,
                "category": category,
                "method": "open",
                "funding_source": "财政资金",
                "region": region,
                "estimated_price_fen": 500_000_000,
                "rule_overrides": overrides,
            },
        )
        assert response.status_code == 201, response.text
        return code

    async def lot(self, project: str, number: int = 1, **extra: Any) -> str:
        body = {
            "number": number,
            "title": f"第{number}标段",
            "estimated_price_fen": 250_000_000,
            "deposit_fen": 5_000_000,
            "bid_fields": [
                {"name": "duration_days", "type": "integer", "min": 1, "label": "工期(日历天)"}
            ],
        } | extra
        response = await self.client.post(
            f"/api/tenders/projects/{project}/lots", headers=self.staff_headers, json=body
        )
        assert response.status_code == 201, response.text
        return response.json()["code"]

    def schedule_body(
        self,
        *,
        start: datetime | None = None,
        documents_days: float = 6,
        bid_days: float = 21,
        roll: bool = True,
    ) -> dict[str, str]:
        """Documents from ``start``; their end and the deadline ``documents_days`` and
        ``bid_days`` later, moved out by whole days onto working days unless not to ``roll``
        (a period never ends on a rest day; boundary tests pick a ``working_start``)."""
        start = start or datetime.now(UTC) - timedelta(minutes=1)
        documents_to = start + timedelta(days=documents_days)
        deadline = start + timedelta(days=bid_days)
        if roll:
            documents_to = roll_moment(TEST_CALENDAR, documents_to)
            deadline = roll_moment(TEST_CALENDAR, deadline)
        return {
            "documents_from": iso(start),
            "documents_to": iso(documents_to),
            "bid_deadline": iso(deadline),
            "opening_at": iso(deadline),
        }

    async def notice(
        self,
        project: str,
        lots: list[str],
        *,
        title: str = "教学楼建设工程招标公告",
        **schedule: Any,
    ) -> int:
        if not self._calendar:
            await self.enter_calendar()
        body = {"project": project, "lots": lots, "title": title, "body": "详见招标文件。"}
        body |= self.schedule_body(**schedule)
        response = await self.client.post(
            "/api/tenders/notices", headers=self.staff_headers, json=body
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def publish(self, notice_id: int) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/tenders/notices/{notice_id}/publish", headers=self.staff_headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def published(self, *, lots: int = 1, **project_overrides: Any) -> tuple[int, list[str]]:
        schedule = {
            k: project_overrides.pop(k)
            for k in ("documents_days", "bid_days")
            if k in project_overrides
        }
        project = await self.project(**project_overrides)
        codes = [await self.lot(project, n) for n in range(1, lots + 1)]
        notice_id = await self.notice(project, codes, **schedule)
        await self.publish(notice_id)
        return notice_id, codes

    async def bidder(self) -> tuple[Any, dict[str, str]]:
        person = await self.people.user(Role.BIDDER)
        return person, await self.login(person)


@pytest.fixture
async def desk(client, people, login) -> TenderDesk:
    staff = await people.user(Role.STAFF)
    tenderer = await people.organization(OrgKind.TENDERER, name="某某县第一中学")
    return TenderDesk(client, people, login, await login(staff), tenderer.code)
