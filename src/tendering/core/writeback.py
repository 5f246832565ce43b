"""Writing big files behind the network: the disk works while the bytes arrive.

A receipt (or an opening result) waits for ``fsync``. Left to itself the kernel would write
a whole file back only then, so storing it would take the network's time plus the disk's.
:func:`write_batch` writes each batch in one ``writev``, starts its writeback at once
(``sync_file_range``), and waits for the batches ``WRITEBACK_LAG`` bytes behind, dropping
them from the page cache (nobody reads a sealed bid before the opening): the final
``fsync`` finds almost nothing left, and a file's dirty pages stay bounded whatever its
size::

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    for batch in batches:
        write_batch(fd, batch)      # blocking: call it from a worker thread
    os.fsync(fd)
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from typing import cast

__all__ = ["IOV_MAX", "WRITEBACK_LAG", "write_batch"]

IOV_MAX = 1024  # what Linux and the BSDs accept in one writev
WRITEBACK_LAG = 8 * 1024 * 1024  # how far behind the newest batch the disk may lag


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
