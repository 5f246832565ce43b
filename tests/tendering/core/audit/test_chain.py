"""chain-v1's hash, checked against vectors an auditor computes with hashlib and json alone."""

from __future__ import annotations

import hashlib
import json

import pytest

from tendering.core.audit.chain import (
    GENESIS,
    check_event_fields,
    checkpoint_message,
    event_hash,
)

FIRST = {
    "stream": "lot:L-2026-001",
    "seq": 1,
    "action": "notice.published",
    "actor": "user:7",
    "at": "2026-11-24T08:00:00.000000Z",
    "payload": {"notice": "N-1", "标题": "道路工程", "amount_fen": 1200000},
}
SECOND = {
    "stream": "lot:L-2026-001",
    "seq": 2,
    "action": "notice.amended",
    "actor": "system:publisher",
    "at": "2026-11-24T08:00:01.250000Z",
    "payload": {},
}


def auditor_hash(prev_hex: str, event: dict) -> str:
    """The auditor's own code: SHA-256(prev raw bytes || canonical JSON of the six keys)."""
    body = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(bytes.fromhex(prev_hex) + body.encode("utf-8")).hexdigest()


def test_first_event_hash_matches_the_hand_built_vector():
    canonical = (
        '{"action":"notice.published","actor":"user:7","at":"2026-11-24T08:00:00.000000Z",'
        '"payload":{"amount_fen":1200000,"notice":"N-1","标题":"道路工程"},'
        '"seq":1,"stream":"lot:L-2026-001"}'
    ).encode()
    expected = hashlib.sha256(bytes(32) + canonical).hexdigest()
    assert expected == "c4fc98c4e879cde77cfcee15a40d845e89c83207e6dd5ee24c654f32f68d9366"
    assert auditor_hash("00" * 32, FIRST) == expected
    assert event_hash(GENESIS, **FIRST).hex() == expected


def test_second_event_chains_on_the_raw_bytes_of_the_first_hash():
    first = event_hash(GENESIS, **FIRST)
    second = event_hash(first, **SECOND).hex()
    assert second == "21577c1724544b00e97e7ae622ca3d9d13629e76b149a90eec51b5ee55c21c2c"
    assert second == auditor_hash(first.hex(), SECOND)


def test_genesis_is_32_zero_bytes():
    assert GENESIS == b"\x00" * 32


def test_any_field_change_changes_the_hash():
    base = event_hash(GENESIS, **FIRST)
    for key, value in [("seq", 2), ("actor", "user:8"), ("at", "2026-11-24T08:00:00.000001Z")]:
        assert event_hash(GENESIS, **{**FIRST, key: value}) != base
    assert event_hash(GENESIS, **{**FIRST, "payload": {"notice": "N-2"}}) != base


def test_floats_in_the_payload_are_refused():
    with pytest.raises(TypeError, match="floats are not allowed"):
        event_hash(GENESIS, **{**FIRST, "payload": {"price": 1.5}})


def test_checkpoint_message_is_canonical_json_of_hash_seq_stream():
    message = checkpoint_message(stream="global", seq=3, hash_hex="ab" * 32)
    assert message == ('{"hash":"' + "ab" * 32 + '","seq":3,"stream":"global"}').encode()


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("stream", "tender:7", "stream"),
        ("stream", "lot:", "stream"),
        ("stream", "lot:A B", "stream"),
        ("action", "tender:bid:submitted", "dotted lowercase verb"),
        ("action", "published", "dotted lowercase verb"),
        ("actor", "alice", "user:<id>"),
        ("actor", "user:abc", "user:<id>"),
        ("payload", ["not", "an", "object"], "JSON object"),
    ],
)
def test_event_fields_that_break_the_format_are_refused(field, value, rule):
    fields = {"stream": "lot:L-1", "action": "notice.published", "actor": "user:1", "payload": {}}
    with pytest.raises(ValueError, match=rule):
        check_event_fields(**{**fields, field: value})


@pytest.mark.parametrize(
    ("stream", "action", "actor"),
    [
        ("global", "user.created", "system:platform"),
        ("auction:A-2026-3", "auction.bid_accepted", "user:42"),
        ("draw:D-1", "draw.pool_fixed", "system:checkpoint_streams"),
    ],
)
def test_event_fields_in_the_design_formats_pass(stream, action, actor):
    check_event_fields(stream=stream, action=action, actor=actor, payload={"k": 1})
