"""Money and counts in request bodies are taken only as JSON numbers, flags only as JSON
booleans: ``true`` is not 1 fen and ``"100"`` is not 100 (issue 19.6)."""

from __future__ import annotations

import inspect
import types
import typing
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, NaiveDatetime

from tendering.core.params import in_calendar_range, json_boolean, json_integer

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


CONTEXTS = ("tendering.", "experts.", "agencies.", "auction.")


def _body_models(app: Any) -> list[Any]:
    bodies = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not handler.fn.__module__.startswith(CONTEXTS):
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


_DATE_KINDS = (AwareDatetime, NaiveDatetime, date)


def _dates(where: str, annotation: Any, metadata: list[Any], seen: set[type]) -> list[Any]:
    """``(where, [after-validators])`` of every date and time in ``annotation``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _dates(where, inner, metadata + extra, seen)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, dict):
        return [
            found
            for arg in typing.get_args(annotation)
            if arg is not Ellipsis
            for found in _dates(where, arg, metadata, seen)
        ]
    if annotation in _DATE_KINDS or (inspect.isclass(annotation) and issubclass(annotation, date)):
        return [(where, [m.func for m in metadata if isinstance(m, AfterValidator)])]
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel) and annotation not in seen:
        seen.add(annotation)
        return [
            found
            for name, info in annotation.model_fields.items()
            for found in _dates(
                f"{annotation.__qualname__}.{name}", info.annotation, list(info.metadata), seen
            )
        ]
    return []


def _refuses(check: Any, value: Any) -> bool:
    try:
        check(value)
    except ValueError:
        return True
    return False


def test_every_date_in_a_request_body_is_within_the_calendars_years(app):
    seen: set[type] = set()
    found = [d for body in _body_models(app) for d in _dates("body", body, [], seen)]
    assert len(found) > 10
    unchecked = []
    for where, checks in found:
        for moment in (datetime(1899, 12, 31, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)):
            values = (moment, moment.date())
            if not any(_refuses(check, v) for check in checks for v in values):
                unchecked.append(f"{where} takes {moment.date()}")
    assert unchecked == [], "\n".join(unchecked)


def test_the_calendar_range_takes_its_ends_and_refuses_beyond():
    assert in_calendar_range(date(1900, 1, 1)) == date(1900, 1, 1)
    assert in_calendar_range(date(2999, 12, 31)) == date(2999, 12, 31)
    for outside in (date(1899, 12, 31), date(3000, 1, 1), date(1, 1, 1), date(9999, 12, 31)):
        assert _refuses(in_calendar_range, outside)


@pytest.mark.parametrize(
    "path",
    [
        "/api/public/notices?published_from=0001-01-01T00:00:00Z",
        "/api/public/notices?published_to=9999-12-31T23:59:59Z",
        "/api/public/agencies/credit/AG-1?on=0001-01-01",
    ],
)
async def test_a_date_parameter_outside_the_calendar_is_400(client, path):
    response = await client.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "input.invalid"
    assert "1900" in response.json()["detail"]


async def test_a_calendar_day_outside_the_years_is_400(client, people, login):
    from tendering.core.auth.models import Role

    headers = await login(await people.user(Role.STAFF))
    for day in ("0001-01-01", "9999-12-31"):
        put = await client.put(
            f"/api/calendar/days/{day}", headers=headers, json={"kind": "holiday", "name": "x"}
        )
        assert put.status_code == 400, put.text
        report = await client.get(f"/api/ledger/reconciliation/{day}", headers=headers)
        assert report.status_code == 400, report.text
