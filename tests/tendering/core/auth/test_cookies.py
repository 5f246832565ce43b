"""TENDERING_SECURE_COOKIES: behind HTTPS, the login cookies are sent over HTTPS only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tendering.core.auth.models import Role
from tests.conftest import TEST_PASSWORD


@pytest.fixture(params=[False, True], ids=["plain HTTP", "behind HTTPS"])
def settings(settings, request):
    return replace(settings, secure_cookies=request.param)


def _attributes(set_cookie: str) -> set[str]:
    """``{"httponly", "path", "secure", ...}`` of one Set-Cookie header."""
    return {part.split("=", 1)[0].strip().lower() for part in set_cookie.split(";")[1:]}


async def test_both_login_cookies_are_secure_exactly_when_secure_cookies_is_on(
    client, people, settings
):
    staff = await people.user(Role.STAFF)
    response = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    assert set(cookies) == {"tendering_session", "tendering_csrf"}
    for name, header in cookies.items():
        assert ("secure" in _attributes(header)) is settings.secure_cookies, (name, header)
