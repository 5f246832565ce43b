"""Who registered for a lot, and how many, stay secret until opening (招标投标法 第二十二条).

Every angle a test can check: listings, details, counts, feeds, open data, repeated
registration, and the errors for "someone else's" versus "does not exist".
"""

from __future__ import annotations

import secrets

import pytest


async def public_view(client, notice_id: int) -> list[object]:
    """Everything the public can read about a notice (OCDS minus its generation time)."""
    ocds = (await client.get(f"/api/public/notices/{notice_id}/ocds")).json()
    ocds.pop("publishedDate")
    return [
        (await client.get(f"/api/public/notices/{notice_id}")).json(),
        (await client.get("/api/public/notices")).json(),
        ocds,
        (await client.get("/api/public/feed.atom")).text,
    ]


async def register(client, lot: str, headers: dict[str, str]):
    return await client.post(f"/api/lots/{lot}/registration", headers=headers)


async def test_nothing_public_changes_when_bidders_register(desk, client):
    notice_id, (lot,) = await desk.published()
    before = await public_view(client, notice_id)
    for _ in range(3):
        _, headers = await desk.bidder()
        assert (await register(client, lot, headers)).status_code == 200
    assert await public_view(client, notice_id) == before


async def test_a_bidder_sees_only_its_own_registration(desk, client):
    notice_id, (lot,) = await desk.published()
    _alice, alice_headers = await desk.bidder()
    bob, bob_headers = await desk.bidder()
    mine = (await register(client, lot, alice_headers)).json()
    theirs = (await register(client, lot, bob_headers)).json()
    assert set(mine) == {"ref", "lot", "notice", "registered_at", "deposit"}
    assert mine["lot"] == lot and mine["notice"] == notice_id
    listing = (await client.get("/api/my/registrations", headers=alice_headers)).json()
    assert listing == {"items": [mine], "limit": 20, "offset": 0, "total": 1}
    text = str(listing) + str(mine)
    assert bob.organization.code not in text and theirs["ref"] not in text


async def test_registering_twice_answers_exactly_like_registering_once(desk, client):
    _, (lot,) = await desk.published()
    _, headers = await desk.bidder()
    first = await register(client, lot, headers)
    second = await register(client, lot, headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    mine = await client.get(f"/api/lots/{lot}/registration", headers=headers)
    assert mine.json() == first.json()


async def test_someone_elses_registration_looks_exactly_like_none_at_all(desk, client):
    _, (lot,) = await desk.published()
    _, alice_headers = await desk.bidder()
    _, bob_headers = await desk.bidder()
    alice_ref = (await register(client, lot, alice_headers)).json()["ref"]

    by_other_ref = await client.get(f"/api/registrations/{alice_ref}", headers=bob_headers)
    by_made_up_ref = await client.get(
        f"/api/registrations/{secrets.token_hex(16)}", headers=bob_headers
    )
    by_lot_others_registered = await client.get(
        f"/api/lots/{lot}/registration", headers=bob_headers
    )
    by_unknown_lot = await client.get("/api/lots/NO-SUCH-01/registration", headers=bob_headers)
    answers = [by_other_ref, by_made_up_ref, by_lot_others_registered, by_unknown_lot]
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1


async def test_unpublished_and_unknown_lots_refuse_registration_identically(desk, client):
    project = await desk.project()
    draft_lot = await desk.lot(project)
    await desk.notice(project, [draft_lot])
    _, headers = await desk.bidder()
    draft = await register(client, draft_lot, headers)
    unknown = await register(client, "JY-2099-9999-01", headers)
    assert draft.status_code == unknown.status_code == 404
    assert draft.content == unknown.content


@pytest.mark.parametrize(
    "path",
    [
        "/api/lots/{lot}/registration",
        "/api/lots/NO-SUCH-01/registration",
        "/api/my/registrations",
        "/api/registrations/{ref}",
    ],
)
async def test_without_a_bidder_login_every_registration_route_answers_the_same(desk, client, path):
    _, (lot,) = await desk.published()
    _, headers = await desk.bidder()
    ref = (await register(client, lot, headers)).json()["ref"]
    anonymous = await client.get(path.format(lot=lot, ref=ref))
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "auth.login_required"
    staff = await client.get(path.format(lot=lot, ref=ref), headers=desk.staff_headers)
    assert staff.status_code == 403
    assert "bidder" in staff.json()["detail"]


async def test_registration_outside_the_document_period_is_refused(desk, client):
    project = await desk.project()
    lot = await desk.lot(project)
    from datetime import UTC, datetime, timedelta

    notice_id = await desk.notice(project, [lot], start=datetime.now(UTC) + timedelta(days=1))
    await desk.publish(notice_id)
    _, headers = await desk.bidder()
    response = await register(client, lot, headers)
    assert response.status_code == 409
    assert response.json()["code"] == "tender.registration_closed"


async def test_registration_opens_the_bidders_own_deposit_account(desk, client):
    notice_id, (lot,) = await desk.published()
    _, alice = await desk.bidder()
    _, bob = await desk.bidder()
    first = (await register(client, lot, alice)).json()["deposit"]
    assert first["amount_due_fen"] == 5_000_000 and first["state"] == "open"
    assert len(first["account"]) == 16 and first["account"].isdigit()
    assert (await register(client, lot, alice)).json()["deposit"] == first
    other = (await register(client, lot, bob)).json()["deposit"]
    assert other["account"] != first["account"]
    detail = (await client.get(f"/api/public/notices/{notice_id}")).json()
    assert first["deadline"] == detail["bid_deadline"]
