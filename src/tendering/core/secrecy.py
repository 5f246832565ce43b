"""Keyed tags and sealed fields: how a table names a lot's bidders without telling a reader
of the database who they are, or how many (招标投标法第二十二条).

A row that must be found by (lot, organization) carries ``secrecy.tag("registration",
lot_id, org_id)``: an HMAC that looks random to anyone without the platform key, differs
for every pair (so rows cannot be grouped by lot), and is recomputed to find the row. What
the platform must read back (which lot, whose) goes in ``secrecy.seal(...)``: AES-256-GCM
with a random nonce, so equal values do not look equal. To list a lot's rows, compute the
tags of every candidate organization; to list an organization's rows, those of every lot.

The keys derive from the platform's signing seed (``core/signing.py``): whoever can sign
receipts can read these, nobody else (a database dump, a DBA, a backup). Each use has its own
key, HKDF-SHA256 (RFC 5869) of the seed with a label naming the use and the key version
(``tendering/secrecy/v2/tag``, ``.../seal``, ``.../mask``), so no key is ever used for two
things and the next version is one new label. Version 1 (a SHA-256 of a prefix and the seed,
the mask keyed by a tag) is kept as :meth:`Secrecy.v1`: migration 0027 re-keyed every row
from it, and envelopes stored before 0027 keep their v1-masked header (``bids/at_rest.py``
tries ``previous``). Rotation: docs/operations.md::

    secrecy = Secrecy.of(platform_key)
    tag = secrecy.tag("registration", lot_id, org_id)      # 64 hex chars
    box = secrecy.seal("registration", {"lot_id": 7})       # base64 text
    secrecy.open("registration", box) == {"lot_id": 7}
    hidden = secrecy.mask(header, "envelope-header", sha256)  # same length; mask again: back
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tendering.core.errors import Inconsistent
from tendering.core.signing import PlatformKey

__all__ = ["VERSION", "Secrecy", "derive_key"]

VERSION = 2  # the keys' version: migration 0027 re-keyed the rows to it
_NONCE = 12


def derive_key(seed: bytes, use: str, *, version: int = VERSION) -> bytes:
    """The 32-byte key of one ``use`` (``tag``, ``seal``, ``mask``): HKDF-SHA256 of the
    seed, no salt (the seed is a uniformly random 32-byte key already), ``info`` naming the
    use and the version, so keys of different uses or versions are independent."""
    info = f"tendering/secrecy/v{version}/{use}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(seed)


@dataclass(frozen=True)
class Secrecy:
    tag_key: bytes = field(repr=False)
    seal_key: bytes = field(repr=False)
    mask_key: bytes = field(repr=False)
    version: int = VERSION
    # The keys this one replaced, for what may still be kept under them (envelope headers
    # stored before migration 0027); None for a v1 Secrecy.
    previous: Secrecy | None = field(default=None, repr=False)

    @classmethod
    def of(cls, platform_key: PlatformKey) -> Secrecy:
        seed = platform_key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls.from_seed(seed)

    @classmethod
    def from_seed(cls, seed: bytes) -> Secrecy:
        """The current keys (version :data:`VERSION`)."""
        return cls(
            tag_key=derive_key(seed, "tag"),
            seal_key=derive_key(seed, "seal"),
            mask_key=derive_key(seed, "mask"),
            previous=cls.v1(seed),
        )

    @classmethod
    def v1(cls, seed: bytes) -> Secrecy:
        """The keys before migration 0027: SHA-256 of a prefix and the seed, the mask keyed
        by the tag key (``mask`` used ``tag(*context)`` as its AES key)."""
        tag_key = hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest()
        return cls(
            tag_key=tag_key,
            seal_key=hashlib.sha256(b"tendering sealed-field v1|" + seed).digest(),
            mask_key=tag_key,
            version=1,
        )

    def tag(self, *parts: str | int) -> str:
        """HMAC-SHA256 (hex) of the parts joined by ``|``. Start with a word naming what is
        tagged (``"registration"``), so tags of different things never collide."""
        message = "|".join(str(part) for part in parts).encode()
        return hmac.new(self.tag_key, message, hashlib.sha256).hexdigest()

    def seal(self, purpose: str, value: dict[str, Any]) -> str:
        """``value`` as canonical JSON, AES-256-GCM sealed with ``purpose`` as associated data
        (a box sealed for one purpose does not open as another); standard base64."""
        nonce = os.urandom(_NONCE)
        plain = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
        sealed = AESGCM(self.seal_key).encrypt(nonce, plain, purpose.encode())
        return base64.b64encode(nonce + sealed).decode()

    def seal_json(self, purpose: str, document: bytes) -> str:
        """Like :meth:`seal`, for a JSON object already encoded (UTF-8) by the caller, so a
        large document is not encoded twice; :meth:`open` opens it alike."""
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.seal_key).encrypt(nonce, document, purpose.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, purpose: str, box: str) -> dict[str, Any]:
        """What :meth:`seal` sealed; raises ``cryptography.exceptions.InvalidTag`` for a box
        sealed under another key or purpose, or altered."""
        raw = base64.b64decode(box)
        plain = AESGCM(self.seal_key).decrypt(raw[:_NONCE], raw[_NONCE:], purpose.encode())
        value = json.loads(plain)
        if not isinstance(value, dict):
            raise Inconsistent("expected isinstance(value, dict)")
        return value

    def mask(self, data: bytes, *context: str | int) -> bytes:
        """``data`` XOR an AES-256-CTR keystream keyed by the HMAC of the context under the
        mask key: the same length, unreadable without the platform key, and undone by masking
        again. For bytes whose length and place are fixed by a format (a stored envelope's
        header); each context must mask one value only (the key is the context's, the
        counter starts at zero)."""
        message = "|".join(str(part) for part in context).encode()
        key = hmac.new(self.mask_key, message, hashlib.sha256).digest()
        stream = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        return stream.update(data) + stream.finalize()
