"""Registering a bidder's signing key: one row per key, however many requests race."""

from __future__ import annotations

import asyncio

import pytest

from tendering.core.auth.models import Role
from tendering.core.crypto.bidder_keys import generate_bidder_key

KEYS = "/api/organizations/me/bid-keys"


async def test_a_key_registered_twice_is_409(client, people, login):
    headers = await login(await people.user(Role.BIDDER))
    body = {"public_key": generate_bidder_key().public_b64}
    assert (await client.post(KEYS, headers=headers, json=body)).status_code == 201
    again = await client.post(KEYS, headers=headers, json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "bid.key_registered"


@pytest.mark.committed
async def test_the_same_key_registered_at_once_is_one_201_and_409s(client, people, login):
    bidders = [await people.user(Role.BIDDER) for _ in range(2)]
    headers = [await login(b) for b in bidders]
    body = {"public_key": generate_bidder_key().public_b64}
    answers = await asyncio.gather(
        *(client.post(KEYS, headers=headers[i % 2], json=body) for i in range(8))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 7, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"bid.key_registered"}
