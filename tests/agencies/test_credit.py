"""Integrity records through the API: events, disputes, explanations, public listing, feed,
rulebook versions, and the daily rescoring job."""

from __future__ import annotations

from datetime import timedelta

import defusedxml.ElementTree as ET
from sqlalchemy import update

from agencies import credit
from agencies.jobs import rescore_agencies
from agencies.models import Agency
from agencies.scoring import DEFAULT_RULEBOOK
from tendering.core.db import make_sessionmaker

ATOM = "{http://www.w3.org/2005/Atom}"


async def test_an_upheld_dispute_removes_the_events_points_and_the_grade_follows(
    client, login, staff, session, approved_agency
):
    person, headers = await approved_agency("audit")
    code = person.organization.code
    staff_headers = await login(staff)
    on = await credit.today(session)
    response = await client.post(
        f"/api/agencies/filings/{code}/events",
        json={
            "type_code": "violation.false_material",
            "occurred_on": (on - timedelta(days=10)).isoformat(),
            "note": "投标文件业绩证明不实 (县住建局 2026-31 号)",
        },
        headers=staff_headers,
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]
    explained = (await client.get(f"/api/public/agencies/credit/{code}")).json()
    assert (explained["total"], explained["grade"]) == (60, "C")
    assert [(line["event"], line["points"]) for line in explained["lines"]] == [(event_id, -20)]
    assert [h["new_grade"] for h in explained["history"]] == ["B", "C"]

    mine = (await client.get("/api/agencies/me/events", headers=headers)).json()
    assert [e["id"] for e in mine["items"]] == [event_id] and mine["total"] == 1
    response = await client.post(
        f"/api/agencies/me/events/{event_id}/dispute",
        json={"reason": "业绩证明经建设单位核实属实, 附核查函"},
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["state"] == "disputed"
    waiting = (await client.get("/api/agencies/disputes", headers=staff_headers)).json()
    assert [e["id"] for e in waiting["items"]] == [event_id]
    # Pending, the event still counts.
    assert (await client.get(f"/api/public/agencies/credit/{code}")).json()["total"] == 60
    response = await client.post(
        f"/api/agencies/events/{event_id}/decision",
        json={"uphold": True, "note": "经核查属实, 撤销该记录"},
        headers=staff_headers,
    )
    assert response.status_code == 200 and response.json()["state"] == "upheld"
    explained = (await client.get(f"/api/public/agencies/credit/{code}")).json()
    assert (explained["total"], explained["grade"], explained["lines"]) == (80, "B", [])
    assert [h["new_grade"] for h in explained["history"]] == ["B", "C", "B"]
    again = await client.post(
        f"/api/agencies/me/events/{event_id}/dispute", json={"reason": "再次"}, headers=headers
    )
    assert again.status_code == 409


async def test_a_dismissed_dispute_keeps_the_points(client, login, staff, session, approved_agency):
    person, headers = await approved_agency("audit")
    code = person.organization.code
    staff_headers = await login(staff)
    on = await credit.today(session)
    event = await client.post(
        f"/api/agencies/filings/{code}/events",
        json={"type_code": "violation.procedure", "occurred_on": on.isoformat(), "note": "x"},
        headers=staff_headers,
    )
    event_id = event.json()["id"]
    await client.post(
        f"/api/agencies/me/events/{event_id}/dispute", json={"reason": "不服"}, headers=headers
    )
    await client.post(
        f"/api/agencies/events/{event_id}/decision",
        json={"uphold": False, "note": "证据充分, 维持"},
        headers=staff_headers,
    )
    assert (await client.get(f"/api/public/agencies/credit/{code}")).json()["total"] == 70


async def test_another_agency_cannot_dispute_an_event_not_its_own(
    client, login, staff, session, approved_agency
):
    person, _ = await approved_agency("audit")
    _, other_headers = await approved_agency("audit")
    on = await credit.today(session)
    event = await client.post(
        f"/api/agencies/filings/{person.organization.code}/events",
        json={"type_code": "violation.procedure", "occurred_on": on.isoformat(), "note": "x"},
        headers=await login(staff),
    )
    response = await client.post(
        f"/api/agencies/me/events/{event.json()['id']}/dispute",
        json={"reason": "?"},
        headers=other_headers,
    )
    assert response.status_code == 404


async def test_an_unknown_event_type_or_a_future_date_is_refused_naming_the_field(
    client, login, staff, session, approved_agency
):
    person, _ = await approved_agency("audit")
    on = await credit.today(session)
    url = f"/api/agencies/filings/{person.organization.code}/events"
    headers = await login(staff)
    bad_type = await client.post(
        url,
        json={"type_code": "violation.none", "occurred_on": on.isoformat(), "note": "x"},
        headers=headers,
    )
    assert bad_type.status_code == 400 and bad_type.json()["field"] == "type_code"
    future = await client.post(
        url,
        json={
            "type_code": "violation.procedure",
            "occurred_on": (on + timedelta(days=1)).isoformat(),
            "note": "x",
        },
        headers=headers,
    )
    assert future.status_code == 400 and future.json()["field"] == "occurred_on"


async def test_a_new_rulebook_applies_from_its_date_and_yesterday_keeps_the_old_one(
    client, login, staff, session, approved_agency
):
    person, _ = await approved_agency("audit")
    code = person.organization.code
    headers = await login(staff)
    on = await credit.today(session)
    await client.post(
        f"/api/agencies/filings/{code}/events",
        json={
            "type_code": "violation.procedure",
            "occurred_on": (on - timedelta(days=3)).isoformat(),
            "note": "x",
        },
        headers=headers,
    )
    stricter = {
        **DEFAULT_RULEBOOK,
        "types": [
            {**t, "points": -25} if t["code"] == "violation.procedure" else t
            for t in DEFAULT_RULEBOOK["types"]
        ],
    }
    past = await client.post(
        "/api/agencies/rulebooks",
        json={"effective_from": (on - timedelta(days=1)).isoformat(), "body": stricter},
        headers=headers,
    )
    assert past.status_code == 400 and past.json()["field"] == "effective_from"
    published = await client.post(
        "/api/agencies/rulebooks",
        json={"effective_from": on.isoformat(), "body": stricter, "note": "加重程序违规"},
        headers=headers,
    )
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2
    yesterday = (on - timedelta(days=1)).isoformat()
    before = (await client.get(f"/api/public/agencies/credit/{code}?on={yesterday}")).json()
    now = (await client.get(f"/api/public/agencies/credit/{code}")).json()
    assert (before["rulebook_version"], before["total"]) == (1, 70)
    assert (now["rulebook_version"], now["total"]) == (2, 55)
    # In effect today: the stored grade follows at once (not at the next daily run).
    listed = (await client.get("/api/public/agencies/credit?category=audit")).json()["items"]
    assert [(a["agency"], a["score"], a["grade"]) for a in listed] == [(code, 55, "D")]
    versions = (await client.get("/api/agencies/rulebooks", headers=headers)).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    newest = await client.get("/api/agencies/rulebooks?page_size=1", headers=headers)
    assert [v["version"] for v in newest.json()["items"]] == [2]
    assert newest.json()["total"] == 2
    bad = await client.post(
        "/api/agencies/rulebooks",
        json={"effective_from": on.isoformat(), "body": {**stricter, "decay_percent": 120}},
        headers=headers,
    )
    assert bad.status_code == 400 and bad.json()["field"] == "decay_percent"


async def test_the_public_listing_and_the_feed_show_grades_and_their_changes(
    client, login, staff, session, approved_agency
):
    person, _ = await approved_agency("audit")
    code = person.organization.code
    await approved_agency("surveying")
    on = await credit.today(session)
    await client.post(
        f"/api/agencies/filings/{code}/events",
        json={"type_code": "award.model", "occurred_on": on.isoformat(), "note": "诚信示范单位"},
        headers=await login(staff),
    )
    assert (await client.get(f"/api/public/agencies/credit/{code}")).json()["grade"] == "B"
    listing = (await client.get("/api/public/agencies/credit?category=audit")).json()
    assert [(a["agency"], a["score"]) for a in listing["items"]] == [(code, 88)]
    feed = await client.get("/api/public/agencies/credit/feed.atom")
    assert feed.status_code == 200 and "atom" in feed.headers["content-type"]
    root = ET.fromstring(feed.content)
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert any(person.organization.name in t and "B" in t for t in titles)
    assert (await client.get("/api/public/agencies/credit?grade=E")).status_code == 400


async def test_the_daily_job_applies_decay_once_per_day(
    client, login, staff, session, approved_agency, engine
):
    person, _ = await approved_agency("audit")
    code = person.organization.code
    on = await credit.today(session)
    # A violation 364 days ago: full points today and yesterday's score; tomorrow, 70 %.
    await client.post(
        f"/api/agencies/filings/{code}/events",
        json={
            "type_code": "violation.false_material",
            "occurred_on": (on - timedelta(days=364)).isoformat(),
            "note": "x",
        },
        headers=await login(staff),
    )
    await session.execute(
        update(Agency).where(Agency.code == code).values(scored_on=on - timedelta(days=1))
    )
    await session.commit()
    ctx = {"sessionmaker": make_sessionmaker(engine)}
    assert await rescore_agencies(ctx) >= 1
    assert await rescore_agencies(ctx) == 0  # the same day: nothing more to do
    tomorrow = (on + timedelta(days=1)).isoformat()
    later = (await client.get(f"/api/public/agencies/credit/{code}?on={tomorrow}")).json()
    assert later["total"] == 66 and later["lines"][0]["factor_percent"] == 70
