"""Streaming an envelope upload to a staging file while the validator checks it.

The file goes to the blob store's ``tmp`` directory (same filesystem, so settling it under
its hash is one atomic rename) and is settled only once the bid is accepted; any refusal
removes it, so a refused upload leaves nothing behind. Memory is one chunk::

    staged = await stage_envelope(request.stream(), store=store, validator=validator)
    try:
        ...                                   # decide; on acceptance:
        await staged.settle(store)
    finally:
        await staged.discard()                # no-op once settled
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tendering.core.blobs import BlobStore
from tendering.core.crypto.envelope import CheckedEnvelope, EnvelopeValidator

__all__ = ["StagedEnvelope", "stage_envelope", "write_batch"]

# Small network chunks are gathered into ~1 MiB batches, each checked and written in a
# worker thread while the next batch arrives (two batches in memory at most).
WRITE_BATCH = 1024 * 1024
IOV_MAX = 1024  # what Linux and the BSDs accept in one writev


@dataclass
class StagedEnvelope:
    path: Path
    checked: CheckedEnvelope
    settled: bool = False

    async def settle(self, store: BlobStore) -> None:
        await asyncio.to_thread(store.settle, self.path, self.checked.sha256_hex)
        self.settled = True

    async def discard(self) -> None:
        if not self.settled:
            await asyncio.to_thread(self.path.unlink, missing_ok=True)


def _check(validator: EnvelopeValidator, parts: list[bytes]) -> None:
    for part in parts:
        validator.feed(part)


def _check_and_write(
    validator: EnvelopeValidator, handle: BinaryIO, parts: list[bytes], checked: int
) -> asyncio.Future[tuple[None, None]]:
    """Hash and write a batch at once, each in a worker thread (hashlib and file writes
    release the GIL), while the event loop receives the next batch. The first ``checked``
    parts were fed to the validator already."""
    return asyncio.gather(
        asyncio.to_thread(_check, validator, parts[checked:]),
        asyncio.to_thread(write_batch, handle.fileno(), parts),
    )


def write_batch(fd: int, parts: list[bytes]) -> None:
    """The batch in one ``writev``, then ask the kernel to start putting it on disk now
    (``POSIX_FADV_DONTNEED`` starts writeback of the dirty pages and drops the clean ones),
    so the ``fsync`` a receipt waits for finds little left to do and the page cache does
    not fill with bids nobody reads before the opening."""
    for start in range(0, len(parts), IOV_MAX):  # a slow client sends many tiny chunks
        group = parts[start : start + IOV_MAX]
        written = os.writev(fd, group)
        if written < sum(map(len, group)):  # a short write: a signal, or a full disk
            rest = memoryview(b"".join(group))[written:]
            while rest:
                rest = rest[os.write(fd, rest) :]
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _close(handle: BinaryIO) -> None:
    os.fsync(handle.fileno())
    handle.close()


async def stage_envelope(
    chunks: AsyncIterable[bytes], *, store: BlobStore, validator: EnvelopeValidator
) -> StagedEnvelope:
    """Write ``chunks`` to a staging file, feeding ``validator``; raises what it raises
    (``EnvelopeError``) after removing the file."""
    tmp_dir = store.root / "tmp"
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    path = tmp_dir / f"bid-{secrets.token_hex(12)}.part"
    handle = await asyncio.to_thread(path.open, "xb", buffering=0)
    writing: asyncio.Future[tuple[None, None]] | None = None
    try:
        batch: list[bytes] = []
        pending = checked = 0
        async for chunk in chunks:
            if not chunk:
                continue
            if validator.header is None:  # refuse a wrong lot, bidder or key at once
                validator.feed(chunk)
                checked += 1
            batch.append(chunk)
            pending += len(chunk)
            if pending >= WRITE_BATCH:
                if writing is not None:
                    await writing  # at most one batch in flight: memory stays bounded
                writing = _check_and_write(validator, handle, batch, checked)
                batch, pending, checked = [], 0, 0
        if writing is not None:
            await writing
            writing = None
        await _check_and_write(validator, handle, batch, checked)
        await asyncio.to_thread(_close, handle)
        return StagedEnvelope(path=path, checked=validator.finish())
    except BaseException:
        if writing is not None:
            await asyncio.gather(writing, return_exceptions=True)
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
