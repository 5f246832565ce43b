"""What the agencies API takes and gives: filings and the pre-selection pool."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    model_validator,
)

from agencies.models import (
    Agency,
    AgencyCertificate,
    AgencySelection,
    AgencyStaff,
    Engagement,
    EngagementState,
    FilingState,
    PoolEntry,
    PoolState,
    SelectionState,
    ServiceCategory,
)
from tendering.core.params import MAX_ID, Boolean, CalendarDate, Integer

__all__ = [
    "CertificateIn",
    "CertificateRead",
    "CompletionIn",
    "EngagementRead",
    "FilingIn",
    "FilingRead",
    "PoolApplicationIn",
    "PoolDecisionIn",
    "PoolEntryRead",
    "ResponseIn",
    "ReviewIn",
    "SelectionIn",
    "SelectionRead",
    "StaffIn",
    "StaffRead",
    "SuspensionIn",
    "Text",
    "WitnessEntropyIn",
]


def _no_nul(value: str) -> str:
    # PostgreSQL text (and JSONB) cannot hold NUL: refuse it as input, not as a 500.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
CreditCode = Text


class CertificateIn(BaseModel):
    category: ServiceCategory
    name: Text = Field(min_length=1, max_length=200, description="e.g. 工程造价咨询企业甲级资质")
    number: Text = Field(min_length=1, max_length=100)
    issued_on: CalendarDate
    expires_on: CalendarDate

    @model_validator(mode="after")
    def _dates(self) -> CertificateIn:
        if self.expires_on < self.issued_on:
            raise ValueError("expires_on 不能早于 issued_on (a certificate expires after issue)")
        return self


class CertificateRead(CertificateIn):
    @classmethod
    def of(cls, row: AgencyCertificate) -> CertificateRead:
        return cls(
            category=ServiceCategory(row.category),
            name=row.name,
            number=row.number,
            issued_on=row.issued_on,
            expires_on=row.expires_on,
        )


class StaffIn(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    title: Text = Field(default="", max_length=100, description="e.g. 项目负责人")
    qualification: Text = Field(default="", max_length=200, description="e.g. 一级造价工程师 No.")


class StaffRead(StaffIn):
    @classmethod
    def of(cls, row: AgencyStaff) -> StaffRead:
        return cls(name=row.name, title=row.title, qualification=row.qualification)


class FilingIn(BaseModel):
    """An agency's whole filing; sending it again replaces it and asks for a new review."""

    contact: Text = Field(default="", max_length=100)
    categories: list[ServiceCategory] = Field(min_length=1, max_length=5)
    affiliations: list[CreditCode] = Field(
        default_factory=list,
        max_length=50,
        description="统一社会信用代码 of affiliated organizations (关联关系): never drawn for them",
    )
    certificates: list[CertificateIn] = Field(min_length=1, max_length=50)
    staff: list[StaffIn] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> FilingIn:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories 不能重复 (a category appears twice)")
        for code in self.affiliations:
            if len(code) != 18 or not code.isalnum():
                raise ValueError(f"affiliations: {code!r} 不是18位统一社会信用代码")
        uncovered = set(self.categories) - {c.category for c in self.certificates}
        if uncovered:
            raise ValueError(
                f"certificates: 每个服务类别须有资质证书 (no certificate for {sorted(uncovered)})"
            )
        return self


class FilingRead(BaseModel):
    code: str
    name: str
    credit_code: str
    contact: str
    categories: list[ServiceCategory]
    affiliations: list[str]
    state: FilingState
    review_note: str
    submitted_at: AwareDatetime | None
    reviewed_at: AwareDatetime | None
    suspended: bool
    suspension_note: str
    score: int | None
    grade: str | None
    scored_on: date | None
    certificates: list[CertificateRead]
    staff: list[StaffRead]

    @classmethod
    def of(
        cls, row: Agency, certificates: list[AgencyCertificate], staff: list[AgencyStaff]
    ) -> FilingRead:
        return cls(
            code=row.code,
            name=row.name,
            credit_code=row.credit_code,
            contact=row.contact,
            categories=[ServiceCategory(c) for c in row.categories],
            affiliations=list(row.affiliations),
            state=FilingState(row.state),
            review_note=row.review_note,
            submitted_at=row.submitted_at,
            reviewed_at=row.reviewed_at,
            suspended=row.suspended,
            suspension_note=row.suspension_note,
            score=row.score,
            grade=row.grade,
            scored_on=row.scored_on,
            certificates=[CertificateRead.of(c) for c in certificates],
            staff=[StaffRead.of(s) for s in staff],
        )


class ReviewIn(BaseModel):
    approve: Boolean
    note: Text = Field(default="", max_length=500, description="required when rejecting")

    @model_validator(mode="after")
    def _reason(self) -> ReviewIn:
        if not self.approve and not self.note.strip():
            raise ValueError("note: 驳回须说明理由 (a rejection needs its reason)")
        return self


class SuspensionIn(BaseModel):
    suspended: Boolean
    note: Text = Field(min_length=1, max_length=500, description="why (e.g. 行政处罚决定书 No.)")


class PoolApplicationIn(BaseModel):
    category: ServiceCategory
    year: Integer = Field(ge=2000, le=2100, description="the pool's period: a calendar year")


class PoolDecisionIn(ReviewIn):
    pass


class PoolEntryRead(BaseModel):
    agency: str
    agency_name: str
    category: ServiceCategory
    year: int
    state: PoolState
    reason: str
    applied_at: AwareDatetime | None
    decided_at: AwareDatetime | None

    @classmethod
    def of(cls, row: PoolEntry, agency: Agency) -> PoolEntryRead:
        return cls(
            agency=agency.code,
            agency_name=agency.name,
            category=ServiceCategory(row.category),
            year=row.year,
            state=PoolState(row.state),
            reason=row.reason,
            applied_at=row.applied_at,
            decided_at=row.decided_at,
        )


class SelectionIn(BaseModel):
    project: Text = Field(
        min_length=1, max_length=300, description="e.g. 县人民医院门诊楼 造价咨询"
    )
    client: Text = Field(min_length=1, max_length=64, description="the client organization's code")
    category: ServiceCategory
    count: Integer = Field(default=1, ge=1, le=5, description="agencies that serve")
    backups: Integer = Field(default=3, ge=0, le=10, description="backups, asked in pick order")
    witness_id: Integer = Field(ge=1, le=MAX_ID, description="the witnessing supervisor's user id")
    max_open: Integer = Field(
        default=3, ge=1, le=50, description="an agency with this many open engagements is avoided"
    )


class WitnessEntropyIn(BaseModel):
    witness_entropy: Text = Field(min_length=1, max_length=500)


class ResponseIn(BaseModel):
    accept: Boolean
    note: Text = Field(default="", max_length=500, description="why a decline")


class CompletionIn(BaseModel):
    agency: Text = Field(min_length=1, max_length=64)
    rating: Integer = Field(ge=1, le=5, description="the client's rating: 5 excellent .. 1 poor")
    note: Text = Field(default="", max_length=500)


class EngagementRead(BaseModel):
    rank: int
    agency: str
    agency_name: str
    state: EngagementState
    note: str
    offered_at: AwareDatetime | None
    responded_at: AwareDatetime | None

    @classmethod
    def of(cls, row: Engagement, agency: Agency) -> EngagementRead:
        return cls(
            rank=row.rank,
            agency=agency.code,
            agency_name=agency.name,
            state=EngagementState(row.state),
            note=row.note,
            offered_at=row.offered_at,
            responded_at=row.responded_at,
        )


class SelectionRead(BaseModel):
    code: str = Field(description="also the draw's code: GET /api/draws/{code}/transcript")
    project: str
    category: ServiceCategory
    on_date: date
    count: int
    backups: int
    state: SelectionState
    created_at: AwareDatetime | None
    engagements: list[EngagementRead]

    @classmethod
    def of(
        cls, row: AgencySelection, engagements: list[tuple[Engagement, Agency]]
    ) -> SelectionRead:
        return cls(
            code=row.code,
            project=row.project,
            category=ServiceCategory(row.category),
            on_date=row.on_date,
            count=row.count,
            backups=row.backups,
            state=SelectionState(row.state),
            created_at=row.created_at,
            engagements=[EngagementRead.of(e, a) for e, a in engagements],
        )
