"""Land and property auctions (土地、产权交易): announcements, registration with deposits and
anonymous paddles (竞买号), the sealed reserve (底价), bidding and the result; docs/auctions.md.
Stands on ``tendering.core`` and the names in ``tendering.ledger.__all__`` only.

What the bidding side uses, in the caller's transaction::

    auction = await auction_for_update(session, code)      # the row, locked FOR UPDATE
    paddle = await paddle_of(session, code, actor, secrecy=secrecy)  # or 403 not_approved
"""

from auction.lookup import auction_for_update, get_auction, paddle_of
from auction.models import (
    BIDDING_STATES,
    Auction,
    AuctionBid,
    AuctionKind,
    AuctionMode,
    AuctionPause,
    AuctionState,
    BidPhase,
    Outcome,
)

__all__ = [
    "BIDDING_STATES",
    "Auction",
    "AuctionBid",
    "AuctionKind",
    "AuctionMode",
    "AuctionPause",
    "AuctionState",
    "BidPhase",
    "Outcome",
    "auction_for_update",
    "get_auction",
    "paddle_of",
]
