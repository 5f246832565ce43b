"""Publication at the scheduled time: the job and the sweeper that covers lost jobs.

The job re-reads the database and publishes only a notice that is still scheduled and due
(a guarded update), so running it twice, late, or after staff published by hand does
nothing more. Run early (clock skew between Redis and PostgreSQL) or after a reschedule to
a later time, it asks arq to try again at the notice's current time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import Retry

from tendering.core.clock import db_now
from tendering.core.db import session_scope
from tendering.tenders.models import NoticeStatus
from tendering.tenders.service import due_notice_ids, get_notice, publish_due_notice

__all__ = ["publish_notice", "sweep_due_notices"]


async def publish_notice(ctx: dict[str, Any], notice_id: int) -> bool:
    """Publish ``notice_id`` if it is scheduled and due; True when this run published it."""
    async with session_scope(ctx["sessionmaker"]) as session:
        if await publish_due_notice(session, notice_id):
            return True
        notice = await get_notice(session, notice_id)
        now = await db_now(session)
    if notice.status == NoticeStatus.SCHEDULED and notice.publish_at and notice.publish_at > now:
        raise Retry(defer=max(notice.publish_at - now, timedelta(seconds=1)))
    return False


async def sweep_due_notices(ctx: dict[str, Any]) -> int:
    """Publish every scheduled notice whose time has come (its job was lost or late)."""
    async with session_scope(ctx["sessionmaker"]) as session:
        due = await due_notice_ids(session)
    published = 0
    for notice_id in due:
        async with session_scope(ctx["sessionmaker"]) as session:
            published += await publish_due_notice(session, notice_id)
    return published
