from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.draw import Category, Exclusion
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


@dataclass
class Cast:
    staff: object
    witness: object
    other_supervisor: object
    other_staff: object

    @property
    def staff_actor(self) -> Actor:
        return actor_of(self.staff)

    @property
    def witness_actor(self) -> Actor:
        return actor_of(self.witness)


@pytest.fixture
async def cast(people) -> Cast:
    return Cast(
        staff=await people.user(Role.STAFF),
        witness=await people.user(Role.SUPERVISOR),
        other_supervisor=await people.user(Role.SUPERVISOR),
        other_staff=await people.user(Role.STAFF),
    )


@pytest.fixture
def key() -> PlatformKey:
    return PlatformKey(Ed25519PrivateKey.generate())


@pytest.fixture
def secrecy(key: PlatformKey) -> Secrecy:
    return Secrecy.of(key)


def categories() -> list[Category]:
    return [
        Category.of(
            "A0801",
            count=5,
            backups=2,
            pool=[(f"E-{n:04d}", 1) for n in range(40)],
            excluded=[Exclusion("E-9000", "employer", "投标人 BID-0001 在职")],
        ),
        Category.of("A0802", count=2, backups=1, pool=[(f"E-{n:04d}", 1) for n in range(30, 60)]),
    ]
