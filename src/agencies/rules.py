"""Who may be drawn for a project, and with what weight: pure rules, no I/O.

The candidates are the agencies in the approved pool of the category for the year. Each is
eligible, or excluded by the first rule it breaks, recorded in the draw's transcript:

=================  =========================================================
rule               excluded when
=================  =========================================================
``filing``         the filing is not approved (filed again and waiting)
``suspended``      staff suspended it (暂停)
``certificate``    no certificate of the category valid on the day
``grade``          its grade on the day is D (诚信等级D级不得参与选取)
``affiliated``     it declared an affiliation with the client (关联关系回避)
``engagements``    it already holds the maximum of open engagements
=================  =========================================================

An eligible agency's weight is its grade's (the rulebook's ``weights``; A=4, B=3, C=1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from agencies.scoring import Rulebook
from tendering.core.draw import Exclusion

__all__ = ["Candidate", "Certificate", "weigh"]


@dataclass(frozen=True, slots=True)
class Certificate:
    category: str
    issued_on: date
    expires_on: date

    def valid_on(self, day: date) -> bool:
        return self.issued_on <= day <= self.expires_on


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    filing_approved: bool
    suspended: bool
    certificates: tuple[Certificate, ...]
    grade: str
    score: int
    affiliations: frozenset[str]
    open_engagements: int


def weigh(
    candidate: Candidate,
    *,
    category: str,
    on: date,
    client_credit_code: str | None,
    max_open: int,
    book: Rulebook,
) -> int | Exclusion:
    """The candidate's draw weight, or the :class:`Exclusion` that strikes it."""
    code = candidate.code
    if not candidate.filing_approved:
        return Exclusion(code, "filing", "备案待审核 (the filing waits for review)")
    if candidate.suspended:
        return Exclusion(code, "suspended", "暂停选取 (suspended by the center)")
    if not any(c.category == category and c.valid_on(on) for c in candidate.certificates):
        return Exclusion(
            code, "certificate", f"{on.isoformat()} 无有效资质证书 (no valid certificate)"
        )
    weight = book.weight_of(candidate.grade)
    if weight < 1:
        return Exclusion(
            code, "grade", f"诚信等级{candidate.grade} ({candidate.score}分) 不得参与选取"
        )
    if client_credit_code and client_credit_code in candidate.affiliations:
        return Exclusion(code, "affiliated", "与委托人存在关联关系 (affiliated with the client)")
    if candidate.open_engagements >= max_open:
        return Exclusion(
            code,
            "engagements",
            f"在办项目已达{max_open}个 (already {candidate.open_engagements} open engagements)",
        )
    return weight
