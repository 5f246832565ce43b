"""The opening key's life: made and split at the key ceremony, rebuilt at the opening.

Pure helpers for the opening service; storage, audit events and who may call are its part::

    made = make_opening_key(k=2, custodians={"user:7": "pass-7...", "user:9": "pass-9...",
                                             "user:12": "pass-12..."}, lot="L-001")
    made.public_raw, made.key_id          # published with the notice
    made.wrapped["user:7"]                # stored; only user:7's passphrase opens it
    # nothing else is kept: the private key is never stored whole

    private = rebuild_opening_key(
        [unwrap_custodian_share(made.wrapped[c], passphrases[c], lot="L-001", custodian=c,
                                key_id=made.key_id) for c in ("user:7", "user:12")],
        key_id=made.key_id,
    )                                     # X25519PrivateKey; ShareError if not the lot's key

Each wrapped share is labelled ``"tbid1-share lot:<lot> custodian:<ref> key:<key_id>"``, so a
share cannot be replayed for another lot or custodian. Python cannot wipe memory: drop every
reference to the rebuilt key as soon as the bids are open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tendering.core.crypto import hpke, shamir, wrap
from tendering.core.errors import ErrorCode, ShareError

__all__ = [
    "MadeOpeningKey",
    "make_opening_key",
    "rebuild_opening_key",
    "share_label",
    "unwrap_custodian_share",
]


@dataclass(frozen=True)
class MadeOpeningKey:
    public_raw: bytes
    key_id: str
    k: int
    wrapped: dict[str, bytes]  # custodian ref -> wrapped share document


def share_label(*, lot: str, custodian: str, key_id: str) -> str:
    return f"tbid1-share lot:{lot} custodian:{custodian} key:{key_id}"


def make_opening_key(
    *,
    k: int,
    custodians: Mapping[str, str],
    lot: str,
    kdf: wrap.Argon2idParams | wrap.ScryptParams = wrap.ARGON2ID_DEFAULT,
) -> MadeOpeningKey:
    """A new opening key pair, its private half split k-of-n and wrapped per custodian."""
    private = hpke.generate_opening_key()
    public_raw = hpke.public_raw_of(private)
    key_id = hpke.key_id(public_raw)
    shares = shamir.split(hpke.private_raw_of(private), k=k, n=len(custodians))
    wrapped = {
        custodian: wrap.wrap_share(
            share.to_bytes(),
            passphrase,
            label=share_label(lot=lot, custodian=custodian, key_id=key_id),
            kdf=kdf,
        )
        for share, (custodian, passphrase) in zip(shares, custodians.items(), strict=True)
    }
    return MadeOpeningKey(public_raw=public_raw, key_id=key_id, k=k, wrapped=wrapped)


def unwrap_custodian_share(
    stored: bytes | str, passphrase: str, *, lot: str, custodian: str, key_id: str
) -> shamir.Share:
    """One custodian's share; ``WrongPassphrase`` or ``WrappedShareError`` otherwise."""
    label = share_label(lot=lot, custodian=custodian, key_id=key_id)
    return shamir.Share.from_bytes(wrap.unwrap_share(stored, passphrase, expected_label=label))


def rebuild_opening_key(shares: Sequence[shamir.Share], *, key_id: str) -> X25519PrivateKey:
    """The lot's private key from at least k shares, checked against its ``key_id``."""
    raw = shamir.combine(shares)
    if not hpke.private_matches(raw, key_id):
        raise ShareError(
            "the shares do not rebuild this lot's opening key (too few custodians, "
            "or shares of another key)",
            code=ErrorCode.SHAMIR_WRONG_KEY,
        )
    return X25519PrivateKey.from_private_bytes(raw)
