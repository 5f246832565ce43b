"""A custodian's share, wrapped by the custodian's passphrase.

The passphrase (Unicode NFC, UTF-8) goes through Argon2id (default: RFC 9106's second
recommended setting, t=3, 64 MiB, p=4) or scrypt (N=2^15, r=8, p=1) with a random 16-byte
salt to a 32-byte key; AES-256-GCM with a random 12-byte nonce seals the share. The result is
one canonical JSON document, self-describing and versioned, safe to store anywhere::

    {"aead":"AES-256-GCM","ct":b64,"format":"tendering-wrapped-share","kdf":{"alg":"argon2id",
     "memory_kib":65536,"parallelism":4,"salt":b64,"time_cost":3},"label":str,"nonce":b64,"v":1}

The associated data is the canonical JSON of the document without ``ct``, so the label and
parameters cannot be changed either. The label names what the share is for (say
``"lot:L-001 custodian:user:12 key:<key_id>"``); :func:`unwrap_share` checks it when asked::

    stored = wrap_share(share.to_bytes(), passphrase, label=label)
    share_bytes = unwrap_share(stored, passphrase, expected_label=label)

A wrong passphrase raises :class:`~tendering.core.errors.WrongPassphrase` and says
nothing else (an altered ``ct`` fails the same way: AES-GCM cannot tell the two apart).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tendering.core.canonical import canonical_json
from tendering.core.errors import ErrorCode, WeakPassphrase, WrappedShareError, WrongPassphrase

__all__ = [
    "ARGON2ID_DEFAULT",
    "FORMAT",
    "MIN_PASSPHRASE_LEN",
    "SCRYPT_DEFAULT",
    "Argon2idParams",
    "ScryptParams",
    "unwrap_share",
    "wrap_share",
]

FORMAT = "tendering-wrapped-share"
VERSION = 1
MIN_PASSPHRASE_LEN = 8
# Bounds on what a stored document may ask for, so a forged one cannot exhaust the server.
_MAX_MEMORY_KIB = 1024 * 1024
_MAX_TIME_COST = 16
_MAX_PARALLELISM = 16


@dataclass(frozen=True)
class Argon2idParams:
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4

    def derive(self, passphrase: bytes, salt: bytes) -> bytes:
        return hash_secret_raw(
            passphrase, salt, self.time_cost, self.memory_kib, self.parallelism, 32, Type.ID
        )

    def describe(self, salt: bytes) -> dict[str, Any]:
        return {
            "alg": "argon2id",
            "memory_kib": self.memory_kib,
            "parallelism": self.parallelism,
            "salt": _b64(salt),
            "time_cost": self.time_cost,
        }

    def within_bounds(self) -> bool:
        return (
            1 <= self.time_cost <= _MAX_TIME_COST
            and 1 <= self.parallelism <= _MAX_PARALLELISM
            and 8 * self.parallelism <= self.memory_kib <= _MAX_MEMORY_KIB
        )


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**15
    r: int = 8
    p: int = 1

    def derive(self, passphrase: bytes, salt: bytes) -> bytes:
        return Scrypt(salt=salt, length=32, n=self.n, r=self.r, p=self.p).derive(passphrase)

    def describe(self, salt: bytes) -> dict[str, Any]:
        return {"alg": "scrypt", "n": self.n, "p": self.p, "r": self.r, "salt": _b64(salt)}

    def within_bounds(self) -> bool:
        power_of_two = self.n > 1 and self.n & (self.n - 1) == 0
        return (
            power_of_two
            and 1 <= self.r <= 32
            and 1 <= self.p <= _MAX_PARALLELISM
            and self.n * self.r * 128 <= _MAX_MEMORY_KIB * 1024
        )


ARGON2ID_DEFAULT = Argon2idParams()
SCRYPT_DEFAULT = ScryptParams()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: object, field: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise WrappedShareError(f"wrapped share field {field!r} is not base64") from None


def _passphrase_bytes(passphrase: str) -> bytes:
    return unicodedata.normalize("NFC", passphrase).encode()


def wrap_share(
    secret: bytes,
    passphrase: str,
    *,
    label: str = "",
    kdf: Argon2idParams | ScryptParams = ARGON2ID_DEFAULT,
) -> bytes:
    """The canonical JSON document holding ``secret`` sealed under ``passphrase``."""
    if len(unicodedata.normalize("NFC", passphrase)) < MIN_PASSPHRASE_LEN:
        raise WeakPassphrase(f"the passphrase must have at least {MIN_PASSPHRASE_LEN} characters")
    if not kdf.within_bounds():
        raise ValueError(f"key-derivation parameters out of bounds: {kdf}")
    salt, nonce = os.urandom(16), os.urandom(12)
    document: dict[str, Any] = {
        "aead": "AES-256-GCM",
        "format": FORMAT,
        "kdf": kdf.describe(salt),
        "label": label,
        "nonce": _b64(nonce),
        "v": VERSION,
    }
    key = kdf.derive(_passphrase_bytes(passphrase), salt)
    document["ct"] = _b64(AESGCM(key).encrypt(nonce, secret, canonical_json(document)))
    return canonical_json(document)


def unwrap_share(
    stored: bytes | str, passphrase: str, *, expected_label: str | None = None
) -> bytes:
    """The secret inside ``stored``; :class:`WrongPassphrase` if the passphrase is wrong."""
    document = _load(stored)
    if expected_label is not None and document["label"] != expected_label:
        raise WrappedShareError(
            f"this wrapped share is labelled {document['label']!r}, not {expected_label!r}",
            code=ErrorCode.WRAP_LABEL,
        )
    kdf, salt = _kdf_of(document["kdf"])
    nonce = _unb64(document["nonce"], "nonce")
    ciphertext = _unb64(document.pop("ct"), "ct")
    key = kdf.derive(_passphrase_bytes(passphrase), salt)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, canonical_json(document))
    except (InvalidTag, ValueError):
        raise WrongPassphrase() from None


def _load(stored: bytes | str) -> dict[str, Any]:
    try:
        document = json.loads(stored)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WrappedShareError("the wrapped share is not JSON") from None
    expected = {"aead", "ct", "format", "kdf", "label", "nonce", "v"}
    if not isinstance(document, dict) or set(document) != expected:
        raise WrappedShareError("the wrapped share does not have the expected fields")
    if document["format"] != FORMAT or type(document["v"]) is not int or document["v"] != 1:
        raise WrappedShareError(
            f"unknown wrapped-share format {document['format']!r} v{document['v']!r}",
            code=ErrorCode.WRAP_VERSION,
        )
    if document["aead"] != "AES-256-GCM" or not isinstance(document["label"], str):
        raise WrappedShareError("the wrapped share names an unknown cipher or a bad label")
    return document


def _kdf_of(spec: object) -> tuple[Argon2idParams | ScryptParams, bytes]:
    if not isinstance(spec, dict):
        raise WrappedShareError("the wrapped share's kdf is not an object")
    fields = dict(spec)
    salt = _unb64(fields.pop("salt", None), "kdf.salt")
    alg = fields.pop("alg", None)
    if not all(type(value) is int for value in fields.values()):
        raise WrappedShareError("the wrapped share's kdf parameters must be integers")
    kdf: Argon2idParams | ScryptParams
    try:
        if alg == "argon2id":
            kdf = Argon2idParams(**fields)
        elif alg == "scrypt":
            kdf = ScryptParams(**fields)
        else:
            raise WrappedShareError(f"unknown key derivation {alg!r}", code=ErrorCode.WRAP_VERSION)
    except TypeError:
        raise WrappedShareError(f"unexpected {alg} parameters") from None
    if not kdf.within_bounds() or len(salt) < 16:
        raise WrappedShareError(f"the wrapped share's {alg} parameters are out of bounds")
    return kdf, salt
