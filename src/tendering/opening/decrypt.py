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
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tendering.bids.rules import BID_JSON, MAX_BID_JSON, check_bid_form, parse_bid_json
from tendering.core.crypto.envelope import EnvelopeReader
from tendering.core.crypto.errors import EnvelopeError
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


def _decrypt_to(path: Path, reader: EnvelopeReader, sink: Any) -> tuple[str, EnvelopeError | None]:
    digest = hashlib.sha256()
    failure: EnvelopeError | None = None
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
            if failure is None:
                try:
                    sink.writelines(reader.feed_parts(chunk))
                except EnvelopeError as error:
                    failure = error
        if failure is None:
            try:
                sink.write(reader.finish())
            except EnvelopeError as error:
                failure = error
    return digest.hexdigest(), failure


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
    scratch_dir: Path,
) -> OpenedEnvelope:
    """Open the envelope at ``path`` (see the module docstring for the verdicts)."""
    if not path.is_file():
        return OpenedEnvelope(BidOutcome.PLATFORM_FAULT, "the stored envelope file is missing")
    reader = EnvelopeReader(private_key=private_key, expected_lot=lot)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch_dir, suffix=".zip") as sink:
        sha256, failure = _decrypt_to(path, reader, sink)
        bidder = reader.header.bidder if reader.header is not None else ""
        if sha256 != receipt_sha256:
            return OpenedEnvelope(
                BidOutcome.PLATFORM_FAULT,
                "the stored envelope differs from the one receipted (SHA-256 mismatch)",
                bidder=bidder,
            )
        if failure is not None:
            return OpenedEnvelope(
                BidOutcome.REVOKED, f"{failure.code}: {failure.message}", bidder=bidder
            )
        sink.flush()
        result = _read_form(Path(sink.name), fields)
    if isinstance(result, OpenedEnvelope):
        result.bidder = bidder
        return result
    return OpenedEnvelope(
        BidOutcome.VALID, bidder=bidder, price_fen=result["price_fen"], form=result
    )
