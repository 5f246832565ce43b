"""Security headers on every response the platform sends.

A ``before_send`` hook (``Litestar(before_send=[security_headers])``) runs for every
response, a 404 for an unknown path and an error page included, and adds:

- ``Content-Security-Policy``: the API serves data, never pages, so nothing in a response
  may load or run anything (``default-src 'none'``); the API docs page (``/schema``) loads
  only its own scripts and styles, served by the platform itself (``core/apidocs.py``);
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` keep every answer out of frames;
- ``X-Content-Type-Options: nosniff``: a browser takes the content type as sent;
- ``Referrer-Policy: no-referrer``: no address (a notice id, a token in a link) leaks onward;
- ``Cache-Control: no-store`` on private data: any answer to a request that carries a login
  (bearer token or session cookie) or that sets a cookie (the login's), so that no shared
  cache or browser history keeps a bidder's deposits or a staff view.

A header a route sets itself is kept, except ``Cache-Control`` on private data.
"""

from __future__ import annotations

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import Message, Scope

from tendering.core.auth.middleware import credential_from_headers

__all__ = ["API_POLICY", "DOCS_PATH", "DOCS_POLICY", "security_headers"]

DOCS_PATH = "/schema"

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; font-src 'self';"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Swagger UI sets inline styles from its scripts; scripts stay 'self' only (no inline).

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _is_docs(path: str) -> bool:
    return path == DOCS_PATH or path.startswith(DOCS_PATH + "/")


async def security_headers(message: Message, scope: Scope) -> None:
    """Add the security headers to a response's start message (see the module docstring)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    policy = DOCS_POLICY if _is_docs(scope.get("path", "")) else API_POLICY
    for name, value in {**_ALWAYS, "Content-Security-Policy": policy}.items():
        if name not in headers:
            headers[name] = value
    private = credential_from_headers(Headers.from_scope(scope)) is not None
    if private or "set-cookie" in headers:
        headers["Cache-Control"] = "no-store"
