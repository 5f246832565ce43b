"""Absolute links in the Atom feed and OCDS come from TENDERING_PUBLIC_URL, never from the
request's Host header (issue 19.11)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

PUBLIC = "https://ggzy.example.gov.cn/jy"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def settings(settings):
    return replace(settings, public_url=PUBLIC)


async def test_feed_and_ocds_link_to_the_public_url_whatever_the_host(desk, client):
    notice_id, _ = await desk.published()
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    feed = ET.fromstring((await client.get("/api/public/feed.atom", headers=forged)).content)
    links = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    ids = [node.text for node in feed.iter(f"{ATOM}id")]
    assert links and ids
    assert all(link.startswith(PUBLIC + "/") for link in links), links
    assert all(i.startswith(PUBLIC + "/") for i in ids), ids
    package = (await client.get(f"/api/public/notices/{notice_id}/ocds", headers=forged)).json()
    assert package["uri"] == f"{PUBLIC}/api/public/notices/{notice_id}/ocds"
    documents = package["releases"][0]["tender"]["documents"]
    assert all(d["url"].startswith(PUBLIC + "/") for d in documents)
    assert "evil.example" not in str(package)


async def test_the_agency_credit_feed_links_to_the_public_url(client):
    forged = {"Host": "evil.example"}
    feed = await client.get("/api/public/agencies/credit/feed.atom", headers=forged)
    assert feed.status_code == 200
    root = ET.fromstring(feed.content)
    hrefs = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert hrefs and all(h.startswith(PUBLIC + "/") for h in hrefs), hrefs
