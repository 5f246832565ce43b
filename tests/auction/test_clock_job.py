"""The clock job for an auction that does not exist (queued by a transaction that rolled
back) does nothing and does not fail, so no later worker run inherits a failed job."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auction.jobs import auction_clock
from tendering.core.db import make_sessionmaker
from tendering.core.signing import PlatformKey


async def test_the_clock_of_a_missing_auction_moves_nothing(engine, settings):
    ctx = {
        "settings": settings,
        "platform_key": PlatformKey(Ed25519PrivateKey.generate()),
        "sessionmaker": make_sessionmaker(engine),
        "redis": None,  # nothing to publish: the job ends before
    }
    assert await auction_clock(ctx, 2_000_000_000, 0) is False
