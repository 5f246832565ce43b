"""Streaming an envelope upload to a staging file while the validator checks it; the stored
copy's header is masked (``bids/at_rest.py``).

The file goes to the blob store's ``tmp`` directory (same filesystem, so settling it under
its hash is one atomic rename) and is settled only once the bid is accepted; any refusal
removes it, so a refused upload leaves nothing behind. Memory is one chunk::

    staged = await stage_envelope(
        request.stream(), store=store, validator=validator, secrecy=secrecy
    )
    try:
        ...                                   # decide (the last fsync runs meanwhile);
        await staged.settle(store)            # on acceptance, before the commit
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

from tendering.bids.at_rest import HEADER_AT, blank_header, masked_header
from tendering.core.blobs import BlobStore, drop_later
from tendering.core.crypto.envelope import CheckedEnvelope, EnvelopeValidator
from tendering.core.crypto.header import MAX_HEADER_LEN
from tendering.core.errors import Inconsistent
from tendering.core.secrecy import Secrecy
from tendering.core.writeback import Flusher, write_batch

__all__ = ["StagedEnvelope", "stage_envelope"]

# Small network chunks are gathered into ~1 MiB batches, each checked and written in a
# worker thread while the next batch arrives (two batches in memory at most).
WRITE_BATCH = 1024 * 1024


@dataclass
class StagedEnvelope:
    path: Path
    checked: CheckedEnvelope
    # The file's last fsync, still running when the envelope is handed over: the caller's
    # database work (the bid row, the receipt's signature) overlaps it, and settle() waits
    # for it, so the file is on disk before it enters the store and before the commit.
    durable: asyncio.Future[None]
    settled: bool = False

    async def settle(self, store: BlobStore) -> None:
        await self.durable
        duplicate = await asyncio.to_thread(store.claim, self.path, self.checked.sha256_hex)
        if duplicate is not None:  # the same file sent again: the answer need not wait
            drop_later(duplicate)
        self.settled = True

    async def discard(self) -> None:
        if not self.settled:
            await asyncio.gather(self.durable, return_exceptions=True)
            await asyncio.to_thread(self.path.unlink, missing_ok=True)


async def _make_durable(flusher: Flusher, handle: BinaryIO) -> None:
    try:
        await flusher.finish()
    finally:
        await asyncio.to_thread(handle.close)


def _check(validator: EnvelopeValidator, parts: list[bytes]) -> None:
    for part in parts:
        validator.feed(part)


def _check_and_write(
    validator: EnvelopeValidator, handle: BinaryIO, parts: list[bytes], checked: int, offset: int
) -> asyncio.Future[tuple[None, None]]:
    """Hash and write a batch at once, each in a worker thread (hashlib and file writes
    release the GIL), while the event loop receives the next batch. The first ``checked``
    parts were fed to the validator already; ``offset`` is where the batch goes in the file.
    The header goes to disk blank, and masked once the file's hash is known."""
    header = validator.header
    header_end = header.prefix_len if header is not None else HEADER_AT + MAX_HEADER_LEN
    return asyncio.gather(
        asyncio.to_thread(_check, validator, parts[checked:]),
        asyncio.to_thread(
            write_batch,
            handle.fileno(),
            blank_header(parts, offset=offset, header_end=header_end),
        ),
    )


async def stage_envelope(
    chunks: AsyncIterable[bytes],
    *,
    store: BlobStore,
    validator: EnvelopeValidator,
    secrecy: Secrecy,
) -> StagedEnvelope:
    """Write ``chunks`` to a staging file, feeding ``validator``, its header masked
    (``bids/at_rest.py``); raises what ``validator`` raises (``EnvelopeError``) after
    removing the file."""
    tmp_dir = store.root / "tmp"
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    path = tmp_dir / f"bid-{secrets.token_hex(12)}.part"
    handle = await asyncio.to_thread(path.open, "xb", buffering=0)
    writing: asyncio.Future[tuple[None, None]] | None = None
    flusher = Flusher(handle.fileno())
    try:
        batch: list[bytes] = []
        pending = checked = written = 0
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
                writing = _check_and_write(validator, handle, batch, checked, written)
                flusher.wrote(pending)
                batch, pending, checked, written = [], 0, 0, written + pending
        if writing is not None:
            await writing
            writing = None
        await _check_and_write(validator, handle, batch, checked, written)
        envelope = validator.finish()
        # finish() refuses a file without one
        if validator.header is None:
            raise Inconsistent("validator.header is missing")
        masked = masked_header(secrecy, validator.header.raw, envelope.sha256_hex)
        await asyncio.to_thread(os.pwrite, handle.fileno(), masked, HEADER_AT)
        durable = asyncio.ensure_future(_make_durable(flusher, handle))
        return StagedEnvelope(path=path, checked=envelope, durable=durable)
    except BaseException:
        await asyncio.gather(writing or asyncio.sleep(0), flusher.settle(), return_exceptions=True)
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
