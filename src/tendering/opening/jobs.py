"""The sweeper that notices an opening whose runner's process died.

The rebuilt key lived only in that process, so nothing can finish the opening: it goes back
to waiting for custodians (their passphrases rebuild the key again), keeping the results of
the bids already opened. Runs in the worker with every other sweeper (each minute).
"""

from __future__ import annotations

from typing import Any

from tendering.core.db import session_scope
from tendering.opening import service
from tendering.opening.live import Announcer
from tendering.opening.runner import STALE_SECONDS

__all__ = ["sweep_stalled_openings"]

REASON = "开标进程中断 (the process opening the bids stopped)"


async def sweep_stalled_openings(ctx: dict[str, Any]) -> int:
    announcer = Announcer(ctx["redis"], ctx["settings"].async_database_url)
    async with session_scope(ctx["sessionmaker"]) as session:
        stalled = await service.stalled_openings(session, stale_seconds=STALE_SECONDS)
    reset = 0
    for lot_id in stalled:
        async with announcer.transaction(ctx["sessionmaker"]) as session:
            reset += await service.interrupt_opening(session, lot_id=lot_id, reason=REASON)
    return reset
