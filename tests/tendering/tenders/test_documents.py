"""Notice documents: streamed into the blob store under a size limit, checked by SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest


@pytest.fixture
def settings(settings):
    return replace(settings, max_document_bytes=1024)


async def upload(client, desk, notice_id: int, content: bytes, **params):
    return await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "招标文件", "filename": "招标文件.pdf"} | params,
        content=content,
        headers=desk.staff_headers | {"Content-Type": "application/pdf"},
    )


async def test_a_document_at_the_limit_is_stored_and_one_byte_more_is_refused(
    desk, client, settings
):
    project = await desk.project()
    notice_id = await desk.notice(project, [await desk.lot(project)])
    accepted = await upload(client, desk, notice_id, b"x" * 1024)
    assert accepted.status_code == 201
    refused = await upload(client, desk, notice_id, b"y" * 1025)
    assert refused.status_code == 413
    assert refused.json()["code"] == "upload.too_large"
    stored = [p.name for p in settings.blob_dir.rglob("*") if p.is_file()]
    assert stored == [hashlib.sha256(b"x" * 1024).hexdigest()]
    detail = await client.get(f"/api/tenders/notices/{notice_id}", headers=desk.staff_headers)
    assert [d["size"] for d in detail.json()["documents"]] == [1024]


async def test_file_names_with_folders_are_refused(desk, client):
    project = await desk.project()
    notice_id = await desk.notice(project, [await desk.lot(project)])
    response = await upload(client, desk, notice_id, b"doc", filename="../../etc/passwd")
    assert response.status_code == 400
    assert response.json()["field"] == "filename"


async def test_only_staff_upload_and_the_public_cannot_read_a_drafts_documents(desk, client):
    project = await desk.project()
    notice_id = await desk.notice(project, [await desk.lot(project)])
    _, bidder = await desk.bidder()
    forbidden = await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "x", "filename": "x.pdf"},
        content=b"x",
        headers=bidder,
    )
    assert forbidden.status_code == 403
    document = (await upload(client, desk, notice_id, b"draft")).json()
    hidden = await client.get(document["url"])
    assert hidden.status_code == 404


async def test_a_lost_file_is_a_clear_404_not_a_broken_download(desk, client, settings):
    project = await desk.project()
    notice_id = await desk.notice(project, [await desk.lot(project)])
    document = (await upload(client, desk, notice_id, b"will be lost")).json()
    await desk.publish(notice_id)
    for path in settings.blob_dir.rglob(document["sha256"]):
        path.unlink()
    response = await client.get(document["url"])
    assert response.status_code == 404
    assert response.json()["code"] == "tender.document_missing"


def _stored(settings) -> list[str]:
    return sorted(p.name for p in settings.blob_dir.rglob("*") if p.is_file())


async def test_a_refused_document_leaves_nothing_in_the_store(desk, client, settings):
    notice_id, _ = await desk.published()
    before = _stored(settings)
    # A published notice takes documents only with an amendment: refused after the upload.
    refused = await upload(client, desk, notice_id, b"refused content")
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == "amendment"
    assert _stored(settings) == before
    assert hashlib.sha256(b"refused content").hexdigest() not in _stored(settings)


async def test_a_document_stored_before_is_kept_when_the_same_content_is_refused(
    desk, client, settings
):
    project = await desk.project()
    draft = await desk.notice(project, [await desk.lot(project)])
    assert (await upload(client, desk, draft, b"shared")).status_code == 201
    published, _ = await desk.published()
    assert (await upload(client, desk, published, b"shared")).status_code == 400
    assert hashlib.sha256(b"shared").hexdigest() in _stored(settings)


@pytest.mark.parametrize(
    ("uploaded_as", "served_as"),
    [
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("application/pdf", "application/octet-stream"),
        ("text/plain", "application/octet-stream"),
    ],
)
async def test_a_document_is_served_as_a_safe_attachment(desk, client, uploaded_as, served_as):
    project = await desk.project()
    notice_id = await desk.notice(project, [await desk.lot(project)])
    document = await client.post(
        f"/api/tenders/notices/{notice_id}/documents",
        params={"title": "招标文件", "filename": "page.html"},
        content=b"<script>alert(document.cookie)</script>",
        headers=desk.staff_headers | {"Content-Type": uploaded_as},
    )
    assert document.status_code == 201, document.text
    await desk.publish(notice_id)
    download = await client.get(document.json()["url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == served_as
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_the_sweep_keeps_a_documents_file_and_removes_an_orphan(
    desk, client, settings, engine
):
    import os
    import time

    from tendering.core import blob_sweep
    from tendering.core.blobs import BlobStore
    from tendering.core.db import make_sessionmaker

    project = await desk.project()
    notice_id = await desk.notice(project, [await desk.lot(project)])
    document = (await upload(client, desk, notice_id, b"kept")).json()
    store = BlobStore(settings.blob_dir)
    orphan = await store.write_bytes(b"nobody's", limit=100)
    two_days_ago = time.time() - 2 * 24 * 3600
    for sha in (document["sha256"], orphan.sha256):
        os.utime(store.path(sha), (two_days_ago, two_days_ago))
    assert await blob_sweep.sweep_unreferenced(store, make_sessionmaker(engine)) == 1
    assert store.exists(document["sha256"])
    assert not store.exists(orphan.sha256)
