"""Checking a tbid1 upload as it streams, without the key (the server's side).

:class:`EnvelopeValidator` checks magic, header, the expected lot, bidder and ``key_id`` and
the size limit as bytes arrive (so a wrong file is refused before it is stored), hashes the
file once, and checks the segment structure when the stream ends. ``Intake`` is the part the
reader shares. Import these through :mod:`tendering.core.crypto.envelope`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tendering.core.crypto.header import FULL_SEGMENT, TAG, Header, parse_header
from tendering.core.errors import EnvelopeMismatch, EnvelopeTooLarge, ErrorCode, MalformedEnvelope

__all__ = ["CheckedEnvelope", "EnvelopeValidator", "Intake", "check_final_length"]


@dataclass(frozen=True)
class CheckedEnvelope:
    header: Header
    size: int
    sha256: bytes
    segments: int

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()


def check_final_length(remaining: int, *, counter: int) -> None:
    """Structure of the final segment, once ``counter`` full segments came before it."""
    if remaining == 0 and counter == 0:
        raise MalformedEnvelope(
            "the file ends after its header: no payload", code=ErrorCode.ENVELOPE_TRUNCATED
        )
    if remaining < TAG:
        raise MalformedEnvelope(
            f"the final segment has {remaining} bytes, fewer than its {TAG}-byte tag",
            code=ErrorCode.ENVELOPE_STRUCTURE,
        )
    if remaining == TAG and counter > 0:
        raise MalformedEnvelope(
            "an empty final segment follows full segments (a sealer never writes one)",
            code=ErrorCode.ENVELOPE_STRUCTURE,
        )


class Intake:
    """Shared by validator and reader: header parsing, expectations, size and hash."""

    def __init__(
        self,
        *,
        expected_lot: str | None,
        expected_bidder: str | None,
        expected_key_id: str | None,
        max_size: int | None,
        hashing: bool,
    ) -> None:
        self.expected = (expected_lot, expected_bidder, expected_key_id)
        self.max_size = max_size
        self.header: Header | None = None
        self.size = 0
        self._hash = hashlib.sha256() if hashing else None
        self._head = bytearray()

    def take(self, chunk: bytes) -> bytes | memoryview:
        """Count and hash ``chunk``; return the part of it that is payload."""
        if self.max_size is not None and self.size + len(chunk) > self.max_size:
            raise EnvelopeTooLarge(
                f"the envelope is larger than the limit of {self.max_size} bytes"
            )
        self.size += len(chunk)
        if self._hash is not None:
            self._hash.update(chunk)
        if self.header is not None:
            return chunk
        if self._head:  # the header came in pieces: gather them (a few KiB at most)
            self._head += chunk
            data: bytes | bytearray = self._head
        else:  # usually the first chunk holds it whole: no copy of a chunk that may be MiBs
            data = chunk
        header = parse_header(data)
        if header is None:
            if data is chunk:
                self._head += chunk
            return b""
        self._expect(header)
        self.header = header
        rest = memoryview(bytes(data) if data is self._head else data)[header.prefix_len :]
        self._head = bytearray()
        return rest

    def _expect(self, header: Header) -> None:
        lot, bidder, key_id = self.expected
        if lot is not None and header.lot != lot:
            raise EnvelopeMismatch(
                f"the envelope is sealed for lot {header.lot!r}, not {lot!r}",
                code=ErrorCode.ENVELOPE_WRONG_LOT,
            )
        if bidder is not None and header.bidder != bidder:
            raise EnvelopeMismatch(
                f"the envelope is sealed by bidder {header.bidder!r}, not {bidder!r}",
                code=ErrorCode.ENVELOPE_WRONG_BIDDER,
            )
        if key_id is not None and header.key_id != key_id:
            raise EnvelopeMismatch(
                "the envelope is sealed to another opening key (key_id differs from the lot's)",
                code=ErrorCode.ENVELOPE_WRONG_KEY,
            )

    def require_header(self) -> Header:
        if self.header is None:
            raise MalformedEnvelope(
                "the file ends inside its header", code=ErrorCode.ENVELOPE_TRUNCATED
            )
        return self.header

    def digest(self) -> bytes:
        return self._hash.digest() if self._hash is not None else b""


class EnvelopeValidator:
    """Check an upload as it streams, without the key (see the module docstring)."""

    def __init__(
        self,
        *,
        expected_lot: str | None = None,
        expected_bidder: str | None = None,
        expected_key_id: str | None = None,
        max_size: int | None = None,
    ) -> None:
        self._intake = Intake(
            expected_lot=expected_lot,
            expected_bidder=expected_bidder,
            expected_key_id=expected_key_id,
            max_size=max_size,
            hashing=True,
        )
        self._payload = 0

    @property
    def header(self) -> Header | None:
        """The parsed header once its bytes have arrived, else ``None``."""
        return self._intake.header

    @property
    def size(self) -> int:
        return self._intake.size

    def feed(self, chunk: bytes) -> None:
        self._payload += len(self._intake.take(chunk))

    def finish(self) -> CheckedEnvelope:
        header = self._intake.require_header()
        full, remaining = divmod(self._payload, FULL_SEGMENT)
        if remaining == 0 and full > 0:  # the last segment is a full one
            full, remaining = full - 1, FULL_SEGMENT
        check_final_length(remaining, counter=full)
        return CheckedEnvelope(
            header=header,
            size=self._intake.size,
            sha256=self._intake.digest(),
            segments=full + 1,
        )
