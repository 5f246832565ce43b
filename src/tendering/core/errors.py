"""The platform's one error hierarchy, mapped to HTTP in one place (``app.py``).

Services raise these; routes never build error responses themselves::

    PlatformError              500  (never raised directly)
    ├── RuleViolation          400  a domain rule refused the input (names rule and numbers)
    ├── InvalidInput           422  a field is malformed (names the field and what it must be)
    ├── Unauthorized           401  no valid login
    ├── Forbidden              403  logged in, but the role may not do this
    ├── NotFound               404  no such thing, or not the caller's to see
    ├── Conflict               409  the state or a deadline forbids it now (says why)
    └── PayloadTooLarge        413  the upload exceeds its limit

Every error has a stable ``code`` (``"tender.deadline_passed"``) that clients may match on,
and a ``message`` in plain words, shown to users as it is.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PlatformError",
    "RuleViolation",
    "Unauthorized",
]


class PlatformError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "platform.error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "code": self.code,
            "detail": self.message,
        }
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class RuleViolation(PlatformError):
    status = 400
    default_code = "rule.violated"


class InvalidInput(PlatformError):
    status = 422
    default_code = "input.invalid"


class Unauthorized(PlatformError):
    status = 401
    default_code = "auth.unauthorized"


class Forbidden(PlatformError):
    status = 403
    default_code = "auth.forbidden"


class NotFound(PlatformError):
    status = 404
    default_code = "not_found"


class Conflict(PlatformError):
    status = 409
    default_code = "state.conflict"


class PayloadTooLarge(PlatformError):
    status = 413
    default_code = "upload.too_large"
