"""Opening one stored envelope with the rebuilt key, and deciding whose fault a failure is.

Runs in a worker thread (CPU and file work; :func:`open_stored_bid` is synchronous). The file
is read once: every chunk is hashed, and fed to the reader until it fails (the hashing goes
on to the end, so a failure can still be blamed rightly). Then:

- the stored file is missing, or its SHA-256 is not the one in the bidder's receipt: the
  platform lost or altered it (``platform_fault``: treated as withdrawn, the bidder may
  claim its loss);
- the file is the one received but does not open, is not a ZIP with a valid ``bid.json``:
  the bidder's fault (``revoked``);
- else ``valid``, with the price and the form.

Whenever the envelope decrypts, its plaintext ZIP is kept in the blob store under its own
SHA-256 (``plaintext_sha256``): the key is dropped after the opening, so this copy is what
the evaluation committee reads, and its hash in the audit chain shows it was not changed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tendering.bids import BID_JSON, MAX_BID_JSON, check_bid_form, parse_bid_json
from tendering.core.blobs import BlobStore
from tendering.core.crypto.envelope import EnvelopeReader
from tendering.core.errors import EnvelopeError
from tendering.core.writeback import write_batch
from tendering.opening.models import BidOutcome

__all__ = ["OpenedEnvelope", "open_stored_bid"]

READ_CHUNK = 1024 * 1024


@dataclass
class OpenedEnvelope:
    outcome: BidOutcome
    reason: str = ""
    bidder: str = ""
    price_fen: int | None = None
    form: dict[str, Any] = field(default_factory=dict)
    plaintext_sha256: str | None = None


@dataclass
class _Decrypted:
    sha256: str  # of the stored envelope, to compare with the receipt
    plaintext_sha256: str
    failure: EnvelopeError | None


def _decrypt_to(
    path: Path, reader: EnvelopeReader, sink: Any, unmask: Callable[[bytes], bytes]
) -> _Decrypted:
    digest, plain = hashlib.sha256(), hashlib.sha256()
    failure: EnvelopeError | None = None

    def write(parts: list[bytes]) -> None:
        for part in parts:
            plain.update(part)
        write_batch(sink.fileno(), parts)  # the disk keeps up as it decrypts

    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(READ_CHUNK):
            if first:
                chunk, first = unmask(chunk), False
            digest.update(chunk)
            if failure is None:
                try:
                    write(reader.feed_parts(chunk))
                except EnvelopeError as error:
                    failure = error
        if failure is None:
            try:
                write([reader.finish()])
            except EnvelopeError as error:
                failure = error
    return _Decrypted(digest.hexdigest(), plain.hexdigest(), failure)


def _read_form(plain: Path, fields: Sequence[Mapping[str, Any]]) -> OpenedEnvelope | dict[str, Any]:
    try:
        with zipfile.ZipFile(plain) as archive:
            info = archive.getinfo(BID_JSON)
            if info.file_size > MAX_BID_JSON:
                return OpenedEnvelope(BidOutcome.REVOKED, "bid.json is larger than 1 MiB")
            raw = archive.read(info)
    except KeyError:
        return OpenedEnvelope(BidOutcome.REVOKED, "the ZIP holds no bid.json")
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        return OpenedEnvelope(BidOutcome.REVOKED, f"the plaintext is not a valid ZIP ({error})")
    form, problem = parse_bid_json(raw)
    if form is None:
        return OpenedEnvelope(BidOutcome.REVOKED, problem or "bid.json is invalid")
    problems = check_bid_form(fields, form)
    if problems:
        return OpenedEnvelope(BidOutcome.REVOKED, "bid.json: " + "; ".join(problems), form=form)
    return form


def open_stored_bid(
    path: Path,
    *,
    private_key: X25519PrivateKey,
    lot: str,
    receipt_sha256: str,
    fields: Sequence[Mapping[str, Any]],
    store: BlobStore,
    unmask: Callable[[bytes], bytes],
) -> OpenedEnvelope:
    """Open the envelope at ``path`` (see the module docstring for the verdicts); ``unmask``
    gives back the file's first chunk as the bidder sent it (``bids/at_rest.py``)."""
    if not path.is_file():
        return OpenedEnvelope(BidOutcome.PLATFORM_FAULT, "the stored envelope file is missing")
    reader = EnvelopeReader(private_key=private_key, expected_lot=lot)
    scratch = store.root / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    plain = scratch / f"plain-{secrets.token_hex(12)}.zip"
    try:
        with plain.open("xb", buffering=0) as sink:
            decrypted = _decrypt_to(path, reader, sink, unmask)
            os.fsync(sink.fileno())
        verdict = _verdict(decrypted, reader, plain, receipt_sha256, fields)
        if verdict.plaintext_sha256 is not None:
            store.settle(plain, verdict.plaintext_sha256)
        return verdict
    finally:
        plain.unlink(missing_ok=True)


def _verdict(
    decrypted: _Decrypted,
    reader: EnvelopeReader,
    plain: Path,
    receipt_sha256: str,
    fields: Sequence[Mapping[str, Any]],
) -> OpenedEnvelope:
    bidder = reader.header.bidder if reader.header is not None else ""
    if decrypted.sha256 != receipt_sha256:
        return OpenedEnvelope(
            BidOutcome.PLATFORM_FAULT,
            "the stored envelope differs from the one receipted (SHA-256 mismatch)",
            bidder=bidder,
        )
    if decrypted.failure is not None:
        failure = decrypted.failure
        return OpenedEnvelope(
            BidOutcome.REVOKED, f"{failure.code}: {failure.message}", bidder=bidder
        )
    result = _read_form(plain, fields)
    if isinstance(result, OpenedEnvelope):  # opened, but its bid.json is not acceptable
        result.bidder = bidder
        result.plaintext_sha256 = decrypted.plaintext_sha256
        return result
    return OpenedEnvelope(
        BidOutcome.VALID,
        bidder=bidder,
        price_fen=result["price_fen"],
        form=result,
        plaintext_sha256=decrypted.plaintext_sha256,
    )
