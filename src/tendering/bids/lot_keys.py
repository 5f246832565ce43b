"""A lot's published opening public key: what its bids are sealed to.

The opening context's key ceremony makes the key pair, keeps the private key only as
custodians' sealed shares and publishes the public half here; bids and decoys are sealed
to it, and a lot without one takes no bid::

    await publish_lot_key(session, lot_id=7, key_id=..., public_key=..., k=2, n=3, held_at=now)
    key = await lot_key(session, 7)   # PublishedKey or None
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tendering.bids.models import LotKey

__all__ = ["PublishedKey", "lot_key", "publish_lot_key"]


@dataclass(frozen=True)
class PublishedKey:
    lot_id: int
    key_id: str  # SHA-256 (hex) of the raw public key
    public_key: str  # standard base64 of the raw 32-byte X25519 key
    k: int  # custodians needed to rebuild the private key
    n: int  # custodians holding a share
    held_at: datetime

    @classmethod
    def of(cls, row: LotKey) -> PublishedKey:
        return cls(row.lot_id, row.key_id, row.public_key, row.k, row.n, row.held_at)


async def lot_key(session: AsyncSession, lot_id: int) -> PublishedKey | None:
    row = await session.get(LotKey, lot_id)
    return PublishedKey.of(row) if row is not None else None


async def publish_lot_key(
    session: AsyncSession,
    *,
    lot_id: int,
    key_id: str,
    public_key: str,
    k: int,
    n: int,
    held_at: datetime,
) -> PublishedKey:
    """Store the lot's public key (once: a second one for the lot is an integrity error)."""
    row = LotKey(lot_id=lot_id, key_id=key_id, public_key=public_key, k=k, n=n, held_at=held_at)
    session.add(row)
    await session.flush()
    return PublishedKey.of(row)
