"""Tables of sealed-bid submission.

Secrecy before the opening (招标投标法第二十二条) shapes them: a ``Bid`` row names neither
its lot nor its bidder, only ``bidder_tag``, an HMAC of (lot, organization) under a key
derived from the platform's signing key (``core/secrecy.py``), different for every pair, so
a reader of the table cannot group rows by lot (how many bids a lot has) nor tell whose they
are. The bidder's signature and its commitment nonce are sealed to the lot's opening key
(``evidence``); ``seq`` is a clock reading, not a counter; the envelope itself is ciphertext
in the blob store. ``BidderKey`` rows are not secret (a key says nothing about which lot it
is used for), nor is ``LotKey``, the public key a lot's bids are sealed to.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = ["Bid", "BidState", "BidderKey", "LotKey"]


class BidState(StrEnum):
    CURRENT = "current"  # the one that counts
    REPLACED = "replaced"  # kept: all versions stay
    WITHDRAWN = "withdrawn"


class BidderKey(SQLModel, table=True):
    """An Ed25519 public key a bidder organization signs its envelopes with."""

    __tablename__ = "bidder_key"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    public_key: str = Field(max_length=44, unique=True, description="base64 of raw 32 bytes")
    label: str = Field(default="", max_length=100)
    registered_by: int = Field(foreign_key="app_user.id")
    registered_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Bid(SQLModel, table=True):
    __tablename__ = "bid"
    __table_args__ = (
        enum_check("state", BidState, name="state"),
        Index(
            "uq_bid_one_current",
            "bidder_tag",
            unique=True,
            postgresql_where=text("state = 'current'"),
        ),
        # Receipts before migration 0009 carry per-lot counters, unique within their lot only.
        Index("uq_bid_seq", "seq", unique=True, postgresql_where=text("seq >= 1000000000000000")),
        Index("ix_bid_bidder_tag", "bidder_tag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bidder_tag: str = Field(max_length=64, description="keyed tag of lot and organization (hex)")
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(default=BidState.CURRENT, max_length=20)
    sha256: str = Field(max_length=64, description="the envelope file in the blob store")
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_at: datetime = Field(sa_column=utc_column())
    evidence: str = Field(
        sa_column=Column(Text, nullable=False),
        description="nonce and bidder signature, sealed to the opening key (bids/evidence.py)",
    )
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LotKey(SQLModel, table=True):
    """The lot's published opening public key: what its bids are sealed to. The opening's key
    ceremony makes it (``bids.publish_lot_key``) and keeps the private key's shares."""

    __tablename__ = "opening_lot_key"

    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True)
    key_id: str = Field(max_length=64, unique=True)
    public_key: str = Field(max_length=44)
    k: int
    n: int
    held_at: datetime = Field(sa_column=utc_column())
