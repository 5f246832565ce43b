from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from tendering.core.signing import verify_signature
from tests.pdf import dark_pixels, pdf_text, render_first_page
from tests.tendering.bids.conftest import PASSPHRASES, STEPS_OPENING_THREE, bid_zip


async def _three_bids(world, prices=(300_000_00, 250_000_00, 280_000_00)):
    bidders = []
    for price in prices:
        bidder = await world.bidder()
        await world.submit(bidder, {"price_fen": price, "duration_days": 200})
        bidders.append(bidder)
    return bidders


async def _start(world):
    return await world.client.post(
        f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
    )


async def _enter(world, index: int, passphrase: str | None = None):
    _, headers = world.custodians[index]
    return await world.client.post(
        f"/api/lots/{world.lot}/opening/passphrase",
        headers=headers,
        json={"passphrase": passphrase or PASSPHRASES[index]},
    )


@pytest.mark.committed
async def test_k_custodians_open_every_bid_and_bidders_see_the_results(world):
    await world.publish_lot(n=3, k=2)
    bidders = await _three_bids(world)
    await world.pass_deadline()
    assert (await _start(world)).status_code == 201
    first = await _enter(world, 0)
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "started" and first.json()["results"] is None
    second = await _enter(world, 2)
    assert second.json()["state"] == "opening", second.text  # answered at once
    body = await world.opened()
    assert body["state"] == "opened", body
    assert body["valid_bids"] == 3
    prices = {r["bidder"]: r["price_fen"] for r in body["results"]}
    expected = zip(bidders, (300_000_00, 250_000_00, 280_000_00), strict=True)
    assert prices == {b.code: p for b, p in expected}
    seen = await world.client.get(f"/api/lots/{world.lot}/opening", headers=bidders[0].headers)
    assert seen.json()["results"] == body["results"]
    kinds = [
        e["kind"]
        for e in (
            await world.client.get(
                f"/api/lots/{world.lot}/opening/events?after_seq=0", headers=bidders[1].headers
            )
        ).json()
    ]
    assert kinds == STEPS_OPENING_THREE
    # The key is gone: no share waits in the table.
    assert await world.sql("SELECT * FROM opening_pending_share") == []


@pytest.mark.committed
async def test_the_opening_record_is_a_signed_pdf_in_chinese(world, tmp_path: Path):
    await world.publish_lot(n=2, k=2)
    await _three_bids(world)
    await world.pass_deadline()
    await _start(world)
    await _enter(world, 0)
    await _enter(world, 1)
    await world.opened()
    response = await world.client.get(
        f"/api/lots/{world.lot}/opening/record", headers=world.desk.staff_headers
    )
    assert response.status_code == 200
    pdf = response.content
    digest = hashlib.sha256(pdf).digest()
    assert response.headers["X-Record-SHA256"] == digest.hex()
    key = (await world.client.get("/api/platform/key")).json()
    assert verify_signature(
        base64.b64decode(key["public_key"]),
        digest,
        base64.b64decode(response.headers["X-Record-Signature"]),
    )
    assert b"/FontFile2" in pdf  # the CJK TrueType font is embedded (as a subset)
    png = await asyncio.to_thread(render_first_page, pdf, tmp_path / "record.png")
    assert dark_pixels(png) > 1000
    text = pdf_text(pdf)
    assert "开标记录表" in text and "有效" in text and "300000.00" in text


async def test_k_minus_one_passphrases_cannot_open(world):
    await world.publish_lot(n=3, k=3)
    await _three_bids(world)
    await world.pass_deadline()
    await _start(world)
    for index in (0, 1):
        response = await _enter(world, index)
        assert response.json()["state"] == "started"
    assert await world.sql("SELECT * FROM opening_result") == []
    events = await world.client.get(
        f"/api/lots/{world.lot}/opening/events", headers=world.desk.staff_headers
    )
    assert [e["kind"] for e in events.json()] == [
        "started",
        "custodian_entered",
        "custodian_entered",
    ]


def test_fewer_than_k_shares_never_rebuild_the_key():
    import pytest

    from tendering.core.crypto import hpke, shamir
    from tendering.core.crypto.ceremony import rebuild_opening_key
    from tendering.core.errors import ShareError

    private = hpke.generate_opening_key()
    key_id = hpke.key_id(hpke.public_raw_of(private))
    shares = shamir.split(hpke.private_raw_of(private), k=3, n=5)
    with pytest.raises(ShareError):
        rebuild_opening_key(shares[:2], key_id=key_id)
    assert hpke.public_raw_of(rebuild_opening_key(shares[2:], key_id=key_id)) == hpke.public_raw_of(
        private
    )


async def test_a_wrong_passphrase_says_so_and_counts_nothing(world):
    await world.publish_lot(n=2, k=2)
    await world.pass_deadline()
    await _start(world)
    response = await _enter(world, 0, "not the passphrase")
    assert response.status_code == 400
    assert response.json()["code"] == "opening.wrong_passphrase"
    assert response.json()["detail"] == "passphrase: 口令不正确 (the passphrase is wrong)."
    state = await world.client.get(
        f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
    )
    assert state.json()["custodians_entered"] == 0
    assert await world.sql("SELECT * FROM opening_pending_share") == []
    custodian, _ = world.custodians[0]
    refused = await world.sql(
        "SELECT actor FROM audit_event WHERE stream = :s AND action = 'opening.passphrase_refused'",
        s=f"lot:{world.lot}",
    )
    assert [r.actor for r in refused] == [f"user:{custodian.user.id}"]  # guessing shows


@pytest.mark.committed
async def test_starting_twice_opens_once(world):
    await world.publish_lot(n=2, k=2)
    await _three_bids(world)
    await world.pass_deadline()
    responses = await asyncio.gather(_start(world), _start(world))
    assert [r.status_code for r in responses] == [201, 201]
    assert len(await world.sql("SELECT * FROM opening")) == 1
    started = await world.sql(
        "SELECT count(*) FROM audit_event WHERE stream = :s AND action = 'opening.started'",
        s=f"lot:{world.lot}",
    )
    assert started[0][0] == 1
    await _enter(world, 0)
    assert (await _enter(world, 1)).json()["state"] == "opening"
    assert (await world.opened())["state"] == "opened"
    again = await _enter(world, 0)
    assert again.status_code == 409
    assert len(await world.sql("SELECT * FROM opening_result")) == 3


async def test_the_opening_cannot_start_before_its_time(world):
    await world.publish_lot(n=2, k=2)
    response = await _start(world)
    assert response.status_code == 400 and response.json()["code"] == "opening.too_early"


@pytest.mark.committed
async def test_failures_are_recorded_with_whose_fault_and_fewer_than_three_valid_fail(world):
    await world.publish_lot(n=2, k=2)
    good = await world.bidder()
    await world.submit(good, {"price_fen": 1_000_00, "duration_days": 10})
    careless = await world.bidder()  # its bid.json lacks the lot's duration_days
    data, signature = world.seal(careless, plaintext=bid_zip({"price_fen": 900_00}))
    assert (await world.put(careless, data, signature)).status_code == 201
    wronged = await world.bidder()  # the platform's copy gets damaged
    receipt = await world.submit(wronged)
    root = Path(world.client.app.state["settings"].blob_dir)
    sha = receipt["receipt"]["sha256"]
    stored = root / sha[:2] / sha[2:4] / sha
    damaged = bytearray(stored.read_bytes())
    damaged[-1] ^= 1
    stored.write_bytes(bytes(damaged))
    await world.pass_deadline()
    await _start(world)
    await _enter(world, 0)
    await _enter(world, 1)
    body = await world.opened()
    assert body["state"] == "failed" and body["valid_bids"] == 1
    by = {r["bidder"]: r for r in body["results"]}
    assert by[good.code]["outcome"] == "valid"
    assert by[careless.code]["outcome"] == "revoked"
    assert "duration_days is required" in by[careless.code]["reason"]
    assert by[wronged.code]["outcome"] == "platform_fault"
    assert by[wronged.code]["may_claim_loss"] is True


@pytest.mark.committed
async def test_the_live_channel_sends_every_step_and_resumes_after_a_reconnect(world):
    # Pushing while the runner works is shown end to end (tests/e2e): the test client
    # cannot hold one request open while it sends another.
    await world.publish_lot(n=2, k=2)
    bidders = await _three_bids(world)
    await world.pass_deadline()
    await _start(world)
    await _enter(world, 0)
    await _enter(world, 1)
    await world.opened()
    url = f"/api/lots/{world.lot}/opening/live"
    whole = await world.client.get(url, headers=bidders[0].headers)
    assert whole.status_code == 200
    assert whole.headers["content-type"].startswith("text/event-stream")
    ids = [int(line[4:]) for line in whole.text.splitlines() if line.startswith("id: ")]
    assert ids == list(range(1, 10))
    assert "event: finished" in whole.text
    resumed = await world.client.get(url, headers=bidders[0].headers | {"Last-Event-ID": "7"})
    assert [int(line[4:]) for line in resumed.text.splitlines() if line.startswith("id: ")] == [
        8,
        9,
    ]


@pytest.mark.committed
async def test_each_opened_plaintext_is_kept_under_its_hash_for_the_evaluation(world):
    await world.publish_lot(n=2, k=2)
    await _three_bids(world)
    careless = await world.bidder()  # opens, but its bid.json lacks duration_days
    data, signature = world.seal(careless, plaintext=bid_zip({"price_fen": 900_00}))
    assert (await world.put(careless, data, signature)).status_code == 201
    await world.pass_deadline()
    await _start(world)
    await _enter(world, 0)
    await _enter(world, 1)
    await world.opened()
    store = Path(world.client.app.state["settings"].blob_dir)
    rows = await world.sql("SELECT bidder, outcome, plaintext_sha256, form FROM opening_result")
    assert sorted(r.outcome for r in rows) == ["revoked", "valid", "valid", "valid"]
    for row in rows:
        kept = store / row.plaintext_sha256[:2] / row.plaintext_sha256[2:4] / row.plaintext_sha256
        plaintext = kept.read_bytes()
        assert hashlib.sha256(plaintext).hexdigest() == row.plaintext_sha256
        with zipfile.ZipFile(io.BytesIO(plaintext)) as archive:
            form = json.loads(archive.read("bid.json"))
        assert row.outcome == "revoked" or form == row.form
    chained = await world.sql(
        "SELECT payload->>'plaintext_sha256' AS sha FROM audit_event"
        " WHERE stream = :s AND action = 'opening.bid_opened'",
        s=f"lot:{world.lot}",
    )
    assert sorted(c.sha for c in chained) == sorted(r.plaintext_sha256 for r in rows)
    assert [p.name for p in (store / "tmp").iterdir()] == []  # no scratch copy left behind


@pytest.mark.committed
async def test_a_center_requiring_four_valid_bids_fails_a_lot_with_three(world):
    rules = {
        "min_document_days": 5,
        "min_bid_days": 20,
        "max_deposit_bp": 200,
        "amendment_days": 15,
        "min_valid_bids": 4,
    }
    changed = await world.client.put(
        "/api/tenders/rules", headers=world.desk.staff_headers, json=rules
    )
    assert changed.status_code == 200, changed.text
    await world.publish_lot(n=2, k=2)
    await _three_bids(world)
    body = await world.open_now(k=2)
    assert body["state"] == "failed" and body["valid_bids"] == 3
    record = await world.client.get(
        f"/api/lots/{world.lot}/opening/record", headers=world.desk.staff_headers
    )
    assert record.status_code == 200
    assert "不足4家" in pdf_text(record.content)


@pytest.mark.committed
async def test_an_envelope_stored_under_the_keys_before_0027_opens_with_the_others(world):
    """Migration 0027 re-keyed the rows, not the files: a stored header masked under the
    version-1 keys is unmasked with them at the opening (bids/at_rest.py)."""
    from tendering.bids.at_rest import HEADER_AT, masked_header
    from tendering.core.deps import PLATFORM_STATE_KEY

    await world.publish_lot(n=3, k=2)
    bidders = await _three_bids(world)
    secrecy = world.client.app.state[PLATFORM_STATE_KEY].secrecy
    assert secrecy.version == 2 and secrecy.previous.version == 1
    root = Path(world.client.app.state["settings"].blob_dir)
    (sha,) = [row[0] for row in await world.sql("SELECT sha256 FROM bid ORDER BY seq DESC LIMIT 1")]
    stored = root / sha[:2] / sha[2:4] / sha
    data = bytearray(stored.read_bytes())
    end = HEADER_AT + int.from_bytes(data[HEADER_AT - 4 : HEADER_AT], "big")
    header = masked_header(secrecy, bytes(data[HEADER_AT:end]), sha)  # as the bidder sent it
    data[HEADER_AT:end] = masked_header(secrecy.previous, header, sha)
    stored.write_bytes(bytes(data))
    await world.pass_deadline()
    assert (await _start(world)).status_code == 201
    await _enter(world, 0)
    await _enter(world, 1)
    body = await world.opened()
    assert body["state"] == "opened" and body["valid_bids"] == 3, body
    assert {r["bidder"] for r in body["results"]} == {b.code for b in bidders}
