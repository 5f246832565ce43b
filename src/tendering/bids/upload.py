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

__all__ = ["StagedEnvelope", "stage_envelope"]

# Small network chunks are gathered before each write: one thread hop per ~1 MiB.
WRITE_BATCH = 1024 * 1024


@dataclass
class StagedEnvelope:
    path: Path
    checked: CheckedEnvelope
    settled: bool = False

    async def settle(self, store: BlobStore) -> None:
        await asyncio.to_thread(_settle, self.path, store.path(self.checked.sha256_hex))
        self.settled = True

    async def discard(self) -> None:
        if not self.settled:
            await asyncio.to_thread(self.path.unlink, missing_ok=True)


def _settle(tmp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # same name, same content
        tmp.unlink()
        return
    os.replace(tmp, final)


def _write(handle: BinaryIO, parts: list[bytes]) -> None:
    handle.writelines(parts)


def _close(handle: BinaryIO) -> None:
    handle.flush()
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
    handle = await asyncio.to_thread(path.open, "xb")
    try:
        batch: list[bytes] = []
        pending = 0
        async for chunk in chunks:
            if not chunk:
                continue
            validator.feed(chunk)
            batch.append(chunk)
            pending += len(chunk)
            if pending >= WRITE_BATCH:
                await asyncio.to_thread(_write, handle, batch)
                batch, pending = [], 0
        if batch:
            await asyncio.to_thread(_write, handle, batch)
        checked = validator.finish()
        await asyncio.to_thread(_close, handle)
        return StagedEnvelope(path=path, checked=checked)
    except BaseException:
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
