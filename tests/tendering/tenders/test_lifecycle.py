"""Every step of a notice is recorded in each of its lots' audit streams."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.db import make_sessionmaker
from tendering.core.secrecy import Secrecy
from tendering.tenders.jobs import publish_notice
from tendering.tenders.registration import register_for_lot
from tendering.tenders.service import schedule_notice
from tests.tendering.tenders.conftest import move_deadline


async def actions(engine, lot: str | None) -> list[str]:
    """The actions of a lot's stream (of the global stream for ``None``)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT action FROM audit_event WHERE stream = :s ORDER BY seq"),
            {"s": f"lot:{lot}" if lot else "global"},
        )
        return [r.action for r in rows]


async def test_each_step_is_recorded_in_every_lots_stream(desk, client, engine):
    project = await desk.project()
    lots = [await desk.lot(project, 1), await desk.lot(project, 2)]
    notice_id = await desk.notice(project, lots)
    await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "招标文件", "filename": "a.pdf"},
        content=b"%PDF-1.7",
        headers=desk.staff_headers,
    )
    await desk.publish(notice_id)
    await client.post(
        f"/api/tenders/notices/{notice_id}/amendments",
        headers=desk.staff_headers,
        json={"kind": "clarification", "title": "澄清", "body": "内容"},
    )
    await move_deadline(engine, notice_id, "clock_timestamp() - interval '1 second'")
    await client.post(f"/api/tenders/notices/{notice_id}/close", headers=desk.staff_headers)
    for lot in lots:
        # Other contexts may add their own events (the opening key ceremony); these are ours.
        ours = [a for a in await actions(engine, lot) if a.split(".")[0] in {"lot", "notice"}]
        assert ours == [
            "lot.created",
            "notice.drafted",
            "notice.document_attached",
            "notice.published",
            "notice.amended",
            "notice.closed",
        ]


async def test_staff_list_notices_in_every_state(desk, client):
    project = await desk.project()
    draft = await desk.notice(project, [await desk.lot(project)])
    published, _ = await desk.published()
    listing = await client.get("/api/tenders/notices", headers=desk.staff_headers)
    assert [i["id"] for i in listing.json()["items"]] == [draft, published]
    drafts = await client.get(
        "/api/tenders/notices", params={"status": "draft"}, headers=desk.staff_headers
    )
    assert [i["id"] for i in drafts.json()["items"]] == [draft]
    _, bidder = await desk.bidder()
    assert (await client.get("/api/tenders/notices", headers=bidder)).status_code == 403


async def test_a_lot_in_an_open_notice_cannot_join_another(desk, client):
    project = await desk.project()
    lot = await desk.lot(project)
    await desk.notice(project, [lot])
    body = {"project": project, "lots": [lot], "title": "重复公告"} | desk.schedule_body()
    response = await client.post("/api/tenders/notices", headers=desk.staff_headers, json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "tender.lot_busy"


async def test_custodians_must_be_real_users_and_k_at_most_n(desk, client, people):
    project = await desk.project()
    custodian = await people.user(Role.STAFF)
    base = {"title": "一标段", "estimated_price_fen": 10**8, "deposit_fen": 0}
    url = f"/api/tenders/projects/{project}/lots"
    too_many = await client.post(
        url,
        headers=desk.staff_headers,
        json=base | {"number": 1, "custodians": [custodian.user.id], "custodian_k": 2},
    )
    assert too_many.status_code == 400 and too_many.json()["field"] == "custodian_k"
    unknown = await client.post(
        url, headers=desk.staff_headers, json=base | {"number": 1, "custodians": [999999]}
    )
    assert unknown.status_code == 400 and "999999" in unknown.json()["detail"]
    fine = await client.post(
        url,
        headers=desk.staff_headers,
        json=base | {"number": 1, "custodians": [custodian.user.id], "custodian_k": 1},
    )
    assert fine.status_code == 201
    again = await client.post(url, headers=desk.staff_headers, json=base | {"number": 1})
    assert again.status_code == 409
    read = await client.get(f"/api/tenders/projects/{project}", headers=desk.staff_headers)
    assert [lot["code"] for lot in read.json()["lots"]] == [f"{project}-01"]


@pytest.mark.committed
async def test_racing_registrations_of_one_bidder_make_one_registration(desk, engine, app):
    _, (lot,) = await desk.published()
    bidder = await desk.people.user(Role.BIDDER)
    actor = Actor(
        bidder.user.id, bidder.username, Role.BIDDER, bidder.organization.id, OrgKind.BIDDER
    )
    maker = make_sessionmaker(engine)

    async def register() -> str:
        async with maker() as session, session.begin():
            row, _, _ = await register_for_lot(
                session, actor=actor, lot_code=lot, secrecy=Secrecy.of(app.state["platform_key"])
            )
            return row.ref

    refs = await asyncio.gather(*(register() for _ in range(5)))
    assert len(set(refs)) == 1
    recorded = await actions(engine, None)
    assert recorded.count("registration.made") == recorded.count("deposit.opened") == 1
    assert not {"registration.made", "deposit.opened"} & set(await actions(engine, lot))


async def test_staff_may_publish_a_scheduled_notice_early_and_its_job_then_does_nothing(
    desk, engine
):
    project = await desk.project()
    lot = await desk.lot(project)
    start = datetime.now(UTC) + timedelta(days=2)
    notice_id = await desk.notice(project, [lot], start=start)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await schedule_notice(
            session, actor=Actor.system("test"), notice_id=notice_id, publish_at=start
        )
    assert (await desk.publish(notice_id))["status"] == "published"
    assert await publish_notice({"sessionmaker": maker}, notice_id) is False
    assert (await actions(engine, lot)).count("notice.published") == 1
