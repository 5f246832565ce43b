"""Hooks: how a lower context lets a higher one act in the same transaction without
importing it (dependencies run one way: core, ledger, tenders, bids, opening).

The lower context declares a hook and announces events on it; ``app.register_contexts``
connects the higher context's function. An announcement awaits every listener in the
order they were connected, in the announcer's session: what a listener writes commits or
rolls back with the change that announced it, and a listener's error is the announcer's::

    # tenders (lower): publication announces its lots
    lots_published: Hook[LotsPublished] = Hook("tenders.lots_published")
    await lots_published.announce(session, LotsPublished(lots=..., actor=...))

    # app.py (the composition root): the key ceremony listens
    tenders.lots_published.connect(opening.hold_key_ceremonies)

Connecting the same function twice connects it once (``register_contexts`` is idempotent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Hook", "Listener"]

E = TypeVar("E")

Listener = Callable[[AsyncSession, E], Awaitable[None]]


class Hook(Generic[E]):
    """A named announcement of events of type ``E``, with the listeners connected to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Listener[E]] = []

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, listeners={len(self._listeners)})"

    @property
    def listeners(self) -> tuple[Listener[E], ...]:
        return tuple(self._listeners)

    def connect(self, listener: Listener[E]) -> None:
        """Call ``listener(session, event)`` on every announcement from now on."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def disconnect(self, listener: Listener[E]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def announce(self, session: AsyncSession, event: E) -> None:
        """Await each listener with ``event`` in ``session``'s transaction, in order."""
        for listener in tuple(self._listeners):
            await listener(session, event)
