"""A user changes their own password; their other logins stop working."""

from __future__ import annotations

from tendering.core.auth.models import Role
from tests.conftest import TEST_PASSWORD

NEW = "a-brand-new-password"


async def test_changing_the_password_keeps_this_login_and_ends_the_others(
    client, people, login, audit_actions
):
    bidder = await people.user(Role.BIDDER)
    here, elsewhere = await login(bidder), await login(bidder)
    response = await client.post(
        "/api/auth/password",
        json={"current_password": TEST_PASSWORD, "new_password": NEW},
        headers=here,
    )
    assert response.status_code == 204, response.text
    assert (await client.get("/api/auth/me", headers=here)).status_code == 200
    assert (await client.get("/api/auth/me", headers=elsewhere)).status_code == 401
    old = await client.post(
        "/api/auth/login", json={"username": bidder.username, "password": TEST_PASSWORD}
    )
    assert old.status_code == 401
    assert (await login(bidder, NEW))["Authorization"].startswith("Bearer ")
    assert ("user.password_changed", f"user:{bidder.user.id}") in await audit_actions()


async def test_a_wrong_current_password_changes_nothing(client, people, login):
    bidder = await people.user(Role.BIDDER)
    headers = await login(bidder)
    response = await client.post(
        "/api/auth/password",
        json={"current_password": "not-my-password", "new_password": NEW},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["field"] == "current_password"
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    await login(bidder)  # the old password still works


async def test_the_new_password_must_be_long_enough_and_different(client, people, login):
    headers = await login(await people.user(Role.STAFF))
    short = await client.post(
        "/api/auth/password",
        json={"current_password": TEST_PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert short.status_code == 400
    assert short.json()["field"] == "new_password"
    same = await client.post(
        "/api/auth/password",
        json={"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD},
        headers=headers,
    )
    assert same.status_code == 400
    assert same.json()["field"] == "new_password"


async def test_changing_the_password_needs_a_login(client):
    response = await client.post(
        "/api/auth/password", json={"current_password": "x", "new_password": NEW}
    )
    assert response.status_code == 401
