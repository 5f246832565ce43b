"""Agencies' fixtures: the people, a valid filing, a filed and approved agency."""

from __future__ import annotations

from typing import Any

import pytest

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role


def actor_of(person) -> Actor:
    return Actor(
        person.user.id,
        person.username,
        Role(person.user.role),
        person.organization.id,
        OrgKind(person.organization.kind),
    )


def filing(*categories: str, affiliations: tuple[str, ...] = (), expires: str = "2030-12-31"):
    categories = categories or ("cost_consulting",)
    return {
        "contact": "张经理 13800000000",
        "categories": list(categories),
        "affiliations": list(affiliations),
        "certificates": [
            {
                "category": c,
                "name": f"{c} 甲级资质",
                "number": f"Z-{c}-001",
                "issued_on": "2020-01-01",
                "expires_on": expires,
            }
            for c in categories
        ],
        "staff": [{"name": "李工", "title": "项目负责人", "qualification": "一级造价工程师"}],
    }


@pytest.fixture
async def staff(people):
    return await people.user(Role.STAFF)


@pytest.fixture
async def supervisor(people):
    return await people.user(Role.SUPERVISOR)


@pytest.fixture
def approved_agency(client, login, people, staff) -> Any:
    """``person, headers = await approved_agency(*categories, pool_year=2026)``."""

    async def make(*categories: str, pool_year: int | None = None, **options: Any):
        person = await people.user(Role.AGENCY)
        headers = await login(person)
        staff_headers = await login(staff)
        response = await client.put(
            "/api/agencies/me", json=filing(*categories, **options), headers=headers
        )
        assert response.status_code == 200, response.text
        code = response.json()["code"]
        response = await client.post(
            f"/api/agencies/filings/{code}/review", json={"approve": True}, headers=staff_headers
        )
        assert response.status_code == 200, response.text
        if pool_year is not None:
            for category in categories or ("cost_consulting",):
                response = await client.post(
                    "/api/agencies/me/pool",
                    json={"category": category, "year": pool_year},
                    headers=headers,
                )
                assert response.status_code == 201, response.text
                response = await client.post(
                    f"/api/agencies/pool/{code}/{category}/{pool_year}/decision",
                    json={"approve": True},
                    headers=staff_headers,
                )
                assert response.status_code == 200, response.text
        return person, headers

    return make
