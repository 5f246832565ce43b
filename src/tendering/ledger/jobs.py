"""Ledger jobs: an hourly check of the ledger's invariants.

The job only reads, then (when something is wrong) logs an error and records
``ledger.verify_failed`` in the global audit stream with the problems, so the supervisory
bureau sees it in the chain. Running it twice, or late, does no harm.
"""

from __future__ import annotations

import logging
from typing import Any

from tendering.core.audit import GLOBAL, record
from tendering.core.db import session_scope
from tendering.ledger.verify import verify_ledger

__all__ = ["verify_ledger_hourly"]

log = logging.getLogger(__name__)


async def verify_ledger_hourly(ctx: dict[str, Any]) -> int:
    """Check the ledger; returns the number of problems found (0 when sound)."""
    async with session_scope(ctx["sessionmaker"]) as session:
        problems = await verify_ledger(session)
        if problems:
            log.error("ledger verify found %d problem(s): %s", len(problems), problems[:5])
            await record(
                session,
                stream=GLOBAL,
                action="ledger.verify_failed",
                actor="system:ledger-verify",
                payload={"problems": problems[:50], "count": len(problems)},
            )
    return len(problems)
