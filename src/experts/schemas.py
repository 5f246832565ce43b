"""What the experts API takes and gives."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from experts.models import ExpertStatus
from tendering.core.params import Boolean, CalendarMoment, Integer

__all__ = [
    "AnswerIn",
    "CategoryIn",
    "DrawRequestIn",
    "EntropyIn",
    "ExclusionIn",
    "ExpertRead",
    "PenaltyIn",
    "RelationIn",
    "RulesIn",
    "StatusIn",
]

Organization = Annotated[str, Field(min_length=1, max_length=200)]
Specialty = Field(pattern=r"^[A-Z](\d\d)+$", max_length=20, description="e.g. A0801")


class CategoryIn(BaseModel):
    specialty: str = Specialty
    count: Integer = Field(ge=1, le=50, description="experts who serve")
    backups: Integer = Field(ge=0, le=50, description="backups, called in order")


class ExclusionIn(BaseModel):
    expert: str = Field(min_length=1, max_length=32, description="the expert's public code")
    reason: str = Field(min_length=4, max_length=300, description="the written reason")


class RulesIn(BaseModel):
    lookback_years: Integer = Field(default=3, ge=1, le=10, description="former employers")
    service_months: Integer = Field(default=6, ge=0, le=60, description="served this tenderer")
    max_per_year: Integer = Field(default=10, ge=1, le=200, description="draws per year")


class DrawRequestIn(BaseModel):
    lot: str = Field(min_length=1, max_length=64, description="the lot's public code")
    title: str = Field(min_length=1, max_length=300)
    tenderer: str = Field(min_length=1, max_length=200, description="招标人 organization")
    bidders: list[Organization] = Field(
        default_factory=list, max_length=500, description="bidders (after opening)"
    )
    evaluation_at: CalendarMoment
    place: str = Field(min_length=1, max_length=200)
    tenderer_reps: Integer = Field(ge=0, le=20, description="招标人代表 on the committee")
    categories: list[CategoryIn] = Field(min_length=1, max_length=20)
    exclusions: list[ExclusionIn] = Field(default_factory=list, max_length=200)
    rules: RulesIn = Field(default_factory=RulesIn)
    witness_id: Integer = Field(ge=1, le=2**31 - 1, description="the witnessing supervisor")
    confirm_minutes: Integer = Field(default=120, ge=5, le=2880, description="time to answer")


class EntropyIn(BaseModel):
    witness_entropy: str = Field(min_length=1, max_length=500)


class AnswerIn(BaseModel):
    accept: Boolean
    reason: str = Field(default="", max_length=300)


class RelationIn(BaseModel):
    organization: str = Field(min_length=1, max_length=200)
    relation: str = Field(min_length=1, max_length=100)


class PenaltyIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300)
    penalized_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    until: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class StatusIn(BaseModel):
    status: ExpertStatus
    suspended_until: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class ExpertRead(BaseModel):
    code: str
    name: str
    id_masked: str = Field(description="the ID number, masked")
    employer: str
    specialties: list[str]
    region: str
    title: str
    status: str
    suspended_until: str | None
    updated_at: AwareDatetime | None
