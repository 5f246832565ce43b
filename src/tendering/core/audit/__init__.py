"""The audit chain ``chain-v1``: append in the caller's transaction, verify from the table."""

from tendering.core.audit.service import (
    GLOBAL,
    auction_stream,
    draw_stream,
    lot_stream,
    record,
)

__all__ = ["GLOBAL", "auction_stream", "draw_stream", "lot_stream", "record"]
