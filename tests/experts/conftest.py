from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey


def actor_of(person) -> Actor:
    return Actor(
        person.user.id,
        person.username,
        Role(person.user.role),
        person.organization.id,
        OrgKind(person.organization.kind),
    )


@pytest.fixture
def key() -> PlatformKey:
    return PlatformKey(Ed25519PrivateKey.generate())


@pytest.fixture
def secrecy(key: PlatformKey) -> Secrecy:
    return Secrecy.of(key)


@pytest.fixture
def system() -> Actor:
    return SYSTEM
