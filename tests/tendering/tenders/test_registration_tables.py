"""The registration tables, read as a DBA reads them (SQL, no platform key), say neither who
registered for a lot nor how many (招标投标法第二十二条); the platform, with its key, still
finds everything: its own list, registering twice, the reveal, may-bid, the inbox."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from tendering.core.db import make_sessionmaker
from tendering.core.secrecy import Secrecy
from tendering.tenders.registration import is_registered, registration_tag
from tests.tendering.tenders.test_amendments import amend
from tests.tendering.tenders.test_registration_secrecy import (
    _move_opening_into_the_past,
    _reveal,
)


async def register(client, lot: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(f"/api/lots/{lot}/registration", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def sql(engine, statement: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(statement), params)).mappings().all())


def secrecy_of(client) -> Secrecy:
    return Secrecy.of(client.app.state["platform_key"])


async def two_lots_seven_registrations(desk, client) -> tuple[list[str], list[Any]]:
    """Three bidders register for both lots of a notice, a fourth for the first only."""
    _, lots = await desk.published(lots=2)
    bidders = [await desk.bidder() for _ in range(4)]
    for n, (_, headers) in enumerate(bidders):
        for lot in lots if n < 3 else lots[:1]:
            await register(client, lot, headers)
    return lots, bidders


async def test_a_dba_reading_the_table_can_neither_name_nor_count_a_lots_bidders(
    desk, client, engine
):
    lots, bidders = await two_lots_seven_registrations(desk, client)
    rows = await sql(engine, "SELECT * FROM tender_registration")
    assert len(rows) == 7

    # No column names a lot, an organization or a user ...
    assert set(rows[0]) == {"id", "tag", "holder", "ref", "registered_at", "nonce"}
    keys = await sql(
        engine,
        "SELECT constraint_type FROM information_schema.table_constraints"
        " WHERE table_name = 'tender_registration' AND constraint_type = 'FOREIGN KEY'",
    )
    assert keys == []
    # ... no value but the row's own id spells one ...
    names = set(lots) | {lot.rsplit("-", 1)[0] for lot in lots}
    for person, _ in bidders:
        org = person.organization
        names |= {org.code, org.name, person.username}
    shown = " ".join(str(v) for row in rows for k, v in row.items() if k != "id")
    assert not any(name in shown for name in names)

    # ... nothing groups the rows by lot: every tag differs, every box differs, and every
    # box has the same length (its length does not tell small ids from large ones).
    tags = [r["tag"] for r in rows]
    assert len(set(tags)) == 7 and all(len(t) == 64 for t in tags)
    assert len({r["holder"] for r in rows}) == 7
    assert len({len(r["holder"]) for r in rows}) == 1
    grouped = await sql(engine, "SELECT count(*) AS n FROM tender_registration GROUP BY tag")
    assert {g["n"] for g in grouped} == {1}

    # ... and no sealed box opens under another key, or on another row.
    stranger = Secrecy.from_seed(os.urandom(32))
    for row in rows:
        with pytest.raises(InvalidTag):
            stranger.open(f"registration|{row['tag']}", row["holder"])
    ours = secrecy_of(client)
    with pytest.raises(InvalidTag):
        ours.open(f"registration|{rows[1]['tag']}", rows[0]["holder"])
    # The platform's key opens each box, and the ids in it give back the row's tag.
    orgs = {person.organization.id for person, _ in bidders}
    users = {person.user.id for person, _ in bidders}
    for row in rows:
        held = {
            k: int(v) for k, v in ours.open(f"registration|{row['tag']}", row["holder"]).items()
        }
        assert held["organization_id"] in orgs and held["user_id"] in users
        assert row["tag"] == registration_tag(
            ours, lot_id=held["lot_id"], organization_id=held["organization_id"]
        )

    # No inbox table counts a notice's registered bidders either.
    gone = await sql(engine, "SELECT to_regclass('tender_registration_message') AS t")
    assert gone == [{"t": None}]


async def test_each_bidder_lists_exactly_its_own_registrations(desk, client):
    lots, bidders = await two_lots_seven_registrations(desk, client)
    for n, (_, headers) in enumerate(bidders):
        listing = (await client.get("/api/my/registrations", headers=headers)).json()["items"]
        assert sorted(r["lot"] for r in listing) == (lots if n < 3 else lots[:1])
        for mine in listing:
            by_ref = await client.get(f"/api/registrations/{mine['ref']}", headers=headers)
            assert by_ref.json() == mine
        others = (await client.get("/api/my/registrations", headers=bidders[n - 1][1])).json()[
            "items"
        ]
        assert not {r["ref"] for r in listing} & {r["ref"] for r in others}


async def test_a_box_moved_to_another_row_makes_that_row_nobodys(desk, client, engine):
    """A DBA who swaps two rows' boxes gains nothing: the row is found by its tag, and a box
    on the wrong row does not open, so looking it up by reference finds nothing."""
    _, (lot,) = await desk.published()
    (_, alice), (_, bob) = await desk.bidder(), await desk.bidder()
    mine = await register(client, lot, alice)
    await register(client, lot, bob)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE tender_registration SET holder = (SELECT holder FROM tender_registration"
                " WHERE ref <> :ref) WHERE ref = :ref"
            ),
            {"ref": mine["ref"]},
        )
    assert (await client.get(f"/api/registrations/{mine['ref']}", headers=alice)).status_code == 404
    assert (await client.get(f"/api/lots/{lot}/registration", headers=alice)).json() == mine


async def test_may_bid_only_on_the_lot_it_registered_for(desk, client, engine):
    lots, bidders = await two_lots_seven_registrations(desk, client)
    secrecy = secrecy_of(client)
    fourth = bidders[3][0].organization.id
    first = bidders[0][0].organization.id
    async with make_sessionmaker(engine)() as session:

        async def may(lot: str, org: int, key: Secrecy = secrecy) -> bool:
            return await is_registered(session, lot_code=lot, organization_id=org, secrecy=key)

        assert await may(lots[0], fourth) and not await may(lots[1], fourth)
        assert await may(lots[1], first)
        assert not await may("NO-SUCH-01", first)
        # Under another platform key nothing is found: the tag is the key's.
        assert not await may(lots[0], first, Secrecy.from_seed(os.urandom(32)))


async def test_the_reveal_finds_every_registration_of_its_lot_and_no_other(desk, client, engine):
    lots, bidders = await two_lots_seven_registrations(desk, client)
    await _move_opening_into_the_past(engine, lots[0])
    assert await _reveal(engine, client, lots[0]) == 4
    assert await _reveal(engine, client, lots[1]) == 3
    revealed = await sql(
        engine,
        "SELECT stream, payload ->> 'organization_code' AS org FROM audit_event"
        " WHERE action = 'registration.revealed'",
    )
    codes = [person.organization.code for person, _ in bidders]
    assert sorted(r["org"] for r in revealed if r["stream"] == f"lot:{lots[0]}") == sorted(codes)
    assert sorted(r["org"] for r in revealed if r["stream"] == f"lot:{lots[1]}") == sorted(
        codes[:3]
    )


async def test_the_inbox_holds_each_amendment_issued_since_registering_once(desk, client):
    notice_id, lots = await desk.published(lots=2, bid_days=30)
    (_, early), (_, late), (_, never) = [await desk.bidder() for _ in range(3)]
    for lot in lots:  # registered for both lots of the notice: one message per amendment
        await register(client, lot, early)
    first = await amend(client, desk, notice_id)
    assert first.status_code == 201, first.text
    await register(client, lots[1], late)
    second = await amend(client, desk, notice_id, title="关于质量标准的澄清", kind="clarification")
    assert second.status_code == 201, second.text

    async def inbox(headers: dict[str, str]) -> list[tuple[int, int]]:
        messages = (await client.get("/api/my/messages", headers=headers)).json()["items"]
        return [(m["notice"], m["amendment"]["number"]) for m in messages]

    assert await inbox(early) == [(notice_id, 2), (notice_id, 1)]
    assert await inbox(late) == [(notice_id, 2)]  # the first was issued before it registered
    assert await inbox(never) == []
    messages = (await client.get("/api/my/messages", headers=early)).json()["items"]
    assert messages[0]["delivered_at"] == second.json()["issued_at"]
