"""Time: the database clock decides, and every time is shown in one format.

The platform's time authority is PostgreSQL's ``clock_timestamp()`` read inside the
transaction that decides (a deadline, a receipt, a countdown), never the application's clock:
N servers behind a load balancer agree on one clock that way. ``clock_timestamp()`` rather
than ``now()`` because ``now()`` is frozen at the start of the transaction, and a long upload
must be judged by when it is committed, not by when it began.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tendering.core.errors import Inconsistent

__all__ = ["db_now", "parse_rfc3339", "rfc3339"]


async def db_now(session: AsyncSession | AsyncConnection) -> datetime:
    """The database's current time (UTC, microsecond precision)."""
    value = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    if not isinstance(value, datetime):
        raise Inconsistent("expected isinstance(value, datetime)")
    return value.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """``2026-11-24T08:00:00.000000Z``: UTC, always six fraction digits, a ``Z``.

    The one spelling of a time in hashes, signatures, receipts and the API.
    """
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in the platform; attach a timezone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(value: str) -> datetime:
    """Inverse of :func:`rfc3339` (accepts any offset ISO 8601 form too)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return moment.astimezone(UTC)
