"""The HTTP edge of the kernel: the one error mapping, health and the platform key route."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request, Response, get
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tendering.core.auth.guards import public
from tendering.core.db import DbSession
from tendering.core.deps import SigningKey
from tendering.core.errors import (
    BadRequest,
    ClientGone,
    Conflict,
    ErrorCode,
    Forbidden,
    InternalError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PlatformError,
    RequestTimeout,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

__all__ = ["HealthRead", "PlatformKeyRead", "exception_handlers", "health", "platform_key"]

log = logging.getLogger("tendering.web")


@dataclass(frozen=True, slots=True)
class HealthRead:
    status: Literal["ok"]


@dataclass(frozen=True, slots=True)
class PlatformKeyRead:
    """The key that verifies receipts, opening records, draw transcripts and checkpoints."""

    algorithm: Literal["Ed25519"]
    public_key: str  # standard base64 of the raw 32 bytes
    key_id: str  # SHA-256 lowercase hex of the raw public key


# Litestar's own exceptions (no route, wrong method, unreadable body...) answer with the code
# of the platform error class of the same status: the classes of errors.py are the one table
# of statuses and codes.
_HTTP_KINDS: dict[int, type[PlatformError]] = {
    kind.status: kind
    for kind in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        RequestTimeout,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
    )
}


def problem(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """The one exception handler: every error leaves as ``application/problem+json``
    ``{"status", "code", "detail"[, "field", "details"]}`` with the status in the body."""
    headers: dict[str, str] = {}
    if isinstance(exc, ClientGone | RequestTimeout):
        # The client's doing, at the 4xx level: one line, no traceback, never "HTTP 500".
        log.warning(
            "%s %s: %s %s (%s)", request.method, request.url.path, exc.status, exc.code, exc
        )
    if isinstance(exc, PlatformError) and exc.status < 500:
        error = exc
    elif isinstance(exc, ValidationException):
        error = _invalid_input(exc)
    elif isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})  # Allow, Retry-After, ...
        status = exc.status_code
        if status >= 500:
            log.error("HTTP %s: %s", status, exc.detail)
        kind = _HTTP_KINDS.get(status)
        code = kind.default_code if kind else ErrorCode.HTTP_ERROR
        return _problem(status, {"status": status, "code": code, "detail": exc.detail}, headers)
    elif isinstance(exc, DBAPIError) and _is_data_exception(exc):
        error = _refused_value(request, exc)
    elif isinstance(exc, DBAPIError) and _sqlstate(exc) == UNIQUE_VIOLATION:
        error = _duplicate(request, exc)
    else:
        log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        error = InternalError("Something went wrong on the platform; it has been logged.")
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    return _problem(error.status, error.to_body(), headers)


def _problem(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    return Response(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def _field_name(error: dict[str, Any]) -> str:
    key = error.get("key")
    return str(key) if key else str(error.get("source") or "body")


def _invalid_input(exc: ValidationException) -> InvalidInput:
    """Input that fails a schema (Litestar's own validation) is ``InvalidInput``, as the
    domain's refusals of a malformed field are: 400 ``input.invalid`` naming the field."""
    errors = [e for e in (exc.extra or []) if isinstance(e, dict)]
    if not errors:
        return InvalidInput(exc.detail or "Invalid input.")
    for e in errors:  # pydantic prefixes a validator's own words with this
        e["message"] = str(e.get("message", "is not valid")).removeprefix("Value error, ")
    parts = [f"{_field_name(e)}: {e['message']}" for e in errors]
    return InvalidInput(
        "Invalid input. " + "; ".join(parts),
        field=_field_name(errors[0]),
        details={"errors": errors},
    )


UNIQUE_VIOLATION = "23505"


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or "")


def _is_data_exception(exc: DBAPIError) -> bool:
    # SQLSTATE class 22, "data exception": too long, NUL, out of range.
    return _sqlstate(exc).startswith("22")


def _duplicate(request: Request[Any, Any, Any], exc: DBAPIError) -> Conflict:
    # Two requests made the same thing at once and a unique index refused the second: the
    # state conflicts, as when they come one after the other (409, not 500). Services answer
    # their own races with their own codes; one that reaches here is logged (with the
    # constraint, never the row) so that the service can be taught it.
    constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
    log.warning(
        "unique violation reached the edge on %s %s (%s)",
        request.method,
        request.url.path,
        constraint or "constraint not named",
    )
    return Conflict(
        "这项记录刚被另一请求创建 (the same thing was just created by another request);"
        " reload and check before trying again."
    )


def _refused_value(request: Request[Any, Any, Any], exc: DBAPIError) -> InvalidInput:
    # A value the schemas let through but PostgreSQL refuses is still the caller's input:
    # 400, not 500. Logged, because it means a schema check is missing.
    reason = str(exc.orig).split("\n", 1)[0].rsplit(": ", 1)[-1].strip()
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path, reason)
    return InvalidInput(f"A value in the request cannot be stored: {reason}.")


exception_handlers: dict[Any, Any] = {Exception: problem}


@get(
    "/health",
    tags=["platform"],
    summary="Liveness and database check",
    opt=public("load balancers and monitors probe it"),
    security=[{}],  # anyone: overrides the document-wide bearer requirement
)
async def health(db_session: DbSession) -> HealthRead:
    await db_session.execute(text("SELECT 1"))
    return HealthRead(status="ok")


@get(
    "/api/platform/key",
    tags=["platform"],
    summary="The platform's Ed25519 public key (verifies receipts, records, checkpoints)",
    opt=public("anyone verifies the platform's signatures with it"),
    security=[{}],  # anyone: overrides the document-wide bearer requirement
)
async def platform_key(platform_key: SigningKey) -> PlatformKeyRead:
    return PlatformKeyRead(
        algorithm="Ed25519", public_key=platform_key.public_b64, key_id=platform_key.key_id
    )
