"""Reads the caller's token (``Authorization: Bearer`` or the session cookie) into
``scope["user"]``. Public routes work without one; guards turn a missing or bad token into
401 with the reason recorded here (expired, logged out, unknown).
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import Headers
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.core.auth.tokens import TokenProblem, resolve_token

__all__ = ["SESSIONMAKER_STATE_KEY", "SESSION_COOKIE", "TokenMiddleware", "token_from_headers"]

SESSION_COOKIE = "tendering_session"
SESSIONMAKER_STATE_KEY = "tendering_sessionmaker"


def token_from_headers(headers: Headers) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    cookie = headers.get("cookie", "")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


class TokenMiddleware(ASGIMiddleware):
    scopes = ("http", "websocket")  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope_any: Any = scope
        scope_any["user"] = None
        scope_any["auth"] = None
        token = token_from_headers(Headers.from_scope(scope))
        if token is not None:
            maker: async_sessionmaker[AsyncSession] = scope["litestar_app"].state[
                SESSIONMAKER_STATE_KEY
            ]
            async with maker() as session:
                found = await resolve_token(session, token)
            if isinstance(found, TokenProblem):
                scope_any["auth"] = found
            else:
                scope_any["user"] = found
                scope_any["auth"] = token
        await next_app(scope, receive, send)
