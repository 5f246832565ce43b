from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest

from tendering.bids.client import BidError, LotForSealing, seal_bid
from tendering.core.crypto import hpke
from tendering.core.crypto.bidder_keys import (
    file_sha256,
    generate_bidder_key,
    verify_file_signature,
)
from tendering.core.crypto.envelope import EnvelopeValidator, open_envelope

FIELDS = [{"name": "duration_days", "type": "integer", "min": 1, "required": True}]


def _lot() -> tuple[LotForSealing, object]:
    private = hpke.generate_opening_key()
    public = hpke.public_raw_of(private)
    document = {
        "lot": "JY-2026-0001-01",
        "key_id": hpke.key_id(public),
        "public_key": base64.b64encode(public).decode(),
        "bid_fields": FIELDS,
        "max_bytes": 10**9,
    }
    return LotForSealing.from_api(document), private


def test_seal_bid_writes_a_signed_envelope_of_the_zip(tmp_path: Path):
    lot, private = _lot()
    key = generate_bidder_key()
    doc = tmp_path / "技术标.pdf"
    doc.write_bytes(b"%PDF-1.4 " + bytes(200_000))
    sealed = seal_bid(
        form={"price_fen": 12_345_00, "duration_days": 90},
        documents=[doc],
        lot=lot,
        bidder="BIDDER-0001",
        signing_key=key,
        out=tmp_path / "bid.tbid1",
    )
    data = sealed.path.read_bytes()
    assert file_sha256([data]) == sealed.sha256 and len(data) == sealed.size
    assert verify_file_signature(key.public_raw, sealed.sha256, sealed.signature)
    validator = EnvelopeValidator(expected_lot=lot.lot, expected_key_id=lot.key_id)
    validator.feed(data)
    assert validator.finish().sha256 == sealed.sha256
    plain = b"".join(open_envelope([data], private_key=private, expected_lot=lot.lot))
    with zipfile.ZipFile(io.BytesIO(plain)) as archive:
        assert json.loads(archive.read("bid.json")) == {"price_fen": 12_345_00, "duration_days": 90}
        assert archive.read("技术标.pdf") == doc.read_bytes()


def test_seal_bid_refuses_a_form_that_breaks_the_lot_rules(tmp_path: Path):
    lot, _ = _lot()
    with pytest.raises(BidError, match="duration_days must be at least 1"):
        seal_bid(
            form={"price_fen": 100, "duration_days": 0},
            documents=[],
            lot=lot,
            bidder="B",
            signing_key=generate_bidder_key(),
            out=tmp_path / "x",
        )
    assert not (tmp_path / "x").exists()


def test_a_public_key_that_does_not_match_its_key_id_is_refused():
    lot, _ = _lot()
    other = hpke.public_raw_of(hpke.generate_opening_key())
    with pytest.raises(BidError, match="key_id"):
        LotForSealing.from_api(
            {
                "lot": lot.lot,
                "key_id": lot.key_id,
                "public_key": base64.b64encode(other).decode(),
                "bid_fields": [],
                "max_bytes": 1,
            }
        )


def test_the_seal_command_will_not_overwrite_a_sealed_file(tmp_path: Path):
    from click.testing import CliRunner

    from tendering.cli import main

    (tmp_path / "bid.tbid1").write_bytes(b"an earlier bid")
    (tmp_path / "key.json").write_text("{}")
    (tmp_path / "bid.json").write_text("{}")
    files = {"--key": "key.json", "--form": "bid.json", "--out": "bid.tbid1"}
    options = [part for flag, name in files.items() for part in (flag, str(tmp_path / name))]
    result = CliRunner().invoke(
        main,
        ["seal", "L-1", "--url", "http://127.0.0.1:9", "--token", "t", "--bidder", "B-1", *options],
    )
    assert result.exit_code == 1
    assert "already exists" in result.output and "--out" in result.output
    assert (tmp_path / "bid.tbid1").read_bytes() == b"an earlier bid"
