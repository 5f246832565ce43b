from __future__ import annotations

from datetime import date

import pytest

from tendering.core.auth.models import Role
from tendering.core.calendar import YearNotEntered, is_working_day
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
    years = (await client.get("/api/calendar/years")).json()["items"]
    assert [(y["year"], y["source"]) for y in years] == [
        (2025, "国办发明电〔2024〕12号"),
        (2026, "国办发明电〔2025〕7号"),
    ]


async def test_staff_maintain_next_years_table(client, people, login, session):
    staff = await login(await people.user(Role.STAFF))
    put = await client.put(
        "/api/calendar/days/2027-01-01", headers=staff, json={"kind": "holiday", "name": "元旦"}
    )
    assert put.status_code == 200
    assert (await client.get("/api/calendar/2027")).json() == [
        {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}
    ]
    # One day marked does not make the year entered: its other days are not known yet.
    with pytest.raises(YearNotEntered):
        is_working_day(await load_calendar(session), date(2027, 1, 1))
    assert (await client.delete("/api/calendar/days/2027-01-01", headers=staff)).status_code == 204
    again = await client.delete("/api/calendar/days/2027-01-01", headers=staff)
    assert again.status_code == 404
    bidder = await login(await people.user(Role.BIDDER))
    refused = await client.put(
        "/api/calendar/days/2027-01-02", headers=bidder, json={"kind": "holiday", "name": "x"}
    )
    assert refused.status_code == 403


async def test_a_year_is_entered_whole_and_replaced_whole(client, people, login, session):
    staff = await login(await people.user(Role.STAFF))
    await client.put(
        "/api/calendar/days/2027-03-01", headers=staff, json={"kind": "holiday", "name": "误录"}
    )
    body = {
        "source": "国办发明电〔2026〕X号",
        "days": [
            {"day": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"day": "2027-02-20", "kind": "workday", "name": "春节调休上班"},
        ],
    }
    entered = await client.put("/api/calendar/2027", headers=staff, json=body)
    assert entered.status_code == 200, entered.text
    assert entered.json()["year"] == 2027 and entered.json()["source"] == body["source"]
    days = (await client.get("/api/calendar/2027")).json()
    assert [d["day"] for d in days] == ["2027-01-01", "2027-02-20"]  # the stray day is gone
    calendar = await load_calendar(session)
    assert not is_working_day(calendar, date(2027, 1, 1))
    assert is_working_day(calendar, date(2027, 2, 20))  # a Saturday, made a working day
    assert is_working_day(calendar, date(2027, 1, 4))
    years = [y["year"] for y in (await client.get("/api/calendar/years")).json()["items"]]
    assert years == [2027]

    outside = body | {"days": [{"day": "2028-01-01", "kind": "holiday", "name": "元旦"}]}
    refused = await client.put("/api/calendar/2027", headers=staff, json=outside)
    assert refused.status_code == 400 and refused.json()["field"] == "days[0]"
    twice = body | {"days": body["days"][:1] * 2}
    assert (await client.put("/api/calendar/2027", headers=staff, json=twice)).status_code == 400
    bidder = await login(await people.user(Role.BIDDER))
    assert (await client.put("/api/calendar/2027", headers=bidder, json=body)).status_code == 403
    assert len((await client.get("/api/calendar/2027")).json()) == 2  # refusals kept nothing
