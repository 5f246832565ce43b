"""The worker's part in sealed bids: planting each lot's decoys when their time comes."""

from __future__ import annotations

from typing import Any

from tendering.bids.decoys import plant_due_decoys
from tendering.core.blobs import BlobStore

__all__ = ["plant_decoys"]


async def plant_decoys(ctx: dict[str, Any]) -> int:
    """A sweeper (each minute): plants the decoys that are due, idempotently."""
    return await plant_due_decoys(
        ctx["sessionmaker"],
        store=BlobStore(ctx["settings"].blob_dir),
        platform_key=ctx["platform_key"],
    )
