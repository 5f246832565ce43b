"""The pure verifier: any single tampering of a chain is caught at the right seq."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from tendering.core.audit.chain import GENESIS, checkpoint_message, event_hash
from tendering.core.audit.rules import CheckpointRow, EventRow, Head, StreamVerifier
from tendering.core.clock import rfc3339
from tendering.core.signing import PlatformKey

KEY = PlatformKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
T0 = datetime(2026, 11, 24, 8, tzinfo=UTC)


def build(n: int, stream: str = "lot:L-1") -> list[EventRow]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        at = T0 + timedelta(seconds=seq, microseconds=seq)
        fields = dict(
            stream=stream,
            seq=seq,
            action="bid.received",
            actor=f"user:{seq}",
            payload={"seq": seq, "名称": "投标"},
        )
        digest = event_hash(prev, at=rfc3339(at), **fields)
        rows.append(EventRow(at=at, prev_hash=prev.hex(), hash=digest.hex(), **fields))
        prev = digest
    return rows


def sign(row: EventRow) -> CheckpointRow:
    message = checkpoint_message(stream=row.stream, seq=row.seq, hash_hex=row.hash)
    return CheckpointRow(row.stream, row.seq, row.hash, KEY.sign_b64(message))


def verify(rows, head, checkpoints=(), orphans=()):
    verifier = StreamVerifier("lot:L-1", public_key=KEY.public_raw)
    signed = {cp.seq: cp for cp in checkpoints}
    for row in rows:
        cp = signed.get(row.seq)
        verifier.event(
            dataclasses.replace(
                row,
                checkpoint_hash=cp.hash if cp else None,
                checkpoint_signature=cp.signature if cp else None,
            )
        )
    for cp in orphans:
        verifier.checkpoint(cp, row_hash=None)
    return verifier.finish(head)


EDITS = {
    "action": "bid.withdrawn",
    "actor": "user:0",
    "at": T0,
    "payload": {"seq": -1},
    "hash": "f" * 64,
}


@given(n=st.integers(1, 12), data=st.data())
def test_an_intact_chain_passes_and_any_edit_is_caught_at_its_seq(n, data):
    rows = build(n)
    head = Head(n, rows[-1].hash)
    assert verify(rows, head).ok
    i = data.draw(st.integers(0, n - 1))
    column = data.draw(st.sampled_from(sorted(EDITS)))
    tampered = [*rows]
    tampered[i] = dataclasses.replace(rows[i], **{column: EDITS[column]})
    assert verify(tampered, head).first_bad_seq == i + 1


@given(n=st.integers(2, 12), data=st.data())
def test_a_deleted_row_is_caught_at_its_seq(n, data):
    rows = build(n)
    i = data.draw(st.integers(0, n - 1))
    report = verify(rows[:i] + rows[i + 1 :], Head(n, rows[-1].hash))
    assert report.first_bad_seq == i + 1


@given(n=st.integers(2, 12), data=st.data())
def test_swapped_rows_are_caught_at_the_lower_seq(n, data):
    rows = build(n)
    i, j = sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)))
    swapped = [*rows]
    swapped[i] = dataclasses.replace(rows[j], seq=i + 1)
    swapped[j] = dataclasses.replace(rows[i], seq=j + 1)
    assert verify(swapped, Head(n, rows[-1].hash)).first_bad_seq == i + 1


def test_checkpoints_catch_a_truncated_stream_whose_head_was_moved_back():
    rows = build(5)
    report = verify(rows[:3], Head(3, rows[2].hash), [sign(rows[1])], orphans=[sign(rows[4])])
    assert (report.first_bad_seq, report.checkpoints, report.last_checkpoint_seq) == (5, 2, 5)


def test_a_checkpoint_signed_by_another_key_is_forged():
    rows = build(3)
    other = Ed25519PrivateKey.generate()
    cp = sign(rows[1])
    message = checkpoint_message(stream=cp.stream, seq=cp.seq, hash_hex=cp.hash)
    forged = dataclasses.replace(cp, signature=base64.b64encode(other.sign(message)).decode())
    report = verify(rows, Head(3, rows[-1].hash), [forged])
    assert report.first_bad_seq == 2 and "not the platform's" in (report.reason or "")


def test_the_verifier_continues_after_a_trusted_checkpoint():
    rows = build(6)
    verifier = StreamVerifier(
        "lot:L-1", public_key=None, after_seq=3, after_hash=bytes.fromhex(rows[2].hash)
    )
    for row in rows[3:]:
        verifier.event(row)
    assert verifier.finish(Head(6, rows[-1].hash)).ok


def test_problems_are_capped_but_keep_the_earliest():
    rows = build(30)
    verifier = StreamVerifier("lot:L-1", public_key=KEY.public_raw)
    for row in rows:
        verifier.event(row)
    for row in reversed(rows):  # thirty forged checkpoints, latest first
        verifier.checkpoint(dataclasses.replace(sign(row), signature="AAAA"), row_hash=row.hash)
    report = verifier.finish(Head(30, rows[-1].hash))
    assert len(report.problems) == 20 and report.first_bad_seq == 1
    assert [p.seq for p in report.problems] == list(range(1, 21))
