"""A money amount is a JSON integer: ``true`` is not 1 fen, ``"100"`` is not 100."""

from __future__ import annotations

import pytest


def _project(price):
    return {
        "code": "JY-2026-0998",
        "title": "严格金额的项目",
        "tenderer": "T-1",
        "category": "works",
        "funding_source": "财政资金",
        "estimated_price_fen": price,
    }


@pytest.mark.parametrize("price", [True, "500000000", 500000000.0, "5e8"])
async def test_a_price_that_is_not_a_json_integer_is_refused(desk, client, price):
    body = _project(price) | {"tenderer": desk.tenderer_code}
    response = await client.post("/api/tenders/projects", headers=desk.staff_headers, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "input.invalid"
    assert response.json()["field"] == "estimated_price_fen"


async def test_a_flag_that_is_not_a_json_boolean_is_refused(desk, client):
    body = _project(500_000_000) | {"tenderer": desk.tenderer_code}
    body["lots"] = []
    response = await client.put(
        "/api/tenders/rules",
        headers=desk.staff_headers,
        json={
            "min_document_days": "5",
            "min_bid_days": 20,
            "max_deposit_bp": 200,
            "amendment_days": 15,
            "min_valid_bids": 3,
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "min_document_days"
