"""The auction API through the real app: staff, the reserve user, bidders, the public and
the supervisor, each seeing what they may."""

from __future__ import annotations

from datetime import timedelta

from tendering.core.auth.models import Role
from tendering.core.clock import db_now
from tendering.core.deps import platform_of

from .conftest import body, pay


async def create(client, headers, session, desk, **changes):
    data = body(await db_now(session), **changes)
    data["seller_id"] = desk.seller.organization.id
    data["reserve_user_id"] = desk.reserver.user.id
    return await client.post("/api/auctions", json=data, headers=headers)


async def test_staff_create_announce_and_the_public_reads_it(client, login, session, desk, people):
    staff = await login(desk.staff)
    made = await create(
        client, staff, session, desk, kind="rural_property", title="青山村土地经营权"
    )
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["rural"] is True and made.json()["reserve_entered"] is False
    assert (await client.get(f"/api/public/auctions/{code}")).status_code == 404  # a draft
    announced = await client.post(f"/api/auctions/{code}/announce", headers=staff)
    assert announced.status_code == 201 and announced.json()["state"] == "announced"

    listed = (await client.get("/api/public/auctions", params={"rural": "true"})).json()
    assert [i["code"] for i in listed["items"]] == [code] and listed["total"] == 1
    assert listed["items"][0]["kind_name"] == "农村产权"
    assert (await client.get("/api/public/auctions", params={"rural": "false"})).json()[
        "total"
    ] == 0
    detail = (await client.get(f"/api/public/auctions/{code}")).json()
    assert detail["subject"]["collective"] == "某某县青山村股份经济合作社"
    assert "reserve" not in str(detail)
    feed = await client.get("/api/public/auctions/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "【农村产权】青山村土地经营权" in feed.text
    ocds = (await client.get(f"/api/public/auctions/{code}/ocds")).json()
    tender = ocds["releases"][0]["tender"]
    assert tender["rural"] is True and tender["mainProcurementCategory"] == "ruralPropertyRight"
    assert tender["value"] == {"amount": 1_000_000, "currency": "CNY"}


async def test_a_period_refusal_names_the_field_and_the_rule(client, login, session, desk, people):
    staff = await login(desk.staff)
    now = await db_now(session)
    refused = await create(
        client, staff, session, desk, starts_at=(now + timedelta(days=15)).isoformat()
    )
    assert refused.status_code == 400
    problem = refused.json()
    assert (problem["code"], problem["field"]) == ("auction.period", "starts_at")
    assert "20日" in problem["detail"]
    bidder = await login(await people.user(Role.BIDDER))
    assert (await create(client, bidder, session, desk)).status_code == 403


async def test_reserve_registration_and_approval_over_http(
    client, login, session, desk, people, app
):
    staff = await login(desk.staff)
    code = (await create(client, staff, session, desk)).json()["code"]
    await client.post(f"/api/auctions/{code}/announce", headers=staff)

    reserve = {"reserve_fen": 120_000_000}
    wrong = await client.put(f"/api/auctions/{code}/reserve", json=reserve, headers=staff)
    assert wrong.status_code == 403
    entered = await client.put(
        f"/api/auctions/{code}/reserve", json=reserve, headers=await login(desk.reserver)
    )
    assert entered.status_code == 200 and len(entered.json()["commitment"]) == 64
    assert (await client.get(f"/api/auctions/{code}", headers=staff)).json()["reserve_entered"]

    person = await people.user(Role.BIDDER)
    bidder = await login(person)
    applied = await client.post(f"/api/auctions/{code}/registration", headers=bidder)
    assert applied.status_code == 201, applied.text
    ref = applied.json()["ref"]
    listed = (await client.get(f"/api/auctions/{code}/registrations", headers=staff)).json()
    assert listed["total"] == 1
    assert listed["items"][0]["organization_name"] == person.organization.name
    assert (
        await client.get(f"/api/auctions/{code}/registrations", headers=bidder)
    ).status_code == 403

    decision = f"/api/auctions/{code}/registrations/{ref}/decision"
    early = await client.post(decision, json={"approve": True}, headers=staff)
    assert early.status_code == 409 and early.json()["field"] == "deposit"
    secrecy = platform_of(app.state).secrecy
    await pay(
        session,
        secrecy=secrecy,
        staff=desk.actor,
        org_id=person.organization.id,
        code=code,
        amount_fen=20_000_000,
        value_time=await db_now(session) - timedelta(seconds=5),
        ref="HTTP-1",
    )
    await session.commit()
    approved = await client.post(decision, json={"approve": True, "note": "通过"}, headers=staff)
    assert approved.status_code == 201, approved.text
    paddle = approved.json()["paddle"]
    own = (await client.get(f"/api/auctions/{code}/registration", headers=bidder)).json()
    assert own["paddle"] == paddle and own["organization_name"] is None
    assert (await client.get(f"/api/auctions/{code}/result", headers=bidder)).status_code == 409


async def test_result_pdf_and_transcript_downloads(client, login, session, desk, people, app):
    from auction.lookup import auction_for_update
    from auction.result import settle

    staff = await login(desk.staff)
    code = (await create(client, staff, session, desk, mode="live")).json()["code"]
    await client.post(f"/api/auctions/{code}/announce", headers=staff)
    platform = platform_of(app.state)
    auction = await auction_for_update(session, code)
    auction.state = "live"
    await settle(session, auction, secrecy=platform.secrecy, key=platform.key, store=platform.blobs)
    await session.commit()

    supervisor = await login(await people.user(Role.SUPERVISOR))
    result = (await client.get(f"/api/auctions/{code}/result", headers=supervisor)).json()
    assert result["outcome"] == "failed"
    pdf = await client.get(f"/api/auctions/{code}/result.pdf", headers=supervisor)
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-result-sha256"] == result["result_sha256"]
    transcript = await client.get(f"/api/auctions/{code}/transcript", headers=supervisor)
    assert transcript.status_code == 200
    assert transcript.json()["events"][-1]["action"] == "auction.failed"
    bidder = await login(await people.user(Role.BIDDER))
    assert (await client.get(f"/api/auctions/{code}/transcript", headers=bidder)).status_code == 403
    public = (await client.get(f"/api/public/auctions/{code}")).json()
    assert public["outcome"] == "failed" and public["state"] == "closed"


async def test_times_outside_the_century_are_refused_as_input(client, login, session, desk):
    staff = await login(desk.staff)
    far = await create(client, staff, session, desk, starts_at="9999-12-31T23:59:59+00:00")
    assert far.status_code == 400 and far.json()["code"] == "input.invalid"
    early = await create(client, staff, session, desk, announce_at="0001-01-01T00:00:00+14:00")
    assert early.status_code == 400
