"""The cycle collector pause: nested and overlapping pauses end with the collector on, a
collector someone else turned off stays off, and an error inside still ends the pause."""

from __future__ import annotations

import asyncio
import gc

import pytest

from tendering.core.bulk import collector_paused


def test_pauses_nest_and_the_collector_runs_again_after_the_outermost() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_ends_the_pause() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("bad row")
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_overlapping_pauses_of_two_tasks_end_with_the_collector_on() -> None:
    first_in, second_in = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        with collector_paused():
            first_in.set()
            await second_in.wait()
        # The second still works: its pause holds.
        assert not gc.isenabled()

    async def second() -> None:
        await first_in.wait()
        with collector_paused():
            second_in.set()
            await asyncio.sleep(0.01)

    await asyncio.gather(first(), second())
    assert gc.isenabled()
