"""Sealing and uploading a bid on the bidder's own machine (the ``tendering seal`` core).

::

    lot = fetch_lot_key(base_url, "JY-2026-0001-01", token=token)     # checks key_id
    sealed = seal_bid(
        form={"price_fen": 123_456_00, "duration_days": 180},
        documents=[Path("技术标.pdf")],
        lot=lot, bidder="B-0042", signing_key=load_bidder_key(Path("bidder-key.json")),
        out=Path("bid.tbid1"),
    )                                 # ZIP -> tbid1 file on disk, its SHA-256 and signature
    receipt = upload_bid(base_url, sealed, token=token, progress=print)

Memory stays bounded whatever the documents' size: the ZIP is written to a temporary file,
sealed chunk by chunk to ``out``, and uploaded streaming.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tendering.bids.rules import BID_JSON, check_bid_form
from tendering.core.crypto import hpke
from tendering.core.crypto.bidder_keys import BidderKey
from tendering.core.crypto.envelope import EnvelopeSealer
from tendering.core.crypto.receipt import verify_receipt

__all__ = [
    "BidError",
    "LotForSealing",
    "SealedBid",
    "build_bid_zip",
    "fetch_lot_key",
    "seal_bid",
    "seal_bytes",
    "upload_bid",
]

CHUNK = 1024 * 1024


class BidError(Exception):
    """Something the bidder must fix, in plain words."""


@dataclass(frozen=True)
class LotForSealing:
    lot: str
    key_id: str
    public_raw: bytes
    bid_fields: list[dict[str, Any]]
    max_bytes: int

    @classmethod
    def from_api(cls, document: Mapping[str, Any]) -> LotForSealing:
        public_raw = base64.b64decode(document["public_key"], validate=True)
        if hpke.key_id(public_raw) != document["key_id"]:
            raise BidError("the lot's public key does not match its key_id: do not seal to it")
        return cls(
            lot=document["lot"],
            key_id=document["key_id"],
            public_raw=public_raw,
            bid_fields=list(document["bid_fields"]),
            max_bytes=int(document["max_bytes"]),
        )


@dataclass(frozen=True)
class SealedBid:
    path: Path
    lot: str
    size: int
    sha256: bytes
    signature: str


def fetch_lot_key(
    base_url: str, lot: str, *, token: str | None = None, expected_key_id: str | None = None
) -> LotForSealing:
    """The lot's opening key and bid form, checked against ``key_id`` (and yours if given)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{base_url.rstrip('/')}/api/lots/{lot}/opening-key", headers=headers)
    if response.status_code != 200:
        raise BidError(f"cannot fetch the lot's key ({response.status_code}): {response.text}")
    found = LotForSealing.from_api(response.json())
    if expected_key_id is not None and found.key_id != expected_key_id:
        raise BidError(f"the lot's key_id is {found.key_id}, not the {expected_key_id} you expect")
    return found


def build_bid_zip(form: Mapping[str, Any], documents: Sequence[Path], out: Path) -> None:
    """``bid.json`` (canonical UTF-8 JSON) plus the documents, stored under their names."""
    names = [d.name for d in documents]
    if BID_JSON in names or len(set(names)) != len(names):
        raise BidError("document names must be distinct and not bid.json")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        body = json.dumps(form, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        archive.writestr(BID_JSON, body.encode())
        for document in documents:
            archive.write(document, arcname=document.name)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def seal_bytes(
    plaintext: bytes, *, lot: LotForSealing, bidder: str, signing_key: BidderKey
) -> tuple[bytes, str]:
    """The tbid1 file of ``plaintext`` in memory and its signature (small bids, tests)."""
    sealer = EnvelopeSealer(opening_public_key=lot.public_raw, lot=lot.lot, bidder=bidder)
    data = sealer.feed(plaintext) + sealer.finish()
    return data, signing_key.sign_digest(hashlib.sha256(data).digest())


def seal_bid(
    *,
    form: Mapping[str, Any],
    documents: Sequence[Path],
    lot: LotForSealing,
    bidder: str,
    signing_key: BidderKey,
    out: Path,
) -> SealedBid:
    """Check ``form`` against the lot's bid form, build the ZIP, seal it to ``out``, sign."""
    problems = check_bid_form(lot.bid_fields, dict(form))
    if problems:
        raise BidError("bid.json: " + "; ".join(problems))
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "bid.zip"
        build_bid_zip(form, documents, plain)
        sealer = EnvelopeSealer(opening_public_key=lot.public_raw, lot=lot.lot, bidder=bidder)
        digest, size = hashlib.sha256(), 0
        with out.open("xb") as sink:
            for chunk in _chunks(plain):
                for part in sealer.feed_parts(chunk):
                    sink.write(part)
                    digest.update(part)
                    size += len(part)
            last = sealer.finish()
            sink.write(last)
            digest.update(last)
            size += len(last)
    if size > lot.max_bytes:
        raise BidError(f"the sealed bid has {size} bytes, over the lot's limit of {lot.max_bytes}")
    sha = digest.digest()
    return SealedBid(out, lot.lot, size, sha, signing_key.sign_digest(sha))


def upload_bid(
    base_url: str,
    sealed: SealedBid,
    *,
    token: str,
    progress: Callable[[int, int], None] | None = None,
    platform_public_key: bytes | None = None,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """PUT the sealed file, streaming; the signed receipt (checked when the key is given)."""

    def body() -> Iterator[bytes]:
        sent = 0
        for chunk in _chunks(sealed.path):
            sent += len(chunk)
            yield chunk
            if progress is not None:
                progress(sent, sealed.size)

    response = httpx.put(
        f"{base_url.rstrip('/')}/api/lots/{sealed.lot}/bid",
        content=body(),
        headers={
            "Authorization": f"Bearer {token}",
            "X-Bid-Signature": sealed.signature,
            "Content-Type": "application/octet-stream",
            "Content-Length": str(sealed.size),
        },
        timeout=timeout,
    )
    if response.status_code != 201:
        raise BidError(f"the platform refused the bid ({response.status_code}): {response.text}")
    document: dict[str, Any] = response.json()
    if platform_public_key is not None:
        receipt = verify_receipt(document, platform_public_key)
        if receipt.sha256 != sealed.sha256.hex() or receipt.size != sealed.size:
            raise BidError("the receipt does not name the file you sent")
    return document
