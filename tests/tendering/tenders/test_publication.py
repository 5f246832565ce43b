from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
from referencing import Registry, Resource

OCDS = Path(__file__).parents[2] / "data" / "ocds-1.1"
ATOM = "{http://www.w3.org/2005/Atom}"


def ocds_validator() -> jsonschema.Draft4Validator:
    package = json.loads((OCDS / "release-package-schema.json").read_text())
    release = json.loads((OCDS / "release-schema.json").read_text())
    registry = Registry().with_resources(
        [
            (
                schema["id"],
                Resource.from_contents(
                    schema,
                    default_specification=jsonschema.validators.Draft4Validator.META_SCHEMA
                    and __import__("referencing.jsonschema").jsonschema.DRAFT4,
                ),
            )
            for schema in (package, release)
        ]
    )
    return jsonschema.Draft4Validator(
        package, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


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
