"""OCDS statuses of lots and tenders, and the release each state of a notice is."""

from __future__ import annotations

from datetime import datetime

from tendering.tenders.ocds import LOTS_EXTENSION, tender_status
from tests.tendering.tenders.openformats import ocds_validator


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_tenders_status_sums_up_its_lots_as_the_lots_extension_says():
    assert tender_status(["active", "unsuccessful"]) == "active"  # awaiting a result
    assert tender_status(["unsuccessful", "complete"]) == "complete"  # one lot went on
    assert tender_status(["unsuccessful", "unsuccessful"]) == "unsuccessful"  # 全部流标
    assert tender_status(["unsuccessful", "cancelled"]) == "unsuccessful"
    assert tender_status(["cancelled"]) == "cancelled"


async def test_a_terminated_notice_is_cancelled_with_its_lots(desk, client):
    notice_id, lots = await desk.published(lots=2)
    ocds = f"/api/public/notices/{notice_id}/ocds"
    package = (await client.get(ocds)).json()
    ocds_validator().validate(package)
    assert package["extensions"] == [LOTS_EXTENSION]
    release = package["releases"][0]
    assert release["tag"] == ["tender"] and release["tender"]["status"] == "active"
    assert [(lot["id"], lot["status"]) for lot in release["tender"]["lots"]] == [
        (lots[0], "active"),
        (lots[1], "active"),
    ]
    assert [item["relatedLot"] for item in release["tender"]["items"]] == lots

    ended = await client.post(
        f"/api/tenders/notices/{notice_id}/terminate",
        headers=desk.staff_headers,
        json={"reason": "招标人决定终止招标。"},
    )
    assert ended.status_code == 201
    package = (await client.get(ocds)).json()
    ocds_validator().validate(package)
    release = package["releases"][0]
    assert release["tag"] == ["tenderCancellation"]
    assert release["id"].endswith(f"-notice-{notice_id}-0-terminated")
    assert release["tender"]["status"] == "cancelled"
    assert {lot["status"] for lot in release["tender"]["lots"]} == {"cancelled"}
    assert when(release["date"]) == when(ended.json()["closed_at"])
