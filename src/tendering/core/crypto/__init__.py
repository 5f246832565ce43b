"""The crypto kernel: pure functions and small classes, no database, no HTTP.

- :mod:`.envelope`: the sealed-bid file ``tbid1`` (seal, validate while uploading, open).
- :mod:`.hpke`: the lots' opening keys (RFC 9180 base mode, X25519/HKDF-SHA256/AES-256-GCM).
- :mod:`.ceremony`: make, split and wrap a lot's opening key; rebuild it at the opening.
- :mod:`.shamir`: k-of-n splitting of an opening key among custodians, over GF(256).
- :mod:`.wrap`: a custodian's share wrapped by its passphrase (Argon2id or scrypt + AES-GCM).
- :mod:`.receipt`: the platform's signed receipt of an upload.
- :mod:`.bidder_keys`: a bidder's Ed25519 signing key and the signature over a file.
- :mod:`.errors`: what all of them raise, each with a stable ``code``.

Import the submodules directly (``from tendering.core.crypto import envelope``).
"""
