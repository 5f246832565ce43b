"""The tbid1 byte format, proved by code written only from DESIGN.md's text.

``design_open`` and ``design_seal`` below use the primitives directly (HPKE suite, AES-GCM,
json, base64) and nothing from ``tendering``: what a bidder or an auditor would write. The
platform's envelope module must read what they write and write what they read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tendering.core.crypto.envelope import open_envelope, seal

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
SEG = 65536


def design_open(data: bytes, private: X25519PrivateKey) -> tuple[dict[str, object], bytes]:
    assert data[:6] == b"TBID1\n"
    length = int.from_bytes(data[6:10], "big")
    header = data[10 : 10 + length]
    fields = json.loads(header)
    assert header == canonical(fields)
    assert (fields["v"], fields["seg"]) == (1, SEG)
    assert fields["suite"] == "X25519-HKDF-SHA256-AES-256-GCM"
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert fields["key_id"] == hashlib.sha256(public).hexdigest()
    info = f"tbid1|{fields['lot']}|{fields['bidder']}".encode()
    enc = base64.b64decode(fields["enc"])
    assert len(enc) == 80
    aead = AESGCM(SUITE.decrypt(enc, private, info=info))
    payload = data[10 + length :]
    sealed_seg = SEG + 16
    count = max(1, -(-len(payload) // sealed_seg))
    plaintext = []
    for counter in range(count):
        last = counter == count - 1
        nonce = counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        segment = payload[counter * sealed_seg : (counter + 1) * sealed_seg]
        plaintext.append(aead.decrypt(nonce, segment, header))
    return fields, b"".join(plaintext)


def canonical(fields: dict[str, object]) -> bytes:
    """UTF-8 JSON, keys sorted, no whitespace (DESIGN.md); non-ASCII stays UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def design_seal(
    plaintext: bytes, public: bytes, lot: str, bidder: str, *, utf8: bool = True
) -> bytes:
    file_key = os.urandom(32)
    info = f"tbid1|{lot}|{bidder}".encode()
    enc = SUITE.encrypt(file_key, X25519PublicKey.from_public_bytes(public), info=info)
    fields = {
        "bidder": bidder,
        "enc": base64.b64encode(enc).decode(),
        "key_id": hashlib.sha256(public).hexdigest(),
        "lot": lot,
        "seg": SEG,
        "suite": "X25519-HKDF-SHA256-AES-256-GCM",
        "v": 1,
    }
    header = (
        canonical(fields)
        if utf8
        else json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    )
    pieces = [plaintext[i : i + SEG] for i in range(0, len(plaintext), SEG)] or [b""]
    aead = AESGCM(file_key)
    out = [b"TBID1\n", len(header).to_bytes(4, "big"), header]
    for counter, piece in enumerate(pieces):
        flag = b"\x01" if counter == len(pieces) - 1 else b"\x00"
        out.append(aead.encrypt(counter.to_bytes(11, "big") + flag, piece, header))
    return b"".join(out)


SIZES = [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 17]


def test_an_independent_reader_opens_what_the_platform_seals(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    for size in SIZES:
        plaintext = random.Random(size).randbytes(size)
        data = b"".join(
            seal([plaintext], opening_public_key=opening_public, lot="工程-001", bidder="B-042")
        )
        fields, opened = design_open(data, opening_key)
        assert opened == plaintext
        assert (fields["lot"], fields["bidder"]) == ("工程-001", "B-042")


def test_the_platform_opens_what_an_independent_sealer_writes(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    for size in SIZES:
        plaintext = random.Random(size).randbytes(size)
        data = design_seal(plaintext, opening_public, "工程-2026-001", "B-042")
        opened = b"".join(
            open_envelope(
                [data],
                private_key=opening_key,
                expected_lot="工程-2026-001",
                expected_bidder="B-042",
            )
        )
        assert opened == plaintext


def test_a_header_with_ascii_escaped_characters_is_accepted_too(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = design_seal(b"bid", opening_public, "工程-2026-001", "B-042", utf8=False)
    assert b"\\u5de5" in data[:300]
    assert b"".join(open_envelope([data], private_key=opening_key)) == b"bid"
