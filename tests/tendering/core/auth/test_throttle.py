"""Password guessing is slowed down: 10 failures in 15 minutes and the login is refused."""

from __future__ import annotations

from tendering.core.auth.models import Role
from tendering.core.auth.throttle import MAX_FAILURES
from tests.conftest import TEST_PASSWORD


async def _attempt(client, username: str, password: str) -> int:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    return response.status_code


async def test_after_too_many_failures_even_the_right_password_waits(client, people):
    staff = await people.user(Role.STAFF, username="throttled-staff")
    for _ in range(MAX_FAILURES):
        assert await _attempt(client, staff.username, "a-wrong-guess") == 401
    response = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert response.json()["code"] == "request.too_many"
    assert "15 minutes" in response.json()["detail"]


async def test_a_successful_login_resets_the_count(client, people):
    staff = await people.user(Role.STAFF, username="forgetful-staff")
    for _ in range(MAX_FAILURES - 1):
        assert await _attempt(client, staff.username, "a-wrong-guess") == 401
    assert await _attempt(client, staff.username, TEST_PASSWORD) == 200
    for _ in range(MAX_FAILURES - 1):
        assert await _attempt(client, staff.username, "a-wrong-guess") == 401
    assert await _attempt(client, staff.username, TEST_PASSWORD) == 200


async def test_one_usernames_failures_do_not_block_another(client, people):
    for _ in range(MAX_FAILURES):
        await _attempt(client, "someone-else", "a-wrong-guess")
    staff = await people.user(Role.STAFF, username="unaffected-staff")
    assert await _attempt(client, staff.username, TEST_PASSWORD) == 200
