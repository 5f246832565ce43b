"""The eligible pools of a draw request: the experts of each requested specialty, each
either in the pool or excluded with the avoidance rule that struck it (``rules.py``).

The database narrows the facts (one query per kind of fact, each over the lot's parties or
the evaluation day, never per expert), the pure rules decide. An expert drawn in an earlier
draw of the same request (a supplementary draw's original) is excluded as ``already_drawn``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from experts.rules import Avoidance, Candidate, avoided, months_before, org_key, qualifies
from tendering.core.draw import Category, Exclusion
from tendering.core.errors import Inconsistent

__all__ = ["ALREADY_DRAWN", "Candidates", "eligible_pools", "load_candidates"]

ALREADY_DRAWN = "already_drawn"
# The one big read (a pool of 100,000): straight on the session's asyncpg connection.
_CANDIDATES = (
    "SELECT id, code, specialties, status, suspended_until, $1::date = ANY(unavailable)"
    " FROM expert WHERE specialty_keys && $2::varchar(20)[]"
)
_EMPLOYMENTS = text(
    "SELECT expert_id, organization, started_on, ended_on FROM expert_employment"
    " WHERE org_key = ANY(:orgs) AND (ended_on IS NULL OR ended_on >= :since)"
)
_RELATIONS = text(
    "SELECT expert_id, organization, relation FROM expert_relation WHERE org_key = ANY(:orgs)"
)
_PENALTIES = text(
    "SELECT expert_id, reason, penalized_on, until FROM expert_penalty"
    " WHERE penalized_on <= :day AND (until IS NULL OR until >= :day)"
)
_SERVICES = text(
    "SELECT expert_id, tenderer, served_on FROM expert_service"
    " WHERE translate(tenderer, '（） 　', '()') = :tenderer AND served_on > :since"
    " AND served_on <= :day"
)
_YEAR = text(
    "SELECT expert_id, count(*) FROM expert_service"
    " WHERE served_on >= :first AND served_on <= :day GROUP BY expert_id"
)


def _grouped(rows: Iterable[Any]) -> dict[int, list[tuple[Any, ...]]]:
    found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for expert_id, *rest in rows:
        found[expert_id].append(tuple(rest))
    return found


@dataclass(frozen=True, slots=True)
class Candidates:
    """The experts of a request's specialties: ``facts``, those some rule looks at, and
    ``plain``, ``(code, specialties)`` of the rest (most of a pool), one tuple each."""

    facts: list[Candidate]
    plain: list[tuple[str, tuple[str, ...]]]


async def load_candidates(
    session: AsyncSession,
    *,
    specialties: Sequence[str],
    avoidance: Avoidance,
    drawn_this_year: dict[str, int] | None = None,
) -> Candidates:
    """Every expert of any of ``specialties`` with the facts that avoidance needs."""
    day = avoidance.day
    orgs = [org_key(o) for o in (avoidance.tenderer, *avoidance.bidders)]
    since = months_before(day, 12 * avoidance.lookback_years)
    raw = await (await session.connection()).get_raw_connection()
    if raw.driver_connection is None:
        raise Inconsistent("raw.driver_connection is missing")
    experts = await raw.driver_connection.fetch(_CANDIDATES, day, list(specialties))
    employments = _grouped(await session.execute(_EMPLOYMENTS, {"orgs": orgs, "since": since}))
    relations = _grouped(await session.execute(_RELATIONS, {"orgs": orgs}))
    penalties = _grouped(await session.execute(_PENALTIES, {"day": day}))
    services = _grouped(
        await session.execute(
            _SERVICES,
            {
                "tenderer": org_key(avoidance.tenderer),
                "since": months_before(day, avoidance.service_months),
                "day": day,
            },
        )
    )
    facts = employments.keys() | relations.keys() | penalties.keys() | services.keys()
    counts: dict[int, int] = dict(
        (await session.execute(_YEAR, {"first": date(day.year, 1, 1), "day": day})).all()
    )
    pending = drawn_this_year or {}
    busy_day = frozenset({day})
    flagged = facts | counts.keys()
    # Most of a pool has nothing any rule looks at: (code, specialties) each, in one pass.
    plain = [
        (code, tuple(specialties_of))
        for expert_id, code, specialties_of, status, _until, busy in experts
        if not (expert_id in flagged or busy or status != "active" or code in pending)
    ]
    found: list[Candidate] = []
    for expert_id, code, specialties_of, status, until, busy in experts:
        if expert_id in flagged or busy or status != "active" or code in pending:
            drawn = counts.get(expert_id, 0) + pending.get(code, 0)
            found.append(
                Candidate(
                    code=code,
                    specialties=tuple(specialties_of),
                    status=status,
                    suspended_until=until,
                    unavailable=busy_day if busy else frozenset(),
                    employments=tuple(employments.get(expert_id, ())),
                    relations=tuple(relations.get(expert_id, ())),
                    penalties=tuple(penalties.get(expert_id, ())),
                    services=tuple(services.get(expert_id, ())),
                    draws_this_year=drawn,
                )
            )
    return Candidates(found, plain)


def _fitting(
    pools: list[list[tuple[str, int]]], requested: list[str], specialties: tuple[str, ...]
) -> list[list[tuple[str, int]]]:
    return [pool for pool, r in zip(pools, requested, strict=True) if qualifies(specialties, r)]


def eligible_pools(
    candidates: Sequence[Candidate],
    categories: Sequence[dict[str, Any]],
    avoidance: Avoidance,
    *,
    already_drawn: Iterable[str] = (),
    plain: Iterable[tuple[str, tuple[str, ...]]] = (),
) -> list[Category]:
    """Pure: each requested category's pool (weight 1) and exclusions, in request order.

    ``plain`` are ``(code, specialties)`` of experts with no fact a rule looks at, judged
    as ``Candidate(code, specialties)`` would be (only staff can strike them), without
    making a Candidate for each of a pool's many."""
    earlier = frozenset(already_drawn)

    def verdict(c: Candidate) -> tuple[str, str] | None:
        if c.code in earlier:
            return (ALREADY_DRAWN, "已在本项目此前的抽取中被抽中 (drawn before)")
        return avoided(c, avoidance)

    requested = [str(w["specialty"]) for w in categories]
    pools: list[list[tuple[str, int]]] = [[] for _ in requested]
    struck: list[list[Exclusion]] = [[] for _ in requested]
    # Which categories a set of specialties falls in, worked out once per distinct set.
    fits: dict[tuple[str, ...], list[list[tuple[str, int]]]] = {}

    struck_fits: dict[tuple[str, ...], list[list[Exclusion]]] = {}

    def place(code: str, specialties: tuple[str, ...], judgement: tuple[str, str]) -> None:
        targets = struck_fits.get(specialties)
        if targets is None:
            targets = struck_fits[specialties] = [
                out for out, r in zip(struck, requested, strict=True) if qualifies(specialties, r)
            ]
        struck_from = Exclusion(code, judgement[0], judgement[1])
        for out in targets:
            out.append(struck_from)

    for c in candidates:
        judgement = verdict(c)
        if judgement is not None:
            place(c.code, c.specialties, judgement)
            continue
        targets = fits.get(c.specialties)
        if targets is None:
            targets = fits[c.specialties] = _fitting(pools, requested, c.specialties)
        for pool in targets:
            pool.append((c.code, 1))
    staff = avoidance.staff
    for code, specialties in plain:  # most of a pool: only staff or an earlier draw strike
        if code in earlier or code in staff:
            judgement = verdict(Candidate(code=code, specialties=specialties))
            if judgement is not None:
                place(code, specialties, judgement)
                continue
        targets = fits.get(specialties)
        if targets is None:
            targets = fits[specialties] = _fitting(pools, requested, specialties)
        entry = (code, 1)
        for pool in targets:
            pool.append(entry)
    out = []
    for wanted, pool, excluded in zip(categories, pools, struck, strict=True):
        specialty = str(wanted["specialty"])
        excluded.sort(key=lambda e: e.id.encode())
        out.append(
            Category.of(
                specialty,
                count=int(wanted["count"]),
                backups=int(wanted["backups"]),
                pool=pool,
                excluded=excluded,
            )
        )
    return out
