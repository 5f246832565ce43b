"""Streaming a large upload into the blob store: throughput and memory against plain hashing.

    .venv/bin/python bench/blob_store.py [--mib 256] [--chunk-kib 64]

Writes ``--mib`` MiB in ``--chunk-kib`` KiB chunks through ``BlobStore.write_stream`` into a
temporary directory (the same disk as /tmp) and prints MB/s, the ratio to hashing the same
bytes with SHA-256 alone (the store's floor: it must hash anyway), and the peak Python
memory (tracemalloc), which should stay at a few write batches (1 MiB each, ``core/blobs.py``)
whatever the size.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

from tendering.core.blobs import WRITE_BATCH, BlobStore


async def chunks(total: int, size: int) -> AsyncIterator[bytes]:
    block = bytearray(os.urandom(size))
    for _ in range(total // size):
        yield bytes(block)  # a new object each time, as from a socket: memory counts them


def hash_only(total: int, size: int) -> float:
    block, digest = os.urandom(size), hashlib.sha256()
    start = time.perf_counter()
    for _ in range(total // size):
        digest.update(block)
    return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--chunk-kib", type=int, default=64)
    args = parser.parse_args()
    size = args.chunk_kib * 1024
    for mib in args.mib:
        total = mib * 1024 * 1024
        with tempfile.TemporaryDirectory() as root:
            store = BlobStore(Path(root))
            tracemalloc.start()
            start = time.perf_counter()
            stored = await store.write_stream(chunks(total, size), limit=total)
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert stored.size == total
        floor = hash_only(total, size)
        print(
            f"{mib} MiB in {args.chunk_kib} KiB chunks: {total / elapsed / 1e6:.0f} MB/s "
            f"(hash alone {total / floor / 1e6:.0f} MB/s, ratio {elapsed / floor:.2f}x); "
            f"peak Python memory {peak / 1024:.0f} KiB = {peak / size:.1f} chunks"
            f" (a write batch is {WRITE_BATCH // size} chunks)"
        )


if __name__ == "__main__":
    asyncio.run(main())
