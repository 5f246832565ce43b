"""Key ceremony and rebuilding the opening key from custodians' passphrases."""

from __future__ import annotations

import pytest

from tendering.core.crypto import hpke
from tendering.core.crypto.ceremony import (
    make_opening_key,
    rebuild_opening_key,
    unwrap_custodian_share,
)
from tendering.core.crypto.envelope import open_envelope, seal
from tendering.core.crypto.wrap import ScryptParams
from tendering.core.errors import ShareError, WrappedShareError, WrongPassphrase

FAST = ScryptParams(n=2**10)
PASSPHRASES = {
    "user:7": "staff passphrase",
    "user:9": "supervisor pass",
    "user:12": "招标人口令口令口令",
}


def test_k_custodians_open_bids_and_k_minus_1_cannot() -> None:
    made = make_opening_key(k=2, custodians=PASSPHRASES, lot="L-001", kdf=FAST)
    assert made.key_id == hpke.key_id(made.public_raw)
    assert set(made.wrapped) == set(PASSPHRASES)
    data = b"".join(seal([b"bid"], opening_public_key=made.public_raw, lot="L-001", bidder="B"))

    def share(custodian: str, *, lot: str = "L-001") -> object:
        return unwrap_custodian_share(
            made.wrapped[custodian],
            PASSPHRASES[custodian],
            lot=lot,
            custodian=custodian,
            key_id=made.key_id,
        )

    private = rebuild_opening_key([share("user:7"), share("user:12")], key_id=made.key_id)
    assert b"".join(open_envelope([data], private_key=private)) == b"bid"
    with pytest.raises(ShareError):
        rebuild_opening_key([share("user:9")], key_id=made.key_id)
    other = make_opening_key(k=2, custodians=PASSPHRASES, lot="L-002", kdf=FAST)
    foreign = unwrap_custodian_share(
        other.wrapped["user:9"],
        PASSPHRASES["user:9"],
        lot="L-002",
        custodian="user:9",
        key_id=other.key_id,
    )
    with pytest.raises(ShareError) as caught:
        rebuild_opening_key([share("user:7"), foreign], key_id=made.key_id)
    assert caught.value.code == "shamir.wrong_key"
    with pytest.raises(WrappedShareError):
        share("user:7", lot="L-002")
    with pytest.raises(WrongPassphrase):
        unwrap_custodian_share(
            made.wrapped["user:7"],
            PASSPHRASES["user:9"],
            lot="L-001",
            custodian="user:7",
            key_id=made.key_id,
        )


def test_the_private_key_is_not_in_what_the_ceremony_returns() -> None:
    made = make_opening_key(k=3, custodians=PASSPHRASES, lot="L-001", kdf=FAST)
    assert sorted(vars(made)) == ["k", "key_id", "public_raw", "wrapped"]
