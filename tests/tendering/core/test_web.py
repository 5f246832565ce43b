"""The one exception-to-response mapping, and the OpenAPI schema."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from tendering.core.db import make_engine
from tendering.core.errors import Conflict, Inconsistent, TooManyRequests, present
from tendering.core.web import exception_handlers


async def test_unknown_path_is_404_json(client):
    response = await client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
    assert response.json()["code"] == "not_found"


async def test_wrong_method_is_405_json(client):
    response = await client.delete("/api/auth/login")
    assert response.status_code == 405
    assert response.json()["code"] == "request.method_not_allowed"


async def test_openapi_schema_is_served_and_lists_the_routes(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/auth/login" in schema["paths"]
    assert "/api/organizations" in schema["paths"]
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


async def test_a_body_over_the_default_limit_is_413_json(client):
    response = await client.post(
        "/api/auth/login",
        content=b"{" + b" " * (11 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "upload.too_large"


async def test_public_routes_say_so_in_the_openapi_schema(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    # [{}] is OpenAPI for "no credentials needed"; others inherit the document's bearer.
    assert paths["/health"]["get"]["security"] == [{}]
    assert paths["/api/platform/key"]["get"]["security"] == [{}]
    assert paths["/api/auth/login"]["post"]["security"] == [{}]
    assert "security" not in paths["/api/auth/me"]["get"]


async def test_health_and_platform_key_need_no_login(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    key = (await client.get("/api/platform/key")).json()
    assert key["algorithm"] == "Ed25519"


def _mapping_app(database_url: str) -> Litestar:
    @get("/conflict")
    async def conflict() -> None:
        raise Conflict("The bid deadline has passed.", code="bid.deadline_passed", field="lot")

    @get("/nul")
    async def nul() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT CAST(:v AS text)"), {"v": "a\u0000b"})
        finally:
            await engine.dispose()

    @get("/duplicate")
    async def duplicate() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("CREATE TEMP TABLE twice (code text PRIMARY KEY)"))
                await conn.execute(text("INSERT INTO twice VALUES ('secret-internal-detail')"))
                await conn.execute(text("INSERT INTO twice VALUES ('secret-internal-detail')"))
        finally:
            await engine.dispose()

    @get("/bug")
    async def bug() -> None:
        raise KeyError("secret-internal-detail")

    @get("/slow-down")
    async def slow_down() -> None:
        raise TooManyRequests("Too many failed logins; wait.", retry_after=900)

    @get("/broken-invariant")
    async def broken_invariant() -> None:
        present(None, "lot.id (secret-internal-detail)")

    return Litestar(
        [conflict, nul, duplicate, bug, slow_down, broken_invariant],
        exception_handlers=exception_handlers,
    )


async def test_platform_errors_keep_status_code_and_field(database_url):
    async with AsyncTestClient(app=_mapping_app(database_url)) as client:
        response = await client.get("/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "code": "bid.deadline_passed",
        "detail": "The bid deadline has passed.",
        "field": "lot",
    }


async def test_a_value_the_database_refuses_is_400_not_500(database_url):
    async with AsyncTestClient(app=_mapping_app(database_url)) as client:
        response = await client.get("/nul")
    assert response.status_code == 400
    assert response.json()["code"] == "input.invalid"
    assert "0x00" in response.json()["detail"]


async def test_a_unique_violation_that_reaches_the_edge_is_409_not_500(database_url):
    # A race the service did not foresee (two requests creating the same thing at once) is
    # the state conflicting, as the sequential case is: 409, and no detail of the row.
    async with AsyncTestClient(app=_mapping_app(database_url)) as client:
        response = await client.get("/duplicate")
    assert response.status_code == 409
    assert response.json()["code"] == "state.conflict"
    assert "secret-internal-detail" not in response.text


async def test_a_bug_is_500_without_its_details(database_url):
    async with AsyncTestClient(app=_mapping_app(database_url)) as client:
        response = await client.get("/bug")
    assert response.status_code == 500
    assert response.json()["code"] == "platform.internal"
    assert "secret-internal-detail" not in response.text


async def test_too_many_requests_says_when_to_come_back(database_url):
    async with AsyncTestClient(app=_mapping_app(database_url)) as client:
        response = await client.get("/slow-down")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "900"
    assert response.json() == {
        "status": 429,
        "code": "request.too_many",
        "detail": "Too many failed logins; wait.",
        "details": {"retry_after": 900},
    }


async def test_litestar_errors_keep_their_headers_and_take_the_class_code(client):
    response = await client.delete("/api/auth/login")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "POST" in response.headers["allow"]
    unreadable = await client.post(
        "/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert unreadable.status_code == 400
    assert unreadable.json()["code"] == "request.bad"  # BadRequest's code, from errors.py
    assert "JSON is malformed" in unreadable.json()["detail"]


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_broken_invariant_is_a_logged_500_where_an_assert_was(database_url):
    # `python -O` drops asserts: the code raises Inconsistent instead, even optimised.
    app = _mapping_app(database_url)  # (Litestar sets up logging here: keep our handler after)
    kept, web_log = _Kept(), logging.getLogger("tendering.web")
    web_log.addHandler(kept)
    try:
        async with AsyncTestClient(app=app) as client:
            response = await client.get("/broken-invariant")
    finally:
        web_log.removeHandler(kept)
    assert response.status_code == 500
    assert response.json()["code"] == "platform.internal"
    assert "secret-internal-detail" not in response.text
    (logged,) = kept.records
    assert isinstance(logged.exc_info and logged.exc_info[1], Inconsistent)
    assert "lot.id (secret-internal-detail) is missing" in str(logged.exc_info[1])


def test_present_returns_what_is_there_and_names_what_is_not():
    assert present(0, "zero") == 0
    with pytest.raises(Inconsistent, match="the lot's key is missing"):
        present(None, "the lot's key")
