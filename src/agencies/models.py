"""The agencies' tables: filings (备案) with certificates and key staff, the pre-selection
pool (预选库), the scoring rulebooks, recorded events with their disputes (异议), grade
history, and selections with their engagements. The draws themselves are
``tendering.core.draws``' one table; a selection names its draw by code."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = [
    "Agency",
    "AgencyCertificate",
    "AgencyEvent",
    "AgencyRulebook",
    "AgencySelection",
    "AgencyStaff",
    "Engagement",
    "EngagementState",
    "EventState",
    "FilingState",
    "GradeChange",
    "PoolEntry",
    "PoolState",
    "SelectionState",
    "ServiceCategory",
]


class ServiceCategory(StrEnum):
    TENDER_AGENT = "tender_agent"  # 招标代理
    COST_CONSULTING = "cost_consulting"  # 造价咨询
    APPRAISAL = "appraisal"  # 资产评估
    AUDIT = "audit"  # 审计
    SURVEYING = "surveying"  # 测绘


CATEGORY_NAMES = {
    ServiceCategory.TENDER_AGENT: "招标代理",
    ServiceCategory.COST_CONSULTING: "造价咨询",
    ServiceCategory.APPRAISAL: "资产评估",
    ServiceCategory.AUDIT: "审计",
    ServiceCategory.SURVEYING: "测绘",
}


class FilingState(StrEnum):
    SUBMITTED = "submitted"  # waiting for staff review
    APPROVED = "approved"
    REJECTED = "rejected"


class PoolState(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"


class EventState(StrEnum):
    RECORDED = "recorded"
    DISPUTED = "disputed"  # the agency objected; counts until staff decide
    UPHELD = "upheld"  # the dispute was upheld: the event is void and gives no points
    DISMISSED = "dismissed"  # the dispute was dismissed: the event stands


class SelectionState(StrEnum):
    SCHEDULED = "scheduled"  # commitment and pools published, waiting for the witness
    OFFERED = "offered"  # drawn; the serving agencies are asked to accept
    ENGAGED = "engaged"  # every place accepted
    FAILED = "failed"  # the backups ran out: a new selection is needed


class EngagementState(StrEnum):
    WAITING = "waiting"  # a backup not yet asked
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"  # the engagement ended; the client's rating was recorded


def _text_array() -> Any:
    return Column(ARRAY(String(40)), nullable=False, server_default=text("'{}'"))


class Agency(SQLModel, table=True):
    """An agency's filing (备案) and its current integrity standing."""

    __tablename__ = "agency"
    __table_args__ = (enum_check("state", FilingState, name="state"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    code: str = Field(max_length=64, unique=True, description="the organization's public code")
    name: str = Field(max_length=200)
    credit_code: str = Field(max_length=18)
    contact: str = Field(default="", max_length=100)
    categories: list[str] = Field(default_factory=list, sa_column=_text_array())
    # Credit codes of organizations the agency is affiliated with (关联关系, declared in the
    # filing): it is never drawn for a project of one of them.
    affiliations: list[str] = Field(default_factory=list, sa_column=_text_array())
    state: str = Field(max_length=20)
    review_note: str = Field(default="", max_length=500)
    reviewed_by: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    suspended: bool = Field(default=False)
    suspension_note: str = Field(default="", max_length=500)
    score: int | None = Field(default=None)
    grade: str | None = Field(default=None, max_length=1)
    scored_on: date | None = Field(default=None)


class AgencyCertificate(SQLModel, table=True):
    """A qualification certificate (资质证书) for one service category."""

    __tablename__ = "agency_certificate"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    category: str = Field(max_length=40)
    name: str = Field(max_length=200)
    number: str = Field(max_length=100)
    issued_on: date
    expires_on: date


class AgencyStaff(SQLModel, table=True):
    """A key staff member (主要从业人员) named in the filing."""

    __tablename__ = "agency_staff"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    name: str = Field(max_length=100)
    title: str = Field(default="", max_length=100)
    qualification: str = Field(default="", max_length=200)


class PoolEntry(SQLModel, table=True):
    """An application to the pre-selection pool (预选库) of one category for one year."""

    __tablename__ = "agency_pool_entry"
    __table_args__ = (
        enum_check("state", PoolState, name="state"),
        UniqueConstraint("agency_id", "category", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    category: str = Field(max_length=40)
    year: int
    state: str = Field(max_length=20)
    reason: str = Field(default="", max_length=500)
    applied_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AgencyRulebook(SQLModel, table=True):
    """One version of the scoring rules (``agencies.scoring.Rulebook``); never edited: a
    change is a new version."""

    __tablename__ = "agency_rulebook"

    version: int = Field(primary_key=True)
    effective_from: date
    body: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    note: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=64, description="user:<id> or system:<job>")
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class AgencyEvent(SQLModel, table=True):
    """A recorded integrity event (violation, award, client rating) and its dispute."""

    __tablename__ = "agency_event"
    __table_args__ = (enum_check("state", EventState, name="state"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    type_code: str = Field(max_length=60)
    occurred_on: date
    note: str = Field(default="", max_length=500)
    source: str = Field(default="", max_length=100, description="e.g. selection:AG-2026-0001")
    state: str = Field(max_length=20)
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    dispute_reason: str = Field(default="", max_length=1000)
    disputed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decision_note: str = Field(default="", max_length=1000)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class GradeChange(SQLModel, table=True):
    """A change of an agency's grade (or its first grade), for the public history and feed."""

    __tablename__ = "agency_grade_change"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    on_date: date
    old_grade: str | None = Field(default=None, max_length=1)
    new_grade: str = Field(max_length=1)
    score: int
    rulebook_version: int
    at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"), index=True)
    )


class AgencySelection(SQLModel, table=True):
    """A random selection of agencies for one project; its draw has the same code."""

    __tablename__ = "agency_selection"
    __table_args__ = (enum_check("state", SelectionState, name="state"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    project: str = Field(max_length=300)
    client_id: int = Field(foreign_key="organization.id", index=True)
    category: str = Field(max_length=40)
    on_date: date
    count: int
    backups: int
    state: str = Field(max_length=20)
    requested_by: int = Field(foreign_key="app_user.id")
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class Engagement(SQLModel, table=True):
    """One drawn agency of a selection, in pick order (``rank`` from 0)."""

    __tablename__ = "agency_engagement"
    __table_args__ = (
        enum_check("state", EngagementState, name="state"),
        UniqueConstraint("selection_id", "rank"),
    )

    id: int | None = Field(default=None, primary_key=True)
    selection_id: int = Field(foreign_key="agency_selection.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    rank: int
    state: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    offered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    responded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
