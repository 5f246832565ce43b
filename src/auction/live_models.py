"""The bidding side's own tables, beside auction-core's ``auction`` row (``models.py``).

- ``auction_live``: what the one writer needs that the auction row does not hold: the
  gapless counter of the auction's live frames, how many bidders have bid (counted up to 2,
  all the listing's freeze rule asks) and whether the listing passed its freeze time
  without two bidders (then it never freezes).
- ``auction_frame``: each live frame (accepted bid, phase or countdown change, pause, resume,
  result) with its per-auction ``seq``, written in the transaction that made the change: a
  watcher that reconnects reads what came after its last ``seq`` from here
  (``frames.py``), whatever Redis lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, SmallInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import utc_column

__all__ = ["AuctionFrame", "AuctionLive"]


class AuctionLive(SQLModel, table=True):
    __tablename__ = "auction_live"

    auction_id: int = Field(foreign_key="auction.id", primary_key=True)
    frame_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    distinct_bidders: int = Field(
        default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0")
    )
    freeze_decided: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})


class AuctionFrame(SQLModel, table=True):
    __tablename__ = "auction_frame"

    auction_id: int = Field(foreign_key="auction.id", primary_key=True)
    seq: int = Field(primary_key=True)
    kind: str = Field(max_length=20)
    at: datetime = Field(sa_column=utc_column())
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
