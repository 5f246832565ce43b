"""Sealed-bid submission: bidder keys, streaming upload, receipts, replacement, withdrawal,
decoys, and each lot's published opening public key.

Other contexts (the opening) use only these, never this context's models, tables or
modules::

    publish_lot_key(session, lot_id=, key_id=, public_key=, k=, n=, held_at=)  # the ceremony
    lot_key(session, lot_id)                       # PublishedKey or None
    lot_terms(session, lot_code)                   # LotTerms: deadline, form, key; or 404
    current_bids(session, lot_id, platform_key=)   # [StoredBid] that count, by seq
    tag_for(platform_key, lot_id=, organization_id=)   # a bid row's tag of (lot, bidder)
    unmask_head(chunk, secrecy=, sha256_hex=)      # a stored file's first bytes as sent
    open_evidence(sealed, lot=, private_key=)      # Evidence (nonce, signature) or None
    reveal_decoys(session, lot_id=, lot_code=, actor=, platform_key=, store=)  # at the end
    reveal_withdrawals(session, lot_id=, lot_code=, actor=, platform_key=)  # at the end
    BID_JSON, MAX_BID_JSON, parse_bid_json(raw), check_bid_form(fields, form)  # bid.json

Each name is imported from its module when first used (PEP 562), not with the package:
``tendering seal`` (``bids/cli.py``, on a bidder's machine) needs ``client.py`` and
``rules.py`` only, not the server side (tables, services, Litestar) these names bring.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tendering.bids.at_rest import unmask_head
    from tendering.bids.current import StoredBid, current_bids
    from tendering.bids.decoys import reveal_decoys
    from tendering.bids.evidence import Evidence, open_evidence
    from tendering.bids.lot_keys import PublishedKey, lot_key, publish_lot_key
    from tendering.bids.rules import BID_JSON, MAX_BID_JSON, check_bid_form, parse_bid_json
    from tendering.bids.service import LotTerms, lot_terms, tag_for
    from tendering.bids.withdrawals import reveal_withdrawals

__all__ = [
    "BID_JSON",
    "MAX_BID_JSON",
    "Evidence",
    "LotTerms",
    "PublishedKey",
    "StoredBid",
    "check_bid_form",
    "current_bids",
    "lot_key",
    "lot_terms",
    "open_evidence",
    "parse_bid_json",
    "publish_lot_key",
    "reveal_decoys",
    "reveal_withdrawals",
    "tag_for",
    "unmask_head",
]

_HOMES = {
    "BID_JSON": "tendering.bids.rules",
    "Evidence": "tendering.bids.evidence",
    "LotTerms": "tendering.bids.service",
    "MAX_BID_JSON": "tendering.bids.rules",
    "PublishedKey": "tendering.bids.lot_keys",
    "StoredBid": "tendering.bids.current",
    "check_bid_form": "tendering.bids.rules",
    "current_bids": "tendering.bids.current",
    "lot_key": "tendering.bids.lot_keys",
    "lot_terms": "tendering.bids.service",
    "open_evidence": "tendering.bids.evidence",
    "parse_bid_json": "tendering.bids.rules",
    "publish_lot_key": "tendering.bids.lot_keys",
    "reveal_decoys": "tendering.bids.decoys",
    "reveal_withdrawals": "tendering.bids.withdrawals",
    "tag_for": "tendering.bids.service",
    "unmask_head": "tendering.bids.at_rest",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
