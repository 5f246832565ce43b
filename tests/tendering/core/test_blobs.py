from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator

import pytest

from tendering.core.blobs import LEFTOVER_AGE, BlobStore, drop_later
from tendering.core.errors import NotFound, PayloadTooLarge


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_stream_is_stored_under_its_sha256(tmp_path):
    store = BlobStore(tmp_path)
    stored = await store.write_stream(chunks(b"tender ", b"documents"), limit=100)
    assert stored.sha256 == hashlib.sha256(b"tender documents").hexdigest()
    assert stored.size == 16
    assert store.path(stored.sha256).parent.parent.name == stored.sha256[:2]
    with store.open(stored.sha256) as handle:
        assert handle.read() == b"tender documents"
    assert b"".join([c async for c in store.read_chunks(stored.sha256, chunk_size=3)]) == (
        b"tender documents"
    )


async def test_same_content_twice_is_one_blob_and_no_temporary_file_remains(tmp_path):
    store = BlobStore(tmp_path)
    first = await store.write_bytes(b"same", limit=10)
    second = await store.write_stream(chunks(b"sa", b"me"), limit=10)
    assert first == second
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_exactly_the_limit_is_accepted_and_one_byte_more_is_refused(tmp_path):
    store = BlobStore(tmp_path)
    assert (await store.write_bytes(b"x" * 8, limit=8)).size == 8
    with pytest.raises(PayloadTooLarge) as refused:
        await store.write_stream(chunks(b"x" * 5, b"y" * 4), limit=8)
    assert refused.value.details == {"limit_bytes": 8}
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not store.exists(hashlib.sha256(b"x" * 5 + b"y" * 4).hexdigest())


async def test_the_stream_stops_at_the_limit_without_reading_the_rest(tmp_path):
    pulled = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            pulled.append(1)
            yield b"z" * 1024

    with pytest.raises(PayloadTooLarge):
        await BlobStore(tmp_path).write_stream(endless(), limit=4096)
    assert len(pulled) == 5


async def test_a_failing_source_leaves_nothing_behind(tmp_path):
    async def broken() -> AsyncIterator[bytes]:
        yield b"part"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await BlobStore(tmp_path).write_stream(broken(), limit=100)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_missing_blob_is_not_found_and_bad_names_are_refused(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(NotFound):
        store.open("0" * 64)
    with pytest.raises(Exception, match="lowercase hex"):
        store.path("../../etc/passwd")


async def test_a_duplicate_is_handed_back_and_dropped_without_waiting(tmp_path):
    store = BlobStore(tmp_path)
    stored = await store.write_bytes(b"sealed bid", limit=100)
    again = tmp_path / "tmp" / "again.part"
    again.write_bytes(b"sealed bid")
    assert store.claim(again, stored.sha256) == again  # kept: the blob is there already
    assert again.exists()
    drop_later(again)
    for _ in range(200):  # the removal runs in a worker thread, after we go on
        if not again.exists():
            break
        await asyncio.sleep(0.01)
    assert not again.exists()
    with store.open(stored.sha256) as handle:
        assert handle.read() == b"sealed bid"


def test_claim_moves_new_content_into_the_store(tmp_path):
    store = BlobStore(tmp_path)
    (tmp_path / "tmp").mkdir()
    fresh = tmp_path / "tmp" / "fresh.part"
    fresh.write_bytes(b"new")
    sha = hashlib.sha256(b"new").hexdigest()
    assert store.claim(fresh, sha) is None
    assert not fresh.exists() and store.exists(sha)


def test_the_sweeper_removes_only_what_a_crash_left_a_day_ago(tmp_path):
    store = BlobStore(tmp_path)
    assert store.sweep_leftovers() == 0  # no tmp directory yet: nothing to do
    (tmp_path / "tmp").mkdir()
    old, recent = tmp_path / "tmp" / "old.part", tmp_path / "tmp" / "recent.part"
    old.write_bytes(b"half a bid")
    recent.write_bytes(b"a bid arriving now")
    day_ago = time.time() - LEFTOVER_AGE - 60
    os.utime(old, (day_ago, day_ago))
    assert store.sweep_leftovers() == 1
    assert not old.exists() and recent.exists()
    assert store.sweep_leftovers(now=time.time() + LEFTOVER_AGE + 60) == 1
    assert not recent.exists()
