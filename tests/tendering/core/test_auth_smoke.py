from __future__ import annotations

from tendering.core.auth.models import Role


async def test_login_then_me_names_the_user(client, people, login):
    staff = await people.user(Role.STAFF)
    headers = await login(staff)
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["username"] == staff.username
    assert response.json()["role"] == "staff"


async def test_wrong_password_is_401_in_plain_words(client, people):
    staff = await people.user(Role.STAFF)
    response = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong username or password."


async def test_me_without_token_is_401(client):
    response = await client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.login_required"
