"""The session cookie is a login only for safe requests unless the CSRF header comes with it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import AsyncTestClient

from tendering.app import create_app
from tendering.core.auth.guards import current_actor, requires_login
from tendering.core.auth.models import Role
from tests.conftest import TEST_PASSWORD


async def _cookie_login(client, person) -> str:
    response = await client.post(
        "/api/auth/login", json={"username": person.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert client.cookies.get("tendering_session") == response.json()["token"]
    assert client.cookies.get("tendering_csrf") == response.json()["csrf_token"]
    return response.json()["csrf_token"]


async def test_session_cookie_is_httponly_and_csrf_cookie_is_readable(client, people):
    staff = await people.user(Role.STAFF)
    response = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": TEST_PASSWORD}
    )
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    assert "HttpOnly" in cookies["tendering_session"]
    assert "HttpOnly" not in cookies["tendering_csrf"]


async def test_cookie_works_for_reading_without_the_header(client, people):
    staff = await people.user(Role.STAFF)
    await _cookie_login(client, staff)
    response = await client.get("/api/auth/me")
    assert response.status_code == 200
    assert response.json()["username"] == staff.username


async def test_cookie_post_without_the_header_is_403_and_changes_nothing(client, people):
    admin = await people.user(Role.ADMIN)
    await _cookie_login(client, admin)
    body = {"code": "BID-CSRF", "name": "跨站公司", "kind": "bidder"}
    response = await client.post("/api/organizations", json=body)
    assert response.status_code == 403
    assert response.json()["code"] == "auth.csrf_failed"
    assert "X-CSRF-Token" in response.json()["detail"]
    wrong = await client.post("/api/organizations", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    listing = await client.get("/api/organizations")
    assert "BID-CSRF" not in [o["code"] for o in listing.json()["items"]]


async def test_cookie_post_with_the_header_works(client, people):
    admin = await people.user(Role.ADMIN)
    csrf = await _cookie_login(client, admin)
    response = await client.post(
        "/api/organizations",
        json={"code": "BID-CSRF", "name": "同站公司", "kind": "bidder"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text


async def test_one_sessions_csrf_token_does_not_fit_another_session(client, people):
    admin = await people.user(Role.ADMIN)
    first = await _cookie_login(client, admin)
    await _cookie_login(client, admin)  # a new session replaces the cookie
    response = await client.post(
        "/api/organizations",
        json={"code": "BID-OLD", "name": "旧令牌公司", "kind": "bidder"},
        headers={"X-CSRF-Token": first},
    )
    assert response.status_code == 403


async def test_bearer_requests_need_no_csrf_header(client, people, login):
    admin = await people.user(Role.ADMIN)
    headers = await login(admin)
    response = await client.post(
        "/api/organizations",
        json={"code": "BID-API", "name": "接口公司", "kind": "bidder"},
        headers=headers,
    )
    assert response.status_code == 201


async def test_logout_by_cookie_needs_the_header_and_clears_both_cookies(client, people):
    staff = await people.user(Role.STAFF)
    csrf = await _cookie_login(client, staff)
    assert (await client.post("/api/auth/logout")).status_code == 403
    response = await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith("tendering_session=") for c in cleared)
    assert any(c.startswith("tendering_csrf=") for c in cleared)
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_login_still_works_with_a_stale_cookie_and_no_header(client, people):
    staff = await people.user(Role.STAFF)
    await _cookie_login(client, staff)
    response = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200


@websocket("/api/test/whoami-ws", guards=[requires_login])
async def _whoami_ws(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    await socket.send_json({"user": current_actor(socket).username})
    await socket.close()


@pytest.fixture
async def ws_client(committed, settings, engine):
    app = create_app(settings)
    app.register(_whoami_ws)
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_a_websocket_without_login_is_closed_with_4401(ws_client):
    with pytest.raises(WebSocketDisconnect) as refused:
        session = await ws_client.websocket_connect("/api/test/whoami-ws")
        with session:
            session.receive_json()
    assert refused.value.code == 4401
    assert refused.value.detail == "auth.login_required"


async def test_a_websocket_with_the_cookie_must_come_from_this_site(ws_client, people):
    staff = await people.user(Role.STAFF)
    await _cookie_login(ws_client, staff)
    host = "testserver.local"
    session = await ws_client.websocket_connect(
        "/api/test/whoami-ws", headers={"Origin": f"http://{host}", "Host": host}
    )
    with session:
        assert session.receive_json() == {"user": staff.username}
    with pytest.raises(WebSocketDisconnect) as refused:
        foreign = await ws_client.websocket_connect(
            "/api/test/whoami-ws", headers={"Origin": "https://evil.example", "Host": host}
        )
        with foreign:
            foreign.receive_json()
    assert refused.value.code == 4403
    assert refused.value.detail == "auth.csrf_failed"
