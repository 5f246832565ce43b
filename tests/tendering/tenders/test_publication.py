from __future__ import annotations

import hashlib
from xml.etree import ElementTree as ET

import pytest
from jsonschema import ValidationError

from tests.tendering.tenders.openformats import ATOM, ocds_validator


async def test_staff_publishes_and_the_public_finds_reads_and_follows_it(desk, client):
    project = await desk.project(title="某某县第一中学教学楼建设工程")
    lots = [await desk.lot(project, 1), await desk.lot(project, 2)]
    notice_id = await desk.notice(project, lots, title="某某县第一中学教学楼建设工程招标公告")
    content = "招标文件正文".encode() * 1000
    uploaded = await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "招标文件", "filename": "招标文件.pdf"},
        content=content,
        headers=desk.staff_headers | {"Content-Type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(content).hexdigest()

    # Before publication the public sees nothing, not even that it exists.
    assert (await client.get(f"/api/public/notices/{notice_id}")).status_code == 404
    published = await desk.publish(notice_id)
    assert published["status"] == "published"

    found = await client.get("/api/public/notices", params={"q": "教学楼", "category": "works"})
    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == [notice_id]
    assert found.json()["total"] == 1
    missing = await client.get("/api/public/notices", params={"q": "道路"})
    assert missing.json()["items"] == []

    detail = (await client.get(f"/api/public/notices/{notice_id}")).json()
    assert detail["lots"] == lots
    assert detail["lot_details"][0]["bid_fields"][0]["name"] == "duration_days"
    document = detail["documents"][0]
    download = await client.get(document["url"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["x-content-sha256"] == document["sha256"]
    assert hashlib.sha256(download.content).hexdigest() == document["sha256"]

    package = (await client.get(f"/api/public/notices/{notice_id}/ocds")).json()
    ocds_validator().validate(package)
    tender = package["releases"][0]["tender"]
    assert [item["id"] for item in tender["items"]] == lots
    assert tender["value"] == {"amount": 5_000_000, "currency": "CNY"}
    assert tender["documents"][0]["url"].endswith(document["url"])

    feed = await client.get("/api/public/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert titles == ["【招标公告】某某县第一中学教学楼建设工程招标公告"]


async def test_ocds_validation_really_checks_the_package(desk, client):
    notice_id, _ = await desk.published()
    package = (await client.get(f"/api/public/notices/{notice_id}/ocds")).json()
    ocds_validator().validate(package)
    del package["releases"][0]["ocid"]
    with pytest.raises(ValidationError, match="ocid"):
        ocds_validator().validate(package)


async def test_search_filters_and_pages_newest_first(desk, client):
    school, _ = await desk.published(title="某某县第一中学教学楼建设工程")
    road, _ = await desk.published(title="某某县城区道路沥青摊铺工程", region="城关镇")
    desks, _ = await desk.published(title="某某县教育局课桌椅采购", category="goods")
    newest_first = (await client.get("/api/public/notices")).json()
    assert [i["id"] for i in newest_first["items"]] == [desks, road, school]
    page = (
        await client.get("/api/public/notices", params={"page_size": 2, "current_page": 2})
    ).json()
    assert [i["id"] for i in page["items"]] == [school] and page["total"] == 3
    goods = (await client.get("/api/public/notices", params={"category": "goods"})).json()
    assert [i["id"] for i in goods["items"]] == [desks]
    town = (await client.get("/api/public/notices", params={"region": "城关镇"})).json()
    assert [i["id"] for i in town["items"]] == [road]
    drafts = (await client.get("/api/public/notices", params={"status": "draft"})).json()
    assert drafts["items"] == [] and drafts["total"] == 0
    published_at = newest_first["items"][1]["published_at"]
    since = (
        await client.get("/api/public/notices", params={"published_from": published_at})
    ).json()
    assert [i["id"] for i in since["items"]] == [desks, road]
    literal = (await client.get("/api/public/notices", params={"q": "100%_"})).json()
    assert literal["items"] == []
    bad = await client.get("/api/public/notices", params={"page_size": 1000})
    assert bad.status_code == 400
