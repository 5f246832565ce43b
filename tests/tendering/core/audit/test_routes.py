"""The audit API: supervisors (and admins) only; verify, streams and events."""

from __future__ import annotations

import pytest

from tendering.core.auth.models import Role

from .conftest import Chain

PATHS = ["/api/audit/verify", "/api/audit/streams", "/api/audit/streams/global/events"]


@pytest.fixture
def app_chain(engine, app):
    """Checkpoints signed with the app's own platform key."""
    return Chain(engine, app.state["platform_key"])


@pytest.mark.parametrize("path", PATHS)
async def test_anonymous_callers_get_401(client, path):
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.login_required"


@pytest.mark.parametrize("role", [Role.BIDDER, Role.STAFF, Role.AUCTIONEER])
async def test_other_roles_get_403(client, people, login, role):
    headers = await login(await people.user(role))
    for path in PATHS:
        response = await client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["code"] == "auth.role_required"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
async def test_supervisors_and_admins_verify_the_chain(client, people, login, app_chain, role):
    headers = await login(await people.user(role))
    await app_chain.append("lot:R-1", 3)
    await app_chain.checkpoint()
    response = await client.get("/api/audit/verify", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["algorithm"] == "chain-v1"
    assert body["key_id"] == (await client.get("/api/platform/key")).json()["key_id"]
    [lot] = [s for s in body["streams"] if s["stream"] == "lot:R-1"]
    assert (lot["events"], lot["head_seq"], lot["last_checkpoint_seq"]) == (3, 3, 3)


async def test_verify_names_the_first_bad_row(client, people, login, app_chain):
    headers = await login(await people.user(Role.SUPERVISOR))
    await app_chain.append("lot:R-1", 3)
    await app_chain.sql("UPDATE audit_event SET at = now() WHERE stream = 'lot:R-1' AND seq = 2")
    response = await client.get("/api/audit/verify?stream=lot:R-1", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    [report] = body["streams"]
    assert (report["stream"], report["first_bad_seq"]) == ("lot:R-1", 2)
    assert "was edited" in report["reason"]


async def test_streams_list_heads_and_last_checkpoints(client, people, login, app_chain):
    headers = await login(await people.user(Role.SUPERVISOR))
    await app_chain.append("lot:A", 2)
    await app_chain.checkpoint()
    await app_chain.append("lot:A", 1, start=3)
    await app_chain.append("lot:B", 1)
    response = await client.get("/api/audit/streams?after=lot:&page_size=2", headers=headers)
    assert response.status_code == 200
    a, b = response.json()["items"]
    assert response.json()["total"] == 2
    assert (a["stream"], a["head_seq"], a["last_checkpoint"]["seq"]) == ("lot:A", 3, 2)
    assert (b["stream"], b["head_seq"], b["last_checkpoint"]) == ("lot:B", 1, None)


async def test_events_page_by_seq(client, people, login, app_chain):
    headers = await login(await people.user(Role.SUPERVISOR))
    await app_chain.append("lot:E", 5)
    url = "/api/audit/streams/lot:E/events"
    first = (await client.get(f"{url}?page_size=2", headers=headers)).json()
    assert [e["seq"] for e in first["items"]] == [1, 2] and first["total"] == 5
    third = (await client.get(f"{url}?page_size=2&current_page=3", headers=headers)).json()
    assert [e["seq"] for e in third["items"]] == [5]
    last = (await client.get(f"{url}?after_seq=4&page_size=2", headers=headers)).json()
    assert [e["seq"] for e in last["items"]] == [5] and last["total"] == 1
    event = first["items"][0]
    assert event["prev_hash"] == "0" * 64 and event["at"].endswith("Z")
    assert event["payload"]["notice"] == "N-1"


async def test_unknown_streams_and_bad_limits_are_plain_4xx(client, people, login):
    headers = await login(await people.user(Role.SUPERVISOR))
    missing = await client.get("/api/audit/streams/lot:NOPE/events", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "There is no audit stream 'lot:NOPE'."
    assert (await client.get("/api/audit/verify?stream=x", headers=headers)).status_code == 404
    bad = await client.get("/api/audit/streams/global/events?page_size=0", headers=headers)
    assert bad.status_code == 400
    assert "page_size" in bad.json()["detail"]
