"""Audit chain jobs: periodic signed checkpoints of every stream."""

from __future__ import annotations

from typing import Any

__all__ = ["checkpoint_streams"]


async def checkpoint_streams(ctx: dict[str, Any]) -> int:
    return 0
