"""The audit chain, read as a supervisor, says neither who registered for a lot nor how many
until its opening (招标投标法 第二十二条); the opening then reveals commitments anyone can check.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.db import make_sessionmaker
from tendering.core.errors import Conflict
from tendering.core.secrecy import Secrecy
from tendering.ledger import rules as ledger_rules
from tendering.tenders import rules
from tendering.tenders.reveal import reveal_registrations

OPENING = Actor.system("opening")


async def stream_events(client, headers: dict[str, str], stream: str) -> list[dict[str, Any]]:
    """A whole stream, page by page, exactly as the supervisor API gives it."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        response = await client.get(
            f"/api/audit/streams/{stream}/events",
            params={"after_seq": after, "page_size": 100},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        events += page["items"]
        if len(page["items"]) == page["total"]:
            return events
        after = page["items"][-1]["seq"]


def values(payload: Any) -> list[Any]:
    """Every scalar anywhere in a payload."""
    if isinstance(payload, dict):
        return [v for item in payload.values() for v in values(item)]
    if isinstance(payload, list):
        return [v for item in payload for v in values(item)]
    return [payload]


async def register_two(desk, client, lot: str) -> list[Any]:
    bidders = []
    for _ in range(2):
        person, headers = await desk.bidder()
        response = await client.post(f"/api/lots/{lot}/registration", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["deposit"]["amount_due_fen"] > 0  # a deposit account was opened
        bidders.append(person)
    return bidders


async def supervisor(desk) -> dict[str, str]:
    return await desk.login(await desk.people.user(Role.SUPERVISOR))


async def test_the_chain_names_no_bidder_and_counts_none_before_the_opening(desk, client):
    _, (lot,) = await desk.published()
    headers = await supervisor(desk)
    lot_before = await stream_events(client, headers, f"lot:{lot}")
    global_before = await stream_events(client, headers, "global")

    bidders = await register_two(desk, client, lot)

    assert await stream_events(client, headers, f"lot:{lot}") == lot_before
    new = (await stream_events(client, headers, "global"))[len(global_before) :]
    assert sorted(e["action"] for e in new) == ["deposit.opened"] * 2 + ["registration.made"] * 2
    named = {lot, f"lot:{lot}"}
    for person in bidders:
        org = person.organization
        named |= {org.code, org.name, person.username, f"user:{person.user.id}"}
    for event in new:
        assert set(event["payload"]) == {"commitment"}
        assert event["actor"] == "system:registration"
        shown = str(event)
        assert not any(name in shown for name in named), event
        assert not {p.organization.id for p in bidders} & set(values(event["payload"]))


async def test_registrations_leave_the_stream_heads_of_the_lot_alone(desk, client):
    _, (lot,) = await desk.published()
    headers = await supervisor(desk)

    async def lot_head() -> int | None:
        streams = await client.get("/api/audit/streams", params={"page_size": 100}, headers=headers)
        return next(
            (s["head_seq"] for s in streams.json()["items"] if s["stream"] == f"lot:{lot}"), None
        )

    before = await lot_head()
    await register_two(desk, client, lot)
    assert await lot_head() == before


async def _move_opening_into_the_past(engine, lot: str) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(
            text(
                "UPDATE tender_notice SET bid_deadline = now() - interval '1 minute',"
                " opening_at = now() - interval '1 minute' WHERE id IN (SELECT notice_id FROM"
                " tender_notice_lot nl JOIN tender_lot l ON l.id = nl.lot_id WHERE l.code = :c)"
            ),
            {"c": lot},
        )


async def _reveal(engine, client, lot: str) -> int:
    secrecy = Secrecy.of(client.app.state["platform_key"])
    async with make_sessionmaker(engine)() as session, session.begin():
        return await reveal_registrations(session, lot_code=lot, actor=OPENING, secrecy=secrecy)


async def test_the_reveal_opens_every_commitment_after_the_opening(desk, client, engine):
    _, (lot,) = await desk.published()
    bidders = await register_two(desk, client, lot)
    headers = await supervisor(desk)
    committed = {
        (e["action"], e["payload"]["commitment"])
        for e in await stream_events(client, headers, "global")
        if e["action"] in ("registration.made", "deposit.opened")
    }
    assert len(committed) == 4
    await _move_opening_into_the_past(engine, lot)

    assert await _reveal(engine, client, lot) == 2
    events = await stream_events(client, headers, f"lot:{lot}")
    registrations = [e["payload"] for e in events if e["action"] == "registration.revealed"]
    deposits = [e["payload"] for e in events if e["action"] == "deposit.revealed"]
    assert {r["organization_code"] for r in registrations} == {p.organization.code for p in bidders}
    assert {d["bidder_org_id"] for d in deposits} == {p.organization.id for p in bidders}
    for shown in registrations:
        fields = rules.registered_fields(
            lot=shown["lot"], organization=shown["organization"], registration=shown["registration"]
        )
        assert fields.items() <= shown.items()
        commitment = rules.registration_commitment(fields, shown["nonce"])
        assert ("registration.made", commitment) in committed
    for shown in deposits:
        fields = {k: v for k, v in shown.items() if k != "nonce"}
        commitment = ledger_rules.commitment(fields, shown["nonce"])
        assert ("deposit.opened", commitment) in committed
        assert shown["subject"] == f"lot:{lot}"

    assert await _reveal(engine, client, lot) == 0  # the opening may finish twice: nothing new
    assert await stream_events(client, headers, f"lot:{lot}") == events


async def test_nothing_is_revealed_before_the_opening(desk, client, engine):
    _, (lot,) = await desk.published()
    await register_two(desk, client, lot)
    headers = await supervisor(desk)
    before = await stream_events(client, headers, f"lot:{lot}")
    with pytest.raises(Conflict) as refused:
        await _reveal(engine, client, lot)
    assert refused.value.code == "tender.not_opened"
    assert await stream_events(client, headers, f"lot:{lot}") == before


def test_a_registration_commitment_binds_its_fields_and_hides_them_behind_the_nonce():
    fields = rules.registered_fields(lot="JY-1-01", organization=7, registration="ab" * 16)
    nonce = "cd" * 16
    commitment = rules.registration_commitment(fields, nonce)
    assert commitment == rules.registration_commitment(dict(fields), nonce)
    assert len(commitment) == 64 and commitment == commitment.lower()
    others = [
        rules.registration_commitment(fields | {"organization": 8}, nonce),
        rules.registration_commitment(fields | {"lot": "JY-1-02"}, nonce),
        rules.registration_commitment(fields, "ce" * 16),
    ]
    assert commitment not in others
    with pytest.raises(ValueError):
        rules.registration_commitment(fields | {"nonce": nonce}, nonce)
