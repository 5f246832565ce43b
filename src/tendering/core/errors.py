"""The platform's one error hierarchy, mapped to HTTP in one place (``core/web.py``).

Services raise these; routes never build error responses themselves::

    PlatformError                 500  (never raised directly)
    ├── Inconsistent              500  the platform's own state broke an invariant (a bug, a
    │                                  damaged row): logged, answered as an internal error
    ├── RuleViolation             400  a domain rule refused the input (names rule and numbers)
    ├── InvalidInput              400  a field is malformed (names the field and what it must be)
    ├── BadRequest                400  a request that cannot be read at all (HTTP level)
    │   └── ClientGone                   the client went away before its body was complete
    ├── Unauthorized              401  no valid login
    ├── Forbidden                 403  logged in, but the role may not do this
    ├── NotFound                  404  no such thing, or not the caller's to see
    ├── MethodNotAllowed          405  the path exists, the method does not (HTTP level)
    ├── RequestTimeout            408  the request body stopped arriving (idle too long)
    ├── Conflict                  409  the state or a deadline forbids it now (says why)
    ├── PayloadTooLarge           413  the upload exceeds its limit
    ├── UnsupportedMediaType      415  a body of a type the route does not take (HTTP level)
    ├── TooManyRequests           429  slow down (``retry_after`` seconds, also Retry-After)
    ├── InternalError             500  a fault of the platform (logged; the body says no more)
    └── CryptoError               400  the crypto kernel refused bytes or a secret
        ├── EnvelopeError                a tbid1 file that cannot be accepted or opened
        │   ├── MalformedEnvelope        structure: magic, header, sizes (checkable without the key)
        │   ├── EnvelopeMismatch         well formed, but for another lot, bidder or opening key
        │   ├── EnvelopeTooLarge    413  over the size limit the caller set
        │   └── EnvelopeUndecryptable    authentication fails: tampered, truncated, extended,
        │                                reordered, or a header from another envelope
        ├── ShareError                   Shamir shares that cannot be split or combined
        ├── WrappedShareError            a stored wrapped share that is not in the format
        ├── WeakPassphrase               a passphrase too short to wrap a share with
        ├── WrongPassphrase              the passphrase does not open the wrapped share
        └── InvalidReceipt               a receipt document that is malformed or badly signed

Every error has a stable ``code`` from :class:`ErrorCode` (``"tender.deadline_passed"``),
listed with its status and meaning in ``docs/errors.md``, that clients may match on, and a
``message`` in plain words, shown to users as it is. Input that fails a schema (Litestar's
own validation) answers 400 ``input.invalid`` as ``InvalidInput`` does. The crypto errors
describe bytes and secrets, never the platform's storage; whose fault an opening failure is
stays the opening service's call.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")

__all__ = [
    "BadRequest",
    "ClientGone",
    "Conflict",
    "CryptoError",
    "EnvelopeError",
    "EnvelopeMismatch",
    "EnvelopeTooLarge",
    "EnvelopeUndecryptable",
    "ErrorCode",
    "Forbidden",
    "Inconsistent",
    "InternalError",
    "InvalidInput",
    "InvalidReceipt",
    "MalformedEnvelope",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PlatformError",
    "RequestTimeout",
    "RuleViolation",
    "ShareError",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "WeakPassphrase",
    "WrappedShareError",
    "WrongPassphrase",
    "present",
]


class ErrorCode(StrEnum):
    """Every code an error body can carry; docs/errors.md lists them (a test keeps it true).

    Add a member here when a new refusal needs its own code: ``<area>.<what>``.
    """

    # agency
    AGENCY_CATEGORY = "agency.category"
    AGENCY_DISPUTE_STATE = "agency.dispute_state"
    AGENCY_ENGAGEMENT_STATE = "agency.engagement_state"
    AGENCY_EVENT_NOT_FOUND = "agency.event_not_found"
    AGENCY_FILING_STATE = "agency.filing_state"
    AGENCY_NOT_FOUND = "agency.not_found"
    AGENCY_NOT_YOURS = "agency.not_yours"
    AGENCY_POOL_STATE = "agency.pool_state"
    AGENCY_RULEBOOK_INVALID = "agency.rulebook_invalid"
    AGENCY_RULEBOOK_NOT_FOUND = "agency.rulebook_not_found"
    AGENCY_SELECTION_NOT_FOUND = "agency.selection_not_found"
    AGENCY_SELECTION_STATE = "agency.selection_state"
    AGENCY_NO_ELIGIBLE = "agency.no_eligible"
    # auction
    AUCTION_BELOW_START = "auction.below_start"
    AUCTION_BID_UNKNOWN = "auction.bid_unknown"
    AUCTION_ENDED = "auction.ended"
    AUCTION_IDEMPOTENCY_MISMATCH = "auction.idempotency_mismatch"
    AUCTION_NOT_INCREMENT = "auction.not_increment"
    AUCTION_NOT_OPEN = "auction.not_open"
    AUCTION_OUTBID = "auction.outbid"
    AUCTION_PAUSED = "auction.paused"
    AUCTION_NOT_APPROVED = "auction.not_approved"
    AUCTION_NOT_FOUND = "auction.not_found"
    AUCTION_PERIOD = "auction.period"
    AUCTION_REGISTRATION_STATE = "auction.registration_state"
    AUCTION_RESERVE = "auction.reserve"
    AUCTION_STATE = "auction.state"
    AUCTION_SUBJECT = "auction.subject"
    # audit
    AUDIT_STREAM_NOT_FOUND = "audit.stream_not_found"
    # auth
    AUTH_BAD_CREDENTIALS = "auth.bad_credentials"
    AUTH_BUSY = "auth.busy"
    AUTH_CSRF_FAILED = "auth.csrf_failed"
    AUTH_FORBIDDEN = "auth.forbidden"
    AUTH_LOGIN_REQUIRED = "auth.login_required"
    AUTH_ROLE_REQUIRED = "auth.role_required"
    AUTH_SAME_PASSWORD = "auth.same_password"
    AUTH_TOKEN_EXPIRED = "auth.token_expired"
    AUTH_TOKEN_INVALID = "auth.token_invalid"
    AUTH_TOKEN_REVOKED = "auth.token_revoked"
    AUTH_UNAUTHORIZED = "auth.unauthorized"
    AUTH_USER_DISABLED = "auth.user_disabled"
    AUTH_WRONG_PASSWORD = "auth.wrong_password"
    # bid
    BID_BAD_SIGNATURE = "bid.bad_signature"
    BID_KEY_REGISTERED = "bid.key_registered"
    BID_LATE = "bid.late"
    BID_NO_BIDDER_KEY = "bid.no_bidder_key"
    BID_NO_DEPOSIT = "bid.no_deposit"
    BID_NO_KEY = "bid.no_key"
    BID_NO_LOT = "bid.no_lot"
    BID_NO_OPENING_KEY = "bid.no_opening_key"
    BID_NONE = "bid.none"
    BID_NOT_REGISTERED = "bid.not_registered"
    # blob
    BLOB_BAD_NAME = "blob.bad_name"
    BLOB_NOT_FOUND = "blob.not_found"
    # calendar
    CALENDAR_NO_DAY = "calendar.no_day"
    CALENDAR_NO_WORKING_DAY = "calendar.no_working_day"
    CALENDAR_NO_YEAR = "calendar.no_year"
    CALENDAR_YEAR_MISSING = "calendar.year_missing"
    # crypto
    CRYPTO_ERROR = "crypto.error"
    # demo
    DEMO_NOT_A_DEMO = "demo.not_a_demo"
    # draw
    DRAW_DUPLICATE = "draw.duplicate"
    DRAW_ENTROPY = "draw.entropy"
    DRAW_INVALID_POOL = "draw.invalid_pool"
    DRAW_NOT_FOUND = "draw.not_found"
    DRAW_NOT_WITNESS = "draw.not_witness"
    DRAW_SEALED = "draw.sealed"
    DRAW_SEALED_BROKEN = "draw.sealed_broken"
    DRAW_STATE = "draw.state"
    DRAW_WITNESS = "draw.witness"
    # experts
    EXPERT_COMMITTEE = "expert.committee"
    EXPERT_IMPORT_REJECTED = "expert.import_rejected"
    EXPERT_LINK = "expert.link"
    EXPERT_NOT_FOUND = "expert.not_found"
    EXPERT_SEALED_BROKEN = "expert.sealed_broken"
    EXPERT_STATE = "expert.state"
    # envelope
    ENVELOPE_EXTENDED = "envelope.extended"
    ENVELOPE_FILE_KEY = "envelope.file_key"
    ENVELOPE_HEADER = "envelope.header"
    ENVELOPE_INVALID = "envelope.invalid"
    ENVELOPE_MAGIC = "envelope.magic"
    ENVELOPE_MALFORMED = "envelope.malformed"
    ENVELOPE_MISMATCH = "envelope.mismatch"
    ENVELOPE_SEGMENT = "envelope.segment"
    ENVELOPE_STRUCTURE = "envelope.structure"
    ENVELOPE_SUITE = "envelope.suite"
    ENVELOPE_TOO_LARGE = "envelope.too_large"
    ENVELOPE_TRUNCATED = "envelope.truncated"
    ENVELOPE_UNDECRYPTABLE = "envelope.undecryptable"
    ENVELOPE_VERSION = "envelope.version"
    ENVELOPE_WRONG_BIDDER = "envelope.wrong_bidder"
    ENVELOPE_WRONG_KEY = "envelope.wrong_key"
    ENVELOPE_WRONG_LOT = "envelope.wrong_lot"
    # general
    NOT_FOUND = "not_found"
    # http
    HTTP_ERROR = "http.error"
    # input
    INPUT_INVALID = "input.invalid"
    # ledger
    LEDGER_DEPOSIT_CLOSED = "ledger.deposit_closed"
    LEDGER_IDEMPOTENCY_MISMATCH = "ledger.idempotency_mismatch"
    LEDGER_INSUFFICIENT_FUNDS = "ledger.insufficient_funds"
    LEDGER_NO_BATCH = "ledger.no_batch"
    LEDGER_NO_DEPOSIT = "ledger.no_deposit"
    LEDGER_NO_LINE = "ledger.no_line"
    LEDGER_NO_REFUND = "ledger.no_refund"
    LEDGER_NOT_IN_SUSPENSE = "ledger.not_in_suspense"
    LEDGER_NOTHING_TO_REFUND = "ledger.nothing_to_refund"
    LEDGER_REFUND_HAS_PAYEE = "ledger.refund_has_payee"
    LEDGER_REFUND_NEEDS_PAYEE = "ledger.refund_needs_payee"
    LEDGER_REFUND_NOT_PENDING = "ledger.refund_not_pending"
    LEDGER_SEALED_PAYEE = "ledger.sealed_payee"
    LEDGER_SEALED_PAYER = "ledger.sealed_payer"
    LEDGER_SEALED_TERMS = "ledger.sealed_terms"
    LEDGER_SPLIT_MISMATCH = "ledger.split_mismatch"
    LEDGER_STATEMENT_MALFORMED = "ledger.statement_malformed"
    LEDGER_STATEMENT_TOO_LARGE = "ledger.statement_too_large"
    LEDGER_TRANSFER_NOT_FOUND = "ledger.transfer_not_found"
    LEDGER_TRANSFER_SETTLED = "ledger.transfer_settled"
    # opening
    OPENING_CUSTODIAN_REFUSED = "opening.custodian_refused"
    OPENING_CUSTODIAN_REGISTERED = "opening.custodian_registered"
    OPENING_CUSTODIAN_UNREGISTERED = "opening.custodian_unregistered"
    OPENING_CUSTODIANS_RULE = "opening.custodians_rule"
    OPENING_ENTERED = "opening.entered"
    OPENING_FINISHED = "opening.finished"
    OPENING_NO_CUSTODIAN_KEY = "opening.no_custodian_key"
    OPENING_NO_CUSTODIANS = "opening.no_custodians"
    OPENING_NO_LOT = "opening.no_lot"
    OPENING_NO_RECORD = "opening.no_record"
    OPENING_NOT_CUSTODIAN = "opening.not_custodian"
    OPENING_NOT_STARTED = "opening.not_started"
    OPENING_RUNNING = "opening.running"
    OPENING_TOO_EARLY = "opening.too_early"
    OPENING_WRONG_PASSPHRASE = "opening.wrong_passphrase"
    # organization
    ORGANIZATION_CODE_INVALID = "organization.code_invalid"
    ORGANIZATION_CREDIT_CODE_INVALID = "organization.credit_code_invalid"
    # platform
    PLATFORM_ERROR = "platform.error"
    PLATFORM_INTERNAL = "platform.internal"
    # receipt
    RECEIPT_INVALID = "receipt.invalid"
    RECEIPT_SIGNATURE = "receipt.signature"
    # request
    REQUEST_BAD = "request.bad"
    REQUEST_BODY_STALLED = "request.body_stalled"
    REQUEST_CLIENT_GONE = "request.client_gone"
    REQUEST_METHOD_NOT_ALLOWED = "request.method_not_allowed"
    REQUEST_TOO_MANY = "request.too_many"
    REQUEST_UNSUPPORTED_MEDIA_TYPE = "request.unsupported_media_type"
    # rule
    RULE_VIOLATED = "rule.violated"
    # shamir
    SHAMIR_INVALID = "shamir.invalid"
    SHAMIR_WRONG_KEY = "shamir.wrong_key"
    # state
    STATE_CONFLICT = "state.conflict"
    # tender
    TENDER_AMENDMENT_PERIOD = "tender.amendment_period"
    TENDER_ANSWER_FINAL = "tender.answer_final"
    TENDER_BAD_AMOUNT = "tender.bad_amount"
    TENDER_BEFORE_DEADLINE = "tender.before_deadline"
    TENDER_BID_PERIOD = "tender.bid_period"
    TENDER_DEADLINE_PASSED = "tender.deadline_passed"
    TENDER_DEPOSIT_LIMIT = "tender.deposit_limit"
    TENDER_DOCUMENT_MISSING = "tender.document_missing"
    TENDER_DOCUMENT_PERIOD = "tender.document_period"
    TENDER_DUPLICATE_LOT = "tender.duplicate_lot"
    TENDER_DUPLICATE_PROJECT = "tender.duplicate_project"
    TENDER_LOT_BUSY = "tender.lot_busy"
    TENDER_NO_DOCUMENT = "tender.no_document"
    TENDER_NO_LOT = "tender.no_lot"
    TENDER_NO_NOTICE = "tender.no_notice"
    TENDER_NO_PROJECT = "tender.no_project"
    TENDER_NO_QUESTION = "tender.no_question"
    TENDER_NO_REGISTRATION = "tender.no_registration"
    TENDER_NOT_OPENED = "tender.not_opened"
    TENDER_NOT_REGISTERED = "tender.not_registered"
    TENDER_NOTICE_STATE = "tender.notice_state"
    TENDER_REGISTRATION_CLOSED = "tender.registration_closed"
    TENDER_REST_DAY = "tender.rest_day"
    TENDER_SCHEDULE_ORDER = "tender.schedule_order"
    TENDER_STATUTORY_LIMIT = "tender.statutory_limit"
    # upload
    UPLOAD_TOO_LARGE = "upload.too_large"
    UPLOAD_TOO_MANY = "upload.too_many"
    # user
    USER_DEACTIVATE_SELF = "user.deactivate_self"
    USER_ORGANIZATION_UNKNOWN = "user.organization_unknown"
    USER_ROLE_ORGANIZATION_MISMATCH = "user.role_organization_mismatch"
    # wrap
    WRAP_LABEL = "wrap.label"
    WRAP_MALFORMED = "wrap.malformed"
    WRAP_VERSION = "wrap.version"
    WRAP_WEAK_PASSPHRASE = "wrap.weak_passphrase"
    WRAP_WRONG_PASSPHRASE = "wrap.wrong_passphrase"


class PlatformError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[ErrorCode] = ErrorCode.PLATFORM_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
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
            "code": str(self.code),
            "detail": self.message,
        }
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class Inconsistent(PlatformError):
    """What the code relies on does not hold: a row without its id after a flush, a user
    without the organization their role requires. Not the caller's fault, so the answer is
    the generic 500 (``core/web.py`` logs the message). Raised instead of ``assert``, which
    ``python -O`` drops."""

    default_code = ErrorCode.PLATFORM_INTERNAL


def present(value: T | None, what: str) -> T:
    """``value``, which the platform's invariants say is there; :class:`Inconsistent`
    naming ``what`` when it is not."""
    if value is None:
        raise Inconsistent(f"{what} is missing")
    return value


class RuleViolation(PlatformError):
    status = 400
    default_code = ErrorCode.RULE_VIOLATED


class InvalidInput(PlatformError):
    status = 400
    default_code = ErrorCode.INPUT_INVALID


class BadRequest(PlatformError):
    status = 400
    default_code = ErrorCode.REQUEST_BAD


class ClientGone(BadRequest):
    """The client closed the connection before sending all of its body: its fault, not the
    platform's, so logged as a 4xx-level event; nobody is left to read the answer."""

    default_code = ErrorCode.REQUEST_CLIENT_GONE


class Unauthorized(PlatformError):
    status = 401
    default_code = ErrorCode.AUTH_UNAUTHORIZED


class Forbidden(PlatformError):
    status = 403
    default_code = ErrorCode.AUTH_FORBIDDEN


class NotFound(PlatformError):
    status = 404
    default_code = ErrorCode.NOT_FOUND


class MethodNotAllowed(PlatformError):
    status = 405
    default_code = ErrorCode.REQUEST_METHOD_NOT_ALLOWED


class RequestTimeout(PlatformError):
    """The request body sent nothing for longer than the idle limit."""

    status = 408
    default_code = ErrorCode.REQUEST_BODY_STALLED


class Conflict(PlatformError):
    status = 409
    default_code = ErrorCode.STATE_CONFLICT


class PayloadTooLarge(PlatformError):
    status = 413
    default_code = ErrorCode.UPLOAD_TOO_LARGE


class UnsupportedMediaType(PlatformError):
    status = 415
    default_code = ErrorCode.REQUEST_UNSUPPORTED_MEDIA_TYPE


class InternalError(PlatformError):
    status = 500
    default_code = ErrorCode.PLATFORM_INTERNAL


class TooManyRequests(PlatformError):
    """Refused for now; the answer carries ``Retry-After: retry_after``."""

    status = 429
    default_code = ErrorCode.REQUEST_TOO_MANY

    def __init__(self, message: str, *, retry_after: int, code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code, details={"retry_after": retry_after})
        self.retry_after = retry_after


class CryptoError(PlatformError):
    """Bytes or a secret the crypto kernel refused; services usually re-raise with a field."""

    status = 400
    default_code = ErrorCode.CRYPTO_ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code)


class EnvelopeError(CryptoError):
    default_code = ErrorCode.ENVELOPE_INVALID


class MalformedEnvelope(EnvelopeError):
    default_code = ErrorCode.ENVELOPE_MALFORMED


class EnvelopeMismatch(EnvelopeError):
    default_code = ErrorCode.ENVELOPE_MISMATCH


class EnvelopeTooLarge(EnvelopeError):
    status = 413
    default_code = ErrorCode.ENVELOPE_TOO_LARGE


class EnvelopeUndecryptable(EnvelopeError):
    default_code = ErrorCode.ENVELOPE_UNDECRYPTABLE


class ShareError(CryptoError):
    default_code = ErrorCode.SHAMIR_INVALID


class WrappedShareError(CryptoError):
    default_code = ErrorCode.WRAP_MALFORMED


class WeakPassphrase(CryptoError):
    default_code = ErrorCode.WRAP_WEAK_PASSPHRASE


class WrongPassphrase(CryptoError):
    default_code = ErrorCode.WRAP_WRONG_PASSPHRASE

    def __init__(self, message: str = "the passphrase does not open this share") -> None:
        super().__init__(message)


class InvalidReceipt(CryptoError):
    default_code = ErrorCode.RECEIPT_INVALID
