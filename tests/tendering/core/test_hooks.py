"""Hooks: a lower context announces, the listeners app.py connected act in its transaction."""

from __future__ import annotations

from typing import Any

import pytest

from tendering.app import register_contexts
from tendering.core.hooks import Hook
from tendering.opening import hold_key_ceremonies
from tendering.tenders import lots_published

SESSION: Any = object()  # listeners get the announcer's session as it is


async def test_listeners_are_awaited_in_the_order_connected_with_the_session_and_event():
    hook: Hook[str] = Hook("test.announced")
    heard: list[tuple[str, Any, str]] = []

    async def first(session: Any, event: str) -> None:
        heard.append(("first", session, event))

    async def second(session: Any, event: str) -> None:
        heard.append(("second", session, event))

    hook.connect(first)
    hook.connect(second)
    hook.connect(first)  # connecting twice connects once
    await hook.announce(SESSION, "lot published")
    assert heard == [("first", SESSION, "lot published"), ("second", SESSION, "lot published")]
    hook.disconnect(first)
    await hook.announce(SESSION, "again")
    assert heard[2:] == [("second", SESSION, "again")]


async def test_a_listeners_error_is_the_announcers_and_stops_the_later_ones():
    hook: Hook[int] = Hook("test.failing")
    later: list[int] = []

    async def refuse(session: Any, event: int) -> None:
        raise ValueError(f"refused {event}")

    async def after(session: Any, event: int) -> None:
        later.append(event)

    hook.connect(refuse)
    hook.connect(after)
    with pytest.raises(ValueError, match="refused 7"):
        await hook.announce(SESSION, 7)
    assert later == []


def test_the_composition_root_connects_the_key_ceremony_to_publication():
    register_contexts()
    register_contexts()  # idempotent
    assert lots_published.listeners == (hold_key_ceremonies,)
