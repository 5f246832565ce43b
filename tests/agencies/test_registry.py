"""The registry (备案) and the pre-selection pool, through the API."""

from __future__ import annotations

import asyncio

import pytest

from tendering.core.auth.models import Role

from .conftest import filing


async def test_an_agency_files_staff_reject_with_a_reason_and_it_sees_the_review(
    client, login, people, staff
):
    agency = await people.user(Role.AGENCY)
    headers = await login(agency)
    assert (await client.get("/api/agencies/me", headers=headers)).status_code == 404
    response = await client.put(
        "/api/agencies/me", json=filing("cost_consulting", "audit"), headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "submitted" and body["code"] == agency.organization.code
    assert [c["category"] for c in body["certificates"]] == ["cost_consulting", "audit"]
    staff_headers = await login(staff)
    response = await client.post(
        f"/api/agencies/filings/{body['code']}/review",
        json={"approve": False},
        headers=staff_headers,
    )
    assert response.status_code == 400 and "note" in response.text
    response = await client.post(
        f"/api/agencies/filings/{body['code']}/review",
        json={"approve": False, "note": "审计资质证书已过期"},
        headers=staff_headers,
    )
    assert response.json()["state"] == "rejected"
    mine = (await client.get("/api/agencies/me", headers=headers)).json()
    assert (mine["state"], mine["review_note"]) == ("rejected", "审计资质证书已过期")
    # Filing again puts it back to review.
    again = await client.put("/api/agencies/me", json=filing("audit"), headers=headers)
    assert again.json()["state"] == "submitted" and again.json()["review_note"] == ""


async def test_a_filing_needs_a_certificate_for_each_category(client, login, people):
    headers = await login(await people.user(Role.AGENCY))
    body = filing("audit")
    body["categories"].append("surveying")
    response = await client.put("/api/agencies/me", json=body, headers=headers)
    assert response.status_code == 400 and "surveying" in response.text


async def test_only_an_agency_user_files_and_only_staff_review(client, login, people, staff):
    bidder_headers = await login(await people.user(Role.BIDDER))
    response = await client.put("/api/agencies/me", json=filing(), headers=bidder_headers)
    assert response.status_code == 403
    agency = await people.user(Role.AGENCY)
    headers = await login(agency)
    await client.put("/api/agencies/me", json=filing(), headers=headers)
    response = await client.post(
        f"/api/agencies/filings/{agency.organization.code}/review",
        json={"approve": True},
        headers=headers,
    )
    assert response.status_code == 403


async def test_the_pool_takes_approved_filings_and_the_public_sees_only_approved_entries(
    client, login, people, staff, approved_agency
):
    person, headers = await approved_agency("cost_consulting")
    response = await client.post(
        "/api/agencies/me/pool", json={"category": "surveying", "year": 2026}, headers=headers
    )
    assert response.status_code == 400 and response.json()["code"] == "agency.category"
    response = await client.post(
        "/api/agencies/me/pool", json={"category": "cost_consulting", "year": 2026}, headers=headers
    )
    assert response.status_code == 201, response.text
    again = await client.post(
        "/api/agencies/me/pool", json={"category": "cost_consulting", "year": 2026}, headers=headers
    )
    assert again.status_code == 409
    public = await client.get("/api/public/agencies/pool?year=2026")
    assert public.status_code == 200 and public.json()["total"] == 0
    staff_headers = await login(staff)
    waiting = await client.get("/api/agencies/pool/applications?year=2026", headers=staff_headers)
    assert [e["agency"] for e in waiting.json()["items"]] == [person.organization.code]
    code = person.organization.code
    decision = await client.post(
        f"/api/agencies/pool/{code}/cost_consulting/2026/decision",
        json={"approve": True, "note": "符合入库条件"},
        headers=staff_headers,
    )
    assert decision.status_code == 200 and decision.json()["state"] == "approved"
    public = (await client.get("/api/public/agencies/pool?year=2026")).json()
    assert [(e["agency"], e["category"]) for e in public["items"]] == [(code, "cost_consulting")]
    assert (await client.get("/api/public/agencies/pool?year=2025")).json()["total"] == 0


async def test_a_rejected_application_says_why_and_may_apply_again(
    client, login, staff, approved_agency
):
    person, headers = await approved_agency("audit")
    await client.post(
        "/api/agencies/me/pool", json={"category": "audit", "year": 2026}, headers=headers
    )
    staff_headers = await login(staff)
    code = person.organization.code
    response = await client.post(
        f"/api/agencies/pool/{code}/audit/2026/decision",
        json={"approve": False, "note": "近三年有行政处罚"},
        headers=staff_headers,
    )
    assert response.json()["state"] == "rejected"
    mine = (await client.get("/api/agencies/me/pool", headers=headers)).json()["items"]
    assert (mine[0]["state"], mine[0]["reason"]) == ("rejected", "近三年有行政处罚")
    response = await client.post(
        "/api/agencies/me/pool", json={"category": "audit", "year": 2026}, headers=headers
    )
    assert response.status_code == 201 and response.json()["state"] == "applied"


async def test_an_unfiled_agency_cannot_apply(client, login, people):
    headers = await login(await people.user(Role.AGENCY))
    response = await client.post(
        "/api/agencies/me/pool", json={"category": "audit", "year": 2026}, headers=headers
    )
    assert response.status_code == 404


async def test_nul_characters_and_bad_path_values_are_refused_as_input(
    client, login, people, staff
):
    headers = await login(await people.user(Role.AGENCY))
    body = filing("audit")
    body["contact"] = "张\x00三"
    response = await client.put("/api/agencies/me", json=body, headers=headers)
    assert response.status_code == 400 and "contact" in response.text
    staff_headers = await login(staff)
    for url in (
        "/api/agencies/filings/A%00B",
        "/api/public/agencies/credit/%20x",
        "/api/agencies/pool/applications?year=1999",
    ):
        response = await client.get(url, headers=staff_headers)
        assert response.status_code == 400, (url, response.text)
    response = await client.post(
        "/api/agencies/selections",
        json={"project": "x", "client": "C\x00", "category": "audit", "witness_id": 2**40},
        headers=staff_headers,
    )
    assert response.status_code == 400


@pytest.mark.committed
async def test_two_first_filings_at_once_make_one_filing(client, login, people):
    agency = await people.user(Role.AGENCY)
    headers = await login(agency)
    answers = await asyncio.gather(
        *(client.put("/api/agencies/me", json=filing("audit"), headers=headers) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert len({a.json()["code"] for a in answers}) == 1
    mine = (await client.get("/api/agencies/me", headers=headers)).json()
    assert len(mine["certificates"]) == 1
