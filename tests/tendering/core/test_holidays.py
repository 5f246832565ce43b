from __future__ import annotations

from datetime import date

from tendering.core.auth.models import Role
from tendering.core.calendar import is_working_day
from tendering.core.db import make_sessionmaker
from tendering.core.holidays import add_shipped_days, load_calendar


async def test_2025_and_2026_are_shipped(client, engine):
    # Tests empty every table between them; put the migration's seed back first.
    async with make_sessionmaker(engine)() as session, session.begin():
        await add_shipped_days(session)
    days = {d["day"]: d["kind"] for d in (await client.get("/api/calendar/2026")).json()}
    assert days["2026-02-14"] == "workday"  # 春节调休上班 (Saturday)
    assert days["2026-02-23"] == "holiday"
    assert days["2026-10-10"] == "workday"
    assert list(days.values()).count("holiday") == 33
    assert list(days.values()).count("workday") == 6
    days_2025 = {d["day"]: d["kind"] for d in (await client.get("/api/calendar/2025")).json()}
    assert days_2025["2025-01-26"] == "workday" and days_2025["2025-10-08"] == "holiday"
    assert len(days_2025) == 33


async def test_staff_maintain_next_years_table(client, people, login, session):
    staff = await login(await people.user(Role.STAFF))
    put = await client.put(
        "/api/calendar/days/2027-01-01", headers=staff, json={"kind": "holiday", "name": "元旦"}
    )
    assert put.status_code == 200
    assert (await client.get("/api/calendar/2027")).json() == [
        {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}
    ]
    assert not is_working_day(await load_calendar(session), date(2027, 1, 1))
    assert (await client.delete("/api/calendar/days/2027-01-01", headers=staff)).status_code == 204
    again = await client.delete("/api/calendar/days/2027-01-01", headers=staff)
    assert again.status_code == 404
    bidder = await login(await people.user(Role.BIDDER))
    refused = await client.put(
        "/api/calendar/days/2027-01-02", headers=bidder, json={"kind": "holiday", "name": "x"}
    )
    assert refused.status_code == 403
