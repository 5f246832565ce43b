"""The platform's Ed25519 signing key: receipts, checkpoints, transcripts, records.

The key is ``TENDERING_SIGNING_KEY`` (base64 of the raw 32-byte seed) or, when that is unset,
a file in the data directory made on first start (mode 0600, written atomically so two
processes starting together end up with the same key). Its public key is served at
``/api/platform/key`` as standard base64 of the raw 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tendering.settings import Settings, SettingsError

__all__ = ["PlatformKey", "load_platform_key", "verify_signature"]


@dataclass(frozen=True)
class PlatformKey:
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    @property
    def key_id(self) -> str:
        """SHA-256 (lowercase hex) of the raw public key."""
        return hashlib.sha256(self.public_raw).hexdigest()

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def sign_b64(self, message: bytes) -> str:
        return base64.b64encode(self.sign(message)).decode()


def _from_seed_b64(value: str, *, source: str) -> PlatformKey:
    try:
        seed = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{source} is not valid base64") from None
    if len(seed) != 32:
        raise SettingsError(f"{source} must hold a 32-byte Ed25519 seed, got {len(seed)} bytes")
    return PlatformKey(Ed25519PrivateKey.from_private_bytes(seed))


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = os.urandom(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(seed).decode() + "\n")
    try:
        # link() fails if another process won the race; then its key is the key.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def load_platform_key(settings: Settings) -> PlatformKey:
    """The key from the environment, else from the data directory (made if missing)."""
    if settings.signing_key_b64:
        return _from_seed_b64(settings.signing_key_b64, source="TENDERING_SIGNING_KEY")
    path = settings.signing_key_path
    if not path.exists():
        _write_new_key(path)
    return _from_seed_b64(path.read_text(), source=str(path))


def verify_signature(public_raw: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
