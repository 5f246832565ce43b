"""The platform's signed upload receipt."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tendering.core.clock import rfc3339
from tendering.core.crypto.receipt import Receipt, sign_receipt, verify_receipt
from tendering.core.errors import InvalidReceipt
from tendering.core.signing import PlatformKey

KEY = PlatformKey(Ed25519PrivateKey.generate())


def receipt(**changes: object) -> Receipt:
    fields: dict[str, object] = {
        "bidder": "B-042",
        "lot": "工程-2026-001",
        "received_at": rfc3339(datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        "seq": 7,
        "sha256": "ab" * 32,
        "size": 1234,
    }
    fields.update(changes)
    return Receipt(**fields)  # type: ignore[arg-type]


def test_sign_and_verify() -> None:
    document = sign_receipt(receipt(), KEY)
    assert set(document) == {"receipt", "signature"}
    assert verify_receipt(json.loads(json.dumps(document)), KEY.public_raw) == receipt()


def test_an_auditor_verifies_with_plain_json_and_ed25519() -> None:
    document = sign_receipt(receipt(), KEY)
    body = json.dumps(
        document["receipt"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert body.startswith(b'{"bidder":"B-042","lot":"\xe5\xb7\xa5')
    KEY.private.public_key().verify(base64.b64decode(document["signature"]), body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 8),
        ("size", 1235),
        ("sha256", "cd" * 32),
        ("lot", "L-2"),
        ("bidder", "B-1"),
        ("received_at", "2026-11-24T08:00:00.000001Z"),
    ],
)
def test_any_changed_field_breaks_the_signature(field: str, value: object) -> None:
    document = sign_receipt(receipt(), KEY)
    document["receipt"][field] = value
    with pytest.raises(InvalidReceipt) as caught:
        verify_receipt(document, KEY.public_raw)
    assert caught.value.code == "receipt.signature"


def test_another_platform_key_does_not_verify() -> None:
    other = PlatformKey(Ed25519PrivateKey.generate())
    with pytest.raises(InvalidReceipt):
        verify_receipt(sign_receipt(receipt(), KEY), other.public_raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"received_at": "2026-11-24T08:00:00Z"},
        {"sha256": "AB" * 32},
        {"seq": -1},
        {"size": True},
        {"seq": 1.0},
    ],
)
def test_malformed_receipts_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidReceipt):
        receipt(**changes)


def test_malformed_documents_are_refused() -> None:
    document = sign_receipt(receipt(), KEY)
    for broken in (
        {"receipt": document["receipt"]},
        {**document, "signature": "***"},
        {**document, "receipt": {**document["receipt"], "extra": 1}},
        [],
    ):
        with pytest.raises(InvalidReceipt):
            verify_receipt(broken, KEY.public_raw)
