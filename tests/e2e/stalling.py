"""``tendering serve`` whose openings stall before recording their first result, until the
process stops them: ``python -m tests.e2e.stalling`` (from the repository's root).

A test stops it while an opening runs, which a real opening of a few small bids does for
too short a time to hit. Everything else is the real command."""

from __future__ import annotations

import asyncio
from typing import Any

from tendering.cli import main
from tendering.opening import opener


async def _stall(*args: Any, **kwargs: Any) -> None:
    await asyncio.Event().wait()  # until the runner's task is cancelled


opener.record_results = _stall

if __name__ == "__main__":
    main(["serve"])
