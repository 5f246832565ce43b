"""The HTTP edge of the kernel: the one error mapping, health and the platform key route."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tendering.core.auth.guards import public
from tendering.core.db import DbSession
from tendering.core.deps import SigningKey
from tendering.core.errors import ErrorCode, PlatformError

__all__ = ["exception_handlers", "health", "platform_key"]

log = logging.getLogger("tendering.web")

_STATUS_CODES = {
    400: ErrorCode.REQUEST_BAD,
    401: ErrorCode.AUTH_UNAUTHORIZED,
    403: ErrorCode.AUTH_FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.REQUEST_METHOD_NOT_ALLOWED,
    409: ErrorCode.STATE_CONFLICT,
    413: ErrorCode.UPLOAD_TOO_LARGE,
    415: ErrorCode.REQUEST_UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.REQUEST_TOO_MANY,
}


def _problem(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, media_type="application/problem+json")


def _platform_error(
    request: Request[Any, Any, Any], exc: PlatformError
) -> Response[dict[str, Any]]:
    if exc.status >= 500:  # the platform's fault: logged, and no internals in the answer
        return _unexpected(request, exc)
    return _problem(exc.status, exc.to_body())


def _field_name(error: dict[str, Any]) -> str:
    key = error.get("key")
    return str(key) if key else str(error.get("source") or "body")


def _validation_error(
    _: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    errors = [e for e in (exc.extra or []) if isinstance(e, dict)]
    if errors:
        for e in errors:  # pydantic prefixes a validator's own words with this
            e["message"] = str(e.get("message", "is not valid")).removeprefix("Value error, ")
        parts = [f"{_field_name(e)}: {e['message']}" for e in errors]
        detail = "Invalid input. " + "; ".join(parts)
        field: str | None = _field_name(errors[0])
    else:
        detail = exc.detail or "Invalid input."
        field = None
    body: dict[str, Any] = {"status": 400, "code": ErrorCode.INPUT_INVALID, "detail": detail}
    if field:
        body["field"] = field
        body["details"] = {"errors": errors}
    return _problem(400, body)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        log.error("HTTP %s: %s", status, exc.detail)
    return _problem(
        status,
        {
            "status": status,
            "code": _STATUS_CODES.get(status, ErrorCode.HTTP_ERROR),
            "detail": exc.detail,
        },
    )


def _database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    # A value the schemas let through but PostgreSQL refuses (SQLSTATE class 22, "data
    # exception": too long, NUL, out of range) is still the caller's input: 400, not 500.
    # Logged, because it means a schema check is missing. Anything else is a platform fault.
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if not sqlstate.startswith("22"):
        return _unexpected(request, exc)
    reason = str(exc.orig).split("\n", 1)[0].rsplit(": ", 1)[-1].strip()
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path, reason)
    return _problem(
        400,
        {
            "status": 400,
            "code": ErrorCode.INPUT_INVALID,
            "detail": f"A value in the request cannot be stored: {reason}.",
        },
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        {
            "status": 500,
            "code": ErrorCode.PLATFORM_INTERNAL,
            "detail": "Something went wrong on the platform; it has been logged.",
        },
    )


exception_handlers: dict[Any, Any] = {
    PlatformError: _platform_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    DBAPIError: _database_error,
    Exception: _unexpected,
}


@get(
    "/health",
    tags=["platform"],
    summary="Liveness and database check",
    opt=public("load balancers and monitors probe it"),
    security=[{}],  # anyone: overrides the document-wide bearer requirement
)
async def health(db_session: DbSession) -> dict[str, str]:
    await db_session.execute(text("SELECT 1"))
    return {"status": "ok"}


@get(
    "/api/platform/key",
    tags=["platform"],
    summary="The platform's Ed25519 public key (verifies receipts, records, checkpoints)",
    opt=public("anyone verifies the platform's signatures with it"),
    security=[{}],  # anyone: overrides the document-wide bearer requirement
)
async def platform_key(platform_key: SigningKey) -> dict[str, str]:
    return {
        "algorithm": "Ed25519",
        "public_key": platform_key.public_b64,
        "key_id": platform_key.key_id,
    }
