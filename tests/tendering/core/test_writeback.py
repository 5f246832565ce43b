"""Writing a big file durably as it grows (core/writeback.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tendering.core.writeback import DURABLE_EVERY, Flusher, write_batch


async def test_a_flushed_file_holds_every_batch_in_order(tmp_path: Path) -> None:
    path = tmp_path / "big"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    batches = [[os.urandom(300_000), os.urandom(724_288)] for _ in range(40)]  # ~2.4 flushes
    flusher = Flusher(fd)
    flushes = 0
    try:
        for batch in batches:
            write_batch(fd, batch)
            flusher.wrote(sum(map(len, batch)))
            flushes += flusher.syncing is not None and flusher.unsynced == 0
            await flusher.settle()  # each flush done before the next batch: count them all
        await flusher.finish()
    finally:
        os.close(fd)
    assert path.read_bytes() == b"".join(part for batch in batches for part in batch)
    assert flushes == sum(map(len, (p for b in batches for p in b))) // DURABLE_EVERY


async def test_a_failed_flush_fails_the_file() -> None:
    read_end, write_end = os.pipe()  # fdatasync on a pipe fails (EINVAL)
    flusher = Flusher(write_end)
    try:
        flusher.wrote(DURABLE_EVERY)
        with pytest.raises(OSError):
            await flusher.finish()
    finally:
        os.close(read_end)
        os.close(write_end)
