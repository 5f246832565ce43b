"""Opening a tbid1 envelope with the lot's rebuilt private key (the opening's side).

Import these through :mod:`tendering.core.crypto.envelope`; the module docstring there
describes the format and the error codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tendering.core.crypto import hpke
from tendering.core.crypto.header import FULL_SEGMENT, Header, segment_nonce
from tendering.core.crypto.intake import Intake, check_final_length
from tendering.core.errors import EnvelopeUndecryptable, ErrorCode

__all__ = ["EnvelopeReader", "open_envelope"]


class EnvelopeReader:
    """Open an envelope pushed chunk by chunk; ``feed``/``finish`` return plaintext.

    ``hash_file=True`` also hashes the whole file (``sha256`` after ``finish``). To blame a
    failure rightly, the opening compares the stored file's SHA-256 with its receipt: a
    different file is the platform's fault, the received file not opening is the bidder's.
    A failure stops the reader mid-file, so when blaming, hash the chunks in the calling
    loop (and keep hashing to the end after an error) rather than relying on ``sha256``.

    Opening is CPU work (a 100 MB bid is tens of milliseconds): in an event loop, feed
    big files from a worker thread (``anyio.to_thread.run_sync``) or open in a job.
    """

    def __init__(
        self,
        *,
        private_key: X25519PrivateKey,
        expected_lot: str | None = None,
        expected_bidder: str | None = None,
        hash_file: bool = False,
    ) -> None:
        self._private = private_key
        self._intake = Intake(
            expected_lot=expected_lot,
            expected_bidder=expected_bidder,
            expected_key_id=hpke.key_id(hpke.public_raw_of(private_key)),
            max_size=None,
            hashing=hash_file,
        )
        self._aead: AESGCM | None = None
        self._buffer = bytearray()
        self._counter = 0
        self.sha256: bytes | None = None

    @property
    def header(self) -> Header | None:
        return self._intake.header

    def _cipher(self, header: Header) -> AESGCM:
        if self._aead is None:
            info = hpke.envelope_info(header.lot, header.bidder)
            file_key = hpke.open_file_key(header.enc, self._private, info=info)
            if file_key is None:
                raise EnvelopeUndecryptable(
                    "the file key does not open with the lot's opening key: the header was "
                    "altered, or the bid was sealed for another lot or bidder",
                    code=ErrorCode.ENVELOPE_FILE_KEY,
                )
            self._aead = AESGCM(file_key)
        return self._aead

    def _open(self, data: bytes | memoryview, header: Header, *, last: bool) -> bytes:
        aead = self._cipher(header)
        index = self._counter
        try:
            plaintext = aead.decrypt(segment_nonce(index, last=last), data, header.raw)
        except InvalidTag:
            raise self._explain(aead, data, header, last=last) from None
        self._counter += 1
        return plaintext

    def _explain(
        self, aead: AESGCM, data: bytes | memoryview, header: Header, *, last: bool
    ) -> EnvelopeUndecryptable:
        index = self._counter
        try:
            aead.decrypt(segment_nonce(index, last=not last), data, header.raw)
        except InvalidTag:
            return EnvelopeUndecryptable(
                f"segment {index} fails authentication: the file was altered, its segments "
                "reordered, or parts spliced from another envelope",
                code=ErrorCode.ENVELOPE_SEGMENT,
            )
        if last:
            return EnvelopeUndecryptable(
                f"the file was cut short: segment {index} is not the final segment",
                code=ErrorCode.ENVELOPE_TRUNCATED,
            )
        return EnvelopeUndecryptable(
            f"data follows the final segment (segment {index})", code=ErrorCode.ENVELOPE_EXTENDED
        )

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(self.feed_parts(chunk))

    def feed_parts(self, chunk: bytes) -> list[bytes]:
        """Like ``feed``, as a list of pieces (one per segment): saves a copy."""
        payload = self._intake.take(chunk)
        header = self._intake.header
        if header is None:
            return []
        self._cipher(header)  # a foreign file key fails at once, before any segment
        view = memoryview(payload)
        out: list[bytes] = []
        # Keep at least one byte back: only the end of the file says which segment is last.
        if self._buffer and len(self._buffer) + len(view) > FULL_SEGMENT:
            room = FULL_SEGMENT - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            with memoryview(self._buffer) as whole:  # no copy of the held segment
                out.append(self._open(whole, header, last=False))
            self._buffer.clear()
        while len(view) > FULL_SEGMENT and not self._buffer:
            out.append(self._open(view[:FULL_SEGMENT], header, last=False))
            view = view[FULL_SEGMENT:]
        self._buffer += view
        return out

    def finish(self) -> bytes:
        header = self._intake.require_header()
        self._cipher(header)
        check_final_length(len(self._buffer), counter=self._counter)
        plaintext = self._open(bytes(self._buffer), header, last=True)
        self._buffer.clear()
        self.sha256 = self._intake.digest() or None
        return plaintext


def open_envelope(
    chunks: Iterable[bytes],
    *,
    private_key: X25519PrivateKey,
    expected_lot: str | None = None,
    expected_bidder: str | None = None,
) -> Iterator[bytes]:
    """The plaintext of a tbid1 file given as chunks; complete only if no error is raised."""
    reader = EnvelopeReader(
        private_key=private_key, expected_lot=expected_lot, expected_bidder=expected_bidder
    )
    for chunk in chunks:
        yield from reader.feed_parts(chunk)
    yield reader.finish()
