"""A stored envelope's header is masked, so the blob store does not say who bid for what.

The tbid1 header names the lot and the bidder in clear (DESIGN.md; the bidder's own tools
check it), and the blob store keeps each envelope. Whoever could read the blob directory (an
administrator, a backup) would learn who bid for which lot, and how many, without any key.
So the stored copy has its header masked with the platform key (``Secrecy.mask``, keyed by
the envelope's SHA-256): the same length in the same place, the payload untouched (it is
ciphertext already, and carries nothing in clear). The receipt's SHA-256 stays that of the
envelope as sent: the opening unmasks the header as it reads the file back, then hashes and
decrypts what the bidder sent. Files stored with a clear header (before this) read as they
are; files masked under the version-1 keys (before migration 0027) are unmasked with those
(``Secrecy.previous``)::

    parts = blank_header(parts, offset=written, header_end=header.prefix_len)  # streaming
    os.pwrite(fd, masked_header(secrecy, header.raw, sha256_hex), HEADER_AT)   # before fsync
    first = unmask_head(first_chunk, secrecy=secrecy, sha256_hex=sha256_hex)  # reading back
"""

from __future__ import annotations

from tendering.core.crypto.header import MAGIC
from tendering.core.secrecy import Secrecy

__all__ = ["HEADER_AT", "blank_header", "masked_header", "unmask_head"]

HEADER_AT = len(MAGIC) + 4  # the header follows the magic and its 4-byte length
_CLEAR = b'{"bidder":'  # how every canonical header starts (its keys are sorted)


def blank_header(parts: list[bytes], *, offset: int, header_end: int) -> list[bytes]:
    """``parts`` (the file's bytes from ``offset`` on) with the header's bytes zeroed: the
    staging file never holds the header in clear, even if the upload dies half-way."""
    if offset >= header_end:
        return parts
    blanked, at = [], offset
    for part in parts:
        low, high = max(at, HEADER_AT), min(at + len(part), header_end)
        if low < high:
            part = part[: low - at] + bytes(high - low) + part[high - at :]
        blanked.append(part)
        at += len(part)
    return blanked


def masked_header(secrecy: Secrecy, header_raw: bytes, sha256_hex: str) -> bytes:
    return secrecy.mask(header_raw, "envelope-header", sha256_hex)


def unmask_head(chunk: bytes, *, secrecy: Secrecy, sha256_hex: str) -> bytes:
    """The stored file's first chunk (at least its first 4,106 bytes, or all of it) with the
    header as the bidder sent it. Anything that is not a masked tbid1 file comes back as it
    is, for the reader to judge."""
    if chunk[: len(MAGIC)] != MAGIC or len(chunk) < HEADER_AT:
        return chunk
    end = HEADER_AT + int.from_bytes(chunk[len(MAGIC) : HEADER_AT], "big")
    if len(chunk) < end or chunk[HEADER_AT : HEADER_AT + len(_CLEAR)] == _CLEAR:
        return chunk
    # Under the current keys first, then the ones they replaced (an envelope stored before
    # migration 0027 keeps its v1 mask: files are not rewritten, docs/operations.md). A
    # header unmasked with the wrong key starts with these 10 bytes by chance 2^-80.
    keys: Secrecy | None = secrecy
    while keys is not None:
        header = masked_header(keys, chunk[HEADER_AT:end], sha256_hex)
        if header.startswith(_CLEAR):
            return chunk[:HEADER_AT] + header + chunk[end:]
        keys = keys.previous
    # No key opens it: unmasked with the current keys, for the reader to judge (and refuse).
    return (
        chunk[:HEADER_AT] + masked_header(secrecy, chunk[HEADER_AT:end], sha256_hex) + chunk[end:]
    )
