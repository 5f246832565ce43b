"""Streaming an envelope upload to a staging file while the validator checks it; the stored
copy's header is masked (``bids/at_rest.py``).

The file goes to the blob store's ``tmp`` directory (same filesystem, so settling it under
its hash is one atomic rename) and is settled only once the bid is accepted; any refusal
removes it, so a refused upload leaves nothing behind. Memory is one chunk::

    staged = await stage_envelope(
        request.stream(), store=store, validator=validator, secrecy=secrecy
    )
    try:
        ...                                   # decide; on acceptance:
        await staged.settle(store)
    finally:
        await staged.discard()                # no-op once settled
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import secrets
import sys
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from tendering.bids.at_rest import HEADER_AT, blank_header, masked_header
from tendering.core.blobs import BlobStore
from tendering.core.crypto.envelope import CheckedEnvelope, EnvelopeValidator
from tendering.core.crypto.header import MAX_HEADER_LEN
from tendering.core.secrecy import Secrecy

__all__ = ["StagedEnvelope", "stage_envelope", "write_batch"]

# Small network chunks are gathered into ~1 MiB batches, each checked and written in a
# worker thread while the next batch arrives (two batches in memory at most).
WRITE_BATCH = 1024 * 1024
IOV_MAX = 1024  # what Linux and the BSDs accept in one writev
WRITEBACK_LAG = 8 * WRITE_BATCH  # how far behind the newest batch the disk may lag


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


def write_batch(fd: int, parts: list[bytes]) -> None:
    """The batch in one ``writev``, then put it on its way to the disk now.

    A receipt waits for ``fsync``. Left to itself the kernel would write the whole bid back
    only then, so the upload would take the network's time plus the disk's. Instead each
    batch's writeback starts as soon as it is written, and the batches written
    ``WRITEBACK_LAG`` bytes ago are waited for and dropped from the page cache (nobody reads
    a bid before the opening): the disk works while the network does, the final ``fsync``
    finds almost nothing left, and the bid's dirty pages stay bounded whatever its size."""
    start = os.lseek(fd, 0, os.SEEK_CUR)
    written = 0
    for first in range(0, len(parts), IOV_MAX):  # a slow client sends many tiny chunks
        group = parts[first : first + IOV_MAX]
        size = sum(map(len, group))
        done = os.writev(fd, group)
        if done < size:  # a short write: a signal, or a full disk
            rest = memoryview(b"".join(group))[done:]
            while rest:
                rest = rest[os.write(fd, rest) :]
        written += size
    end = start + written
    _writeback(fd, start, written, wait=False)
    behind, behind_end = max(0, start - WRITEBACK_LAG), max(0, end - WRITEBACK_LAG)
    if behind_end > behind:
        _writeback(fd, behind, behind_end - behind, wait=True)
        os.posix_fadvise(fd, behind, behind_end - behind, os.POSIX_FADV_DONTNEED)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's ``sync_file_range(2)`` (Python has no binding); ``None`` elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range  # releases the GIL
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return cast(Callable[[int, int, int, int], int], call)


_SYNC_FILE_RANGE = _load_sync_file_range()
_START, _WAIT = 2, 1 | 2 | 4  # SYNC_FILE_RANGE_WRITE; WAIT_BEFORE | WRITE | WAIT_AFTER


def _writeback(fd: int, offset: int, length: int, *, wait: bool) -> None:
    if (
        _SYNC_FILE_RANGE is not None
        and _SYNC_FILE_RANGE(fd, offset, length, _WAIT if wait else _START) == 0
    ):
        return
    if not wait:  # elsewhere: dropping dirty pages starts their writeback
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _close(handle: BinaryIO) -> None:
    os.fsync(handle.fileno())
    handle.close()


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
                batch, pending, checked, written = [], 0, 0, written + pending
        if writing is not None:
            await writing
            writing = None
        await _check_and_write(validator, handle, batch, checked, written)
        envelope = validator.finish()
        assert validator.header is not None  # finish() refuses a file without one
        masked = masked_header(secrecy, validator.header.raw, envelope.sha256_hex)
        await asyncio.to_thread(os.pwrite, handle.fileno(), masked, HEADER_AT)
        await asyncio.to_thread(_close, handle)
        return StagedEnvelope(path=path, checked=envelope)
    except BaseException:
        if writing is not None:
            await asyncio.gather(writing, return_exceptions=True)
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
