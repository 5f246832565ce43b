"""Telling experts: an outbox table written in the caller's transaction, a notifier that
sends after it committed.

    await queue_message(session, secrecy, to="139...", text="...")   # in the transaction
    sent = await deliver_outbox(session, secrecy)                     # a job, later

A message's recipient and text are sealed in the row (the text names the lot and the phone
the expert: together they are the drawn list). The default notifier writes the message to
the log; an SMS gateway plugs in with :func:`set_notifier`. A message that fails to send
stays in the outbox with its error and is tried again on the next run (at most
:data:`MAX_ATTEMPTS` times).
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from experts.models import ExpertOutbox
from tendering.core.clock import db_now
from tendering.core.secrecy import Secrecy

__all__ = [
    "LogNotifier",
    "Notifier",
    "deliver_outbox",
    "get_notifier",
    "queue_message",
    "set_notifier",
]

log = logging.getLogger("experts.notify")
MAX_ATTEMPTS = 5
_PURPOSE = "expert_outbox"


class Notifier(Protocol):
    async def send(self, to: str, text: str) -> None: ...


class LogNotifier:
    """The default: the message goes to the log (a center without an SMS gateway reads it)."""

    async def send(self, to: str, text: str) -> None:
        log.info("to %s: %s", to, text)


_notifier: Notifier = LogNotifier()


def set_notifier(notifier: Notifier) -> None:
    global _notifier
    _notifier = notifier


def get_notifier() -> Notifier:
    return _notifier


async def queue_message(
    session: AsyncSession, secrecy: Secrecy, *, to: str, text: str, flush: bool = True
) -> None:
    """Queue a message in the caller's transaction (``flush=False``: the caller flushes,
    once for many)."""
    session.add(ExpertOutbox(box=secrecy.seal(_PURPOSE, {"to": to, "text": text})))
    if flush:
        await session.flush()


async def deliver_outbox(session: AsyncSession, secrecy: Secrecy, *, limit: int = 200) -> int:
    """Send what is waiting (rows locked, skipped by a concurrent run); how many were sent."""
    rows = (
        await session.scalars(
            select(ExpertOutbox)
            .where(col(ExpertOutbox.sent_at).is_(None), col(ExpertOutbox.attempts) < MAX_ATTEMPTS)
            .order_by(col(ExpertOutbox.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    sent = 0
    for row in rows:
        message = secrecy.open(_PURPOSE, row.box)
        row.attempts += 1
        try:
            await _notifier.send(str(message["to"]), str(message["text"]))
        except Exception as error:  # a gateway's failure is the row's, not the batch's
            row.error = f"{type(error).__name__}: {error}"[:300]
            continue
        row.sent_at = await db_now(session)
        row.error = None
        sent += 1
    await session.flush()
    return sent
