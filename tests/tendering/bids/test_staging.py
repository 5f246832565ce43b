"""Staging an upload: the bytes on disk are the bytes sent, however they were chunked, but
for the header, masked with the platform key."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from pathlib import Path

import pytest

from tendering.bids.at_rest import unmask_head
from tendering.bids.upload import stage_envelope
from tendering.core.blobs import BlobStore
from tendering.core.crypto import hpke
from tendering.core.crypto.envelope import EnvelopeSealer, EnvelopeValidator
from tendering.core.secrecy import Secrecy
from tendering.core.writeback import IOV_MAX, write_batch

SECRECY = Secrecy.from_seed(bytes(32))


def test_write_batch_writes_more_parts_than_one_writev_takes(tmp_path: Path) -> None:
    parts = [bytes([i % 251]) * (i % 7 + 1) for i in range(3 * IOV_MAX + 5)]
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        write_batch(fd, parts[:10])
        write_batch(fd, [])
        write_batch(fd, parts[10:])
    finally:
        os.close(fd)
    assert path.read_bytes() == b"".join(parts)


async def test_a_staged_envelope_is_the_bytes_sent_in_tiny_and_big_chunks(tmp_path: Path) -> None:
    public = hpke.public_raw_of(hpke.generate_opening_key())
    sealer = EnvelopeSealer(opening_public_key=public, lot="L-1", bidder="B-1")
    data = sealer.feed(os.urandom(3_000_000)) + sealer.finish()
    rng = random.Random(5)
    cuts, at = [], 0
    while at < len(data):  # runs of 1-byte chunks beside 300 KB ones
        step = rng.choice([1, 3, 700, 65_536, 300_000])
        cuts.append(data[at : at + step])
        at += step

    async def body():  # type: ignore[no-untyped-def]
        for cut in cuts:
            yield cut

    store = BlobStore(tmp_path / "blobs")
    validator = EnvelopeValidator(expected_lot="L-1", expected_bidder="B-1")
    staged = await stage_envelope(body(), store=store, validator=validator, secrecy=SECRECY)
    stored = staged.path.read_bytes()
    assert b"L-1" not in stored[:4096] and b"B-1" not in stored[:4096]
    sha = staged.checked.sha256_hex
    assert unmask_head(stored, secrecy=SECRECY, sha256_hex=sha) == data
    assert staged.checked.sha256 == hashlib.sha256(data).digest()
    assert staged.checked.size == len(data)
    await staged.settle(store)
    assert store.path(sha).read_bytes() == stored


async def _staged_small(tmp_path: Path):  # type: ignore[no-untyped-def]
    public = hpke.public_raw_of(hpke.generate_opening_key())
    sealer = EnvelopeSealer(opening_public_key=public, lot="L-1", bidder="B-1")
    data = sealer.feed(os.urandom(10_000)) + sealer.finish()

    async def body():  # type: ignore[no-untyped-def]
        yield data

    store = BlobStore(tmp_path / "blobs")
    validator = EnvelopeValidator(expected_lot="L-1", expected_bidder="B-1")
    staged = await stage_envelope(body(), store=store, validator=validator, secrecy=SECRECY)
    await staged.durable  # the real fsync; the tests below stand in for a slow one
    return store, staged


async def test_the_file_enters_the_store_only_once_its_last_fsync_is_done(tmp_path: Path) -> None:
    store, staged = await _staged_small(tmp_path)
    staged.durable = asyncio.get_running_loop().create_future()
    settling = asyncio.ensure_future(staged.settle(store))
    await asyncio.sleep(0.05)
    assert not settling.done() and not store.exists(staged.checked.sha256_hex)
    staged.durable.set_result(None)
    await settling
    assert store.exists(staged.checked.sha256_hex) and not staged.path.exists()


async def test_a_failed_last_fsync_stores_nothing(tmp_path: Path) -> None:
    store, staged = await _staged_small(tmp_path)
    staged.durable = asyncio.get_running_loop().create_future()
    staged.durable.set_exception(OSError(5, "Input/output error"))
    with pytest.raises(OSError):
        await staged.settle(store)
    await staged.discard()
    assert not staged.path.exists() and not store.exists(staged.checked.sha256_hex)
