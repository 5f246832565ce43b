"""Every route of the app has a guard or says why it is public, so no route forgets."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute

from tendering.core.auth.guards import PUBLIC_OPT, public, requires_role
from tendering.core.auth.models import Role
from tendering.core.auth.same_site import same_site_json


def _handlers(app: Litestar):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.fn.__name__ == "options_handler":
                    continue  # Litestar's own answer to OPTIONS (allowed methods), no data
                for method in sorted(handler.http_methods):
                    yield f"{method} {route.path}", handler
        elif isinstance(route, WebSocketRoute):
            yield f"WS {route.path}", route.route_handler


def _is_openapi(app: Litestar, label: str) -> bool:
    assert app.openapi_config is not None
    return label.split(" ", 1)[1].startswith(app.openapi_config.path)


def test_every_route_is_guarded_or_public_with_a_reason(app):
    unguarded = []
    for label, handler in _handlers(app):
        if handler.resolve_guards() or _is_openapi(app, label):
            continue
        reason = handler.opt.get(PUBLIC_OPT)
        if not (isinstance(reason, str) and reason.strip()):
            unguarded.append(label)
    assert unguarded == [], (
        f"These routes have no guard: {', '.join(unguarded)}. Add guards=[requires_role(...)]"
        " or [requires_login], or, if anyone may call them, opt=public('why') from"
        " tendering.core.auth.guards."
    )


def test_the_kernels_public_routes_are_exactly_these(app):
    public = {
        label
        for label, handler in _handlers(app)
        if PUBLIC_OPT in handler.opt
        # the login's same-site check refuses foreign pages, not callers: still public
        and not [g for g in handler.resolve_guards() if g is not same_site_json]
    }
    assert {"GET /health", "GET /api/platform/key", "POST /api/auth/login"} <= public
    directory = {label for label in public if "/api/users" in label or "organizations" in label}
    assert directory == set()


def test_a_public_route_must_say_why():
    with pytest.raises(ValueError, match="why"):
        public("  ")


def test_role_guards_are_named_for_their_roles():
    assert requires_role(Role.STAFF, Role.ADMIN).__name__ == "requires_role_admin_staff"
