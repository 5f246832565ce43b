"""What the opening decides shows in open data: a notice whose every lot failed (流标) and
was closed is an unsuccessful tender in OCDS, each lot unsuccessful too."""

from __future__ import annotations

import pytest

from tests.tendering.tenders.openformats import ocds_validator


@pytest.mark.committed
async def test_a_notice_whose_every_lot_failed_is_unsuccessful(world):
    await world.publish_lot(n=2, k=2)
    await world.submit(await world.bidder())
    ocds = f"/api/public/notices/{world.notice_id}/ocds"
    before = (await world.client.get(ocds)).json()["releases"][0]
    assert before["tender"]["status"] == "active"

    body = await world.open_now(k=2)
    assert body["state"] == "failed" and body["valid_bids"] == 1
    package = (await world.client.get(ocds)).json()
    ocds_validator().validate(package)
    release = package["releases"][0]
    assert release["tag"] == ["tenderUpdate"]
    assert release["id"] != before["id"] and release["id"].endswith("-0-results-1")
    assert [(lot["id"], lot["status"]) for lot in release["tender"]["lots"]] == [
        (world.lot, "unsuccessful")
    ]
    assert release["tender"]["status"] == "unsuccessful"
    detail = (await world.client.get(f"/api/public/notices/{world.notice_id}")).json()
    assert detail["lot_details"][0]["result"] == "failed"

    closed = await world.client.post(
        f"/api/tenders/notices/{world.notice_id}/close", headers=world.desk.staff_headers
    )
    assert closed.status_code == 201, closed.text
    package = (await world.client.get(ocds)).json()
    ocds_validator().validate(package)
    release = package["releases"][0]
    assert release["tender"]["status"] == "unsuccessful"
    assert release["tender"]["lots"][0]["status"] == "unsuccessful"
    assert release["tag"] == ["tenderUpdate"] and release["id"].endswith("-0-results-1-closed")
