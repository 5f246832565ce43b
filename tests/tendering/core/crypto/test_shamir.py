"""Shamir k-of-n over GF(256) with the AES polynomial 0x11B."""

from __future__ import annotations

import itertools
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tendering.core.crypto import hpke
from tendering.core.crypto.shamir import Share, combine, gf_div, gf_mul, split
from tendering.core.errors import ShareError


def test_field_is_gf256_with_the_aes_polynomial() -> None:
    # FIPS-197 section 4.2: {57} * {83} = {c1}; {53} and {ca} are inverses (section 5.1.1).
    assert gf_mul(0x57, 0x83) == 0xC1
    assert gf_mul(0x53, 0xCA) == 0x01
    assert gf_mul(0x57, 0x13) == 0xFE
    for a in range(1, 256):
        assert gf_mul(a, gf_div(1, a)) == 1
        assert gf_div(gf_mul(a, 0x1B), 0x1B) == a


@settings(max_examples=60, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=64),
    k=st.integers(min_value=2, max_value=8),
    extra=st.integers(min_value=0, max_value=6),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_k_shares_rebuild_the_secret_and_k_minus_1_do_not(
    secret: bytes, k: int, extra: int, seed: int
) -> None:
    n = k + extra
    shares = split(secret, k=k, n=n)
    assert [share.x for share in shares] == list(range(1, n + 1))
    rng = random.Random(seed)
    for _ in range(5):
        chosen = rng.sample(shares, k)
        assert combine(chosen) == secret
        assert combine(rng.sample(shares, k + min(extra, 1))) == secret
        if k == 2:
            with pytest.raises(ShareError):
                combine(chosen[:-1])
        elif len(secret) >= 8:  # a wrong value (2^-64 chance of a coincidence)
            assert combine(chosen[:-1]) != secret


def test_every_subset_of_a_3_of_5_split() -> None:
    secret = os.urandom(32)
    shares = split(secret, k=3, n=5)
    for size in range(2, 6):
        for subset in itertools.combinations(shares, size):
            assert (combine(subset) == secret) == (size >= 3)


def test_k_minus_1_shares_leave_every_secret_equally_possible() -> None:
    """For any k-1 shares, each of the 256 values of a secret byte fits exactly one k-th share."""
    shares = split(bytes([0x42]), k=3, n=5)
    known = shares[:2]
    results = {combine([*known, Share(x=5, y=bytes([y]))]) for y in range(256)}
    assert results == {bytes([value]) for value in range(256)}


def test_shares_round_trip_as_bytes() -> None:
    for share in split(b"secret", k=2, n=3):
        assert Share.from_bytes(share.to_bytes()) == share
    with pytest.raises(ShareError):
        Share.from_bytes(b"\x00abc")
    with pytest.raises(ShareError):
        Share.from_bytes(b"\x01")


def test_an_opening_key_rebuilt_from_shares_matches_its_key_id() -> None:
    private = hpke.generate_opening_key()
    key_id = hpke.key_id(hpke.public_raw_of(private))
    shares = split(hpke.private_raw_of(private), k=3, n=5)
    assert hpke.private_matches(combine(shares[2:]), key_id)
    assert not hpke.private_matches(combine(shares[:2]), key_id)


@pytest.mark.parametrize(
    ("k", "n", "message"),
    [(1, 3, "at least 2"), (0, 3, "at least 2"), (4, 3, "exceeds"), (3, 256, "at most 255")],
)
def test_split_refuses_impossible_thresholds(k: int, n: int, message: str) -> None:
    with pytest.raises(ShareError, match=message):
        split(b"secret", k=k, n=n)


def test_split_of_255_shares_is_allowed() -> None:
    shares = split(b"secret", k=2, n=255)
    assert combine([shares[0], shares[254]]) == b"secret"


def test_combine_refuses_duplicates_and_mixed_shares() -> None:
    shares = split(b"secret", k=2, n=3)
    with pytest.raises(ShareError, match="twice"):
        combine([shares[0], shares[0]])
    with pytest.raises(ShareError, match="lengths"):
        combine([shares[0], split(b"longer secret", k=2, n=3)[1]])
    with pytest.raises(ShareError):
        combine([shares[0]])
    with pytest.raises(ShareError):
        combine([shares[0], Share(x=0, y=b"secret")])
    with pytest.raises(ShareError):
        split(b"", k=2, n=3)
