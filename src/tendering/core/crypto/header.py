"""The tbid1 header: ``b"TBID1\\n"``, a 4-byte big-endian length, then canonical JSON.

``{"bidder","enc","key_id","lot","seg","suite","v"}`` with sorted keys and no whitespace
(DESIGN.md, "Sealed-bid envelope tbid1"). The header bytes are also the associated data of
every payload segment, so a header is only trusted after a segment has authenticated with it;
:func:`parse_header` checks everything that can be checked without the opening key, so the
server can refuse a wrong file before storing its first megabyte::

    header = parse_header(first_bytes)      # None: not enough bytes yet
    header.lot, header.bidder, header.key_id, header.prefix_len
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from tendering.core.canonical import canonical_json
from tendering.core.crypto.hpke import SEALED_FILE_KEY_LEN, SUITE_NAME
from tendering.core.errors import ErrorCode, MalformedEnvelope

__all__ = [
    "FULL_SEGMENT",
    "MAGIC",
    "MAX_HEADER_LEN",
    "SEG",
    "TAG",
    "VERSION",
    "Header",
    "build_header",
    "check_code",
    "parse_header",
    "segment_nonce",
]

MAGIC = b"TBID1\n"
SEG = 65536
TAG = 16
FULL_SEGMENT = SEG + TAG
VERSION = 1
# A reader's limit, not part of the format: real headers are about 300 bytes.
MAX_HEADER_LEN = 4096
MAX_CODE_LEN = 128
_FIELDS = frozenset({"bidder", "enc", "key_id", "lot", "seg", "suite", "v"})
_KEY_ID = re.compile(r"[0-9a-f]{64}")


def segment_nonce(counter: int, *, last: bool) -> bytes:
    """11-byte big-endian segment counter, then ``0x01`` on the last segment else ``0x00``."""
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class Header:
    """A parsed header; ``raw`` is its exact bytes (the segments' associated data)."""

    lot: str
    bidder: str
    enc: bytes
    key_id: str
    raw: bytes
    seg: int = SEG
    suite: str = SUITE_NAME
    v: int = VERSION

    @property
    def prefix(self) -> bytes:
        """Magic, length and header: the file's first ``prefix_len`` bytes."""
        return MAGIC + len(self.raw).to_bytes(4, "big") + self.raw

    @property
    def prefix_len(self) -> int:
        return len(MAGIC) + 4 + len(self.raw)


def check_code(value: object, field: str) -> str:
    """A lot or bidder code: a non-empty string of at most 128 characters without ``|``.

    ``|`` is refused because it separates the fields of the HPKE info ``tbid1|lot|bidder``.
    """
    if not isinstance(value, str) or not value:
        raise MalformedEnvelope(
            f"header field {field!r} must be a non-empty string", code=ErrorCode.ENVELOPE_HEADER
        )
    if len(value) > MAX_CODE_LEN or "|" in value or not value.isprintable():
        raise MalformedEnvelope(
            f"header field {field!r} must be at most {MAX_CODE_LEN} printable characters "
            "without '|'",
            code=ErrorCode.ENVELOPE_HEADER,
        )
    return value


def build_header(*, lot: str, bidder: str, enc: bytes, key_id: str) -> Header:
    """The header a sealer writes."""
    check_code(lot, "lot")
    check_code(bidder, "bidder")
    fields = {
        "bidder": bidder,
        "enc": base64.b64encode(enc).decode(),
        "key_id": key_id,
        "lot": lot,
        "seg": SEG,
        "suite": SUITE_NAME,
        "v": VERSION,
    }
    return Header(lot=lot, bidder=bidder, enc=enc, key_id=key_id, raw=canonical_json(fields))


def parse_header(data: bytes | bytearray | memoryview) -> Header | None:
    """The header at the start of ``data``; ``None`` while more bytes are needed.

    Raises :class:`MalformedEnvelope` as soon as the bytes seen cannot start a tbid1 file.
    """
    head = bytes(data[: len(MAGIC)])
    if head != MAGIC[: len(head)]:
        raise MalformedEnvelope(
            "not a tbid1 envelope (the file must start with TBID1)", code=ErrorCode.ENVELOPE_MAGIC
        )
    if len(data) < len(MAGIC) + 4:
        return None
    length = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    if not 0 < length <= MAX_HEADER_LEN:
        raise MalformedEnvelope(
            f"header length {length} is outside 1..{MAX_HEADER_LEN}", code=ErrorCode.ENVELOPE_HEADER
        )
    start = len(MAGIC) + 4
    if len(data) < start + length:
        return None
    return _header_from_raw(bytes(data[start : start + length]))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedEnvelope("the header repeats a key", code=ErrorCode.ENVELOPE_HEADER)
    return result


def _no_floats(text: str) -> Any:
    raise MalformedEnvelope(
        f"the header holds a non-integer number {text}", code=ErrorCode.ENVELOPE_HEADER
    )


def _header_from_raw(raw: bytes) -> Header:
    try:
        fields = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_float=_no_floats,
            parse_constant=_no_floats,
        )
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedEnvelope(
            "the header is not UTF-8 JSON", code=ErrorCode.ENVELOPE_HEADER
        ) from None
    if not isinstance(fields, dict) or set(fields) != _FIELDS:
        raise MalformedEnvelope(
            "the header must be a JSON object with exactly the keys "
            "bidder, enc, key_id, lot, seg, suite, v",
            code=ErrorCode.ENVELOPE_HEADER,
        )
    _check_constants(fields)
    # Canonical is raw UTF-8 (what the sealer writes); a header whose non-ASCII characters
    # are \u-escaped (Python's json.dumps default) is the same JSON and is accepted too.
    if raw not in (canonical_json(fields), _ascii_escaped(fields)):
        raise MalformedEnvelope(
            "the header is not canonical JSON (sorted keys, no whitespace, UTF-8)",
            code=ErrorCode.ENVELOPE_HEADER,
        )
    key_id = fields["key_id"]
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise MalformedEnvelope(
            "header key_id must be 64 lowercase hex digits", code=ErrorCode.ENVELOPE_HEADER
        )
    return Header(
        lot=check_code(fields["lot"], "lot"),
        bidder=check_code(fields["bidder"], "bidder"),
        enc=_decode_enc(fields["enc"]),
        key_id=key_id,
        raw=raw,
    )


def _ascii_escaped(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _check_constants(fields: dict[str, Any]) -> None:
    if type(fields["v"]) is not int or fields["v"] != VERSION:
        raise MalformedEnvelope(
            f"envelope version {fields['v']!r} is not supported (this reader knows v=1)",
            code=ErrorCode.ENVELOPE_VERSION,
        )
    if fields["suite"] != SUITE_NAME:
        raise MalformedEnvelope(
            f"suite {fields['suite']!r} is not supported (expected {SUITE_NAME})",
            code=ErrorCode.ENVELOPE_SUITE,
        )
    if type(fields["seg"]) is not int or fields["seg"] != SEG:
        raise MalformedEnvelope(f"header seg must be {SEG}", code=ErrorCode.ENVELOPE_HEADER)


def _decode_enc(value: object) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        enc = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEnvelope(
            "header enc is not standard base64", code=ErrorCode.ENVELOPE_HEADER
        ) from None
    if len(enc) != SEALED_FILE_KEY_LEN or base64.b64encode(enc).decode() != value:
        raise MalformedEnvelope(
            f"header enc must be the base64 of {SEALED_FILE_KEY_LEN} bytes",
            code=ErrorCode.ENVELOPE_HEADER,
        )
    return enc
