"""Pure rules of ``chain-v1``: how one event's hash is made from the one before.

``hash = SHA-256(prev_hash || canonical_json({"action","actor","at","payload","seq","stream"}))``
with ``prev_hash`` the raw 32 bytes (32 zero bytes before ``seq`` 1). An auditor needs only
this function and the ``audit_event`` table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from tendering.core.canonical import canonical_json

__all__ = ["GENESIS", "checkpoint_message", "event_hash"]

GENESIS = bytes(32)


def event_hash(
    prev_hash: bytes,
    *,
    stream: str,
    seq: int,
    action: str,
    actor: str,
    at: str,
    payload: Mapping[str, Any],
) -> bytes:
    """The raw 32-byte hash of one event; ``at`` is already in RFC 3339 (``rfc3339``)."""
    body = canonical_json(
        {
            "action": action,
            "actor": actor,
            "at": at,
            "payload": dict(payload),
            "seq": seq,
            "stream": stream,
        }
    )
    return hashlib.sha256(prev_hash + body).digest()


def checkpoint_message(*, stream: str, seq: int, hash_hex: str) -> bytes:
    """The bytes the platform signs for a checkpoint."""
    return canonical_json({"hash": hash_hex, "seq": seq, "stream": stream})
