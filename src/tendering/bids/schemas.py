"""What the bids API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["BidderKeyCreate", "BidderKeyRead", "LotKeyRead", "SignedReceipt"]


class BidderKeyCreate(BaseModel):
    public_key: str = Field(
        min_length=1, max_length=64, description="standard base64 of the raw 32-byte Ed25519 key"
    )
    label: str = Field(default="", max_length=100)


class BidderKeyRead(BaseModel):
    id: int
    public_key: str
    label: str
    registered_at: datetime | None
    revoked_at: datetime | None


class LotKeyRead(BaseModel):
    """What a bidder needs to seal: the lot's opening key and its bid form."""

    lot: str
    key_id: str
    public_key: str
    suite: str
    k: int
    n: int
    bid_deadline: datetime
    opening_at: datetime
    bid_fields: list[dict[str, Any]]
    max_bytes: int


class SignedReceipt(BaseModel):
    receipt: dict[str, Any]
    signature: str
