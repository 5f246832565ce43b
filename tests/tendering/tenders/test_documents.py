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
