"""Keyed tags and sealed fields: how a table names a lot's bidders without telling a reader
of the database who they are, or how many (招标投标法第二十二条).

A row that must be found by (lot, organization) carries ``secrecy.tag("registration",
lot_id, org_id)``: an HMAC that looks random to anyone without the platform key, differs
for every pair (so rows cannot be grouped by lot), and is recomputed to find the row. What
the platform must read back (which lot, whose) goes in ``secrecy.seal(...)``: AES-256-GCM
with a random nonce, so equal values do not look equal. To list a lot's rows, compute the
tags of every candidate organization; to list an organization's rows, those of every lot.

Both keys derive from the platform's signing seed (``core/signing.py``): whoever can sign
receipts can read these, nobody else (a database dump, a DBA, a backup)::

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
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tendering.core.errors import Inconsistent
from tendering.core.signing import PlatformKey

__all__ = ["Secrecy"]

_NONCE = 12


@dataclass(frozen=True)
class Secrecy:
    tag_key: bytes
    seal_key: bytes

    @classmethod
    def of(cls, platform_key: PlatformKey) -> Secrecy:
        seed = platform_key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls.from_seed(seed)

    @classmethod
    def from_seed(cls, seed: bytes) -> Secrecy:
        # The tag key is the one bids/rules.py has always used for bidder tags, so every
        # tag the platform ever wrote stays findable.
        return cls(
            tag_key=hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest(),
            seal_key=hashlib.sha256(b"tendering sealed-field v1|" + seed).digest(),
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
        """``data`` XOR an AES-256-CTR keystream keyed by ``tag(*context)``: the same length,
        unreadable without the platform key, and undone by masking again. For bytes whose
        length and place are fixed by a format (a stored envelope's header); each context
        must mask one value only (the key is the context's, the counter starts at zero)."""
        key = bytes.fromhex(self.tag(*context))
        stream = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        return stream.update(data) + stream.finalize()
