"""Money and counts in request bodies are taken only as JSON numbers, flags only as JSON
booleans: ``true`` is not 1 fen and ``"100"`` is not 100 (issue 19.6)."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from pydantic import BaseModel, BeforeValidator

from tendering.core.params import json_boolean, json_integer

_CHECKS = {int: json_integer, bool: json_boolean}


def _lax(model: type[BaseModel], seen: set[type]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, info in model.model_fields.items():
        found += _lax_in(
            f"{model.__module__}.{model.__qualname__}.{name}",
            info.annotation,
            list(info.metadata),
            seen,
        )
    return found


def _lax_in(where: str, annotation: Any, metadata: list[Any], seen: set[type]) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _lax_in(where, inner, metadata + extra, seen)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, dict):
        return [
            lax
            for arg in typing.get_args(annotation)
            if arg is not Ellipsis
            for lax in _lax_in(where, arg, metadata, seen)
        ]
    if annotation in (int, bool):
        check = _CHECKS[annotation]
        strict = any(isinstance(m, BeforeValidator) and m.func is check for m in metadata)
        return [] if strict else [f"{where} ({annotation.__name__})"]
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return _lax(annotation, seen)
    return []


def _body_models(app: Any) -> list[Any]:
    bodies = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not handler.fn.__module__.startswith(("tendering.", "experts.", "agencies.")):
                continue  # Litestar's own (the schema pages) take no body
            hints = typing.get_type_hints(handler.fn, include_extras=True)
            if "data" in hints:
                bodies.append(hints["data"])
    return bodies


def test_every_integer_and_flag_in_a_request_body_is_strict(app):
    bodies = _body_models(app)
    assert len(bodies) > 30  # the walk found the routes' bodies
    seen: set[type] = set()
    lax = sorted({x for body in bodies for x in _lax_in("body", body, [], seen)})
    assert lax == [], "\n".join(lax)
