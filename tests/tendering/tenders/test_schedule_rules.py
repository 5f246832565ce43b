"""The legal schedule checks as the API applies them (400 naming the rule and numbers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tendering.core import jobs
from tendering.tenders.rules import CST
from tests.tendering.tenders.conftest import (
    calendar_body,
    first_working_day_after,
    move_deadline,
    on_working_day,
    working_start,
)


async def test_publishing_with_documents_available_4_days_23_59_is_refused(desk, client):
    project = await desk.project()
    lot = await desk.lot(project)
    start = working_start(5 - 1 / (24 * 60), 21)
    notice_id = await desk.notice(project, [lot], start=start, documents_days=5 - 1 / (24 * 60))
    response = await client.post(
        f"/api/tenders/notices/{notice_id}/schedule",
        headers=desk.staff_headers,
        json={"publish_at": start.isoformat()},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "tender.document_period"
    assert response.json()["detail"] == (
        "招标文件发售期不得少于5日: documents are available for 4 days 23 hours 59 minutes; "
        "at least 5 days are required."
    )
    detail = await client.get(f"/api/tenders/notices/{notice_id}", headers=desk.staff_headers)
    assert detail.json()["status"] == "draft"  # nothing half-done


async def test_scheduling_with_documents_available_exactly_5_days_is_accepted(
    desk, client, settings
):
    project = await desk.project()
    lot = await desk.lot(project)
    start = working_start(5, 21)
    notice_id = await desk.notice(project, [lot], start=start, documents_days=5)
    response = await client.post(
        f"/api/tenders/notices/{notice_id}/schedule",
        headers=desk.staff_headers,
        json={"publish_at": start.isoformat()},
    )
    assert response.status_code == 201, response.text
    queue = await jobs.connect_queue(settings)  # the app's own pool lives on its loop
    job_id = f"{settings.queue_name}:publish_notice:notice:{notice_id}"
    await queue.zrem(queue.default_queue_name, job_id)
    await queue.delete(f"arq:job:{job_id}")
    await queue.aclose()


async def test_bid_deadline_under_20_days_is_refused_with_the_numbers(desk, client):
    project = await desk.project()
    lot = await desk.lot(project)
    notice_id = await desk.notice(project, [lot], start=working_start(6, 19), bid_days=19)
    response = await client.post(
        f"/api/tenders/notices/{notice_id}/publish", headers=desk.staff_headers
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "tender.bid_period"
    assert "不得少于20日" in body["detail"] and "at least 20 days" in body["detail"]
    assert body["field"] == "bid_deadline"


async def test_deposit_over_2_percent_is_refused_and_a_project_may_lower_the_cap(desk, client):
    project = await desk.project()
    over = await client.post(
        f"/api/tenders/projects/{project}/lots",
        headers=desk.staff_headers,
        json={
            "number": 1,
            "title": "一标段",
            "estimated_price_fen": 100_000_000,
            "deposit_fen": 2_000_001,
        },
    )
    assert over.status_code == 400
    assert over.json()["code"] == "tender.deposit_limit"
    assert "20,000.01 yuan" in over.json()["detail"]
    assert "at most 20,000.00 yuan" in over.json()["detail"]

    strict = await desk.project(max_deposit_bp=100)
    refused = await client.post(
        f"/api/tenders/projects/{strict}/lots",
        headers=desk.staff_headers,
        json={
            "number": 1,
            "title": "一标段",
            "estimated_price_fen": 100_000_000,
            "deposit_fen": 2_000_000,
        },
    )
    assert refused.status_code == 400
    assert "不得超过招标项目估算价的1%" in refused.json()["detail"]


async def test_center_rules_are_staff_configurable(desk, client, people, login):
    rules = await client.get("/api/tenders/rules", headers=desk.staff_headers)
    assert rules.json() == {
        "min_document_days": 5,
        "min_bid_days": 20,
        "max_deposit_bp": 200,
        "amendment_days": 15,
        "min_valid_bids": 3,
    }
    changed = await client.put(
        "/api/tenders/rules",
        headers=desk.staff_headers,
        json={
            "min_document_days": 7,
            "min_bid_days": 20,
            "max_deposit_bp": 200,
            "amendment_days": 15,
        },
    )
    assert changed.status_code == 200
    project = await desk.project()
    lot = await desk.lot(project)
    notice_id = await desk.notice(project, [lot], start=working_start(6, 21), documents_days=6)
    response = await client.post(
        f"/api/tenders/notices/{notice_id}/publish", headers=desk.staff_headers
    )
    assert response.status_code == 400
    assert "不得少于7日" in response.json()["detail"]
    _bidder, headers = await desk.bidder()
    assert (await client.get("/api/tenders/rules", headers=headers)).status_code == 403


async def test_lifecycle_refuses_steps_out_of_order(desk, client, engine):
    notice_id, _ = await desk.published()
    again = await client.post(
        f"/api/tenders/notices/{notice_id}/publish", headers=desk.staff_headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "tender.notice_state"
    await move_deadline(engine, notice_id, "clock_timestamp() - interval '1 second'")
    closed = await client.post(
        f"/api/tenders/notices/{notice_id}/close", headers=desk.staff_headers
    )
    assert closed.json()["status"] == "closed"
    public = await client.get(f"/api/public/notices/{notice_id}")
    assert public.json()["status"] == "closed"


async def test_a_deadline_on_a_rest_day_is_refused_naming_the_first_working_day(desk, client):
    project = await desk.project()
    lot = await desk.lot(project)
    start, bid_days = working_start(6), 21
    while on_working_day(start + timedelta(days=bid_days)):
        bid_days += 1
    notice_id = await desk.notice(project, [lot], start=start, bid_days=bid_days, roll=False)
    response = await client.post(
        f"/api/tenders/notices/{notice_id}/publish", headers=desk.staff_headers
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "tender.rest_day" and body["field"] == "bid_deadline"
    day = (start + timedelta(days=bid_days)).astimezone(CST).date()
    first = first_working_day_after(day)
    assert f"{day.isoformat()}（" in body["detail"] and "是休息日" in body["detail"]
    assert f"第一个工作日是{first.isoformat()}（" in body["detail"]
    assert body["details"] == {"day": day.isoformat(), "first_working_day": first.isoformat()}
    detail = await client.get(f"/api/tenders/notices/{notice_id}", headers=desk.staff_headers)
    assert detail.json()["status"] == "draft"


async def test_a_deadline_in_a_year_nobody_entered_is_refused_until_staff_enter_it(desk, client):
    project = await desk.project()
    lot = await desk.lot(project)
    # Two years on: the desk entered this year and the next only.
    notice_id = await desk.notice(project, [lot], bid_days=2 * 366)
    year = (datetime.now(UTC) + timedelta(days=2 * 366)).year
    publish = f"/api/tenders/notices/{notice_id}/publish"
    response = await client.post(publish, headers=desk.staff_headers)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "calendar.year_missing"
    assert f"{year}年的节假日安排尚未录入" in response.json()["detail"]
    assert response.json()["details"] == {"year": year}

    entered = await client.put(
        f"/api/calendar/{year}", headers=desk.staff_headers, json=calendar_body(year)
    )
    assert entered.status_code == 200
    assert (await client.post(publish, headers=desk.staff_headers)).status_code == 201


async def test_the_center_may_not_lower_any_of_the_laws_numbers(desk, client):
    law = {
        "min_document_days": 5,
        "min_bid_days": 20,
        "max_deposit_bp": 200,
        "amendment_days": 15,
        "min_valid_bids": 3,
    }
    zeros = dict.fromkeys(law, 0) | {"max_deposit_bp": 10_000}
    refused = await client.put("/api/tenders/rules", headers=desk.staff_headers, json=zeros)
    assert refused.status_code == 400
    for name, limit in law.items():
        lower = law | {name: limit + 1 if name == "max_deposit_bp" else limit - 1}
        response = await client.put("/api/tenders/rules", headers=desk.staff_headers, json=lower)
        assert response.status_code == 400, (name, response.text)
        body = response.json()
        assert body["code"] == "tender.statutory_limit" and body["field"] == name
        assert body["details"] == {"limit": limit, "value": lower[name]}
        assert f"{name} must be at" in body["detail"] and str(limit) in body["detail"]
    assert (await client.get("/api/tenders/rules", headers=desk.staff_headers)).json() == law
    stricter = law | {"min_bid_days": 25, "max_deposit_bp": 100, "min_valid_bids": 5}
    changed = await client.put("/api/tenders/rules", headers=desk.staff_headers, json=stricter)
    assert changed.status_code == 200
    assert (await client.get("/api/tenders/rules", headers=desk.staff_headers)).json() == stricter


async def test_a_project_may_not_lower_the_laws_numbers(desk, client):
    response = await client.post(
        "/api/tenders/projects",
        headers=desk.staff_headers,
        json={
            "code": "JY-2026-0999",
            "title": "缩短期限的项目",
            "tenderer": desk.tenderer_code,
            "category": "works",
            "funding_source": "财政资金",
            "estimated_price_fen": 500_000_000,
            "rule_overrides": {"min_bid_days": 10},
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "rule_overrides.min_bid_days"
    assert "不得低于法定下限20" in response.json()["detail"]
    assert (
        await client.get("/api/tenders/projects/JY-2026-0999", headers=desk.staff_headers)
    ).status_code == 404


async def test_a_notice_is_closed_before_its_deadline_only_by_a_recorded_termination(
    desk, client, engine
):
    notice_id, (lot,) = await desk.published()
    close = f"/api/tenders/notices/{notice_id}/close"
    early = await client.post(close, headers=desk.staff_headers)
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "tender.before_deadline"
    assert "终止" in early.json()["detail"]
    public = f"/api/public/notices/{notice_id}"
    assert (await client.get(public)).json()["status"] == "published"

    terminate = f"/api/tenders/notices/{notice_id}/terminate"
    no_reason = await client.post(terminate, headers=desk.staff_headers, json={"reason": ""})
    assert no_reason.status_code == 400
    _, bidder = await desk.bidder()
    reason = "因项目建设规划调整，招标人决定终止本次招标。"
    forbidden = await client.post(terminate, headers=bidder, json={"reason": reason})
    assert forbidden.status_code == 403
    ended = await client.post(terminate, headers=desk.staff_headers, json={"reason": reason})
    assert ended.status_code == 201, ended.text
    detail = (await client.get(public)).json()
    assert detail["status"] == "closed" and detail["termination_reason"] == reason
    async with engine.connect() as conn:
        event = (
            await conn.execute(
                text(
                    "SELECT actor, payload FROM audit_event "
                    "WHERE stream = :s AND action = 'notice.terminated'"
                ),
                {"s": f"lot:{lot}"},
            )
        ).one()
    assert event.payload["reason"] == reason and event.payload["before_deadline"] is True
    assert event.actor.startswith("user:")
    # No more registrations (nor bids: the bid's insert wants a published notice).
    late = await client.post(f"/api/lots/{lot}/registration", headers=bidder)
    assert late.status_code == 404
    again = await client.post(terminate, headers=desk.staff_headers, json={"reason": reason})
    assert again.status_code == 409


async def test_a_notice_past_its_deadline_closes_without_a_reason(desk, client, engine):
    notice_id, _ = await desk.published()
    await move_deadline(engine, notice_id, "clock_timestamp() - interval '1 second'")
    closed = await client.post(
        f"/api/tenders/notices/{notice_id}/close", headers=desk.staff_headers
    )
    assert closed.status_code == 201
    assert closed.json()["status"] == "closed" and closed.json()["termination_reason"] is None
