"""At the opening, open the ``bid.withdrawn`` commitments of the lot's withdrawn bids.

Before the opening a withdrawal is in the global audit stream only as a hiding commitment
(``rules.withdrawal_commitment``: lot, bidder code, the withdrawn submission's ``seq`` and a
nonce). When the lot's opening finishes, ``bid.withdrawals_revealed`` in the lot's stream
gives each withdrawal's bidder, ``seq``, nonce and row tag, so anyone recomputes every
``bid.withdrawn`` commitment of the period, as the opening's events do for ``bid.sealed``.
The tag also opens the withdrawals recorded before they had a nonce
(``rules.legacy_withdrawal_commitment``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids.models import Bid, BidState
from tendering.bids.service import withdrawal_nonce
from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = ["reveal_withdrawals"]


async def reveal_withdrawals(
    session: AsyncSession, *, lot_id: int, lot_code: str, actor: Actor, platform_key: PlatformKey
) -> list[dict[str, Any]]:
    """Record ``bid.withdrawals_revealed`` for the lot (nothing when none was withdrawn);
    what it revealed."""
    secrecy = Secrecy.of(platform_key)
    organizations = await session.execute(
        select(col(Organization.id), col(Organization.code)).where(
            col(Organization.kind) == OrgKind.BIDDER
        )
    )
    code_of = {
        secrecy.tag(lot_id, org_id): code for org_id, code in organizations if org_id is not None
    }
    rows = (
        await session.scalars(
            select(Bid)
            .where(
                col(Bid.bidder_tag) == any_(bindparam("tags", list(code_of), type_=ARRAY(String))),
                col(Bid.state) == BidState.WITHDRAWN,
            )
            .order_by(col(Bid.seq))
        )
    ).all()
    revealed = [
        {
            "bidder": code_of[row.bidder_tag],
            "seq": row.seq,
            "nonce": withdrawal_nonce(secrecy, row.id or 0),
            "tag": row.bidder_tag,
        }
        for row in rows
    ]
    if revealed:
        await record(
            session,
            stream=lot_stream(lot_code),
            action="bid.withdrawals_revealed",
            actor=actor,
            payload={"withdrawals": revealed},
        )
    return revealed
