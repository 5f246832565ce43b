"""The audit chain ``chain-v1``: append in the caller's transaction, verify from the table."""

from tendering.core.audit.service import (
    APPEND_CHAINED,
    GLOBAL,
    ChainedEvents,
    auction_stream,
    chain_events,
    draw_stream,
    lot_stream,
    record,
)

__all__ = [
    "APPEND_CHAINED",
    "GLOBAL",
    "ChainedEvents",
    "auction_stream",
    "chain_events",
    "draw_stream",
    "lot_stream",
    "record",
]
