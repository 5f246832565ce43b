"""Before the opening nobody learns who bid or how many, from any endpoint or table."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from tendering.bids import rules
from tendering.core.auth.models import Role
from tendering.core.crypto.bidder_keys import verify_file_signature


async def _two_bids(world):
    await world.publish_lot(n=2, k=2)
    bidders = [await world.bidder() for _ in range(2)]
    receipts = [
        await world.submit(b, {"price_fen": 777_777_77, "duration_days": 123}) for b in bidders
    ]
    return bidders, receipts


async def _views(world, headers: dict[str, str]) -> dict[str, tuple[int, str]]:
    paths = [
        f"/api/lots/{world.lot}/bid",
        f"/api/lots/{world.lot}/opening",
        f"/api/lots/{world.lot}/opening/events?after_seq=0",
        f"/api/lots/{world.lot}/opening/record",
        f"/api/lots/{world.lot}/opening-key",
    ]
    out = {}
    for path in paths:
        response = await world.client.get(path, headers=headers)
        out[path] = (response.status_code, response.text)
    return out


async def test_no_endpoint_tells_anyone_who_bid_or_how_many(world):
    bidders, _ = await _two_bids(world)
    outsider = await world.bidder()  # registered and paid, but did not bid
    supervisor = await world.people.user(Role.SUPERVISOR)
    viewers = {
        "staff": world.desk.staff_headers,
        "supervisor": await world.login(supervisor),
        "outsider": outsider.headers,
        "public": {},
    }
    for name, headers in viewers.items():
        views = await _views(world, headers)
        text = " ".join(body for _, body in views.values())
        for bidder in bidders:
            assert bidder.code not in text, name
            assert bidder.person.organization.name not in text, name
        assert views[f"/api/lots/{world.lot}/opening"][0] in (401, 404), name
        assert views[f"/api/lots/{world.lot}/opening/events?after_seq=0"][1] in ("[]",) or (
            views[f"/api/lots/{world.lot}/opening/events?after_seq=0"][0] == 401
        ), name
    # A bidder who did not bid sees exactly what a bidder who withdrew sees.
    await world.client.delete(f"/api/lots/{world.lot}/bid", headers=bidders[0].headers)
    assert await _views(world, outsider.headers) == await _views(world, bidders[0].headers)
    # The supervisor's audit view of the lot names no bidder and counts no bid.
    events = await world.client.get(
        f"/api/audit/streams/lot:{world.lot}/events",
        params={"page_size": 100},
        headers=viewers["supervisor"],
    )
    assert events.status_code == 200
    assert not [e for e in events.json()["items"] if e["action"].startswith("bid.")]
    for bidder in bidders:
        assert bidder.code not in events.text


async def test_the_tables_and_files_hold_only_ciphertext_and_no_bidder(world):
    bidders, receipts = await _two_bids(world)
    rows = await world.sql("SELECT * FROM bid")
    dump = repr(rows)
    for bidder in bidders:
        org = bidder.person.organization
        assert bidder.code not in dump and org.name not in dump
        assert f"'{org.id}'" not in dump
    columns = {
        name
        for (name,) in await world.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'bid'"
        )
    }
    assert not {c for c in columns if "organization" in c or "user" in c}
    audit = repr(
        await world.sql("SELECT actor, payload FROM audit_event WHERE action LIKE 'bid.s%'")
    )
    for bidder in bidders:
        assert bidder.code not in audit and f"user:{bidder.person.user.id}" not in audit
    root = Path(world.client.app.state["settings"].blob_dir)
    for receipt in receipts:
        sha = receipt["receipt"]["sha256"]
        stored = (root / sha[:2] / sha[2:4] / sha).read_bytes()
        assert b"77777777" not in stored and b"bid.json" not in stored
        # The header names lot and bidder in clear as sent; the stored copy's is masked.
        assert len(stored) == receipt["receipt"]["size"] and stored.startswith(b"TBID1\n")
        assert world.lot.encode() not in stored and b'"bidder"' not in stored
        for bidder in bidders:
            assert bidder.code.encode() not in stored
    assert not list((root / "tmp").glob("*"))  # no staging copy left with anything in clear


async def test_a_receipt_seq_does_not_count_the_submissions(world):
    """A counter would tell a bidder who submits twice how many came in between: seq is the
    database clock's microseconds at the insert instead, the same instant as received_at."""
    await world.publish_lot(n=2, k=2)
    first_bidder, other = await world.bidder(), await world.bidder()
    first = (await world.submit(first_bidder))["receipt"]
    for _ in range(3):
        await world.submit(other)
    again = (await world.submit(first_bidder))["receipt"]
    for receipt in (first, again):
        at = datetime.fromisoformat(receipt["received_at"].replace("Z", "+00:00"))
        assert receipt["seq"] == round(at.timestamp() * 1_000_000)
    assert again["seq"] > first["seq"]


@pytest.mark.committed
async def test_the_bid_table_does_not_name_a_bidder_to_whoever_holds_every_public_key(world):
    """A database administrator who also knows every registered bidder key and code can
    neither verify a stored signature nor recompute a commitment: the signature and the
    commitment's nonce are sealed to the lot's opening key until the opening reveals them."""
    await world.publish_lot(n=2, k=2)
    bidders, signatures = [], []
    for price in (300_000_00, 250_000_00, 280_000_00):
        bidder = await world.bidder()
        data, signature = world.seal(bidder, {"price_fen": price, "duration_days": 90})
        assert (await world.put(bidder, data, signature)).status_code == 201
        bidders.append(bidder)
        signatures.append(signature)
    rows = await world.sql("SELECT * FROM bid")
    dump = repr(rows)
    assert not [s for s in signatures if s in dump]
    columns = set(rows[0]._mapping)
    assert not {c for c in columns if "signature" in c or "nonce" in c}
    sealed = await world.sql(
        "SELECT payload->>'commitment' AS c FROM audit_event WHERE action = 'bid.sealed'"
    )
    commitments = {row.c for row in sealed}
    values = {str(v) for row in rows for v in row}  # any column tried as the nonce
    for row in rows:
        for bidder in bidders:
            for guess in values:
                candidate = rules.commitment(
                    lot=world.lot, bidder=bidder.code, sha256=row.sha256, seq=row.seq, nonce=guess
                )
                assert candidate not in commitments

    await world.open_now()
    revealed = await world.sql(
        "SELECT payload FROM audit_event WHERE stream = :s AND action = 'opening.bid_opened'",
        s=f"lot:{world.lot}",
    )
    by_bidder = {r.payload["bidder"]: r.payload for r in revealed}
    for bidder, signature in zip(bidders, signatures, strict=True):
        shown = by_bidder[bidder.code]
        assert shown["bidder_signature"] == signature
        assert verify_file_signature(
            bidder.key.public_raw, bytes.fromhex(shown["sha256"]), signature
        )
        opened = rules.commitment(
            lot=world.lot,
            bidder=bidder.code,
            sha256=shown["sha256"],
            seq=shown["seq"],
            nonce=shown["nonce"],
        )
        assert opened in commitments  # the opening opens the chain's commitment


async def test_the_bid_table_does_not_say_which_lot_a_bid_is_for(world):
    """No column names a lot, nothing joins a row to one, and no two rows share a value that
    a lot's bids would share: a reader of the table cannot count any lot's bids."""
    lots = {}
    for count in (2, 3):
        await world.publish_lot(n=2, k=2)
        for _ in range(count):
            await world.submit(await world.bidder())
        lots[world.lot] = count
    assert await world.sql("SELECT to_regclass('bid_counter')") == [(None,)]
    rows = await world.sql("SELECT * FROM bid")
    assert len(rows) == 5
    assert set(rows[0]._mapping) == {
        "id", "bidder_tag", "seq", "state", "sha256", "size", "received_at", "evidence",
        "withdrawn_at",
    }  # fmt: skip
    shared = [
        column
        for column in ("bidder_tag", "seq", "sha256", "received_at", "evidence")
        if len({row._mapping[column] for row in rows}) < len(rows)
    ]
    assert shared == []
    known = await world.sql("SELECT id, code FROM tender_lot")
    dump = repr(rows)
    assert not [code for _, code in known if code in dump]
    guessable = {
        hashlib.sha256(str(x).encode()).hexdigest()
        for lot_id, code in known
        for x in (lot_id, code, f"lot|{lot_id}")
    }
    assert not {row.bidder_tag for row in rows} & guessable
    foreign = await world.sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'bid'::regclass AND contype = 'f'"
    )
    assert foreign == []  # no key joins a bid to a lot or an organization
