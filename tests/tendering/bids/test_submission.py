from __future__ import annotations

import asyncio
import base64
import functools
import os
from pathlib import Path

import pytest

from tendering.bids import service
from tendering.bids.client import LotForSealing
from tendering.bids.upload import stage_envelope
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.blobs import BlobStore
from tendering.core.crypto.envelope import EnvelopeValidator
from tendering.core.crypto.receipt import verify_receipt
from tendering.core.db import make_sessionmaker
from tendering.core.errors import RuleViolation
from tendering.core.secrecy import Secrecy
from tests.tendering.bids.conftest import PASSPHRASES


async def _platform_public(world) -> bytes:
    key = (await world.client.get("/api/platform/key")).json()
    return base64.b64decode(key["public_key"])


def _stored_files(world) -> list[Path]:
    root = world.client.app.state["settings"].blob_dir
    return [p for p in Path(root).rglob("*") if p.is_file()]


async def _bid_rows(world) -> int:
    return (await world.sql("SELECT count(*) FROM bid"))[0][0]


async def test_a_sealed_bid_is_received_with_a_signed_receipt(world):
    await world.publish_lot()
    bidder = await world.bidder()
    document = await world.submit(bidder)
    receipt = verify_receipt(document, await _platform_public(world))
    assert receipt.lot == world.lot and receipt.bidder == bidder.code
    assert receipt.size > 0
    mine = await world.client.get(f"/api/lots/{world.lot}/bid", headers=bidder.headers)
    assert mine.json() == document


async def test_replacing_keeps_every_version_and_the_latest_counts(world):
    await world.publish_lot()
    bidder = await world.bidder()
    first = await world.submit(bidder, {"price_fen": 100, "duration_days": 100})
    second = await world.submit(bidder, {"price_fen": 90, "duration_days": 100})
    assert second["receipt"]["seq"] > first["receipt"]["seq"]
    states = await world.sql("SELECT state FROM bid ORDER BY seq")
    assert [s for (s,) in states] == ["replaced", "current"]
    mine = await world.client.get(f"/api/lots/{world.lot}/bid", headers=bidder.headers)
    assert mine.json()["receipt"]["sha256"] == second["receipt"]["sha256"]


async def test_the_same_file_sent_again_is_a_new_version_stored_once(world):
    """A bidder whose receipt got lost sends the same file again: a second receipt, one
    stored file, and no temporary copy left once the answer's extra copy is dropped."""
    await world.publish_lot()
    bidder = await world.bidder()
    data, signature = world.seal(bidder)
    first = await world.put(bidder, data, signature)
    again = await world.put(bidder, data, signature)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["receipt"]["sha256"] == first.json()["receipt"]["sha256"]
    assert again.json()["receipt"]["seq"] > first.json()["receipt"]["seq"]
    for _ in range(200):  # the duplicate is removed after the answer, in a worker thread
        if len(_stored_files(world)) == 1:
            break
        await asyncio.sleep(0.01)
    assert len(_stored_files(world)) == 1
    states = await world.sql("SELECT state FROM bid ORDER BY seq")
    assert [s for (s,) in states] == ["replaced", "current"]


async def test_withdrawal_before_the_deadline_leaves_no_current_bid(world):
    await world.publish_lot()
    bidder = await world.bidder()
    await world.submit(bidder)
    response = await world.client.delete(f"/api/lots/{world.lot}/bid", headers=bidder.headers)
    assert response.status_code == 204, response.text
    mine = await world.client.get(f"/api/lots/{world.lot}/bid", headers=bidder.headers)
    assert mine.status_code == 404
    assert [s for (s,) in await world.sql("SELECT state FROM bid")] == ["withdrawn"]


async def _refused(world, response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    assert await _bid_rows(world) == 0
    assert _stored_files(world) == []


async def test_a_lot_without_an_opening_key_refuses_bids_until_its_ceremony(world):
    """Publication holds no key ceremony for a lot whose custodians have no key yet: the lot
    is published and bidders register and pay, but each bid is refused before a byte of it
    is read, until staff hold the ceremony."""
    custodians = [await world.people.user(role) for role in (Role.STAFF, Role.SUPERVISOR)]
    project = await world.desk.project()
    world.lot = await world.desk.lot(
        project, custodians=[c.user.id for c in custodians], custodian_k=2
    )
    world.notice_id = await world.desk.notice(project, [world.lot])
    await world.desk.publish(world.notice_id)
    no_key = await world.client.get(f"/api/lots/{world.lot}/opening-key")
    assert no_key.status_code == 400 and no_key.json()["code"] == "bid.no_opening_key"
    bidder = await world.bidder()  # registered, deposit paid, signing key on file
    refused = await world.put(bidder, os.urandom(4096), base64.b64encode(bytes(64)).decode())
    await _refused(world, refused, 400, "bid.no_opening_key")

    for custodian, passphrase in zip(custodians, PASSPHRASES, strict=False):
        registered = await world.client.post(
            "/api/custodians/me/key",
            headers=await world.login(custodian),
            json={"passphrase": passphrase},
        )
        assert registered.status_code == 201, registered.text
    held = await world.client.post(
        f"/api/lots/{world.lot}/key-ceremony", headers=world.desk.staff_headers
    )
    assert held.status_code == 201, held.text
    key = await world.client.get(f"/api/lots/{world.lot}/opening-key")
    assert key.status_code == 200 and key.json()["key_id"] == held.json()["key_id"]
    world.sealing = LotForSealing.from_api(key.json())
    receipt = await world.submit(bidder)
    assert receipt["receipt"]["lot"] == world.lot


async def test_a_bid_sealed_for_lot_a_is_refused_on_lot_b(world):
    await world.publish_lot()
    lot_a, sealing_a, notice_a = world.lot, world.sealing, world.notice_id
    bidder = await world.bidder()
    data, signature = world.seal(bidder)  # sealed for lot A
    world.custodians.clear()
    await world.publish_lot()  # lot B, its own key
    await world.client.post(f"/api/lots/{world.lot}/registration", headers=bidder.headers)
    await world.pay_deposit(bidder.person.organization.id)
    response = await world.put(bidder, data, signature)  # uploaded to lot B
    await _refused(world, response, 400, "envelope.wrong_lot")
    assert (lot_a, sealing_a, notice_a) != (world.lot, world.sealing, world.notice_id)


async def test_a_bid_sealed_to_another_key_is_refused(world):
    await world.publish_lot()
    bidder = await world.bidder()
    other = await world.client.get(f"/api/lots/{world.lot}/opening-key")
    assert other.status_code == 200
    from tendering.bids.client import LotForSealing, seal_bytes
    from tendering.core.crypto import hpke

    wrong = hpke.public_raw_of(hpke.generate_opening_key())
    fake = LotForSealing(world.lot, hpke.key_id(wrong), wrong, [], 10**9)
    data, signature = seal_bytes(b"zip", lot=fake, bidder=bidder.code, signing_key=bidder.key)
    await _refused(world, await world.put(bidder, data, signature), 400, "envelope.wrong_key")


async def test_a_bad_signature_is_refused_and_nothing_is_stored(world):
    await world.publish_lot()
    bidder = await world.bidder()
    data, _ = world.seal(bidder)
    forged = base64.b64encode(os.urandom(64)).decode()
    await _refused(world, await world.put(bidder, data, forged), 400, "bid.bad_signature")


async def test_a_malformed_envelope_is_refused(world):
    await world.publish_lot()
    bidder = await world.bidder()
    data, signature = world.seal(bidder)
    await _refused(
        world, await world.put(bidder, b"NOTBID" + data[6:], signature), 400, "envelope.magic"
    )
    await _refused(world, await world.put(bidder, data[:20], signature), 400, "envelope.truncated")


async def test_a_bid_over_the_lot_limit_is_too_large(world, monkeypatch):
    await world.publish_lot()
    bidder = await world.bidder()
    capped = functools.partial(service.lot_terms, max_bytes=4096)  # a platform-wide cap
    monkeypatch.setattr(service, "lot_terms", capped)
    data, signature = world.seal(bidder, plaintext=os.urandom(10_000))
    await _refused(world, await world.put(bidder, data, signature), 413, "envelope.too_large")


async def test_each_lot_sets_its_own_size_limit(world):
    await world.publish_lot(max_bid_mb=1)
    key = (await world.client.get(f"/api/lots/{world.lot}/opening-key")).json()
    assert key["max_bytes"] == 1024 * 1024
    bidder = await world.bidder()
    data, signature = world.seal(bidder, plaintext=os.urandom(1024 * 1024))  # + envelope
    response = await world.put(bidder, data, signature)
    await _refused(world, response, 413, "envelope.too_large")
    assert "the limit is 1048576" in response.json()["detail"]
    small, signature = world.seal(bidder, plaintext=b"x" * 1000)
    assert (await world.put(bidder, small, signature)).status_code == 201


async def test_no_deposit_is_refused_before_the_upload(world):
    await world.publish_lot()
    bidder = await world.bidder(deposit=False)
    data, signature = world.seal(bidder)
    await _refused(world, await world.put(bidder, data, signature), 400, "bid.no_deposit")


async def test_a_bidder_not_registered_for_the_lot_is_refused(world):
    await world.publish_lot()
    bidder = await world.bidder(deposit=False, register=False)
    data, signature = world.seal(bidder)
    await _refused(world, await world.put(bidder, data, signature), 400, "bid.not_registered")


async def test_a_revoked_key_no_longer_signs_bids(world):
    await world.publish_lot()
    bidder = await world.bidder()
    keys = await world.client.get("/api/organizations/me/bid-keys", headers=bidder.headers)
    key_id = keys.json()["items"][0]["id"]
    revoked = await world.client.post(
        f"/api/organizations/me/bid-keys/{key_id}/revoke", headers=bidder.headers
    )
    assert revoked.json()["revoked_at"] is not None
    data, signature = world.seal(bidder)
    await _refused(world, await world.put(bidder, data, signature), 400, "bid.no_bidder_key")


async def test_an_upload_after_the_deadline_is_refused(world):
    await world.publish_lot()
    bidder = await world.bidder()
    await world.pass_deadline()
    data, signature = world.seal(bidder)
    await _refused(world, await world.put(bidder, data, signature), 400, "bid.late")


async def test_a_late_upload_that_started_before_the_deadline_is_refused(world, tmp_path):
    """The deadline passes while the body is still arriving: the commit decides, by the
    database clock, and refuses. (The route's own steps, driven one by one: the test
    client cannot pause a request body half way.)"""
    await world.publish_lot()
    bidder = await world.bidder()
    data, signature = world.seal(bidder, plaintext=os.urandom(200_000))
    user = bidder.person.user
    actor = Actor(user.id, user.username, Role.BIDDER, user.organization_id, OrgKind.BIDDER)
    maker = make_sessionmaker(world.engine)
    async with maker() as session, session.begin():
        terms = await service.lot_terms(session, world.lot)
        code = await service.check_before_upload(
            session, actor=actor, terms=terms, platform_key=world.client.app.state["platform_key"]
        )

    async def body():
        yield data[:1000]  # the upload has begun, before the deadline
        await world.pass_deadline()
        yield data[1000:]

    store = BlobStore(tmp_path / "blobs")
    validator = EnvelopeValidator(expected_lot=world.lot, expected_bidder=code)
    secrecy = Secrecy.of(world.client.app.state["platform_key"])
    staged = await stage_envelope(body(), store=store, validator=validator, secrecy=secrecy)
    try:
        with pytest.raises(RuleViolation) as refused:
            async with maker() as session, session.begin():
                await service.submit_bid(
                    session,
                    actor=actor,
                    terms=terms,
                    checked=staged.checked,
                    signature=signature,
                    platform_key=world.client.app.state["platform_key"],
                )
    finally:
        await staged.discard()
    assert refused.value.code == "bid.late"
    assert await _bid_rows(world) == 0
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


@pytest.mark.committed
async def test_racing_replacements_by_one_bidder_leave_exactly_one_current_bid(world):
    await world.publish_lot()
    bidder = await world.bidder()
    sealed = [world.seal(bidder, {"price_fen": 100 + i, "duration_days": 9}) for i in range(4)]
    responses = await asyncio.gather(*(world.put(bidder, d, s) for d, s in sealed))
    assert [r.status_code for r in responses] == [201] * 4
    states = [s for (s,) in await world.sql("SELECT state FROM bid ORDER BY seq")]
    assert sorted(states) == ["current", "replaced", "replaced", "replaced"]
    assert states[-1] == "current"  # the latest receipt is the one that counts
    seqs = [s for (s,) in await world.sql("SELECT seq FROM bid ORDER BY received_at, seq")]
    assert len(set(seqs)) == 4 and seqs == sorted(seqs)  # unique, in the order received
