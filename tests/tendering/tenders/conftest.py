"""Fixtures for tender publication: a staff member, a tenderer, and a builder that drives
the API the way staff would (project, lots, notice, publication)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tendering.core.auth.models import OrgKind, Role


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class TenderDesk:
    client: Any
    people: Any
    login: Any
    staff_headers: dict[str, str] = field(default_factory=dict)
    tenderer_code: str = ""
    _projects: int = 0

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
        self, *, start: datetime | None = None, documents_days: float = 6, bid_days: float = 21
    ) -> dict[str, str]:
        start = start or datetime.now(UTC) - timedelta(minutes=1)
        deadline = start + timedelta(days=bid_days)
        return {
            "documents_from": iso(start),
            "documents_to": iso(start + timedelta(days=documents_days)),
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
