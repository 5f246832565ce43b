"""Audit chain jobs: periodic signed checkpoints of every stream."""

from __future__ import annotations

from typing import Any

from tendering.core.audit.verify import sign_checkpoints
from tendering.core.db import session_scope

__all__ = ["checkpoint_streams"]


async def checkpoint_streams(ctx: dict[str, Any]) -> int:
    """Sign a checkpoint for every stream whose head moved (every 10 minutes; idempotent).

    Returns how many checkpoints were signed; a stream whose chain no longer checks is left
    unsigned and logged as an error.
    """
    async with session_scope(ctx["sessionmaker"]) as session:
        run = await sign_checkpoints(session, key=ctx["platform_key"])
    return len(run.signed)
