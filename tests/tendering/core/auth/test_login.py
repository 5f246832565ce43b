"""Logging in, and every way a login stops working."""

from __future__ import annotations

from sqlalchemy import text

from tendering.core.auth.models import Role
from tests.conftest import TEST_PASSWORD


async def test_login_gives_a_token_that_identifies_the_user(client, people):
    bidder = await people.user(Role.BIDDER)
    response = await client.post(
        "/api/auth/login", json={"username": bidder.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("tdr_")
    assert body["token_type"] == "bearer"
    assert body["expires_at"].endswith("Z")
    assert body["user"]["organization"] == bidder.organization.code
    client.cookies.clear()
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == bidder.username


async def test_unknown_user_and_wrong_password_get_the_same_answer(client, people):
    staff = await people.user(Role.STAFF)
    wrong_password = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": "wrong-password"}
    )
    unknown_user = await client.post(
        "/api/auth/login", json={"username": "nobody-here", "password": "wrong-password"}
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.json()["detail"] == "Wrong username or password."


async def test_an_expired_token_is_refused_saying_it_expired(client, people, login, engine):
    staff = await people.user(Role.STAFF)
    headers = await login(staff)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_token SET expires_at = clock_timestamp() - interval '1 second'")
        )
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.token_expired"
    assert "expired" in response.json()["detail"]


async def test_a_logged_out_token_is_refused(client, people, login):
    staff = await people.user(Role.STAFF)
    headers = await login(staff)
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.token_revoked"
    assert "logged out" in response.json()["detail"]


async def test_an_unknown_token_is_refused(client):
    response = await client.get("/api/auth/me", headers={"Authorization": "Bearer tdr_made_up"})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.token_invalid"


async def test_a_deactivated_users_token_stops_working_and_login_fails(
    client, people, login, admin_headers
):
    bidder = await people.user(Role.BIDDER)
    headers = await login(bidder)
    response = await client.post(f"/api/users/{bidder.username}/deactivate", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    refused = await client.get("/api/auth/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.user_disabled"
    again = await client.post(
        "/api/auth/login", json={"username": bidder.username, "password": TEST_PASSWORD}
    )
    assert again.status_code == 401
    assert again.json()["detail"] == "Wrong username or password."


async def test_a_disabled_account_is_refused_even_if_only_the_flag_changed(
    client, people, login, engine
):
    staff = await people.user(Role.STAFF)
    headers = await login(staff)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE app_user SET is_active = false"))
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.user_disabled"


async def test_the_wrong_role_is_403_naming_the_role_needed(client, people, login):
    bidder = await people.user(Role.BIDDER)
    response = await client.get("/api/users", headers=await login(bidder))
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "auth.role_required"
    assert "admin" in body["detail"]
    assert "bidder" in body["detail"]
    assert body["details"]["required"] == ["admin"]


async def test_no_login_is_401_not_403(client):
    response = await client.get("/api/users")
    assert response.status_code == 401
    assert "log in" in response.json()["detail"]


async def test_login_refuses_malformed_input_with_400(client):
    for body in (
        {"username": "a\u0000b", "password": "x" * 10},
        {"username": "a", "password": "x" * 10_000},
        {"username": 5, "password": "x"},
        {"username": "a"},
        ["a", "b"],
    ):
        response = await client.post("/api/auth/login", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "input.invalid"
