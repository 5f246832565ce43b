"""Tender publication: projects, lots (标段), notices, amendments, Q&A, registration, OCDS.

Other contexts use only these (each runs in the caller's transaction), never this
context's models, tables or modules::

    lot_view(session, lot_id= | code=, lock=False)    # LotView (custodians) or None
    published_lot(session, code)                       # PublishedLot (deadline, form) or None
    lots_taking_bids(session)                          # [BiddingPeriod] of published lots
    bid_deadline_sql(lot_id)                           # the deadline, inside a SQL statement
    is_registered(session, lot_code=, organization_id=, secrecy=)   # may it bid?
    reveal_registrations(session, lot_code=, actor=, secrecy=)      # at the opening
    lots_published                 # hook: a notice's lots were published (LotsPublished)
"""

from tendering.tenders.hooks import LotsPublished, lots_published
from tendering.tenders.lots import (
    BiddingPeriod,
    LotView,
    PublishedLot,
    bid_deadline_sql,
    lot_view,
    lots_taking_bids,
    published_lot,
)
from tendering.tenders.registration import is_registered
from tendering.tenders.reveal import reveal_registrations

__all__ = [
    "BiddingPeriod",
    "LotView",
    "LotsPublished",
    "PublishedLot",
    "bid_deadline_sql",
    "is_registered",
    "lot_view",
    "lots_published",
    "lots_taking_bids",
    "published_lot",
    "reveal_registrations",
]
