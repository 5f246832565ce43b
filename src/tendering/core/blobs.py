"""The platform's blob store: files kept by the SHA-256 of their content.

A blob is written once and never changed: its name *is* its hash, so a reader can check
what it got, the same document uploaded twice is stored once, and an auditor can re-hash
the directory. Writes stream: chunks go to a temporary file in the store (so the final
rename stays on one filesystem and is atomic) in batches of 1 MiB, hashed, counted and made
durable as they go (``core/writeback.py``); over the limit the upload is abandoned at once,
with a few batches in memory at most, whatever the size::

    store = BlobStore(settings.blob_dir)
    stored = await store.write_stream(request.stream(), limit=settings.max_document_bytes)
    stored.sha256, stored.size
    with store.open(stored.sha256) as f: ...

Layout: ``<root>/ab/cd/abcd...`` (two levels of fan-out), temporary files in ``<root>/tmp``.
A crash mid-write leaves only a temporary file, never a half blob under a real name; the
worker's sweeper removes such leftovers once no write could still own them
(:func:`sweep_leftovers`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tendering.core.errors import ErrorCode, InvalidInput, NotFound, PayloadTooLarge
from tendering.core.writeback import Flusher, write_batch

__all__ = [
    "LEFTOVER_AGE",
    "BlobStore",
    "StagedBlob",
    "StoredBlob",
    "drop_later",
    "sweep_leftover_files",
]

log = logging.getLogger("tendering.blobs")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HEX2 = re.compile(r"^[0-9a-f]{2}$")
# A temporary file untouched this long belongs to no write in progress: every write touches
# its file at least once per batch, and no upload stalls for a day.
LEFTOVER_AGE = 24 * 3600
READ_CHUNK = 256 * 1024
WRITE_BATCH = 1024 * 1024  # chunks are gathered into batches this big, one thread hop each


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str  # lowercase hex of the content
    size: int  # bytes


@dataclass(slots=True)
class StagedBlob:
    """A finished file under ``tmp``, not yet in the store (:meth:`BlobStore.stage_stream`)."""

    path: Path
    blob: StoredBlob
    kept: bool = False

    def discard(self) -> None:
        """Remove the staging file unless it was kept (idempotent)."""
        if not self.kept:
            self.path.unlink(missing_ok=True)


class BlobStore:
    """Content-addressed files under ``root`` (``settings.blob_dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise InvalidInput(
                "A blob is named by the lowercase hex SHA-256 of its content (64 characters).",
                code=ErrorCode.BLOB_BAD_NAME,
                field="sha256",
            )
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """The blob for reading (binary); ``NotFound`` when it is not stored."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFound(
                f"No stored file has SHA-256 {sha256}.", code=ErrorCode.BLOB_NOT_FOUND
            ) from None

    async def read_chunks(
        self, sha256: str, *, chunk_size: int = READ_CHUNK
    ) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks, read off the event loop."""
        handle = await asyncio.to_thread(self.open, sha256)
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def write_bytes(self, data: bytes, *, limit: int) -> StoredBlob:
        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.write_stream(one(), limit=limit)

    async def write_stream(self, chunks: AsyncIterable[bytes], *, limit: int) -> StoredBlob:
        """Store the concatenated ``chunks``; ``PayloadTooLarge`` past ``limit`` bytes.

        Memory stays at a few batches whatever the size. The temporary file is removed on any
        failure (too large, client gone, disk full), so nothing partial remains.
        """
        staged = await self.stage_stream(chunks, limit=limit)
        try:
            await asyncio.to_thread(self.keep, staged)
        finally:
            await asyncio.to_thread(staged.discard)
        return staged.blob

    async def stage_stream(self, chunks: AsyncIterable[bytes], *, limit: int) -> StagedBlob:
        """Write the concatenated ``chunks`` to a staging file under ``tmp``, hashed and
        durable, for the caller to :meth:`keep` once what it belongs to is accepted, or to
        :meth:`StagedBlob.discard` on a refusal, so that nothing refused stays in the store::

            staged = await store.stage_stream(request.stream(), limit=limit)
            try:
                ...  # the row that references staged.blob.sha256
                await asyncio.to_thread(store.keep, staged)
            finally:
                await asyncio.to_thread(staged.discard)  # nothing once kept
        """
        tmp_dir = self.root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        tmp = tmp_dir / f"{secrets.token_hex(12)}.part"
        digest, size = hashlib.sha256(), 0
        handle = await asyncio.to_thread(tmp.open, "xb", buffering=0)
        flusher = Flusher(handle.fileno())
        batch: list[bytes] = []
        pending = 0
        try:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(
                            f"The file is larger than the limit of {_human(limit)}.",
                            code=ErrorCode.UPLOAD_TOO_LARGE,
                            details={"limit_bytes": limit},
                        )
                    batch.append(chunk)
                    pending += len(chunk)
                    if pending >= WRITE_BATCH:
                        await self._write(handle, batch, digest, flusher)
                        batch, pending = [], 0
                await self._write(handle, batch, digest, flusher)
                await flusher.finish()
            finally:
                await flusher.settle()
                await asyncio.to_thread(handle.close)
        except BaseException:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
            raise
        return StagedBlob(path=tmp, blob=StoredBlob(sha256=digest.hexdigest(), size=size))

    def keep(self, staged: StagedBlob) -> None:
        """Move a staged file into the store (a copy already there is kept instead)."""
        self.settle(staged.path, staged.blob.sha256)
        staged.kept = True

    @staticmethod
    async def _write(handle: BinaryIO, batch: list[bytes], digest: Any, flusher: Flusher) -> None:
        """Hash and write a batch in a worker thread (both release the GIL)."""

        def work() -> None:
            for part in batch:
                digest.update(part)
            write_batch(handle.fileno(), batch)

        await asyncio.to_thread(work)
        flusher.wrote(sum(map(len, batch)))

    def settle(self, tmp: Path, sha256: str) -> None:
        """Move the finished, fsynced file ``tmp`` (under ``root/tmp``: same filesystem, so
        one atomic rename) into the store as the blob whose SHA-256 is ``sha256``."""
        duplicate = self.claim(tmp, sha256)
        if duplicate is not None:
            duplicate.unlink()

    def claim(self, tmp: Path, sha256: str) -> Path | None:
        """:meth:`settle`, but a ``tmp`` whose content is stored already is handed back for
        the caller to drop (:func:`drop_later`) rather than removed here: freeing a big
        file's blocks takes a while (0.15 s for 200 MB on our disks) nobody needs to wait
        for. ``None`` when ``tmp`` became the blob."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # same name, same content: keep the one already there
            try:
                # Touched: the orphan sweeper (core/blob_sweep.py) leaves a file used within
                # the day alone, and puts back one it had taken away meanwhile.
                os.utime(final)
                return tmp
            except FileNotFoundError:
                pass  # swept away this instant: this copy becomes the blob
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        return None

    def stored_before(self, cutoff: float) -> list[str]:
        """The SHA-256 of every stored file last written or claimed before ``cutoff``."""
        found = []
        for first in _hex_dirs(self.root):
            for second in _hex_dirs(first):
                for entry in os.scandir(second):
                    try:
                        old = entry.stat(follow_symlinks=False).st_mtime < cutoff
                    except FileNotFoundError:
                        continue
                    if _SHA256.match(entry.name) and entry.is_file() and old:
                        found.append(entry.name)
        return found

    def take_aside(self, sha256: str) -> Path | None:
        """Move the blob out of the store into ``tmp`` (one rename); ``None`` if it is gone.
        Put it back with :meth:`settle`; the leftover sweep removes it if nobody does."""
        aside = self.root / "tmp" / f"{sha256}.{secrets.token_hex(6)}.aside"
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self.path(sha256), aside)
        except FileNotFoundError:
            return None
        return aside

    def sweep_leftovers(self, *, now: float | None = None) -> int:
        """Remove temporary files a crash left behind (older than ``LEFTOVER_AGE``); how
        many it removed."""
        cutoff = (time.time() if now is None else now) - LEFTOVER_AGE
        removed = 0
        try:
            entries = list(os.scandir(self.root / "tmp"))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # its write finished (or another sweeper) meanwhile
                continue
        return removed


async def sweep_leftover_files(ctx: dict[str, Any]) -> int:
    """The worker's sweeper (each minute): :meth:`BlobStore.sweep_leftovers`."""
    return await asyncio.to_thread(BlobStore(ctx["settings"].blob_dir).sweep_leftovers)


_DROPPING: set[asyncio.Future[None]] = set()


def drop_later(path: Path) -> None:
    """Remove ``path`` in a worker thread, without waiting for it. Should the process stop
    first, the file stays under ``tmp`` for :meth:`BlobStore.sweep_leftovers`."""
    dropping = asyncio.ensure_future(asyncio.to_thread(path.unlink, missing_ok=True))
    _DROPPING.add(dropping)  # the loop keeps only a weak reference to a task
    dropping.add_done_callback(_dropped)


def _dropped(dropping: asyncio.Future[None]) -> None:
    _DROPPING.discard(dropping)
    if not dropping.cancelled() and dropping.exception() is not None:
        log.warning("could not remove a temporary file: %s", dropping.exception())


def _hex_dirs(parent: Path) -> list[Path]:
    try:
        entries = list(os.scandir(parent))
    except FileNotFoundError:
        return []
    return [
        Path(e.path) for e in entries if len(e.name) == 2 and _HEX2.match(e.name) and e.is_dir()
    ]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _human(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    return f"{size} bytes"
