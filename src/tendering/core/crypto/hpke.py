"""HPKE (RFC 9180) base mode for the tbid1 opening keys.

Suite ``DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM`` (kem_id 0x0020, kdf_id 0x0001,
aead_id 0x0002), single shot, empty associated data, through ``cryptography``'s own
``hpke.Suite`` (checked in the tests against the official RFC 9180 test vector of this suite
and an independent re-implementation of the key schedule).

A lot's opening key is an X25519 key pair::

    private = generate_opening_key()
    public_raw = public_raw_of(private)          # 32 bytes, published as base64
    key_id(public_raw)                           # SHA-256 lowercase hex, in every header

    sealed = seal_file_key(file_key, public_raw, info=envelope_info("L-001", "B-042"))
    len(sealed) == 80                            # 32-byte enc || 32-byte key + 16-byte tag
    file_key == open_file_key(sealed, private, info=envelope_info("L-001", "B-042"))

The 32-byte raw private key (:func:`private_raw_of`) is what Shamir splits; after
``shamir.combine`` check the result with :func:`private_matches` before trusting it, since
too few or wrong shares combine silently into a wrong key.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "ENC_LEN",
    "SEALED_FILE_KEY_LEN",
    "SUITE_NAME",
    "envelope_info",
    "generate_opening_key",
    "key_id",
    "open_file_key",
    "open_sealed",
    "private_matches",
    "private_raw_of",
    "public_raw_of",
    "seal",
    "seal_file_key",
]

SUITE_NAME = "X25519-HKDF-SHA256-AES-256-GCM"
ENC_LEN = 32
FILE_KEY_LEN = 32
SEALED_FILE_KEY_LEN = ENC_LEN + FILE_KEY_LEN + 16

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


def envelope_info(lot: str, bidder: str) -> bytes:
    """HPKE ``info`` of a tbid1 file key: ``b"tbid1|<lot>|<bidder>"`` (UTF-8)."""
    return b"tbid1|" + lot.encode() + b"|" + bidder.encode()


def generate_opening_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_raw_of(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_raw_of(private: X25519PrivateKey) -> bytes:
    return private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def key_id(public_raw: bytes) -> str:
    """SHA-256 lowercase hex of the raw 32-byte opening public key."""
    if len(public_raw) != 32:
        raise ValueError(f"an X25519 public key has 32 bytes, got {len(public_raw)}")
    return hashlib.sha256(public_raw).hexdigest()


def private_matches(private_raw: bytes, expected_key_id: str) -> bool:
    """True when the raw private key belongs to the public key named by ``expected_key_id``."""
    if len(private_raw) != 32:
        return False
    private = X25519PrivateKey.from_private_bytes(private_raw)
    return key_id(public_raw_of(private)) == expected_key_id


def seal_file_key(file_key: bytes, public_raw: bytes, *, info: bytes) -> bytes:
    """``enc || ciphertext`` (80 bytes) of the 32-byte ``file_key`` to ``public_raw``."""
    if len(file_key) != FILE_KEY_LEN:
        raise ValueError(f"the file key has {FILE_KEY_LEN} bytes, got {len(file_key)}")
    return seal(file_key, public_raw, info=info)


def open_file_key(sealed: bytes, private: X25519PrivateKey, *, info: bytes) -> bytes | None:
    """The file key, or ``None`` when ``sealed`` does not open with this key and ``info``."""
    if len(sealed) != SEALED_FILE_KEY_LEN:
        return None
    file_key = open_sealed(sealed, private, info=info)
    return file_key if file_key is not None and len(file_key) == FILE_KEY_LEN else None


def seal(data: bytes, public_raw: bytes, *, info: bytes) -> bytes:
    """``enc || ciphertext`` of ``data`` (any length) to ``public_raw``, single-shot."""
    return _SUITE.encrypt(data, X25519PublicKey.from_public_bytes(public_raw), info=info)


def open_sealed(sealed: bytes, private: X25519PrivateKey, *, info: bytes) -> bytes | None:
    """What :func:`seal` sealed, or ``None`` when it does not open with this key and info."""
    try:
        return _SUITE.decrypt(sealed, private, info=info)
    except (InvalidTag, ValueError):
        return None
