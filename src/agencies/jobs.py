"""The agencies' background job: scores decay as days pass, so every agency is rescored
for the new day. Registered to run hourly; each run rescores only the agencies not yet
scored today, so it is idempotent and a missed run is caught up by the next."""

from __future__ import annotations

from typing import Any

from agencies.credit import rescore_all, today
from tendering.core.auth.actor import Actor
from tendering.core.db import session_scope

__all__ = ["rescore_agencies"]


async def rescore_agencies(ctx: dict[str, Any]) -> int:
    """Apply the day's decay: rescore every agency not yet scored today."""
    async with session_scope(ctx["sessionmaker"]) as session:
        return await rescore_all(
            session, on=await today(session), actor=Actor.system("agencies.rescore")
        )
