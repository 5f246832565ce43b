"""What the integrity-record API takes and gives: rulebooks, events, disputes, scores,
the public credit listing."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from agencies.models import Agency, AgencyEvent, AgencyRulebook, EventState, GradeChange
from agencies.schemas import Text
from agencies.scoring import Line, Score
from tendering.core.errors import Inconsistent
from tendering.core.params import Boolean, CalendarDate

__all__ = [
    "CreditRead",
    "DecisionIn",
    "DisputeIn",
    "EventIn",
    "EventRead",
    "GradeChangeRead",
    "LineRead",
    "RulebookIn",
    "RulebookRead",
    "ScoreRead",
]


class RulebookIn(BaseModel):
    effective_from: CalendarDate = Field(
        description="today or later: past scores stay as they were"
    )
    body: dict[str, Any] = Field(description="base, window_days, decay_step_days, ...")
    note: Text = Field(default="", max_length=500)


class RulebookRead(BaseModel):
    version: int
    effective_from: date
    body: dict[str, Any]
    note: str
    created_by: str
    created_at: AwareDatetime | None

    @classmethod
    def of(cls, row: AgencyRulebook) -> RulebookRead:
        return cls(
            version=row.version,
            effective_from=row.effective_from,
            body=row.body,
            note=row.note,
            created_by=row.created_by,
            created_at=row.created_at,
        )


class EventIn(BaseModel):
    type_code: Text = Field(min_length=1, max_length=60, description="e.g. violation.procedure")
    occurred_on: CalendarDate
    note: Text = Field(
        min_length=1, max_length=500, description="the decision or document it rests on"
    )


class EventRead(BaseModel):
    id: int
    agency: str
    type_code: str
    occurred_on: date
    note: str
    source: str
    state: EventState
    recorded_at: AwareDatetime | None
    dispute_reason: str
    decision_note: str
    decided_at: AwareDatetime | None

    @classmethod
    def of(cls, row: AgencyEvent, agency_code: str) -> EventRead:
        if row.id is None:
            raise Inconsistent("row.id is missing")
        return cls(
            id=row.id,
            agency=agency_code,
            type_code=row.type_code,
            occurred_on=row.occurred_on,
            note=row.note,
            source=row.source,
            state=EventState(row.state),
            recorded_at=row.recorded_at,
            dispute_reason=row.dispute_reason,
            decision_note=row.decision_note,
            decided_at=row.decided_at,
        )


class DisputeIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=1000)


class DecisionIn(BaseModel):
    uphold: Boolean = Field(description="true: the event is void and its points go")
    note: Text = Field(min_length=1, max_length=1000)


class LineRead(BaseModel):
    event: int
    type_code: str
    name: str
    occurred_on: date
    age_days: int
    rule_points: int
    factor_percent: int
    points: int
    reason: str

    @classmethod
    def of(cls, line: Line) -> LineRead:
        return cls(
            event=line.event_id,
            type_code=line.type_code,
            name=line.name,
            occurred_on=line.occurred_on,
            age_days=line.age_days,
            rule_points=line.rule_points,
            factor_percent=line.factor_percent,
            points=line.points,
            reason=line.reason,
        )


class GradeChangeRead(BaseModel):
    on_date: date
    old_grade: str | None
    new_grade: str
    score: int
    rulebook_version: int

    @classmethod
    def of(cls, row: GradeChange) -> GradeChangeRead:
        return cls(
            on_date=row.on_date,
            old_grade=row.old_grade,
            new_grade=row.new_grade,
            score=row.score,
            rulebook_version=row.rulebook_version,
        )


class ScoreRead(BaseModel):
    agency: str
    on: date
    rulebook_version: int
    base: int
    total: int
    grade: str
    lines: list[LineRead] = Field(description="each event and the points it gave that day")
    history: list[GradeChangeRead]

    @classmethod
    def of(cls, agency: str, score: Score, history: list[GradeChange]) -> ScoreRead:
        return cls(
            agency=agency,
            on=score.on,
            rulebook_version=score.rulebook_version,
            base=score.base,
            total=score.total,
            grade=score.grade,
            lines=[LineRead.of(line) for line in score.lines],
            history=[GradeChangeRead.of(h) for h in history],
        )


class CreditRead(BaseModel):
    agency: str
    name: str
    categories: list[str]
    score: int | None
    grade: str | None
    scored_on: date | None

    @classmethod
    def of(cls, row: Agency) -> CreditRead:
        return cls(
            agency=row.code,
            name=row.name,
            categories=list(row.categories),
            score=row.score,
            grade=row.grade,
            scored_on=row.scored_on,
        )
