"""Land and property auctions (土地、产权交易): announcements, registration with deposits and
anonymous paddles (竞买号), the sealed reserve (底价), bidding and the result; docs/auctions.md.
Stands on ``tendering.core`` and the names in ``tendering.ledger.__all__`` only.

What the bidding side uses, in the caller's transaction::

    auction = await auction_for_update(session, code)      # the row, locked FOR UPDATE
    paddle = await paddle_of(session, code, actor, secrecy=secrecy)  # or 403 not_approved
    result = await settle(session, auction, secrecy=, key=, store=)  # once bidding ended
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
from auction.result import Settlement, settle
from auction.transcript import build_transcript

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
    "Settlement",
    "auction_for_update",
    "build_transcript",
    "get_auction",
    "paddle_of",
    "settle",
]
