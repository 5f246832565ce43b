"""Handlers take what they need by name (core/deps.py), never from the app's state.

A handler that reads ``request.app.state[...]`` hides what it depends on from OpenAPI, from
the tests that override dependencies and from the reader; the named dependencies say it in
the signature. Guards and middleware, which Litestar gives no dependencies, may read it.
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def route_modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "routes" in p.stem)


def test_route_modules_exist():
    names = {p.stem for p in route_modules()}
    assert {"routes", "public_routes", "credit_routes"} <= names


def test_no_handler_reads_the_app_state():
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in route_modules()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "app.state" in line
    ]
    assert offenders == [], "take it by name from tendering.core.deps instead"
