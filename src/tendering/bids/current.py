"""The bids that count, for the opening: plain values of their rows.

No row names its lot: the tags of every bidder organization are computed and looked up
(an HMAC each, a few microseconds; a platform with 10,000 bidders spends tens of
milliseconds)::

    bids = await current_bids(session, lot_id, platform_key=key)   # [StoredBid], by seq
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids.models import Bid, BidState
from tendering.core.auth.models import Organization, OrgKind
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = ["StoredBid", "current_bids"]


@dataclass(frozen=True)
class StoredBid:
    """A current bid as stored: its envelope file (``sha256`` in the blob store), its
    receipt's fields and its sealed evidence (``bids/evidence.py``)."""

    id: int
    bidder_tag: str
    seq: int
    sha256: str
    size: int
    received_at: datetime
    evidence: str

    @classmethod
    def of(cls, bid: Bid) -> StoredBid:
        return cls(
            id=bid.id or 0,
            bidder_tag=bid.bidder_tag,
            seq=bid.seq,
            sha256=bid.sha256,
            size=bid.size,
            received_at=bid.received_at,
            evidence=bid.evidence,
        )


async def current_bids(
    session: AsyncSession, lot_id: int, *, platform_key: PlatformKey
) -> list[StoredBid]:
    """Every bid that counts (for the opening), in submission order; never a decoy (a
    decoy's tag is no organization's)."""
    secrecy = Secrecy.of(platform_key)
    organizations = await session.scalars(
        select(col(Organization.id)).where(col(Organization.kind) == OrgKind.BIDDER)
    )
    tags = [secrecy.tag(lot_id, org_id) for org_id in organizations if org_id is not None]
    query = (
        select(Bid)
        .where(
            col(Bid.bidder_tag) == any_(bindparam("tags", tags, type_=ARRAY(String))),
            col(Bid.state) == BidState.CURRENT,
        )
        .order_by(col(Bid.seq))
    )
    return [StoredBid.of(bid) for bid in (await session.scalars(query)).all()]
