"""澄清/修改: public on the notice, delivered to registered bidders, and the 15-day push."""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from sqlalchemy import text

from tendering.tenders.rules import CST, roll_moment
from tests.tendering.tenders.conftest import (
    TEST_CALENDAR,
    first_working_day_after,
    on_working_day,
    time_passes,
)
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
    # Published with 21 days; a bidder registers; 11 days later, 10 are left.
    notice_id, (lot,) = await desk.published(bid_days=21)
    _registered, headers = await desk.bidder()
    await client.post(f"/api/lots/{lot}/registration", headers=headers)
    _, stranger_headers = await desk.bidder()
    await time_passes(engine, notice_id, timedelta(days=11))
    before = (await client.get(f"/api/public/notices/{notice_id}")).json()

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
    inbox = (await client.get("/api/my/messages", headers=headers)).json()["items"]
    assert [(m["notice"], m["amendment"]["number"]) for m in inbox] == [(notice_id, 1)]
    stranger = await client.get("/api/my/messages", headers=stranger_headers)
    assert stranger.json()["items"] == [] and stranger.json()["total"] == 0

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


async def test_an_amendment_cannot_shorten_the_20_days_from_the_documents(desk, client):
    notice_id, _ = await desk.published()
    before = (await client.get(f"/api/public/notices/{notice_id}")).json()
    first = max(when(before["documents_from"]), when(before["published_at"]))
    # 16 days after the documents went out: 15 days after this amendment, but short of 20.
    shorter = roll_moment(TEST_CALENDAR, first + timedelta(days=16))
    response = await amend(client, desk, notice_id, bid_deadline=shorter.isoformat())
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "tender.bid_period"
    assert "不得少于20日" in response.json()["detail"]
    after = (await client.get(f"/api/public/notices/{notice_id}")).json()
    assert after["bid_deadline"] == before["bid_deadline"] and after["amendments"] == []


async def test_an_amendment_may_not_set_its_deadline_on_a_rest_day(desk, client):
    notice_id, _ = await desk.published()
    before = (await client.get(f"/api/public/notices/{notice_id}")).json()
    later = when(before["bid_deadline"]) + timedelta(days=7)
    while on_working_day(later):
        later += timedelta(days=1)
    response = await amend(client, desk, notice_id, bid_deadline=later.isoformat())
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "tender.rest_day"
    day = later.astimezone(CST).date()
    assert f"第一个工作日是{first_working_day_after(day).isoformat()}" in response.json()["detail"]
    working = roll_moment(TEST_CALENDAR, later)
    moved = await amend(client, desk, notice_id, bid_deadline=working.isoformat())
    assert moved.status_code == 201, moved.text
    assert when(moved.json()["new_deadline"]) == working
    assert moved.json()["deadline_pushed"] is False
