"""What the bidding API takes and gives: bids, the auctioneer's actions, live frames."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from auction.schemas import Fen, Text
from tendering.core.params import Boolean

__all__ = ["BidIn", "BidRead", "ClockRead", "FramesRead", "PauseIn", "ResumeIn"]

KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,60}$"


class BidIn(BaseModel):
    amount_fen: Fen = Field(
        description="the bid in fen: the current price plus a whole number of increments"
    )
    idempotency_key: str = Field(
        pattern=KEY_PATTERN,
        description="the client's key for this bid (1-60 of A-Z a-z 0-9 . _ : -): a retry"
        " with the same key counts once and gets the original decision",
    )


class BidRead(BaseModel):
    auction: str
    seq: int = Field(description="the accepted bid's gapless sequence number in the auction")
    paddle: str = Field(description="竞买号: the bidder's anonymous paddle")
    amount_fen: int
    accepted_at: datetime = Field(description="the database clock when it was accepted")
    price_fen: int | None = Field(description="the current price once its batch was decided")
    ends_at: datetime | None = Field(description="when the phase ends (the countdown's end)")
    phase: str
    replayed: bool = Field(description="true when this key was accepted before (counted once)")
    server_time: datetime


class PauseIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500, description="why, as recorded and shown")
    fault: Boolean = Field(
        default=False, description="a system fault: the pause is signed and announced"
    )


class ResumeIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class ClockRead(BaseModel):
    auction: str
    phase: str | None
    ends_at: datetime | None
    paused: bool
    price_fen: int | None
    frames: list[dict[str, Any]] = Field(description="the frames this change wrote")


class FramesRead(BaseModel):
    auction: str
    frames: list[dict[str, Any]]
    server_time: datetime
