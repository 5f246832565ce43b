"""A selection end to end: weighted pool with avoidance, witness draw, decline to backup,
transcript that verifies, PDF record, completion with the client's rating."""

from __future__ import annotations

import asyncio
import base64

import pytest
from sqlalchemy import select, update

from agencies import credit
from agencies.models import Agency
from tendering.core.auth.models import Organization, OrgKind, Role
from tendering.core.draw import verify_transcript
from tests.pdf import pdf_text

from .conftest import actor_of

CLIENT_CREDIT = "12339901MB00000017"


async def _year(session) -> int:
    return (await credit.today(session)).year


async def _cast(client, login, people, staff, session, approved_agency):
    year = await _year(session)
    agencies = {}
    for name in ("plain1", "plain2", "plain3", "suspended", "graded_d", "affiliated", "expired"):
        options = {}
        if name == "affiliated":
            options["affiliations"] = (CLIENT_CREDIT,)
        if name == "expired":
            options["expires"] = f"{year - 1}-12-31"
        agencies[name] = (await approved_agency("audit", pool_year=year, **options))[0]
    client_org = await people.organization(OrgKind.TENDERER)
    await session.execute(
        update(Organization)
        .where(Organization.id == client_org.id)
        .values(credit_code=CLIENT_CREDIT)
    )
    staff_headers = await login(staff)
    code = agencies["suspended"].organization.code
    response = await client.post(
        f"/api/agencies/filings/{code}/suspension",
        json={"suspended": True, "note": "行政处罚期间"},
        headers=staff_headers,
    )
    assert response.status_code == 200
    today = await credit.today(session)
    await credit.record_event(
        session,
        actor=actor_of(staff),
        code=agencies["graded_d"].organization.code,
        type_code="violation.collusion",
        occurred_on=today,
        note="协助串标, 县财政局处罚决定书 2026-17",
    )
    await session.commit()
    return agencies, client_org, staff_headers


async def test_a_selection_draws_by_weight_skips_the_avoided_and_moves_to_the_backup(
    client, login, people, staff, supervisor, session, approved_agency, settings
):
    agencies, client_org, staff_headers = await _cast(
        client, login, people, staff, session, approved_agency
    )
    response = await client.post(
        "/api/agencies/selections",
        json={
            "project": "县人民医院门诊楼 审计服务",
            "client": client_org.code,
            "category": "audit",
            "count": 1,
            "backups": 2,
            "witness_id": supervisor.user.id,
        },
        headers=staff_headers,
    )
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    assert response.json()["state"] == "scheduled"
    witness = await login(supervisor)
    response = await client.post(
        f"/api/agencies/selections/{code}/draw",
        json={"witness_entropy": "赵红 4821 多云"},
        headers=witness,
    )
    assert response.status_code == 200, response.text
    drawn = response.json()
    plain = {agencies[n].organization.code for n in ("plain1", "plain2", "plain3")}
    assert {e["agency"] for e in drawn["engagements"]} == plain
    assert [e["state"] for e in drawn["engagements"]] == ["offered", "waiting", "waiting"]

    transcript = (await client.get(f"/api/draws/{code}/transcript", headers=witness)).json()
    category = transcript["categories"][0]
    assert sorted(i for i, _ in category["pool"]) == sorted(plain)
    assert {w for _, w in category["pool"]} == {3}  # grade B everywhere
    rules = {e["id"]: e["rule"] for e in category["excluded"]}
    assert rules == {
        agencies["suspended"].organization.code: "suspended",
        agencies["graded_d"].organization.code: "grade",
        agencies["affiliated"].organization.code: "affiliated",
        agencies["expired"].organization.code: "certificate",
    }
    public = base64.b64decode((await client.get("/api/platform/key")).json()["public_key"])
    assert verify_transcript(transcript, public).ok
    checked = await client.get(f"/api/draws/{code}/verify", headers=witness)
    assert checked.json() == {"draw": code, "ok": True, "problems": []}

    first, second = (e["agency"] for e in drawn["engagements"][:2])
    by_code = {p.organization.code: p for p in agencies.values()}
    offers = await client.get("/api/agencies/me/selections", headers=await login(by_code[first]))
    offered = [(s["code"], s["engagements"][0]["state"]) for s in offers.json()["items"]]
    assert offered == [(code, "offered")]
    declined = await client.post(
        f"/api/agencies/me/selections/{code}/response",
        json={"accept": False, "note": "项目负责人在外地"},
        headers=await login(by_code[first]),
    )
    assert declined.status_code == 200, declined.text
    states = [e["state"] for e in declined.json()["engagements"]]
    assert states == ["declined", "offered", "waiting"]
    again = await client.post(
        f"/api/agencies/me/selections/{code}/response",
        json={"accept": True},
        headers=await login(by_code[first]),
    )
    assert again.status_code == 409
    accepted = await client.post(
        f"/api/agencies/me/selections/{code}/response",
        json={"accept": True},
        headers=await login(by_code[second]),
    )
    assert accepted.json()["state"] == "engaged"

    pdf = await client.get(f"/api/agencies/selections/{code}/record.pdf", headers=staff_headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "代理机构随机选取记录" in text and second in text and "已接受" in text

    done = await client.post(
        f"/api/agencies/selections/{code}/completion",
        json={"agency": second, "rating": 1, "note": "报告多次返工"},
        headers=staff_headers,
    )
    assert done.status_code == 200, done.text
    agency = (await session.scalars(select(Agency).where(Agency.code == second))).one()
    await session.refresh(agency)
    assert (agency.score, agency.grade) == (74, "C")  # 80 - 6 for a poor rating


async def test_no_eligible_agency_refuses_the_selection_and_leaves_no_draw(
    client, login, people, staff, supervisor, session
):
    client_org = await people.organization(OrgKind.TENDERER)
    response = await client.post(
        "/api/agencies/selections",
        json={
            "project": "空池测试",
            "client": client_org.code,
            "category": "surveying",
            "witness_id": supervisor.user.id,
        },
        headers=await login(staff),
    )
    assert response.status_code == 400 and response.json()["code"] == "agency.no_eligible"
    draws = await client.get("/api/draws?kind=agencies", headers=await login(supervisor))
    assert draws.json()["total"] == 0


async def test_only_the_named_witness_draws(
    client, login, people, staff, supervisor, session, approved_agency
):
    year = await _year(session)
    await approved_agency("audit", pool_year=year)
    client_org = await people.organization(OrgKind.TENDERER)
    response = await client.post(
        "/api/agencies/selections",
        json={
            "project": "见证测试",
            "client": client_org.code,
            "category": "audit",
            "witness_id": supervisor.user.id,
        },
        headers=await login(staff),
    )
    code = response.json()["code"]
    other = await people.user(Role.SUPERVISOR)
    response = await client.post(
        f"/api/agencies/selections/{code}/draw",
        json={"witness_entropy": "x"},
        headers=await login(other),
    )
    assert response.status_code == 403


@pytest.mark.committed
async def test_two_declines_at_once_offer_each_place_to_a_different_backup(
    client, login, people, staff, supervisor, session, approved_agency
):
    year = await _year(session)
    persons = [(await approved_agency("audit", pool_year=year))[0] for _ in range(4)]
    client_org = await people.organization(OrgKind.TENDERER)
    response = await client.post(
        "/api/agencies/selections",
        json={
            "project": "并发拒绝测试",
            "client": client_org.code,
            "category": "audit",
            "count": 2,
            "backups": 2,
            "witness_id": supervisor.user.id,
        },
        headers=await login(staff),
    )
    code = response.json()["code"]
    drawn = await client.post(
        f"/api/agencies/selections/{code}/draw",
        json={"witness_entropy": "并发"},
        headers=await login(supervisor),
    )
    by_code = {p.organization.code: p for p in persons}
    offered = [e["agency"] for e in drawn.json()["engagements"] if e["state"] == "offered"]
    headers = [await login(by_code[c]) for c in offered]
    answers = await asyncio.gather(
        *(
            client.post(
                f"/api/agencies/me/selections/{code}/response",
                json={"accept": False, "note": "忙"},
                headers=h,
            )
            for h in headers
        )
    )
    assert [a.status_code for a in answers] == [200, 200]
    final = await client.get(f"/api/agencies/selections/{code}", headers=await login(staff))
    states = [e["state"] for e in final.json()["engagements"]]
    assert states == ["declined", "declined", "offered", "offered"]
