"""The sealed-bid envelope ``tbid1``, streaming both ways in bounded memory.

Byte format (DESIGN.md, "Sealed-bid envelope tbid1"; header in :mod:`.header`)::

    b"TBID1\\n" | u32 big-endian header length | header JSON | segment 0 | segment 1 | ...

Each segment is AES-256-GCM under the 32-byte ``file_key`` of at most 65,536 plaintext bytes
(all but the last exactly 65,536), nonce = 11-byte big-endian counter || ``0x01`` on the last
segment else ``0x00``, associated data = the header bytes; its 16-byte tag follows it. An
empty plaintext is one empty last segment; exactly k·65,536 bytes are k segments. The
``file_key`` is HPKE-sealed in the header's ``enc`` with info ``b"tbid1|<lot>|<bidder>"``.

Three roles, each a push-style class (``feed`` chunks, then ``finish``; fits async streams)
with a generator wrapper for plain iterables:

- bidder: :class:`EnvelopeSealer` / :func:`seal`::

      for chunk in seal(zip_chunks, opening_public_key=pk, lot="L-001", bidder="B-042"):
          out.write(chunk)

- server, while streaming an upload to storage, without the key: :class:`EnvelopeValidator`
  checks magic, header, expected lot / bidder / key_id and the size limit as bytes arrive,
  hashes once, and checks the segment structure at the end::

      validator = EnvelopeValidator(expected_lot=..., expected_bidder=..., expected_key_id=...,
                                    max_size=limit)
      async for chunk in request.stream():
          validator.feed(chunk)                  # raises EnvelopeError: refuse, store nothing
          await blob.write(chunk)
      checked = validator.finish()               # .header .size .sha256 (raw 32 bytes)
      verify_file_signature(bidder_public_raw, checked.sha256, signature_b64)

- opening: :class:`EnvelopeReader` / :func:`open_envelope` yields plaintext. Each piece is
  authentic when yielded, but the whole is only complete (not truncated) once ``finish`` /
  the iterator returns without raising: write to a temporary place and use it after.

Every failure is an :class:`~tendering.core.errors.EnvelopeError` with a stable code:
``envelope.magic|header|version|suite`` (malformed header), ``envelope.structure`` (segment
sizes), ``envelope.wrong_lot|wrong_bidder|wrong_key``, ``envelope.too_large``,
``envelope.file_key`` (HPKE does not open: altered header, another lot or bidder),
``envelope.truncated`` (final segment missing), ``envelope.extended`` (data after the
final segment), ``envelope.segment`` (a segment altered, reordered or from another file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tendering.core.crypto import hpke
from tendering.core.crypto.header import (
    MAGIC,
    SEG,
    TAG,
    Header,
    build_header,
    parse_header,
    segment_nonce,
)
from tendering.core.crypto.intake import CheckedEnvelope, EnvelopeValidator
from tendering.core.crypto.reader import EnvelopeReader, open_envelope

__all__ = [
    "MAGIC",
    "SEG",
    "TAG",
    "CheckedEnvelope",
    "EnvelopeReader",
    "EnvelopeSealer",
    "EnvelopeValidator",
    "Header",
    "open_envelope",
    "parse_header",
    "seal",
    "sealed_size",
]


def sealed_size(plaintext_size: int, *, header_len: int) -> int:
    """The file size of a ``plaintext_size``-byte bid (for progress bars and limits)."""
    segments = max(1, -(-plaintext_size // SEG))
    return len(MAGIC) + 4 + header_len + plaintext_size + segments * TAG


class EnvelopeSealer:
    """Seal plaintext pushed in chunks; the outputs of ``feed`` then ``finish`` are the file."""

    def __init__(self, *, opening_public_key: bytes, lot: str, bidder: str) -> None:
        file_key = os.urandom(32)
        enc = hpke.seal_file_key(file_key, opening_public_key, info=hpke.envelope_info(lot, bidder))
        self.header = build_header(
            lot=lot, bidder=bidder, enc=enc, key_id=hpke.key_id(opening_public_key)
        )
        self._aead = AESGCM(file_key)
        self._buffer = bytearray()
        self._counter = 0
        self._started = False
        self._finished = False

    def _start(self) -> list[bytes]:
        if self._finished:
            raise RuntimeError("this envelope is already finished")
        if self._started:
            return []
        self._started = True
        return [self.header.prefix]

    def _segment(self, data: bytes | memoryview, *, last: bool) -> bytes:
        sealed = self._aead.encrypt(segment_nonce(self._counter, last=last), data, self.header.raw)
        self._counter += 1
        return sealed

    def feed(self, plaintext: bytes) -> bytes:
        return b"".join(self.feed_parts(plaintext))

    def feed_parts(self, plaintext: bytes) -> list[bytes]:
        """Like ``feed``, as a list of pieces (one per segment): saves a copy."""
        out = self._start()
        view = memoryview(plaintext)
        # Keep at least one byte back: only the end of the input says which segment is last.
        if self._buffer and len(self._buffer) + len(view) > SEG:
            room = SEG - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            with memoryview(self._buffer) as whole:  # no copy of the held segment
                out.append(self._segment(whole, last=False))
            self._buffer.clear()
        while len(view) > SEG and not self._buffer:
            out.append(self._segment(view[:SEG], last=False))
            view = view[SEG:]
        self._buffer += view
        return out

    def finish(self) -> bytes:
        out = self._start()
        out.append(self._segment(bytes(self._buffer), last=True))
        self._buffer.clear()
        self._finished = True
        return b"".join(out)


def seal(
    plaintext_chunks: Iterable[bytes], *, opening_public_key: bytes, lot: str, bidder: str
) -> Iterator[bytes]:
    """The tbid1 file of ``plaintext_chunks``, as chunks (bounded memory)."""
    sealer = EnvelopeSealer(opening_public_key=opening_public_key, lot=lot, bidder=bidder)
    for chunk in plaintext_chunks:
        yield from sealer.feed_parts(chunk)
    yield sealer.finish()
