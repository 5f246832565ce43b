"""Integrity scoring of agencies (诚信综合评价): pure rules, no I/O.

A :class:`Rulebook` (versioned, edited by staff) lists event types with their points, the
base score, the rolling window, the time decay, the grade thresholds and the draw weight of
each grade. The score of an agency on a day is::

    score = base + sum(decayed points of every counted event in the window)

- an event counts from the day it happened (``age = on - occurred_on`` in days, from 0)
  until ``age == window_days``, when it leaves the window;
- every full ``decay_step_days`` of age takes ``decay_percent`` of its points away:
  ``factor = max(0, 100 - decay_percent * (age // decay_step_days))`` percent, and the
  points given are ``points * factor / 100`` rounded toward zero (integers only: scores
  go into the audit chain, which holds no floats);
- the points of an event type are those of the rulebook in effect on the scoring day, so a
  score computed last month is reproduced with last month's rulebook;
- the grade is the first of A, B, C whose threshold the score reaches, else D.

Every score is explained: one :class:`Line` per event, with the points it gave that day.

    book = Rulebook.from_json(1, date(2026, 1, 1), DEFAULT_RULEBOOK)
    result = score_on(events, book, on=date(2026, 6, 30))
    result.total, result.grade, [line.points for line in result.lines]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tendering.core.errors import ErrorCode, InvalidInput, NotFound

__all__ = [
    "DEFAULT_RULEBOOK",
    "GRADES",
    "EventRecord",
    "EventType",
    "Line",
    "Rulebook",
    "Score",
    "decay_factor",
    "decayed_points",
    "rulebook_in_effect",
    "score_on",
]

GRADES = ("A", "B", "C", "D")

# The rulebook a new platform starts with (version 1). Points are whole numbers; a client's
# rating after each engagement is an event type of its own (rating.1 .. rating.5).
DEFAULT_RULEBOOK: dict[str, Any] = {
    "base": 80,
    "window_days": 1095,  # three years
    "decay_step_days": 365,
    "decay_percent": 30,
    "thresholds": {"A": 90, "B": 75, "C": 60},
    "weights": {"A": 4, "B": 3, "C": 1},
    "types": [
        {"code": "violation.false_material", "name": "提供虚假材料", "points": -20},
        {"code": "violation.collusion", "name": "串通投标或协助串标", "points": -30},
        {"code": "violation.procedure", "name": "违反法定程序", "points": -10},
        {"code": "violation.late_filing", "name": "未按时备案或报送资料", "points": -3},
        {"code": "award.commendation", "name": "获主管部门通报表扬", "points": 5},
        {"code": "award.model", "name": "评为诚信示范单位", "points": 8},
        {"code": "rating.5", "name": "委托人评价: 优秀", "points": 3},
        {"code": "rating.4", "name": "委托人评价: 良好", "points": 1},
        {"code": "rating.3", "name": "委托人评价: 合格", "points": 0},
        {"code": "rating.2", "name": "委托人评价: 较差", "points": -3},
        {"code": "rating.1", "name": "委托人评价: 差", "points": -6},
    ],
}


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, code=ErrorCode.AGENCY_RULEBOOK_INVALID, field=field)


def _whole(value: object, field: str, *, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _refuse(
            f"{field} 须为 {low} 至 {high} 的整数 ({field} must be a whole number from {low} to"
            f" {high})",
            field,
        )
    return value


@dataclass(frozen=True, slots=True)
class EventType:
    code: str
    name: str
    points: int

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "points": self.points}


def _event_types(raw_types: object) -> tuple[EventType, ...]:
    if not isinstance(raw_types, list) or not raw_types:
        raise _refuse("types 须为非空数组 (types must be a non-empty array)", "types")
    types: list[EventType] = []
    for n, raw in enumerate(raw_types):
        if not isinstance(raw, Mapping) or set(raw) != {"code", "name", "points"}:
            raise _refuse(f"types[{n}] 须有 code、name、points (and nothing else)", "types")
        code, name = raw["code"], raw["name"]
        if not isinstance(code, str) or not 0 < len(code) <= 60 or "\x00" in code:
            raise _refuse(f"types[{n}].code 须为1至60个字符 (1 to 60 characters)", "types")
        if not isinstance(name, str) or not 0 < len(name) <= 100 or "\x00" in name:
            raise _refuse(f"types[{n}].name 须为1至100个字符 (1 to 100 characters)", "types")
        points = _whole(raw["points"], f"types[{n}].points", low=-100, high=100)
        types.append(EventType(code, name, points))
    if len({t.code for t in types}) != len(types):
        raise _refuse("事件类型代码重复 (an event type code appears twice)", "types")
    return tuple(types)


@dataclass(frozen=True, slots=True)
class Rulebook:
    """One version of the scoring rules, in effect from ``effective_from``."""

    version: int
    effective_from: date
    base: int
    window_days: int
    decay_step_days: int
    decay_percent: int
    thresholds: tuple[tuple[str, int], ...]  # (grade, lowest score) for A, B, C
    weights: tuple[tuple[str, int], ...]  # (grade, draw weight) for A, B, C; D never drawn
    types: tuple[EventType, ...]

    @classmethod
    def from_json(cls, version: int, effective_from: date, body: Mapping[str, Any]) -> Rulebook:
        """Check ``body`` (the shape of :data:`DEFAULT_RULEBOOK`); ``InvalidInput`` names the
        field and the rule."""
        if not isinstance(body, Mapping):
            raise _refuse("规则须为JSON对象 (the rulebook must be a JSON object)", "body")
        thresholds = body.get("thresholds")
        weights = body.get("weights")
        if not isinstance(thresholds, Mapping) or set(thresholds) != {"A", "B", "C"}:
            raise _refuse("thresholds 须给出 A、B、C 的分数线 (give A, B and C)", "thresholds")
        if not isinstance(weights, Mapping) or set(weights) != {"A", "B", "C"}:
            raise _refuse("weights 须给出 A、B、C 的权重 (give A, B and C)", "weights")
        lines = tuple(
            (g, _whole(thresholds[g], f"thresholds.{g}", low=-1000, high=1000)) for g in "ABC"
        )
        if not lines[0][1] > lines[1][1] > lines[2][1]:
            raise _refuse("分数线须 A > B > C (thresholds must fall from A to C)", "thresholds")
        draw_weights = tuple(
            (g, _whole(weights[g], f"weights.{g}", low=1, high=100)) for g in "ABC"
        )
        types = _event_types(body.get("types"))
        window = _whole(body.get("window_days"), "window_days", low=1, high=3650)
        step = _whole(body.get("decay_step_days"), "decay_step_days", low=1, high=3650)
        return cls(
            version=_whole(version, "version", low=1, high=1_000_000),
            effective_from=effective_from,
            base=_whole(body.get("base"), "base", low=0, high=1000),
            window_days=window,
            decay_step_days=step,
            decay_percent=_whole(body.get("decay_percent"), "decay_percent", low=0, high=100),
            thresholds=lines,
            weights=draw_weights,
            types=types,
        )

    def to_json(self) -> dict[str, Any]:
        """The body as stored and served (without version and date)."""
        return {
            "base": self.base,
            "window_days": self.window_days,
            "decay_step_days": self.decay_step_days,
            "decay_percent": self.decay_percent,
            "thresholds": dict(self.thresholds),
            "weights": dict(self.weights),
            "types": [t.to_json() for t in self.types],
        }

    def event_type(self, code: str) -> EventType | None:
        return next((t for t in self.types if t.code == code), None)

    def grade_of(self, total: int) -> str:
        return next((grade for grade, low in self.thresholds if total >= low), "D")

    def weight_of(self, grade: str) -> int:
        """The draw weight of a grade; 0 for D (never eligible)."""
        return dict(self.weights).get(grade, 0)


def rulebook_in_effect(rulebooks: Iterable[Rulebook], on: date) -> Rulebook:
    """The newest version in effect on ``on`` (greatest ``effective_from`` ≤ on, then the
    greatest version)."""
    candidates = [b for b in rulebooks if b.effective_from <= on]
    if not candidates:
        raise NotFound(
            f"{on.isoformat()} 没有生效的评分规则 (no rulebook is in effect on {on.isoformat()})",
            code=ErrorCode.AGENCY_RULEBOOK_NOT_FOUND,
        )
    return max(candidates, key=lambda b: (b.effective_from, b.version))


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A recorded event, as scoring sees it (voided events are left out by the caller)."""

    id: int
    type_code: str
    occurred_on: date


@dataclass(frozen=True, slots=True)
class Line:
    """What one event gave on the scoring day, and why."""

    event_id: int
    type_code: str
    name: str
    occurred_on: date
    age_days: int
    rule_points: int
    factor_percent: int
    points: int
    reason: str


@dataclass(frozen=True, slots=True)
class Score:
    on: date
    rulebook_version: int
    base: int
    total: int
    grade: str
    lines: tuple[Line, ...]


def decay_factor(book: Rulebook, age_days: int) -> int:
    """Percent of its points an event of this age gives: 0 outside the window."""
    if age_days < 0 or age_days >= book.window_days:
        return 0
    return max(0, 100 - book.decay_percent * (age_days // book.decay_step_days))


def decayed_points(points: int, factor_percent: int) -> int:
    """``points * factor / 100`` rounded toward zero (a penalty never rounds up)."""
    magnitude = abs(points) * factor_percent // 100
    return magnitude if points >= 0 else -magnitude


def _line(event: EventRecord, book: Rulebook, on: date) -> Line:
    age = (on - event.occurred_on).days
    kind = book.event_type(event.type_code)
    rule_points = kind.points if kind else 0
    factor = decay_factor(book, age)
    if kind is None:
        reason = f"规则第{book.version}版无此事件类型 (not in rulebook version {book.version})"
    elif age < 0:
        reason = "事件发生在评分日之后 (after the scoring day)"
    elif age >= book.window_days:
        reason = f"超出{book.window_days}天评价期 (outside the {book.window_days}-day window)"
    else:
        reason = f"已满{age // book.decay_step_days}个衰减周期 (decay steps passed), 按{factor}%计"
    return Line(
        event_id=event.id,
        type_code=event.type_code,
        name=kind.name if kind else event.type_code,
        occurred_on=event.occurred_on,
        age_days=age,
        rule_points=rule_points,
        factor_percent=factor,
        points=decayed_points(rule_points, factor),
        reason=reason,
    )


def score_on(events: Sequence[EventRecord], book: Rulebook, *, on: date) -> Score:
    """The score and grade on ``on`` under ``book``, with one line per event (oldest first)."""
    ordered = sorted(events, key=lambda e: (e.occurred_on, e.id))
    lines = tuple(_line(e, book, on) for e in ordered)
    total = book.base + sum(line.points for line in lines)
    return Score(
        on=on,
        rulebook_version=book.version,
        base=book.base,
        total=total,
        grade=book.grade_of(total),
        lines=lines,
    )
