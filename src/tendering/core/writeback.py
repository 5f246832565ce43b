"""Writing big files behind the network: the disk works while the bytes arrive.

A receipt (or an opening result) waits for ``fsync``. Left to itself the kernel writes a
file back only then, and ``fsync`` then also waits for the device to flush its own cache
(on this class of virtual disk that flush, not the writing, is most of the time), so storing
a file would take the network's time plus the disk's. :func:`write_batch` writes each batch
in one ``writev`` and starts its writeback at once (``sync_file_range``); a :class:`Flusher`
calls ``fdatasync`` every ``DURABLE_EVERY`` bytes in another thread, while the writing goes
on, and drops what is on disk from the page cache (nobody reads a sealed bid before the
opening). The disk works while the network does, the final ``fsync`` finds almost nothing
left, and a file's dirty pages stay bounded whatever its size::

    flusher = Flusher(fd)
    async for batch in batches:
        await asyncio.to_thread(write_batch, fd, batch)
        flusher.wrote(sum(map(len, batch)))
    await flusher.finish()          # the final fsync
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
from collections.abc import Callable
from typing import cast

__all__ = ["DURABLE_EVERY", "IOV_MAX", "Flusher", "write_batch"]

IOV_MAX = 1024  # what Linux and the BSDs accept in one writev
DURABLE_EVERY = 16 * 1024 * 1024  # bytes between two fdatasync calls while writing


def write_batch(fd: int, parts: list[bytes]) -> None:
    """``parts`` at the file's current offset, in one ``writev``, then on their way to the
    disk (see the module docstring)."""
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
    _start_writeback(fd, start, written)


class Flusher:
    """Makes a file durable as it grows: every ``DURABLE_EVERY`` bytes written, one
    ``fdatasync`` in a worker thread (one at a time) while the writing goes on, then drops
    what it made durable from the page cache. ``await finish()`` is the final ``fsync``.

    fdatasync in the writer's own thread would stop the writing, and the network behind it,
    while the device flushes: the same sum of the two times, paid in smaller pieces."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.unsynced = 0
        self.syncing: asyncio.Future[None] | None = None

    def wrote(self, size: int) -> None:
        self.unsynced += size
        if self.unsynced >= DURABLE_EVERY and (self.syncing is None or self.syncing.done()):
            if self.syncing is not None:
                self.syncing.result()  # a failed flush (EIO, full disk) fails the file
            self.unsynced = 0
            self.syncing = asyncio.ensure_future(asyncio.to_thread(_sync_and_drop, self.fd))

    async def finish(self) -> None:
        await self.settle()
        await asyncio.to_thread(os.fsync, self.fd)

    async def settle(self) -> None:
        """Wait for the flush in flight (on failure too, before the file is closed)."""
        if self.syncing is not None:
            syncing, self.syncing = self.syncing, None
            await syncing


def _sync_and_drop(fd: int) -> None:
    os.fdatasync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


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
_WRITE = 2  # SYNC_FILE_RANGE_WRITE: start writing, do not wait


def _start_writeback(fd: int, offset: int, length: int) -> None:
    if _SYNC_FILE_RANGE is not None and _SYNC_FILE_RANGE(fd, offset, length, _WRITE) == 0:
        return
    os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)  # starts writeback too
