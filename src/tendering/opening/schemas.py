"""What the opening API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "CustodianKeyRead",
    "LotKeyCeremonyRead",
    "OpeningEventRead",
    "OpeningRead",
    "OpeningResultRead",
    "PassphraseEntry",
]


class PassphraseEntry(BaseModel):
    passphrase: str = Field(min_length=1, max_length=1000)


class CustodianKeyRead(BaseModel):
    user_id: int
    public_key: str
    registered_at: str


class LotKeyCeremonyRead(BaseModel):
    lot: str
    key_id: str
    public_key: str
    k: int
    n: int
    held_at: datetime


class OpeningResultRead(BaseModel):
    bidder: str
    bidder_name: str
    seq: int
    price_fen: int | None
    receipt_sha256: str
    outcome: str
    reason: str
    may_claim_loss: bool


class OpeningRead(BaseModel):
    lot: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    custodians_entered: int
    custodians_needed: int
    valid_bids: int | None = None
    results: list[OpeningResultRead] | None = None
    record_sha256: str | None = None
    record_signature: str | None = None


class OpeningEventRead(BaseModel):
    seq: int
    at: datetime
    kind: str
    payload: dict[str, Any]
