"""澄清/修改: public on the notice, delivered to registered bidders, and the 15-day push."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from sqlalchemy import text

from tests.tendering.tenders.openformats import ATOM, ocds_validator


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def amend(client, desk, notice_id: int, **extra):
    body = {
        "kind": "amendment",
        "title": "关于工期要求的修改",
        "body": "工期由300日历天调整为280日历天。",
    }
    return await client.post(
        f"/api/tenders/notices/{notice_id}/amendments",
        headers=desk.staff_headers,
        json=body | extra,
    )


async def test_deadline_moves_when_amendment_within_15_days(desk, client, engine):
    # The project waives the 20-day minimum so its deadline can be 10 days out.
    notice_id, (lot,) = await desk.published(min_bid_days=0, bid_days=10)
    before = (await client.get(f"/api/public/notices/{notice_id}")).json()
    _registered, headers = await desk.bidder()
    await client.post(f"/api/lots/{lot}/registration", headers=headers)
    _, stranger_headers = await desk.bidder()

    response = await amend(client, desk, notice_id)
    assert response.status_code == 201, response.text
    amendment = response.json()
    assert amendment["deadline_pushed"] is True
    issued, old, new = (when(amendment[k]) for k in ("issued_at", "old_deadline", "new_deadline"))
    assert old == when(before["bid_deadline"])
    assert new - issued >= timedelta(days=15)
    assert (new - old) % timedelta(days=1) == timedelta(0)  # same time of day
    assert when(amendment["new_opening"]) - when(before["opening_at"]) == new - old

    # Visible on the notice, in the feed and in open data.
    detail = (await client.get(f"/api/public/notices/{notice_id}")).json()
    assert when(detail["bid_deadline"]) == new
    assert detail["amendments"] == [amendment]
    feed = ET.fromstring((await client.get("/api/public/feed.atom")).content)
    summaries = [e.findtext(f"{ATOM}summary") for e in feed.iter(f"{ATOM}entry")]
    assert any("投标截止时间顺延" in s for s in summaries)
    package = (await client.get(f"/api/public/notices/{notice_id}/ocds")).json()
    ocds_validator().validate(package)
    release = package["releases"][0]
    assert release["tag"] == ["tenderAmendment"]
    assert release["tender"]["amendments"][0]["id"] == "1"
    assert when(release["tender"]["tenderPeriod"]["endDate"]) == new

    # The deposit is now due by the new deadline too.
    mine = (await client.get(f"/api/lots/{lot}/registration", headers=headers)).json()
    assert when(mine["deposit"]["deadline"]) == new

    # Delivered to the registered bidder only.
    inbox = (await client.get("/api/my/messages", headers=headers)).json()
    assert [(m["notice"], m["amendment"]["number"]) for m in inbox] == [(notice_id, 1)]
    assert (await client.get("/api/my/messages", headers=stranger_headers)).json() == []

    async with engine.connect() as conn:
        payload = (
            await conn.execute(
                text(
                    "SELECT payload FROM audit_event "
                    "WHERE stream = :s AND action = 'notice.amended'"
                ),
                {"s": f"lot:{lot}"},
            )
        ).scalar_one()
    assert payload["deadline_pushed"] is True


async def test_amendment_with_more_than_15_days_left_keeps_the_deadline(desk, client):
    notice_id, _ = await desk.published()
    before = (await client.get(f"/api/public/notices/{notice_id}")).json()
    response = await amend(client, desk, notice_id, kind="clarification")
    assert response.status_code == 201
    assert response.json()["deadline_pushed"] is False
    assert response.json()["new_deadline"] == before["bid_deadline"]


async def test_amendment_may_carry_a_document(desk, client):
    notice_id, _ = await desk.published()
    await amend(client, desk, notice_id)
    without = await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "补充文件", "filename": "补充.txt"},
        content=b"supplement",
        headers=desk.staff_headers,
    )
    assert without.status_code == 400
    assert without.json()["field"] == "amendment"
    attached = await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "补充文件", "filename": "补充.txt", "amendment": 1},
        content=b"supplement",
        headers=desk.staff_headers,
    )
    assert attached.status_code == 201
    assert attached.json()["amendment"] == 1


async def test_only_staff_amend_and_only_published_notices(desk, client):
    notice_id, _ = await desk.published()
    _, headers = await desk.bidder()
    body = {"kind": "clarification", "title": "澄清", "body": "内容"}
    forbidden = await client.post(
        f"/api/tenders/notices/{notice_id}/amendments", headers=headers, json=body
    )
    assert forbidden.status_code == 403
    project = await desk.project()
    draft = await desk.notice(project, [await desk.lot(project)])
    refused = await amend(client, desk, draft)
    assert refused.status_code == 409
