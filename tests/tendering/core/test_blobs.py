from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest

from tendering.core.blobs import BlobStore
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
