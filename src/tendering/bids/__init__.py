"""Sealed-bid submission: bidder keys, streaming upload, receipts, replacement, withdrawal.

Other contexts use :mod:`tendering.bids.service` (``current_bids``, ``bid_terms``) only.
"""
