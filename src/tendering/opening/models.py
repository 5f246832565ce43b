"""Tables of the key ceremony and the opening.

No table holds a lot's opening private key, nor k of its shares: a custodian's share is
HPKE-sealed to the custodian's own key, whose private half is stored only wrapped by the
custodian's passphrase. While custodians enter passphrases one by one, the shares entered
so far wait in ``opening_pending_share`` (fewer than k of them say nothing about the key,
Shamir's threshold property); the request that brings the k-th rebuilds the key in memory,
deletes the pending shares and hands the key to the process's opening runner, which keeps
it in memory only and beats ``heartbeat_at`` while it opens the bids. The lot's published
opening public key is the bids context's (``opening_lot_key``, ``bids/lot_keys.py``): bids
are sealed to it, and the ceremony here writes it through ``bids.publish_lot_key``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, LargeBinary, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = [
    "BidOutcome",
    "CustodianKey",
    "LotKeyShare",
    "Opening",
    "OpeningEvent",
    "OpeningPendingShare",
    "OpeningResult",
    "OpeningState",
]


class OpeningState(StrEnum):
    STARTED = "started"  # waiting for custodians
    OPENING = "opening"  # the key is rebuilt; a runner is opening the bids
    OPENED = "opened"  # 开标 done, at least 3 valid bids
    FAILED = "failed"  # 流标: fewer than 3 valid bids


class BidOutcome(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"  # the bidder's fault: treated as withdrawn by the bidder (无效)
    PLATFORM_FAULT = "platform_fault"  # treated as withdrawn; the bidder may claim its loss


class CustodianKey(SQLModel, table=True):
    """A custodian's X25519 key; the private half only wrapped by the passphrase."""

    __tablename__ = "custodian_key"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    public_key: str = Field(max_length=44)
    wrapped_private: str = Field(sa_column=Column(Text, nullable=False))
    registered_at: datetime = Field(sa_column=utc_column())


class LotKeyShare(SQLModel, table=True):
    """One custodian's share, HPKE-sealed to the custodian's key (base64)."""

    __tablename__ = "opening_key_share"

    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    sealed_share: str = Field(sa_column=Column(Text, nullable=False))


class Opening(SQLModel, table=True):
    __tablename__ = "opening"
    __table_args__ = (enum_check("state", OpeningState, name="state"),)

    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True)
    state: str = Field(default=OpeningState.STARTED, max_length=20)
    started_by: int = Field(foreign_key="app_user.id")
    started_at: datetime = Field(sa_column=utc_column())
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    custodians: list[int] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    valid_bids: int = Field(default=0)
    record_sha256: str | None = Field(default=None, max_length=64)
    record_signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_event_seq: int = Field(default=0)
    heartbeat_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class OpeningPendingShare(SQLModel, table=True):
    __tablename__ = "opening_pending_share"

    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    share: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    entered_at: datetime = Field(sa_column=utc_column())


class OpeningResult(SQLModel, table=True):
    """One opened bid: who, the price, and whether it counts (and why not)."""

    __tablename__ = "opening_result"
    __table_args__ = (enum_check("outcome", BidOutcome, name="outcome"),)

    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True)
    bid_id: int = Field(foreign_key="bid.id", primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    bidder: str = Field(max_length=64, description="organization code from the envelope")
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    receipt_sha256: str = Field(max_length=64)
    outcome: str = Field(max_length=20)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    price_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    form: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    plaintext_sha256: str | None = Field(
        default=None, max_length=64, description="the decrypted ZIP, kept in the blob store"
    )


class OpeningEvent(SQLModel, table=True):
    """Each step of the opening, for the live channel and late joiners (``after_seq``)."""

    __tablename__ = "opening_event"

    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True)
    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_column=utc_column())
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
