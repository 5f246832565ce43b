"""Keyed tags and sealed fields (core/secrecy.py)."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from tendering.core.secrecy import Secrecy

SECRECY = Secrecy.from_seed(bytes(range(32)))


def test_tags_differ_per_pair_and_per_key() -> None:
    tags = {SECRECY.tag("registration", lot, org) for lot in range(20) for org in range(20)}
    assert len(tags) == 400
    other = Secrecy.from_seed(os.urandom(32))
    assert other.tag("registration", 1, 1) != SECRECY.tag("registration", 1, 1)
    assert SECRECY.tag("registration", 1, 1) != SECRECY.tag("deposit", 1, 1)


def test_version_1_keys_are_the_ones_rows_were_written_with_before_0027() -> None:
    """Migration 0027 reads rows with these to re-key them; they must stay as they were."""
    seed = bytes(range(32))
    key = hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest()
    old = Secrecy.v1(seed)
    assert old.version == 1
    assert old.tag(7, 9) == hmac.new(key, b"7|9", hashlib.sha256).hexdigest()
    # the v1 mask was keyed by the context's tag
    assert old.mask(bytes(16), "envelope-header", "ab") != bytes(16)
    assert SECRECY.previous == old


def test_keys_are_hkdf_of_the_seed_with_a_label_per_use() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    seed = bytes(range(32))
    derived = {
        use: HKDF(hashes.SHA256(), 32, None, f"tendering/secrecy/v2/{use}".encode()).derive(seed)
        for use in ("tag", "seal", "mask")
    }
    assert SECRECY.version == 2
    assert (SECRECY.tag_key, SECRECY.seal_key, SECRECY.mask_key) == (
        derived["tag"],
        derived["seal"],
        derived["mask"],
    )
    assert len(set(derived.values())) == 3  # one key per use


def test_a_tag_under_the_new_key_differs_from_the_old() -> None:
    seed = bytes(range(32))
    old = Secrecy.v1(seed)
    assert SECRECY.tag(7, 9) != old.tag(7, 9)
    assert SECRECY.tag("registration", 1, 1) != old.tag("registration", 1, 1)
    assert SECRECY.mask(bytes(32), "envelope-header", "ab") != old.mask(
        bytes(32), "envelope-header", "ab"
    )
    with pytest.raises(InvalidTag):
        old.open("registration", SECRECY.seal("registration", {"lot_id": 7}))


@given(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=20), max_size=5))
def test_sealed_fields_round_trip_and_look_different_each_time(value: dict[str, object]) -> None:
    first, second = SECRECY.seal("registration", value), SECRECY.seal("registration", value)
    assert first != second
    assert SECRECY.open("registration", first) == value


def test_a_box_does_not_open_for_another_purpose_or_key() -> None:
    box = SECRECY.seal("registration", {"lot_id": 7, "organization_id": 9})
    with pytest.raises(InvalidTag):
        SECRECY.open("deposit", box)
    with pytest.raises(InvalidTag):
        Secrecy.from_seed(os.urandom(32)).open("registration", box)


@given(st.binary(max_size=5000), st.text(max_size=20))
def test_masking_keeps_the_length_and_masking_again_undoes_it(data: bytes, context: str) -> None:
    masked = SECRECY.mask(data, "envelope-header", context)
    assert len(masked) == len(data)
    assert SECRECY.mask(masked, "envelope-header", context) == data
    if len(data) >= 16:
        assert masked != data
        assert SECRECY.mask(data, "envelope-header", context + "x") != masked
