"""A bidder's Ed25519 signing key, and its signature over an envelope file.

The bidder signs the raw 32-byte SHA-256 digest of the whole tbid1 file; the signature and
the public key travel as standard base64 (the public key as its raw 32 bytes)::

    key = generate_bidder_key()
    save_bidder_key(key, path)                  # mode 0600, never overwrites
    key = load_bidder_key(path)
    key.public_b64                              # registered to the bidder's organization
    signature = key.sign_digest(sha256_of_file)
    verify_file_signature(parse_public_key(key.public_b64), sha256_of_file, signature)

The key file is one small JSON document: ``{"format": "tendering-bidder-key", "v": 1,
"seed": base64(32-byte Ed25519 seed), "public_key": base64(raw public key)}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from tendering.core.signing import verify_signature

__all__ = [
    "BidderKey",
    "file_sha256",
    "generate_bidder_key",
    "load_bidder_key",
    "parse_public_key",
    "save_bidder_key",
    "verify_file_signature",
]

FORMAT = "tendering-bidder-key"


@dataclass(frozen=True)
class BidderKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    def sign_digest(self, digest: bytes) -> str:
        """Base64 Ed25519 signature over the raw 32-byte SHA-256 ``digest`` of a file."""
        if len(digest) != 32:
            raise ValueError(f"sign the raw 32-byte SHA-256 digest, not {len(digest)} bytes")
        return base64.b64encode(self.private.sign(digest)).decode()


def generate_bidder_key() -> BidderKey:
    return BidderKey(Ed25519PrivateKey.generate())


def save_bidder_key(key: BidderKey, path: Path) -> None:
    """Write ``key`` to a new file readable by its owner only; refuses to overwrite."""
    seed = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    document = {
        "format": FORMAT,
        "public_key": key.public_b64,
        "seed": base64.b64encode(seed).decode(),
        "v": 1,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(document, sort_keys=True, indent=2) + "\n")


def load_bidder_key(path: Path) -> BidderKey:
    """The key in ``path``; ``ValueError`` names what is wrong with the file."""
    try:
        document = json.loads(path.read_text())
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError
        seed = base64.b64decode(document["seed"], validate=True)
        key = BidderKey(Ed25519PrivateKey.from_private_bytes(seed))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ValueError(f"{path} is not a tendering bidder key file") from None
    if document.get("public_key") != key.public_b64:
        raise ValueError(f"{path}: the public key does not match the seed (file damaged?)")
    return key


def parse_public_key(value: str) -> bytes:
    """The raw 32 bytes of a base64 Ed25519 public key; ``ValueError`` in plain words."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the public key must be standard base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, this one has {len(raw)}")
    return raw


def file_sha256(chunks: Iterable[bytes]) -> bytes:
    """The raw SHA-256 digest of a file given as chunks."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.digest()


def verify_file_signature(public_raw: bytes, digest: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is the bidder's signature over the file's raw digest."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(digest) == 32 and verify_signature(public_raw, digest, signature)
