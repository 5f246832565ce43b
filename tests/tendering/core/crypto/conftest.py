from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tendering.core.crypto import hpke


@pytest.fixture(scope="session")
def opening_key() -> X25519PrivateKey:
    return hpke.generate_opening_key()


@pytest.fixture(scope="session")
def opening_public(opening_key: X25519PrivateKey) -> bytes:
    return hpke.public_raw_of(opening_key)
