"""Errors of the crypto kernel, each with a stable ``code`` for the services to map.

::

    CryptoError                       base; ``code`` is a stable string, ``str()`` plain words
    ├── EnvelopeError                 a tbid1 file that cannot be accepted or opened
    │   ├── MalformedEnvelope         structure: magic, header, sizes (checkable without the key)
    │   ├── EnvelopeMismatch          well formed, but for another lot, bidder or opening key
    │   ├── EnvelopeTooLarge          over the size limit the caller set
    │   └── EnvelopeUndecryptable     authentication fails: tampered, truncated, extended,
    │                                 reordered, or a header from another envelope
    ├── ShareError                    Shamir shares that cannot be split or combined
    ├── WrappedShareError             a stored wrapped share that is not in the format
    ├── WeakPassphrase                a passphrase too short to wrap a share with
    ├── WrongPassphrase               the passphrase does not open the wrapped share
    └── InvalidReceipt                a receipt document that is malformed or badly signed

These are pure-domain errors (no HTTP); the bids and opening services turn them into
``InvalidInput`` / ``RuleViolation`` / ``PayloadTooLarge`` with the same ``code``. Whose fault
an opening failure is (bidder or platform) is the opening service's call: every
``EnvelopeError`` raised by :mod:`~tendering.core.crypto.envelope` describes the file, never
the platform's storage.
"""

from __future__ import annotations

__all__ = [
    "CryptoError",
    "EnvelopeError",
    "EnvelopeMismatch",
    "EnvelopeTooLarge",
    "EnvelopeUndecryptable",
    "InvalidReceipt",
    "MalformedEnvelope",
    "ShareError",
    "WeakPassphrase",
    "WrappedShareError",
    "WrongPassphrase",
]


class CryptoError(Exception):
    """Base class; ``code`` is stable (e.g. ``"envelope.truncated"``), the message plain."""

    default_code = "crypto.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class EnvelopeError(CryptoError):
    default_code = "envelope.invalid"


class MalformedEnvelope(EnvelopeError):
    default_code = "envelope.malformed"


class EnvelopeMismatch(EnvelopeError):
    default_code = "envelope.mismatch"


class EnvelopeTooLarge(EnvelopeError):
    default_code = "envelope.too_large"


class EnvelopeUndecryptable(EnvelopeError):
    default_code = "envelope.undecryptable"


class ShareError(CryptoError):
    default_code = "shamir.invalid"


class WrappedShareError(CryptoError):
    default_code = "wrap.malformed"


class WeakPassphrase(CryptoError):
    default_code = "wrap.weak_passphrase"


class WrongPassphrase(CryptoError):
    default_code = "wrap.wrong_passphrase"

    def __init__(self, message: str = "the passphrase does not open this share") -> None:
        super().__init__(message)


class InvalidReceipt(CryptoError):
    default_code = "receipt.invalid"
