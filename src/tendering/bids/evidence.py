"""A submission's evidence, sealed to the lot's opening key until the opening.

Two things a bid row must keep could name the bidder to whoever reads the table: the
bidder's Ed25519 signature (verify it against every registered bidder key and the one that
verifies is the bidder) and the nonce of the audit chain's hiding commitment (recompute the
commitment for every registered bidder and the one that matches is the bidder). Both are
kept HPKE-sealed to the lot's opening public key, so nobody, the platform and its database
administrators included, can read them before k custodians rebuild the key; the opening
opens them and publishes both in the lot's audit stream. (The receipt's signature is not
kept at all: Ed25519 is deterministic, so the platform signs the receipt again when asked.)
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tendering.core.crypto import hpke

__all__ = ["Evidence", "open_evidence", "seal_evidence"]


def _info(lot: str) -> bytes:
    return b"tbid1-evidence|" + lot.encode()


@dataclass(frozen=True)
class Evidence:
    nonce: str
    bidder_signature: str


def seal_evidence(evidence: Evidence, *, lot: str, opening_public_raw: bytes) -> str:
    """Standard base64 of the sealed evidence (what the ``bid`` row stores)."""
    plain = json.dumps(
        {"bidder_signature": evidence.bidder_signature, "nonce": evidence.nonce},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return base64.b64encode(hpke.seal(plain, opening_public_raw, info=_info(lot))).decode()


def open_evidence(sealed: str, *, lot: str, private_key: X25519PrivateKey) -> Evidence | None:
    """The evidence, or ``None`` if it does not open (the stored row was altered)."""
    try:
        raw = base64.b64decode(sealed, validate=True)
    except ValueError:
        return None
    plain = hpke.open_sealed(raw, private_key, info=_info(lot))
    if plain is None:
        return None
    document = json.loads(plain)
    return Evidence(nonce=document["nonce"], bidder_signature=document["bidder_signature"])
