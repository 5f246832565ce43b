"""A withdrawal's audit commitment hides like every other one, and the opening opens it."""

from __future__ import annotations

import hashlib

import pytest

from tendering.bids import rules


async def _withdraw(world, bidder) -> None:
    response = await world.client.delete(f"/api/lots/{world.lot}/bid", headers=bidder.headers)
    assert response.status_code == 204, response.text


async def _withdrawn_commitments(world) -> list[str]:
    rows = await world.sql(
        "SELECT payload->>'commitment' AS c FROM audit_event"
        " WHERE action = 'bid.withdrawn' ORDER BY seq"
    )
    return [row.c for row in rows]


def test_the_legacy_formula_is_what_withdrawals_held_before_their_nonce():
    # What bids/service.py wrote until the nonce came: rules.commitment with empty fields.
    old = rules.commitment(lot="L-1", bidder="tag", sha256="", seq=0, nonce="")
    assert rules.legacy_withdrawal_commitment(lot="L-1", tag="tag") == old
    assert old == hashlib.sha256(b"tbid1-commit|L-1|tag|0||").hexdigest()


async def test_two_withdrawals_of_one_bidder_cannot_be_linked_or_recomputed(world):
    """Without a nonce every withdrawal of a bidder on a lot had the same commitment, which
    whoever reads the bid table could recompute from the lot and the rows' tag."""
    await world.publish_lot()
    bidder = await world.bidder()
    for _ in range(2):
        await world.submit(bidder)
        await _withdraw(world, bidder)
    first, second = await _withdrawn_commitments(world)
    assert first != second
    rows = await world.sql("SELECT * FROM bid")
    values = {str(v) for row in rows for v in row} | {""}
    for row in rows:
        assert rules.legacy_withdrawal_commitment(lot=world.lot, tag=row.bidder_tag) not in {
            first,
            second,
        }
        for guess in values:  # any column tried as the nonce
            candidate = rules.withdrawal_commitment(
                lot=world.lot, bidder=bidder.code, seq=row.seq, nonce=guess
            )
            assert candidate not in {first, second}


@pytest.mark.committed
async def test_the_opening_reveals_what_opens_every_withdrawal_commitment(world):
    await world.publish_lot(n=2, k=2)
    staying = [await world.bidder() for _ in range(2)]
    for bidder in staying:
        await world.submit(bidder)
    leaving = await world.bidder()
    seqs = []
    for _ in range(2):
        seqs.append((await world.submit(leaving))["receipt"]["seq"])
        await _withdraw(world, leaving)
    commitments = await _withdrawn_commitments(world)
    before = await world.sql(
        "SELECT count(*) FROM audit_event WHERE action = 'bid.withdrawals_revealed'"
    )
    assert before[0][0] == 0  # nothing before the opening

    await world.open_now()
    (revealed,) = await world.sql(
        "SELECT payload FROM audit_event WHERE stream = :s AND action = 'bid.withdrawals_revealed'",
        s=f"lot:{world.lot}",
    )
    withdrawals = revealed.payload["withdrawals"]
    assert [(w["bidder"], w["seq"]) for w in withdrawals] == [(leaving.code, s) for s in seqs]
    opened = [
        rules.withdrawal_commitment(
            lot=world.lot, bidder=w["bidder"], seq=w["seq"], nonce=w["nonce"]
        )
        for w in withdrawals
    ]
    assert opened == commitments  # each one, in order
    assert len({w["tag"] for w in withdrawals}) == 1  # one bidder's rows share their tag
