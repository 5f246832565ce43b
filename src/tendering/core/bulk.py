"""Bulk work on many small objects at once, without the cycle collector in the way.

    with collector_paused():
        pools = build(rows)          # 100,000 rows, a few hundred thousand tuples and lists

CPython's cycle collector runs every few hundred new containers and, every so often, walks
every object alive. Building the pools of a 100,000-expert draw makes hundreds of thousands
of tuples and lists (none of them in a cycle), so it ran over and over, walking the pool it
was building: half the draw's CPU time (``bench/draw.py``). Pausing it for the few hundred
milliseconds of such work, and letting it run once after, does the same work once.

The pause is process-wide: whatever else runs meanwhile (another request, between awaits)
also leaves its cycles for later, which costs memory for that moment, never correctness.
Pauses nest and overlap: the collector runs again once the outermost that paused it ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]

_depth = 0  # pauses open now (all on the event loop's thread)


@contextmanager
def collector_paused() -> Iterator[None]:
    global _depth
    if _depth == 0 and not gc.isenabled():  # paused by someone else: leave it to them
        yield
        return
    _depth += 1
    gc.disable()
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.enable()
