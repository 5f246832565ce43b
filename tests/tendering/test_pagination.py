"""Every list of the API pages one way (``core/pagination.py``): ``current_page`` and
``page_size`` in, ``{"items", "limit", "offset", "total"}`` out. Walks every GET route of
the app (every context: tendering, experts, agencies, auction ...) and fails on a route that
answers a bare list, or pages with other parameters. The few lists that are whole on
purpose are named in ARCHITECTURE.md ("Lists"), each with its reason."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar.routes import HTTPRoute

from tendering.core.auth.models import Role
from tendering.core.pagination import OffsetPagination
from tests.agencies.conftest import filing

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
PAGED_SHAPE = {"items", "limit", "offset", "total"}
PAGE_PARAMETERS = {"current_page", "page_size"}
# Query parameters that would page a list another way.
OTHER_PAGING = {"limit", "offset", "page", "per_page", "size", "cursor", "skip", "take"}
# Whole on purpose; ARCHITECTURE.md names each (tested below).
UNPAGED = {
    "/api/calendar/{year}",  # one year's calendar, entered and read whole
    "/api/lots/{lot_code}/opening/events",  # the opening's live steps, read on after_seq
    "/api/experts/draws/{code}/list",  # one draw's picks: as many as the draw asked for
    "/api/auctions/{code}/frames",  # a live auction's frames, read on after_seq (and limit)
}

# A value for each required query parameter of a list (a new one: add it here).
REQUIRED_VALUES = {"year": 2026}


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _get_handlers(app: Any) -> dict[str, Any]:
    """Path (as OpenAPI writes it) -> the GET handler of every route of the app."""
    return {
        route.path_format: handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if "GET" in handler.http_methods
    }


def _answers_a_list(annotation: Any) -> bool | None:
    """True: a list type; False: one page of ``OffsetPagination``; None: neither."""
    origin = typing.get_origin(annotation) or annotation
    if origin is OffsetPagination:
        return False
    if not isinstance(origin, type) or issubclass(origin, (str, bytes, bytearray)):
        return None
    return True if issubclass(origin, (list, tuple, set, frozenset, Sequence)) else None


async def test_every_list_pages_one_way(client):
    handlers = _get_handlers(client.app)
    document = (await client.get("/schema/openapi.json")).json()
    components = document["components"]["schemas"]
    assert len(handlers) > 40 and any(p.startswith("/api/experts") for p in handlers)
    assert any(p.startswith("/api/agencies") for p in handlers)
    paged, unpaged, other_ways = [], [], []
    for path, handler in sorted(handlers.items()):
        operation = document["paths"].get(path, {}).get("get", {})
        query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        schemas = [
            _resolve(content.get("schema", {}), components)
            for status, response in operation.get("responses", {}).items()
            if status.startswith("2")
            for content in response.get("content", {}).values()
        ]
        by_type = _answers_a_list(handler.parsed_fn_signature.return_type.annotation)
        by_schema = [s.get("type") == "array" for s in schemas]
        if by_type is False or any(set(s.get("properties", {})) == PAGED_SHAPE for s in schemas):
            paged.append(path)
            if not query >= PAGE_PARAMETERS or query & OTHER_PAGING:
                other_ways.append(f"{path}: {sorted(query)}")
        elif by_type or any(by_schema):
            unpaged.append(path)
        elif query & OTHER_PAGING:
            if path in UNPAGED:
                unpaged.append(path)
            else:
                other_ways.append(f"{path}: {sorted(query)}")
    assert len(paged) > 20  # the walk found the lists
    assert sorted(set(unpaged) - UNPAGED) == [], "a list that does not page (core/pagination.py)"
    assert other_ways == [], "a list paging another way than current_page/page_size"
    assert sorted(UNPAGED - set(unpaged)) == [], "an exception that is no longer needed"


def test_the_unpaged_lists_are_documented():
    lists = ARCHITECTURE.split("## Lists", 1)[1].split("\n## ", 1)[0]
    assert [path for path in sorted(UNPAGED) if f"`GET {path}`" not in lists] == []


async def test_each_list_answers_the_paged_shape(client, people, login):
    """Every list without path parameters, asked for its first item by each role: where it
    answers, the answer is one page of the asked size."""
    handlers = _get_handlers(client.app)
    document = (await client.get("/schema/openapi.json")).json()
    lists = sorted(
        path
        for path, handler in handlers.items()
        if "{" not in path
        and _answers_a_list(handler.parsed_fn_signature.return_type.annotation) is False
    )
    required = {
        path: {
            p["name"]: REQUIRED_VALUES[p["name"]]
            for p in document["paths"][path]["get"].get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        }
        for path in lists
    }
    answered: set[str] = set()
    for role in Role:
        headers = await login(await people.user(role))
        if role is Role.AGENCY:  # its own lists answer once it has filed
            filed = await client.put("/api/agencies/me", json=filing(), headers=headers)
            assert filed.status_code == 200, filed.text
        for path in lists:
            params = {"page_size": 1, **required[path]}
            response = await client.get(path, params=params, headers=headers)
            if response.status_code == 200:
                body = response.json()
                assert set(body) == PAGED_SHAPE, path
                assert body["limit"] == 1 and body["offset"] == 0 and len(body["items"]) <= 1
                answered.add(path)
            else:
                assert response.status_code in (403, 404), (role, path, response.text)
    assert len(answered) > 15 and sorted(set(lists) - answered) == []
