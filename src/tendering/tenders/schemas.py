"""What the tender API takes and gives.

No schema here carries a registration's row id, a count of registrations or the asker of a
question: those are secret until opening (the tests check every response for them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import PathParameter
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from tendering.core.params import MAX_ID, Boolean, Integer, PathCode, PathId
from tendering.tenders.models import (
    AmendmentKind,
    Category,
    LotResult,
    NoticeStatus,
    ProcurementMethod,
)

__all__ = [
    "MAX_ID",
    "AmendmentCreate",
    "AmendmentRead",
    "AnswerCreate",
    "BidFieldSpec",
    "DepositRead",
    "DocumentRead",
    "LotCreate",
    "LotRead",
    "MessageRead",
    "NoticeCreate",
    "NoticeDetail",
    "NoticeSummary",
    "OcdsPackage",
    "OcdsPublisher",
    "PathCode",
    "PathId",
    "PathRef",
    "ProjectCreate",
    "ProjectRead",
    "QuestionCreate",
    "QuestionRead",
    "RegistrationRead",
    "RuleOverrides",
    "RuleSettings",
    "ScheduleRequest",
    "TerminationCreate",
]

_CODE = r"^[A-Za-z0-9][A-Za-z0-9-]{1,62}$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


def _plausible(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2999:
        raise ValueError("must be a time between the years 2000 and 2999")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]
UserId = Annotated[Integer, Field(ge=1, le=MAX_ID)]

# Path parameters (``MAX_ID``, ``PathId`` and ``PathCode`` are core's, re-exported for this
# context's routes): malformed values are refused as input before any lookup.
PathRef = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{32}$")]


class RuleSettings(BaseModel):
    """The center's numbers; each may be stricter than the law, never less strict."""

    min_document_days: Integer = Field(ge=0, le=365, description="at least 5 (the law)")
    min_bid_days: Integer = Field(ge=0, le=365, description="at least 20 (the law)")
    max_deposit_bp: Integer = Field(
        ge=0, le=10_000, description="basis points; 200 = 2%, the law's cap"
    )
    amendment_days: Integer = Field(ge=0, le=365, description="at least 15 (the law)")
    min_valid_bids: Integer = Field(
        default=3, ge=0, le=100, description="fewer valid bids fail the lot; at least 3"
    )


class RuleOverrides(BaseModel):
    min_document_days: Integer | None = Field(default=None, ge=0, le=365)
    min_bid_days: Integer | None = Field(default=None, ge=0, le=365)
    max_deposit_bp: Integer | None = Field(default=None, ge=0, le=10_000)
    amendment_days: Integer | None = Field(default=None, ge=0, le=365)
    min_valid_bids: Integer | None = Field(default=None, ge=0, le=100)


class ProjectCreate(BaseModel):
    code: Text = Field(pattern=_CODE, description="transaction code, e.g. JY-2026-0001")
    title: Text = Field(min_length=1, max_length=300)
    tenderer: Text = Field(max_length=64, description="the tenderer organization's code")
    category: Category
    method: ProcurementMethod = ProcurementMethod.OPEN
    funding_source: Text = Field(min_length=1, max_length=200)
    region: Text = Field(default="", max_length=100)
    estimated_price_fen: Integer = Field(gt=0, le=10**15)
    rule_overrides: RuleOverrides = Field(default_factory=RuleOverrides)


class BidFieldSpec(BaseModel):
    name: Text = Field(min_length=1, max_length=64)
    type: Literal["integer", "string"]
    label: Text = Field(default="", max_length=100)
    required: Boolean = True
    min: Integer | None = Field(default=None, ge=-(10**15), le=10**15)
    max: Integer | None = Field(default=None, ge=-(10**15), le=10**15)


class LotCreate(BaseModel):
    number: Integer = Field(ge=1, le=99, description="lot number; the code is <project>-<NN>")
    title: Text = Field(min_length=1, max_length=300)
    estimated_price_fen: Integer = Field(gt=0, le=10**15)
    deposit_fen: Integer = Field(ge=0, le=10**15)
    bid_fields: list[BidFieldSpec] = Field(default_factory=list, max_length=50)
    custodians: list[UserId] = Field(default_factory=list, max_length=20, description="user ids")
    custodian_k: Integer = Field(default=1, ge=1, le=20)
    max_bid_mb: Integer = Field(
        default=1024, ge=1, le=102400, description="largest sealed bid accepted, in MiB"
    )


class LotRead(BaseModel):
    code: str
    title: str
    estimated_price_fen: int
    deposit_fen: int
    bid_fields: list[BidFieldSpec]
    max_bid_mb: int
    result: LotResult | None = Field(
        default=None, description="what the opening decided: opened (开标) or failed (流标)"
    )
    result_at: datetime | None = None


class ProjectRead(BaseModel):
    code: str
    title: str
    tenderer: str
    tenderer_name: str
    category: Category
    method: ProcurementMethod
    funding_source: str
    region: str
    estimated_price_fen: int
    lots: list[LotRead]


class NoticeCreate(BaseModel):
    project: Text = Field(max_length=64, description="the project's transaction code")
    lots: list[Annotated[Text, Field(max_length=80)]] = Field(
        min_length=1, max_length=99, description="lot codes"
    )
    title: Text = Field(min_length=1, max_length=300)
    body: Text = Field(default="", max_length=100_000)
    documents_from: Moment
    documents_to: Moment
    bid_deadline: Moment
    opening_at: Moment


class ScheduleRequest(BaseModel):
    publish_at: Moment


class DocumentRead(BaseModel):
    id: int
    title: str
    filename: str
    media_type: str
    sha256: str
    size: int
    amendment: int | None = Field(default=None, description="the amendment's number")
    url: str


class AmendmentCreate(BaseModel):
    kind: AmendmentKind
    title: Text = Field(min_length=1, max_length=300)
    body: Text = Field(min_length=1, max_length=100_000)
    bid_deadline: Moment | None = Field(
        default=None,
        description=(
            "a new deadline: on a working day, at least 15 days after this amendment and 20 "
            "days after the documents first went out (else refused). Without one, a deadline "
            "fewer than 15 days away is moved out by the 15-day rule"
        ),
    )
    question: Integer | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="the number of the question whose published answer this corrects",
    )


class AmendmentRead(BaseModel):
    number: int
    kind: AmendmentKind
    title: str
    body: str
    issued_at: datetime
    old_deadline: datetime
    new_deadline: datetime
    old_opening: datetime
    new_opening: datetime
    deadline_pushed: bool = Field(description="moved out by the 15-day rule")
    question: int | None = Field(
        default=None, description="the question whose published answer this corrects"
    )


class TerminationCreate(BaseModel):
    reason: Text = Field(
        min_length=2, max_length=2000, description="published on the notice (终止招标的理由)"
    )


class QuestionCreate(BaseModel):
    text: Text = Field(min_length=1, max_length=10_000)


class AnswerCreate(BaseModel):
    answer: Text = Field(min_length=1, max_length=100_000)


class QuestionRead(BaseModel):
    number: int
    text: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None


class NoticeSummary(BaseModel):
    id: int
    project: str
    title: str
    category: Category
    method: ProcurementMethod
    region: str
    status: NoticeStatus
    published_at: datetime | None
    bid_deadline: datetime
    lots: list[str]


class NoticeDetail(NoticeSummary):
    body: str
    tenderer: str
    tenderer_name: str
    funding_source: str
    documents_from: datetime
    documents_to: datetime
    opening_at: datetime
    publish_at: datetime | None
    closed_at: datetime | None
    termination_reason: str | None = Field(
        default=None, description="set when the notice was terminated (终止招标)"
    )
    lot_details: list[LotRead]
    documents: list[DocumentRead]
    amendments: list[AmendmentRead]
    questions: list[QuestionRead]


class DepositRead(BaseModel):
    """Where and by when the registered bidder pays this lot's deposit (投标保证金)."""

    account: str = Field(description="the bidder's own virtual account number (子账号)")
    amount_due_fen: int
    deadline: datetime
    state: str


class RegistrationRead(BaseModel):
    ref: str = Field(description="this registration's reference (only its owner sees it)")
    lot: str
    notice: int
    registered_at: datetime
    deposit: DepositRead | None = None


class MessageRead(BaseModel):
    notice: int
    amendment: AmendmentRead
    delivered_at: datetime


class OcdsPublisher(msgspec.Struct, frozen=True):
    name: str


class OcdsPackage(msgspec.Struct, frozen=True, kw_only=True):
    """An OCDS 1.1 release package
    (https://standard.open-contracting.org/1.1/en/schema/release_package/): each release
    follows the OCDS release schema with the lots extension named in ``extensions``."""

    uri: str
    version: str
    extensions: list[str]
    published_date: str = msgspec.field(name="publishedDate")
    publisher: OcdsPublisher
    license: str
    releases: list[dict[str, Any]]
