"""Pure rules of ``chain-v1``: how one event's hash is made from the one before.

``hash = SHA-256(prev_hash || canonical_json({"action","actor","at","payload","seq","stream"}))``
with ``prev_hash`` the raw 32 bytes (32 zero bytes before ``seq`` 1). An auditor needs only
this function and the ``audit_event`` table.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from tendering.core.canonical import canonical_json

__all__ = ["ALGORITHM", "GENESIS", "check_event_fields", "checkpoint_message", "event_hash"]

ALGORITHM = "chain-v1"
GENESIS = bytes(32)

# DESIGN.md: stream `global`, `lot:<code>`, `auction:<code>`, `draw:<code>`; action a dotted
# verb (`notice.published`); actor `user:<id>` or `system:<job>`.
_STREAM = re.compile(r"global|(lot|auction|draw):[^\s:][^\s]*")
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_ACTOR = re.compile(r"user:[0-9]+|system:[a-z0-9][a-z0-9_.-]*")


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


def check_event_fields(*, stream: str, action: str, actor: str, payload: object) -> None:
    """Refuse an event whose fields break the ``chain-v1`` formats (a programming error).

    Raises ``ValueError`` naming the field and the rule, before anything is written.
    """
    if not _STREAM.fullmatch(stream) or len(stream) > 200:
        raise ValueError(
            f"audit stream {stream!r} must be 'global', 'lot:<code>', 'auction:<code>' "
            "or 'draw:<code>' (no spaces, at most 200 characters)"
        )
    if not _ACTION.fullmatch(action) or len(action) > 100:
        raise ValueError(
            f"audit action {action!r} must be a dotted lowercase verb like 'notice.published'"
        )
    if not _ACTOR.fullmatch(actor) or len(actor) > 100:
        raise ValueError(f"audit actor {actor!r} must be 'user:<id>' or 'system:<job>'")
    if not isinstance(payload, dict):
        raise ValueError(f"audit payload must be a JSON object, got {type(payload).__name__}")
