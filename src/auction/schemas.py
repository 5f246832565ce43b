"""What the auction API takes and gives: announcements (staff and public), the reserve,
registrations and the result."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from auction.models import (
    Auction,
    AuctionKind,
    AuctionMode,
    AuctionState,
    Outcome,
    RegistrationState,
    RightType,
)
from tendering.core.params import MAX_ID, Boolean, CalendarMoment, Integer

__all__ = [
    "AuctionIn",
    "AuctionRead",
    "DecisionIn",
    "PublicAuction",
    "RegistrationRead",
    "ReserveIn",
    "ReserveRead",
    "ResultRead",
    "SubjectIn",
    "Text",
    "TranscriptRead",
]

MAX_FEN = 10**15  # ten trillion yuan: far above any parcel, below BIGINT


def _no_nul(value: str) -> str:
    # PostgreSQL text (and JSONB) cannot hold NUL: refuse it as input, not as a 500.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Fen = Annotated[Integer, Field(ge=1, le=MAX_FEN)]


class SubjectIn(BaseModel):
    """The subject's attributes; which are required depends on the kind (see
    ``listing_rules.check_subject``)."""

    parcel_no: Text | None = Field(default=None, max_length=64, description="宗地编号")
    location: Text | None = Field(default=None, max_length=300, description="坐落位置")
    area_m2: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    use: Text | None = Field(default=None, max_length=100, description="土地用途 / 用途")
    term_years: Integer | None = Field(default=None, ge=1, le=99, description="出让/流转年限")
    planning: Text | None = Field(
        default=None, max_length=4000, description="规划条件: plot ratio, density, height"
    )
    right_type: RightType | None = Field(default=None, description="农村产权: 权利类型")
    collective: Text | None = Field(
        default=None, max_length=200, description="农村产权: the selling village collective"
    )
    description: Text | None = Field(default=None, max_length=4000)

    def stored(self) -> dict[str, Any]:
        """JSONB form: no floats (the chain takes none), the area as a decimal string."""
        values = self.model_dump(mode="json", exclude_none=True)
        if self.area_m2 is not None:
            values["area_m2"] = str(self.area_m2)
        return values


class AuctionIn(BaseModel):
    """Create or edit an auction (staff); every time is RFC 3339 with an offset."""

    title: Text = Field(min_length=1, max_length=300)
    kind: AuctionKind
    mode: AuctionMode
    subject: SubjectIn
    description: Text = Field(default="", max_length=20000)
    seller_id: Integer = Field(ge=1, le=MAX_ID, description="the selling organization")
    start_price_fen: Fen
    increment_fen: Fen
    deposit_fen: Fen
    announce_at: CalendarMoment
    registration_from: CalendarMoment
    registration_to: CalendarMoment
    deposit_deadline: CalendarMoment
    starts_at: CalendarMoment = Field(description="listing start, or the live auction's start")
    listing_ends_at: CalendarMoment | None = Field(default=None, description="listing mode only")
    freeze_before_seconds: Integer = Field(default=3600, ge=60, le=86400)
    preparation_seconds: Integer = Field(default=900, ge=0, le=86400)
    countdown_seconds: Integer = Field(default=240, ge=10, le=3600)
    reserve_user_id: Integer | None = Field(
        default=None, ge=1, le=MAX_ID, description="the user who enters the reserve (底价)"
    )

    @model_validator(mode="after")
    def _plausible_times(self) -> AuctionIn:
        # Far-off years would overflow the period arithmetic (a 500); no auction is
        # announced outside this century.
        for name in _TIMES:
            moment = getattr(self, name)
            if moment is None:
                continue
            try:
                year = moment.astimezone(UTC).year
            except OverflowError:
                year = 0
            if not 2000 <= year <= 2099:
                raise ValueError(f"{name} 须在 2000–2099 年之间 (must fall in 2000-2099)")
        return self


_TIMES = (
    "announce_at",
    "registration_from",
    "registration_to",
    "deposit_deadline",
    "starts_at",
    "listing_ends_at",
)


class AuctionRead(BaseModel):
    """An auction as staff see it (never the reserve: only whether it is entered)."""

    code: str
    title: str
    kind: AuctionKind
    mode: AuctionMode
    state: AuctionState
    subject: dict[str, Any]
    description: str
    seller_id: int
    seller_name: str
    rural: bool
    start_price_fen: int
    increment_fen: int
    deposit_fen: int
    announce_at: datetime
    announced_at: datetime | None
    registration_from: datetime
    registration_to: datetime
    deposit_deadline: datetime
    starts_at: datetime
    listing_ends_at: datetime | None
    freeze_before_seconds: int
    preparation_seconds: int
    countdown_seconds: int
    reserve_user_id: int | None
    reserve_cutoff_at: datetime
    reserve_entered: bool
    current_price_fen: int | None
    outcome: Outcome | None
    final_price_fen: int | None
    result_at: datetime | None

    @classmethod
    def of(cls, row: Auction, seller_name: str) -> AuctionRead:
        return cls(
            **{k: getattr(row, k) for k in _COMMON},
            kind=AuctionKind(row.kind),
            mode=AuctionMode(row.mode),
            state=AuctionState(row.state),
            seller_name=seller_name,
            rural=row.kind == AuctionKind.RURAL_PROPERTY,
            reserve_user_id=row.reserve_user_id,
            reserve_cutoff_at=row.reserve_cutoff_at,
            reserve_entered=row.reserve_commitment is not None,
            outcome=Outcome(row.outcome) if row.outcome else None,
        )


_COMMON = (
    "code",
    "title",
    "subject",
    "description",
    "seller_id",
    "start_price_fen",
    "increment_fen",
    "deposit_fen",
    "announce_at",
    "announced_at",
    "registration_from",
    "registration_to",
    "deposit_deadline",
    "starts_at",
    "listing_ends_at",
    "freeze_before_seconds",
    "preparation_seconds",
    "countdown_seconds",
    "current_price_fen",
    "final_price_fen",
    "result_at",
)


class PublicAuction(BaseModel):
    """An announced auction as the public sees it: no reserve, no registrants, the winner
    only by paddle."""

    code: str
    title: str
    kind: AuctionKind
    kind_name: str
    rural: bool = Field(description="农村产权: a rural property right, sold by a collective")
    mode: AuctionMode
    state: AuctionState
    subject: dict[str, Any]
    description: str
    seller_name: str
    start_price_fen: int
    increment_fen: int
    deposit_fen: int
    announced_at: datetime | None
    registration_from: datetime
    registration_to: datetime
    deposit_deadline: datetime
    starts_at: datetime
    listing_ends_at: datetime | None
    current_price_fen: int | None
    outcome: Outcome | None
    winner_paddle: str | None
    final_price_fen: int | None
    result_at: datetime | None


class ReserveIn(BaseModel):
    reserve_fen: Fen = Field(description="底价 in fen; sealed until the result")


class ReserveRead(BaseModel):
    code: str
    commitment: str = Field(description="the keyed commitment recorded in the chain")
    entered_at: datetime
    cutoff_at: datetime


class RegistrationRead(BaseModel):
    """An application as its applicant (and, for approval, staff) sees it."""

    ref: str
    auction: str
    state: RegistrationState
    applied_at: datetime
    decided_at: datetime | None
    note: str
    paddle: str | None
    deposit_account: str | None = Field(default=None, description="the virtual account to pay")
    deposit_status: str | None = None
    organization_id: int | None = Field(default=None, description="staff only")
    organization_name: str | None = Field(default=None, description="staff only")


class DecisionIn(BaseModel):
    approve: Boolean
    note: Text = Field(default="", max_length=500)


class ResultRead(BaseModel):
    code: str
    outcome: Outcome
    winner_paddle: str | None
    final_price_fen: int | None
    reserve_fen: int | None
    result_at: datetime
    result_sha256: str
    result_signature: str


class TranscriptRead(BaseModel):
    """``auction-transcript-v1`` (``auction/transcript.py``): signed over its canonical JSON
    without ``signature``."""

    version: str
    auction: str
    stream: str
    bids: list[dict[str, Any]]
    pauses: list[dict[str, Any]]
    result: dict[str, Any] | None
    events: list[dict[str, Any]]
    head: dict[str, Any] | None
    signature: str
