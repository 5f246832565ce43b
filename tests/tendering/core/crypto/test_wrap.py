"""A custodian's share wrapped by its passphrase."""

from __future__ import annotations

import base64
import json
import unicodedata

import pytest

from tendering.core.crypto.wrap import (
    ARGON2ID_DEFAULT,
    SCRYPT_DEFAULT,
    Argon2idParams,
    ScryptParams,
    unwrap_share,
    wrap_share,
)
from tendering.core.errors import WeakPassphrase, WrappedShareError, WrongPassphrase

# Cheap parameters for the many tests; the defaults are exercised once each.
FAST_ARGON = Argon2idParams(time_cost=1, memory_kib=1024, parallelism=1)
FAST_SCRYPT = ScryptParams(n=2**10, r=8, p=1)
SECRET = bytes(range(33))
PASSPHRASE = "开标口令 correct horse"
LABEL = "lot:L-001 custodian:user:7"


@pytest.mark.parametrize("kdf", [ARGON2ID_DEFAULT, SCRYPT_DEFAULT, FAST_ARGON, FAST_SCRYPT])
def test_round_trip(kdf: Argon2idParams | ScryptParams) -> None:
    stored = wrap_share(SECRET, PASSPHRASE, label=LABEL, kdf=kdf)
    assert unwrap_share(stored, PASSPHRASE, expected_label=LABEL) == SECRET
    assert unwrap_share(stored.decode(), PASSPHRASE) == SECRET
    document = json.loads(stored)
    assert document["v"] == 1 and document["format"] == "tendering-wrapped-share"
    assert SECRET.hex() not in stored.decode()
    assert len(base64.b64decode(document["kdf"]["salt"])) == 16
    assert len(base64.b64decode(document["nonce"])) == 12


def test_default_parameters_are_the_documented_ones() -> None:
    argon = json.loads(wrap_share(SECRET, PASSPHRASE))["kdf"]
    assert (argon["alg"], argon["time_cost"], argon["memory_kib"], argon["parallelism"]) == (
        "argon2id",
        3,
        65536,
        4,
    )
    scrypt = json.loads(wrap_share(SECRET, PASSPHRASE, kdf=SCRYPT_DEFAULT))["kdf"]
    assert (scrypt["alg"], scrypt["n"], scrypt["r"], scrypt["p"]) == ("scrypt", 32768, 8, 1)


@pytest.mark.parametrize("kdf", [FAST_ARGON, FAST_SCRYPT])
def test_wrong_passphrase_says_so_and_nothing_else(kdf: Argon2idParams | ScryptParams) -> None:
    stored = wrap_share(SECRET, PASSPHRASE, label=LABEL, kdf=kdf)
    with pytest.raises(WrongPassphrase) as caught:
        unwrap_share(stored, PASSPHRASE + "!")
    error = caught.value
    assert str(error) == "the passphrase does not open this share"
    assert error.code == "wrap.wrong_passphrase"
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize(
    "field", ["ct", "nonce", "salt", "label", "time_cost", "format_whitespace"]
)
def test_tampering_is_detected(field: str) -> None:
    stored = wrap_share(SECRET, PASSPHRASE, label=LABEL, kdf=FAST_ARGON)
    document = json.loads(stored)
    if field in ("ct", "nonce"):
        raw = bytearray(base64.b64decode(document[field]))
        raw[0] ^= 1
        document[field] = base64.b64encode(bytes(raw)).decode()
    elif field == "salt":
        document["kdf"]["salt"] = base64.b64encode(bytes(16)).decode()
    elif field == "label":
        document["label"] = "lot:L-001 custodian:user:8"
    elif field == "time_cost":
        document["kdf"]["time_cost"] = 2
    if field == "format_whitespace":  # re-serialized as jsonb would: still opens
        assert unwrap_share(json.dumps(document, indent=1), PASSPHRASE) == SECRET
        return
    with pytest.raises(WrongPassphrase):
        unwrap_share(json.dumps(document), PASSPHRASE)


def test_label_is_checked_when_asked() -> None:
    stored = wrap_share(SECRET, PASSPHRASE, label=LABEL, kdf=FAST_SCRYPT)
    with pytest.raises(WrappedShareError) as caught:
        unwrap_share(stored, PASSPHRASE, expected_label="lot:L-002 custodian:user:7")
    assert caught.value.code == "wrap.label"


def test_passphrase_is_normalized_to_nfc() -> None:
    composed = unicodedata.normalize("NFC", "café-passphrase")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    stored = wrap_share(SECRET, composed, kdf=FAST_SCRYPT)
    assert unwrap_share(stored, decomposed) == SECRET


def test_short_passphrase_is_refused() -> None:
    with pytest.raises(WeakPassphrase, match="at least 8"):
        wrap_share(SECRET, "short", kdf=FAST_SCRYPT)


@pytest.mark.parametrize(
    "stored",
    [
        b"not json",
        b"[]",
        b'{"v": 1}',
        json.dumps(
            {
                "aead": "AES-256-GCM",
                "ct": "AAAA",
                "format": "tendering-wrapped-share",
                "kdf": {
                    "alg": "argon2id",
                    "memory_kib": 1 << 30,
                    "parallelism": 1,
                    "salt": base64.b64encode(bytes(16)).decode(),
                    "time_cost": 1,
                },
                "label": "",
                "nonce": base64.b64encode(bytes(12)).decode(),
                "v": 1,
            }
        ).encode(),
    ],
)
def test_malformed_or_greedy_documents_are_refused_before_any_work(stored: bytes) -> None:
    with pytest.raises(WrappedShareError):
        unwrap_share(stored, PASSPHRASE)
