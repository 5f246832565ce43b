"""The auction context's tables: the auction (its subject, periods, sealed reserve, live
bidding state and result), the registrations (竞买申请, secret like tender registrations),
the accepted bids and the pauses.

- ``auction`` holds, besides what staff enter, the live state the one writer moves:
  ``current_price_fen``, ``leader_paddle``, ``last_seq`` (the gapless per-auction bid
  counter), ``ends_at`` (the countdown end, judged by the database clock), ``paused`` with
  ``paused_remaining_ms`` (what was left of the countdown when it froze) and the result.
- ``auction_registration`` names neither the auction nor the organization: ``tag`` is
  ``secrecy.tag("auction-registration", auction_id, organization_id)`` and ``holder`` the
  sealed ``{"auction_id", "organization_id", "user_id"}`` (``core/secrecy.py``), so a reader
  of the database can neither count nor name an auction's registrants. Approved rows carry
  their paddle (竞买号) and ``paddle_tag = secrecy.tag("auction-paddle", auction_id, paddle)``
  (unique), which finds the winner's registration from the winning paddle.
- ``auction_bid``: one row per *accepted* bid, ``seq`` gapless per auction, the client's
  idempotency key unique per auction, ``accepted_at`` the database clock.
- Pauses are rows of ``auction_pause`` (a table rather than audit events alone, so the
  transcript and the countdown read them without parsing the chain); each pause and resume
  also records its audit event in ``auction_stream(code)``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, fen_column, utc_column

__all__ = [
    "BIDDING_STATES",
    "Auction",
    "AuctionBid",
    "AuctionKind",
    "AuctionMode",
    "AuctionPause",
    "AuctionRegistration",
    "AuctionState",
    "BidPhase",
    "Outcome",
    "RegistrationState",
    "RightType",
]


class AuctionKind(StrEnum):
    LAND_USE = "land_use"  # 国有建设用地使用权
    STATE_PROPERTY = "state_property"  # 国有产权
    RURAL_PROPERTY = "rural_property"  # 农村产权


class RightType(StrEnum):
    """The right a rural-property auction sells (``subject["right_type"]``)."""

    LAND_MANAGEMENT = "land_management"  # 土地经营权
    COLLECTIVE_ASSETS = "collective_assets"  # 集体资产
    FOREST = "forest"  # 林权


class AuctionMode(StrEnum):
    LISTING = "listing"  # 挂牌 then 限时竞价
    LIVE = "live"  # 拍卖: an auctioneer runs it


class AuctionState(StrEnum):
    DRAFT = "draft"  # staff still edit it; not public
    ANNOUNCED = "announced"  # public; registration open in its window
    LISTING = "listing"  # listing bids accepted (listing mode)
    PREPARING = "preparing"  # listing prices frozen; timed bidding starts at ``ends_at``
    TIMED = "timed"  # timed bidding: every valid bid restarts the countdown
    LIVE = "live"  # the auctioneer opened the live auction
    CLOSED = "closed"  # settled: see ``outcome``
    CANCELLED = "cancelled"  # withdrawn by staff before bidding


BIDDING_STATES = frozenset({AuctionState.LISTING, AuctionState.TIMED, AuctionState.LIVE})


class BidPhase(StrEnum):
    LISTING = "listing"
    TIMED = "timed"
    LIVE = "live"


class Outcome(StrEnum):
    SOLD = "sold"  # 成交
    FAILED = "failed"  # 流拍


class RegistrationState(StrEnum):
    APPLIED = "applied"  # waiting for staff (and the deposit)
    APPROVED = "approved"  # has a paddle
    REJECTED = "rejected"


class Auction(SQLModel, table=True):
    """One auction of one subject (宗地, property right, rural right), public once announced.

    ``subject`` holds the kind-specific attributes: for land use ``parcel_no`` (宗地编号),
    ``location``, ``area_m2``, ``use``, ``term_years``, ``planning`` (规划条件); for state
    property ``location``, ``description``; for rural property ``right_type``
    (:class:`RightType`), ``location``, ``area_m2``, ``term_years``, ``collective`` (the village
    collective selling it). ``starts_at`` is when bidding can start (the listing's start, or
    the live auction's), ``listing_ends_at`` the listing's end (listing mode only).
    The reserve (底价) is stored only as ``reserve_box`` (sealed) and its keyed
    ``reserve_commitment`` (also in the chain), until the result opens it.
    """

    __tablename__ = "auction"
    __table_args__ = (
        enum_check("kind", AuctionKind, name="kind"),
        enum_check("mode", AuctionMode, name="mode"),
        enum_check("state", AuctionState, name="state"),
        enum_check("outcome", Outcome, name="outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, description="public code PM-2026-0001")
    title: str = Field(max_length=300)
    kind: str = Field(max_length=20)
    subject: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    seller_id: int = Field(foreign_key="organization.id", index=True)
    mode: str = Field(max_length=20)
    state: str = Field(default=AuctionState.DRAFT, max_length=20)
    start_price_fen: int = Field(sa_column=fen_column())
    increment_fen: int = Field(sa_column=fen_column())
    deposit_fen: int = Field(sa_column=fen_column())
    announce_at: datetime = Field(sa_column=utc_column())
    announced_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    registration_from: datetime = Field(sa_column=utc_column())
    registration_to: datetime = Field(sa_column=utc_column())
    deposit_deadline: datetime = Field(sa_column=utc_column())
    starts_at: datetime = Field(sa_column=utc_column())
    listing_ends_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    freeze_before_seconds: int = Field(default=3600)
    preparation_seconds: int = Field(default=900)
    countdown_seconds: int = Field(default=240)
    # 底价: entered by ``reserve_user_id`` before ``reserve_cutoff_at``, then fixed.
    reserve_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    reserve_cutoff_at: datetime = Field(sa_column=utc_column())
    reserve_commitment: str | None = Field(default=None, max_length=64)
    reserve_box: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reserve_entered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reserve_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    # The live bidding state, moved by the auction's one writer.
    current_price_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    leader_paddle: str | None = Field(default=None, max_length=16)
    last_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    ends_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    paused: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    paused_remaining_ms: int | None = Field(default=None)
    # The result.
    outcome: str | None = Field(default=None, max_length=20)
    winner_paddle: str | None = Field(default=None, max_length=16)
    final_price_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    result_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    result_sha256: str | None = Field(default=None, max_length=64)
    result_signature: str | None = Field(default=None, max_length=128)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class AuctionRegistration(SQLModel, table=True):
    """竞买申请: secret until the auction starts (see the module docstring). ``ref`` is the
    only public handle of an application."""

    __tablename__ = "auction_registration"
    __table_args__ = (enum_check("state", RegistrationState, name="state"),)

    id: int | None = Field(default=None, primary_key=True)
    tag: str = Field(max_length=64, unique=True)
    holder: str = Field(sa_column=Column(Text, nullable=False))
    ref: str = Field(max_length=32, unique=True)
    state: str = Field(default=RegistrationState.APPLIED, max_length=20)
    applied_at: datetime = Field(sa_column=utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    note: str = Field(default="", max_length=500)
    paddle: str | None = Field(default=None, max_length=16)
    paddle_tag: str | None = Field(default=None, max_length=64, unique=True)


class AuctionBid(SQLModel, table=True):
    """An accepted bid. ``seq`` is gapless per auction (the auction's ``last_seq``)."""

    __tablename__ = "auction_bid"
    __table_args__ = (
        UniqueConstraint("auction_id", "seq"),
        UniqueConstraint("auction_id", "idempotency_key"),
        enum_check("phase", BidPhase, name="phase"),
        Index("ix_auction_bid_auction_id_amount_fen", "auction_id", "amount_fen"),
    )

    id: int | None = Field(default=None, primary_key=True)
    auction_id: int = Field(foreign_key="auction.id")
    seq: int
    paddle: str = Field(max_length=16)
    amount_fen: int = Field(sa_column=fen_column())
    phase: str = Field(max_length=20)
    idempotency_key: str = Field(max_length=80)
    accepted_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("clock_timestamp()"))
    )


class AuctionPause(SQLModel, table=True):
    """A pause by the auctioneer (or after a system fault), open until ``resumed_at``.

    ``after_seq`` is the auction's ``last_seq`` when it paused (its place among the bids in
    the transcript); ``remaining_ms`` what was left of the countdown."""

    __tablename__ = "auction_pause"
    __table_args__ = (Index("ix_auction_pause_auction_id", "auction_id"),)

    id: int | None = Field(default=None, primary_key=True)
    auction_id: int = Field(foreign_key="auction.id")
    after_seq: int
    reason: str = Field(max_length=500)
    fault: bool = Field(default=False)
    paused_by: str = Field(max_length=64, description="audit actor: user:<id> or system:<job>")
    paused_at: datetime = Field(sa_column=utc_column())
    remaining_ms: int | None = Field(default=None)
    resumed_by: str | None = Field(default=None, max_length=64)
    resumed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    resume_reason: str | None = Field(default=None, max_length=500)
