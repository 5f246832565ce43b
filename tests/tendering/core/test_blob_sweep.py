"""The hourly sweep of stored files no row references (issue 19.7)."""

from __future__ import annotations

import os
import time

from tendering.app import register_contexts
from tendering.core import blob_sweep, jobs
from tendering.core.blobs import BlobStore
from tendering.core.db import make_sessionmaker, metadata

# Columns that hold a SHA-256 but name no stored file, and why.
NOT_BLOBS = {
    ("bank_statement", "file_sha256"): "the imported statement's digest (duplicate check)",
    ("draw", "transcript_sha256"): "the transcript's digest; the transcript is a row",
    ("expert_assignment", "token_sha256"): "a hashed answer token",
}

DAY = 24 * 3600


def _age(store: BlobStore, sha: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(store.path(sha), (then, then))


def test_every_column_that_names_a_blob_is_declared():
    import tendering.models  # noqa: F401 (every context's tables)

    register_contexts()
    columns = {
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("sha256")
    }
    declared = set(blob_sweep.BLOB_REFERENCES)
    assert declared <= columns  # each declaration names a real column
    assert declared == columns - set(NOT_BLOBS), "a new sha256 column: declare it or say why not"
    assert {("bid", "sha256"), ("tender_notice_document", "sha256")} <= declared
    assert "sweep_unreferenced_blobs" in jobs._CRON  # hourly, in the worker


async def test_an_old_file_no_row_names_is_removed_and_others_stay(tmp_path, engine):
    register_contexts()
    store = BlobStore(tmp_path)
    old_orphan = await store.write_bytes(b"old orphan", limit=100)
    young_orphan = await store.write_bytes(b"young orphan", limit=100)
    _age(store, old_orphan.sha256, 2 * DAY)
    removed = await blob_sweep.sweep_unreferenced(store, make_sessionmaker(engine))
    assert removed == 1
    assert not store.exists(old_orphan.sha256)
    assert store.exists(young_orphan.sha256)


async def test_storing_the_same_content_again_saves_it_from_the_sweep(tmp_path, engine):
    register_contexts()
    store = BlobStore(tmp_path)
    blob = await store.write_bytes(b"uploaded again", limit=100)
    _age(store, blob.sha256, 2 * DAY)
    assert store.stored_before(time.time() - DAY) == [blob.sha256]
    await store.write_bytes(b"uploaded again", limit=100)  # claims the stored copy
    assert store.stored_before(time.time() - DAY) == []
    assert await blob_sweep.sweep_unreferenced(store, make_sessionmaker(engine)) == 0
    assert store.exists(blob.sha256)


async def test_a_file_set_aside_comes_back_when_claimed_meanwhile(tmp_path):
    store = BlobStore(tmp_path)
    blob = await store.write_bytes(b"set aside", limit=100)
    aside = store.take_aside(blob.sha256)
    assert aside is not None and not store.exists(blob.sha256)
    assert store.take_aside(blob.sha256) is None
    store.settle(aside, blob.sha256)
    assert store.exists(blob.sha256)
    with store.open(blob.sha256) as handle:
        assert handle.read() == b"set aside"


async def test_with_no_column_declared_nothing_is_removed(tmp_path, engine, monkeypatch):
    monkeypatch.setattr(blob_sweep, "BLOB_REFERENCES", {})
    store = BlobStore(tmp_path)
    blob = await store.write_bytes(b"anything", limit=100)
    _age(store, blob.sha256, 30 * DAY)
    assert await blob_sweep.sweep_unreferenced(store, make_sessionmaker(engine)) == 0
    assert store.exists(blob.sha256)
