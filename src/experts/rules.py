"""The committee rule and the avoidance rules (回避): pure, no I/O, dates passed in.

    committee_problem(counts=[3, 2], tenderer_reps=2)   # None, or why the committee is wrong
    avoided(candidate, avoidance)                        # None, or (rule, detail)

A candidate carries the facts the pool query found about it (``pools.py``): its employments
and declared relations at the parties of the lot, its penalties, the evaluations it served
for this tenderer, and how often it was drawn this year. The rules decide from them with
the evaluation day, so a test can state every case without a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

__all__ = [
    "RULES",
    "Avoidance",
    "Candidate",
    "avoided",
    "committee_problem",
    "months_before",
    "org_key",
    "qualifies",
]

# Rule names, as the transcript's ``excluded[].rule`` records them, in the order applied.
RULES = (
    "staff",  # struck by staff with a written reason
    "suspended",
    "penalized",
    "unavailable",
    "employer",  # employed now or in the last N years by the tenderer or a bidder
    "relation",  # a declared relation with the tenderer or a bidder
    "served_tenderer",  # served this tenderer within N months
    "drawn_too_often",  # drawn M times this year already
)
MIN_COMMITTEE = 5


def committee_problem(counts: Sequence[int], tenderer_reps: int) -> str | None:
    """At least 5 members, an odd number, experts at least two thirds (评标委员会)."""
    experts = sum(counts)
    total = experts + tenderer_reps
    if tenderer_reps < 0:
        return "招标人代表人数不能为负 (tenderer_reps cannot be negative)"
    if total < MIN_COMMITTEE:
        return f"评标委员会至少{MIN_COMMITTEE}人，现为{total}人 (at least 5 members, not {total})"
    if total % 2 == 0:
        return f"评标委员会人数须为单数，现为{total}人 (an odd number of members, not {total})"
    if experts * 3 < total * 2:
        return (
            f"专家须不少于成员总数的三分之二，现为{experts}/{total} (experts must be at least"
            f" two thirds of the {total} members, not {experts})"
        )
    return None


def org_key(name: str) -> str:
    """An organization's name as compared: no spaces, half-width brackets."""
    return "".join(name.replace("（", "(").replace("）", ")").split())


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it has fewer days)."""
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def qualifies(specialties: Sequence[str], requested: str) -> bool:
    """A request for ``A08`` takes an expert of ``A0801``: codes are hierarchical."""
    return any(s.startswith(requested) for s in specialties)


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    specialties: tuple[str, ...]
    status: str = "active"
    suspended_until: date | None = None
    unavailable: frozenset[date] = frozenset()
    employments: tuple[tuple[str, date | None, date | None], ...] = ()  # org, from, to
    relations: tuple[tuple[str, str], ...] = ()  # org, relation
    penalties: tuple[tuple[str, date, date | None], ...] = ()  # reason, on, until
    services: tuple[tuple[str, date], ...] = ()  # tenderer, served on
    draws_this_year: int = 0


@dataclass(frozen=True, slots=True)
class Avoidance:
    day: date  # the evaluation's day
    tenderer: str
    bidders: tuple[str, ...] = ()
    lookback_years: int = 3
    service_months: int = 6
    max_per_year: int = 10
    staff: Mapping[str, str] = field(default_factory=dict)  # expert code -> written reason
    # Derived once, not per candidate (a pool has 100,000).
    employed_since: date = field(init=False)
    served_since: date = field(init=False)
    tenderer_key: str = field(init=False)
    bidder_keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "employed_since", months_before(self.day, 12 * self.lookback_years)
        )
        object.__setattr__(self, "served_since", months_before(self.day, self.service_months))
        object.__setattr__(self, "tenderer_key", org_key(self.tenderer))
        object.__setattr__(self, "bidder_keys", frozenset(org_key(b) for b in self.bidders))

    def party(self, organization: str) -> str | None:
        """``招标人`` or ``投标人`` when ``organization`` is the tenderer or a bidder."""
        key = org_key(organization)
        if key == self.tenderer_key:
            return "招标人"
        if key in self.bidder_keys:
            return "投标人"
        return None


def _employer(c: Candidate, a: Avoidance) -> str | None:
    for org, _start, end in c.employments:
        role = a.party(org)
        if role and (end is None or end >= a.employed_since):
            when = "现" if end is None else f"{end.isoformat()}前"
            return (
                f"{when}任职于{role} {org} (employed by the {role} within {a.lookback_years} years)"
            )
    return None


def _relation(c: Candidate, a: Avoidance) -> str | None:
    for org, relation in c.relations:
        role = a.party(org)
        if role:
            return f"申报与{role} {org} 有{relation}关系 (a declared relation)"
    return None


def _penalized(c: Candidate, a: Avoidance) -> str | None:
    for reason, on, until in c.penalties:
        if on <= a.day and (until is None or until >= a.day):
            end = "长期" if until is None else f"至{until.isoformat()}"
            return f"{on.isoformat()}受处罚（{reason}），{end} (penalized)"
    return None


def _suspended(c: Candidate, a: Avoidance) -> str | None:
    if c.status == "suspended" and (c.suspended_until is None or c.suspended_until >= a.day):
        end = "另行通知" if c.suspended_until is None else c.suspended_until.isoformat()
        return f"暂停抽取至{end} (suspended)"
    return None


def _served(c: Candidate, a: Avoidance) -> str | None:
    for tenderer, on in c.services:
        if org_key(tenderer) == a.tenderer_key and a.served_since < on <= a.day:
            return (
                f"{on.isoformat()}曾为招标人 {tenderer} 评标，未满{a.service_months}个月"
                f" (served this tenderer within {a.service_months} months)"
            )
    return None


def _often(c: Candidate, a: Avoidance) -> str | None:
    if c.draws_this_year >= a.max_per_year:
        return (
            f"本年已被抽中{c.draws_this_year}次，上限{a.max_per_year}次 (drawn"
            f" {c.draws_this_year} times this year; at most {a.max_per_year})"
        )
    return None


def _plain(c: Candidate, a: Avoidance) -> bool:
    """No fact that any rule could strike on (most of a pool): skip the rules."""
    return (
        c.status != "suspended"
        and not (c.employments or c.relations or c.penalties or c.services or c.unavailable)
        and c.draws_this_year < a.max_per_year
    )


def avoided(c: Candidate, a: Avoidance) -> tuple[str, str] | None:
    """The first rule (in :data:`RULES` order) that strikes ``c``, with its detail."""
    if c.code in a.staff:
        return "staff", f"经办人书面理由：{a.staff[c.code]} (struck by staff)"
    if _plain(c, a):
        return None
    checks = (
        ("suspended", _suspended),
        ("penalized", _penalized),
        (
            "unavailable",
            lambda c, a: (
                "评标当日不可参加 (unavailable that day)" if a.day in c.unavailable else None
            ),
        ),
        ("employer", _employer),
        ("relation", _relation),
        ("served_tenderer", _served),
        ("drawn_too_often", _often),
    )
    for rule, check in checks:
        detail = check(c, a)
        if detail is not None:
            return rule, detail
    return None
