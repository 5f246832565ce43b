"""Reads the caller's token (``Authorization: Bearer`` or the session cookie) into
``scope["user"]``. Public routes work without one; guards turn a missing or bad token into
401 with the reason recorded here (expired, logged out, unknown).

CSRF: a browser sends the session cookie with any request, even one another site makes it
send. So a cookie counts as a login on POST/PUT/PATCH/DELETE only with the header
``X-CSRF-Token`` holding ``csrf_token_for(session token)`` (given at login, also in the
readable ``tendering_csrf`` cookie); and on a WebSocket only from this site's own Origin.
Without it the request goes on as anonymous, and a guard answers 403 with the reason.
A bearer token is never sent by a browser on its own, so bearer requests are exempt.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tendering.core.auth.tokens import TokenProblem, csrf_token_for, resolve_token_once
from tendering.core.errors import ErrorCode

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSIONMAKER_STATE_KEY",
    "SESSION_COOKIE",
    "TokenMiddleware",
    "credential_from_headers",
    "token_from_headers",
]

SESSION_COOKIE = "tendering_session"
CSRF_COOKIE = "tendering_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSIONMAKER_STATE_KEY = "tendering_sessionmaker"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CSRF_FAILED = TokenProblem(
    ErrorCode.AUTH_CSRF_FAILED,
    f"This request carries the session cookie but no valid {CSRF_HEADER} header, so it may"
    f" come from another site. Pages send the value of the {CSRF_COOKIE} cookie in that"
    " header; API clients use 'Authorization: Bearer <token>'.",
    status=403,
)
FOREIGN_ORIGIN = TokenProblem(
    ErrorCode.AUTH_CSRF_FAILED,
    "This WebSocket carries the session cookie but was opened from another site's page.",
    status=403,
)


def credential_from_headers(headers: Headers) -> tuple[str, str] | None:
    """``(token, "bearer" | "cookie")``; the Authorization header wins over the cookie."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        return (token, "bearer") if token else None
    cookie = headers.get("cookie", "")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value, "cookie"
    return None


def token_from_headers(headers: Headers) -> str | None:
    found = credential_from_headers(headers)
    return found[0] if found else None


def _cookie_problem(scope: Scope, headers: Headers, token: str) -> TokenProblem | None:
    """Why a cookie credential may not be used for this request (CSRF), or ``None``."""
    if scope["type"] == ScopeType.WEBSOCKET:
        origin = headers.get("origin")
        if origin and urlsplit(origin).netloc != headers.get("host", ""):
            return FOREIGN_ORIGIN
        return None
    if scope.get("method", "GET") in SAFE_METHODS:
        return None
    sent = headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token_for(token).encode()):
        return CSRF_FAILED
    return None


class TokenMiddleware(ASGIMiddleware):
    scopes = ("http", "websocket")  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope_any: Any = scope
        scope_any["user"] = None
        scope_any["auth"] = None
        headers = Headers.from_scope(scope)
        found = credential_from_headers(headers)
        problem = None
        if found is not None and found[1] == "cookie":
            problem = _cookie_problem(scope, headers, found[0])
        if problem is not None:
            scope_any["auth"] = problem
        elif found is not None:
            token = found[0]
            maker: async_sessionmaker[AsyncSession] = scope["litestar_app"].state[
                SESSIONMAKER_STATE_KEY
            ]
            engine: AsyncEngine = maker.kw["bind"]
            resolved = await resolve_token_once(engine, token)
            if isinstance(resolved, TokenProblem):
                scope_any["auth"] = resolved
            else:
                scope_any["user"] = resolved
                scope_any["auth"] = token
        await next_app(scope, receive, send)
