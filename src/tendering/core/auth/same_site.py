"""The login takes JSON from this site only (login CSRF).

A page on another site can make a visitor's browser post to the login, with the attacker's
own username and password: the visitor is then logged in as the attacker, and whatever they
enter (a bid's documents, a bank account for a refund) lands in the attacker's account. A
plain HTML form can post only ``application/x-www-form-urlencoded``, ``multipart/form-data``
or ``text/plain`` without asking the site first, so the login takes ``application/json``
alone (415 otherwise); and a browser says where a request comes from, so a request whose
``Sec-Fetch-Site`` is neither ``same-origin`` nor ``none`` (typed or bookmarked), or whose
``Origin`` is neither the configured public origin nor the host it was sent to, is refused
with 403 ``auth.csrf_failed``. Clients outside a browser send neither header and pass.

    @post("/api/auth/login", guards=[same_site_json])
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from tendering.core.errors import ErrorCode, Forbidden, UnsupportedMediaType
from tendering.settings import Settings

__all__ = ["same_site_json"]

_FROM_THIS_SITE = frozenset({"same-origin", "none"})


def _media_type(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _foreign(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """Why the request comes from another site, or ``None``."""
    fetch_site = connection.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in _FROM_THIS_SITE:
        return f"Sec-Fetch-Site: {fetch_site}"
    origin = connection.headers.get("origin")
    if origin is None:
        return None
    settings: Settings = connection.app.state["settings"]
    if origin == settings.public_origin:
        return None
    if origin != "null" and urlsplit(origin).netloc == connection.headers.get("host", ""):
        return None
    return f"Origin: {origin}"


async def same_site_json(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard of the login: JSON only (415), and from this site only (403)."""
    if _media_type(connection) != "application/json":
        raise UnsupportedMediaType(
            "登录请求须为 JSON (the login takes a JSON body: Content-Type: application/json).",
        )
    foreign = _foreign(connection)
    if foreign is not None:
        raise Forbidden(
            f"登录请求来自其他网站 (this login was sent from another site's page, {foreign});"
            " log in from the platform's own pages.",
            code=ErrorCode.AUTH_CSRF_FAILED,
        )
