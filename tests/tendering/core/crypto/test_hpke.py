"""HPKE base mode: RFC 9180's printed vector, then interoperation for AES-256-GCM.

RFC 9180 prints DHKEM(X25519, HKDF-SHA256) with HKDF-SHA256 only for AES-128-GCM and
ChaCha20-Poly1305 (A.1, A.2). So a small independent re-implementation of RFC 9180 (stdlib
HMAC for HKDF, raw X25519 and AES-GCM) is first checked against A.1.1 (Base); the KEM and key
schedule it proves are the same for our suite except ``aead_id`` = 0x0002 and Nk = 32. Then the
module (``cryptography``'s own HPKE) and the re-implementation open each other's output for
``DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM``.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tendering.core.crypto import hpke

# RFC 9180 A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base.
INFO = bytes.fromhex("4f6465206f6e2061204772656369616e2055726e")  # "Ode on a Grecian Urn"
SK_EM = bytes.fromhex("52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736")
PK_EM = bytes.fromhex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
SK_RM = bytes.fromhex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8")
PK_RM = bytes.fromhex("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d")
SHARED_SECRET = bytes.fromhex("fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc")
KEY = bytes.fromhex("4531685d41d65f03dc48f6b8302c05b0")
BASE_NONCE = bytes.fromhex("56d890e5accaaf011cff4b7d")
PLAINTEXT = bytes.fromhex("4265617574792069732074727574682c20747275746820626561757479")
AAD = b"Count-0"
CIPHERTEXT = bytes.fromhex(
    "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"
)

AES_128_GCM, AES_256_GCM = 0x0001, 0x0002
KEM_SUITE = b"KEM" + (0x0020).to_bytes(2, "big")


def _hpke_suite(aead_id: int) -> bytes:
    return (
        b"HPKE"
        + (0x0020).to_bytes(2, "big")
        + (0x0001).to_bytes(2, "big")
        + aead_id.to_bytes(2, "big")
    )


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def _schedule(shared_secret: bytes, info: bytes, aead_id: int) -> tuple[bytes, bytes]:
    """RFC 9180 section 5.1, mode_base, no PSK: (key, base_nonce)."""
    suite = _hpke_suite(aead_id)
    psk_id_hash = _labeled_extract(suite, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(suite, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(suite, shared_secret, b"secret", b"")
    key_len = {AES_128_GCM: 16, AES_256_GCM: 32}[aead_id]
    key = _labeled_expand(suite, secret, b"key", context, key_len)
    return key, _labeled_expand(suite, secret, b"base_nonce", context, 12)


def _raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _shared_secret(dh: bytes, enc: bytes, pk_rm: bytes) -> bytes:
    """RFC 9180 section 4.1, DHKEM ExtractAndExpand."""
    eae_prk = _labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return _labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", enc + pk_rm, 32)


def reference_seal(
    sk_em: bytes, pk_rm: bytes, info: bytes, aad: bytes, pt: bytes, aead_id: int = AES_256_GCM
) -> bytes:
    """Single-shot SealBase (sequence number 0): enc || ciphertext."""
    ephemeral = X25519PrivateKey.from_private_bytes(sk_em)
    enc = _raw_public(ephemeral)
    dh = ephemeral.exchange(X25519PublicKey.from_public_bytes(pk_rm))
    key, nonce = _schedule(_shared_secret(dh, enc, pk_rm), info, aead_id)
    return enc + AESGCM(key).encrypt(nonce, pt, aad)


def reference_open(sk_rm: bytes, sealed: bytes, info: bytes) -> bytes:
    """Single-shot OpenBase for our suite, empty aad."""
    receiver = X25519PrivateKey.from_private_bytes(sk_rm)
    enc = sealed[:32]
    dh = receiver.exchange(X25519PublicKey.from_public_bytes(enc))
    key, nonce = _schedule(_shared_secret(dh, enc, _raw_public(receiver)), info, AES_256_GCM)
    return AESGCM(key).decrypt(nonce, sealed[32:], b"")


def test_reference_reproduces_rfc_9180_a_1_1() -> None:
    assert _raw_public(X25519PrivateKey.from_private_bytes(SK_RM)) == PK_RM
    ephemeral = X25519PrivateKey.from_private_bytes(SK_EM)
    assert _raw_public(ephemeral) == PK_EM
    dh = ephemeral.exchange(X25519PublicKey.from_public_bytes(PK_RM))
    shared_secret = _shared_secret(dh, PK_EM, PK_RM)
    assert shared_secret == SHARED_SECRET
    assert _schedule(shared_secret, INFO, AES_128_GCM) == (KEY, BASE_NONCE)
    sealed = reference_seal(SK_EM, PK_RM, INFO, AAD, PLAINTEXT, AES_128_GCM)
    assert sealed == PK_EM + CIPHERTEXT


def test_module_opens_what_the_reference_seals() -> None:
    for _ in range(20):
        file_key, info = os.urandom(32), hpke.envelope_info("L-001", "B-042")
        sealed = reference_seal(os.urandom(32), PK_RM, info, b"", file_key)
        receiver = X25519PrivateKey.from_private_bytes(SK_RM)
        assert hpke.open_file_key(sealed, receiver, info=info) == file_key


def test_reference_opens_what_the_module_seals() -> None:
    for _ in range(20):
        file_key, info = os.urandom(32), hpke.envelope_info("L-001", "B-042")
        sealed = hpke.seal_file_key(file_key, PK_RM, info=info)
        assert len(sealed) == hpke.SEALED_FILE_KEY_LEN == 80
        assert reference_open(SK_RM, sealed, info) == file_key


def test_info_binds_lot_and_bidder(opening_key: X25519PrivateKey, opening_public: bytes) -> None:
    file_key = os.urandom(32)
    sealed = hpke.seal_file_key(file_key, opening_public, info=hpke.envelope_info("A", "X"))
    assert hpke.envelope_info("A", "X") == b"tbid1|A|X"
    assert hpke.open_file_key(sealed, opening_key, info=b"tbid1|A|X") == file_key
    assert hpke.open_file_key(sealed, opening_key, info=b"tbid1|B|X") is None
    assert hpke.open_file_key(sealed, opening_key, info=b"tbid1|A|Y") is None
    assert hpke.open_file_key(sealed, hpke.generate_opening_key(), info=b"tbid1|A|X") is None
    assert hpke.open_file_key(sealed[:-1], opening_key, info=b"tbid1|A|X") is None


def test_key_id_is_sha256_hex_of_raw_public_key_and_checks_a_rebuilt_private_key() -> None:
    private = hpke.generate_opening_key()
    public = hpke.public_raw_of(private)
    assert hpke.key_id(public) == hashlib.sha256(public).hexdigest()
    assert hpke.private_matches(hpke.private_raw_of(private), hpke.key_id(public))
    assert not hpke.private_matches(os.urandom(32), hpke.key_id(public))
    assert not hpke.private_matches(b"short", hpke.key_id(public))
