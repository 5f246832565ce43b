"""The login takes JSON from this site only: login CSRF (issue 19.11)."""

from __future__ import annotations

import json

import pytest

from tendering.core.auth.models import Role
from tests.conftest import TEST_PASSWORD

LOGIN = "/api/auth/login"


async def _body(people) -> bytes:
    staff = await people.user(Role.STAFF)
    return json.dumps({"username": staff.username, "password": TEST_PASSWORD}).encode()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_a_login_that_is_not_json_is_415(client, people, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(LOGIN, content=await _body(people), headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "request.unsupported_media_type"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver.local"},
    ],
)
async def test_a_login_from_another_site_is_403(client, people, headers):
    response = await client.post(
        LOGIN, content=await _body(people), headers=headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "auth.csrf_failed"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a client outside a browser
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver.local"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://127.0.0.1:8000"},  # the configured public origin
        {"Content-Type": "application/json; charset=utf-8"},
    ],
)
async def test_a_json_login_from_this_site_is_taken(client, people, headers):
    response = await client.post(
        LOGIN, content=await _body(people), headers={"Content-Type": "application/json"} | headers
    )
    assert response.status_code == 200, response.text
