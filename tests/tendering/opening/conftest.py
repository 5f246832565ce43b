"""The bids fixtures (a published lot with custodians, bidders, sealing) serve the opening."""

from __future__ import annotations

from tests.tendering.bids.conftest import _cheap_kdf, world

__all__ = ["_cheap_kdf", "world"]
