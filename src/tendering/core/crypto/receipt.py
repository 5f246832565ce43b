"""The platform's signed receipt of an uploaded envelope.

``{"receipt": R, "signature": S}`` where R is ``{"bidder","lot","received_at","seq","sha256",
"size"}`` (``sha256`` lowercase hex of the whole file, ``size`` its bytes, ``seq`` orders the
lot's submissions without counting them (bids/service.py), ``received_at`` RFC 3339 UTC
with microseconds from the database clock)
and S the standard base64 Ed25519 signature over R's canonical JSON bytes (DESIGN.md)::

    receipt = Receipt(bidder="B-042", lot="L-001", received_at=rfc3339(now), seq=7,
                      sha256=checked.sha256_hex, size=checked.size)
    document = sign_receipt(receipt, platform_key)      # the JSON the bidder gets
    verify_receipt(document, platform_public_raw)       # -> Receipt, or InvalidReceipt

An auditor checks it with ``json.dumps(R, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()`` and any Ed25519 library.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import asdict, dataclass
from typing import Any

from tendering.core.canonical import canonical_json
from tendering.core.errors import ErrorCode, InvalidReceipt
from tendering.core.signing import PlatformKey, verify_signature

__all__ = ["Receipt", "sign_receipt", "verify_receipt"]

_RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_FIELDS = frozenset({"bidder", "lot", "received_at", "seq", "sha256", "size"})


@dataclass(frozen=True)
class Receipt:
    bidder: str
    lot: str
    received_at: str
    seq: int
    sha256: str
    size: int

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.bidder, str) or not isinstance(self.lot, str):
            problems.append("bidder and lot must be strings")
        if not isinstance(self.received_at, str) or not _RFC3339_UTC.fullmatch(self.received_at):
            problems.append("received_at must be RFC 3339 UTC with microseconds")
        if not isinstance(self.sha256, str) or not _SHA256_HEX.fullmatch(self.sha256):
            problems.append("sha256 must be 64 lowercase hex digits")
        for name in ("seq", "size"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                problems.append(f"{name} must be a non-negative integer")
        if problems:
            raise InvalidReceipt("receipt: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical_bytes(self) -> bytes:
        """The exact bytes the platform signs."""
        return canonical_json(self.to_dict())


def sign_receipt(receipt: Receipt, key: PlatformKey) -> dict[str, Any]:
    """``{"receipt": R, "signature": S}`` signed by the platform key."""
    return {"receipt": receipt.to_dict(), "signature": key.sign_b64(receipt.canonical_bytes())}


def verify_receipt(document: object, public_raw: bytes) -> Receipt:
    """The receipt in ``document`` if its signature by ``public_raw`` holds."""
    if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
        raise InvalidReceipt('a signed receipt is {"receipt": {...}, "signature": "..."}')
    body = document["receipt"]
    if not isinstance(body, dict) or set(body) != _FIELDS:
        raise InvalidReceipt(
            "the receipt must have exactly bidder, lot, received_at, seq, sha256, size"
        )
    receipt = Receipt(**body)
    try:
        signature = base64.b64decode(document["signature"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidReceipt("the receipt signature is not base64") from None
    if not verify_signature(public_raw, receipt.canonical_bytes(), signature):
        raise InvalidReceipt(
            "the receipt signature does not verify with the platform key",
            code=ErrorCode.RECEIPT_SIGNATURE,
        )
    return receipt
