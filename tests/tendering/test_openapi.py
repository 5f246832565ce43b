"""The API document describes what each endpoint answers: every JSON success response of the
platform's routes has a schema with named properties (a typed model), not a bare ``object``
that clients must guess.

The check covers the handlers of the ``tendering`` package; a new top-level context (auction,
experts, agencies) joins it by adding its package to ``CHECKED``."""

from __future__ import annotations

from typing import Any

from litestar.routes import HTTPRoute

CHECKED = ("tendering.", "auction.")


def _checked_operations(app: Any) -> set[tuple[str, str]]:
    """(path as OpenAPI writes it, method) of every handler of a checked package."""
    return {
        (route.path_format, method.lower())
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.fn.__module__.startswith(CHECKED)
        and handler.include_in_schema  # the docs page's own assets are not API
        for method in handler.http_methods
    }


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _described(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    schema = _resolve(schema, components)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [_resolve(s, components) for s in schema[key]]
            return all(_described(s, components) for s in options if s.get("type") != "null")
    if schema.get("type") == "array":
        return _described(schema.get("items", {}), components)
    if schema.get("type") in ("object", None):
        return bool(schema.get("properties"))
    return True  # a string, number or boolean says what it is


async def test_every_json_answer_has_a_described_schema(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    components = document["components"]["schemas"]
    checked = _checked_operations(client.app)
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert len(checked) > 50 and checked <= documented  # every checked route is found
    vague = [
        f"{method.upper()} {path} {status}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and (path, method) in checked
        for status, answer in operation.get("responses", {}).items()
        if status.startswith("2")
        for media, content in (answer.get("content") or {}).items()
        if "json" in media and not _described(content.get("schema", {}), components)
    ]
    assert vague == []
    # The lists page one way: items, limit, offset, total.
    statements = document["paths"]["/api/ledger/statements"]["get"]
    page = _resolve(
        statements["responses"]["200"]["content"]["application/json"]["schema"], components
    )
    assert set(page["properties"]) == {"items", "limit", "offset", "total"}
    assert {p["name"] for p in statements["parameters"]} >= {"current_page", "page_size"}
    row = _resolve(page["properties"]["items"]["items"], components)
    assert {"statement_ref", "closing_fen", "difference_fen"} <= set(row["properties"])
