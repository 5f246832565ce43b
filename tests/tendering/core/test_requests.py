"""JSON bodies nested deeper than 32 levels are refused before decoding (issue 19.6)."""

from __future__ import annotations

import json

import pytest

from tendering.core.auth.models import Role
from tendering.core.requests import MAX_JSON_DEPTH, json_depth_exceeds


def nested(depth: int, inner: str = "1") -> bytes:
    text = inner
    for level in range(depth):
        text = f'{{"k": {text}}}' if level % 2 else f"[{text}]"
    return text.encode()


@pytest.mark.parametrize("depth", [0, 1, 2, 31, 32])
def test_a_body_up_to_the_limit_is_taken(depth):
    raw = nested(depth)
    json.loads(raw)  # the sample is valid JSON of that depth
    assert not json_depth_exceeds(raw)


@pytest.mark.parametrize("depth", [33, 34, 1000])
def test_a_body_beyond_the_limit_is_refused(depth):
    assert json_depth_exceeds(nested(depth))


def test_a_megabyte_deep_body_is_refused():
    assert json_depth_exceeds(b"[" * 500_000 + b"]" * 500_000)


def test_brackets_inside_strings_do_not_count():
    raw = json.dumps({"a": "[" * 100 + "{" * 100, "b": ['\\"[[[[', '"]]]\\"', '"{']}).encode()
    assert not json_depth_exceeds(raw)
    assert json_depth_exceeds(json.dumps({"s": "]]]]" * 10, "v": json.loads(nested(40))}).encode())


def test_wide_bodies_at_a_small_depth_are_taken():
    assert not json_depth_exceeds(json.dumps([[i, {"x": [i]}] for i in range(10_000)]).encode())


def test_unclosed_brackets_are_refused_too():
    assert json_depth_exceeds(b"[" * 1000)
    assert json_depth_exceeds(b'{"a": [1, [2, ' + b"[" * 40)


def test_a_shallow_malformed_body_is_left_for_the_decoder():
    assert not json_depth_exceeds(b"{not json")
    assert not json_depth_exceeds(b'{"a": [1, 2}')


DEEP = b"[" * 1000 + b"]" * 1000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        b'{"username": ' + DEEP + b', "password": "x"}',
        b'{"username": "a", "password": "b", "x": ' + nested(MAX_JSON_DEPTH + 1) + b"}",
        b"[" * 1000,
    ],
)
async def test_the_login_refuses_a_deep_body_with_400(client, body):
    response = await client.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "input.invalid"
    assert response.json()["field"] == "body"


async def test_a_logged_in_json_route_refuses_a_deep_body_with_400(client, people, login):
    staff = await people.user(Role.STAFF)
    headers = await login(staff) | {"Content-Type": "application/json"}
    response = await client.post(
        "/api/tenders/projects", content=b'{"code": ' + DEEP + b"}", headers=headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "input.invalid"
