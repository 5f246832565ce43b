"""Who may hold a share of a lot's opening key (issue 19.5).

Custodians open the bids, so they must be people with no stake in them: only the roles of
``TENDERING_CUSTODIAN_ROLES`` (staff, supervisors and experts by default; never bidders or
agencies, whatever the setting says) may register a custodian key, and a lot's custodians
must come from at least two organizations, one of them a supervisory department (行政监督部门),
with no single organization holding ``k`` shares (else it could open the lot alone).

The rule is checked where a key is made (the ceremony) and again where it is used (each
passphrase at the opening), against the users as they are then: a custodian who has since
changed role or organization, or been deactivated, stops the opening with the reason.

    problems = custodian_problems(people, k=2, roles=frozenset({"staff", "supervisor"}))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.auth.models import Organization, OrgKind, User
from tendering.core.errors import ErrorCode, Forbidden, RuleViolation
from tendering.settings import NEVER_CUSTODIANS, Settings

__all__ = [
    "Custodian",
    "allowed_roles",
    "check_lot_custodians",
    "check_may_hold_key",
    "custodian_problems",
    "load_custodians",
    "lot_custodian_problems",
]

_NEVER_KINDS = frozenset({OrgKind.BIDDER.value, OrgKind.AGENCY.value})


@dataclass(frozen=True)
class Custodian:
    user_id: int
    role: str
    organization_id: int
    organization_kind: str
    active: bool


def allowed_roles() -> frozenset[str]:
    """The configured custodian roles (read where the check runs: the web process, the
    worker that publishes a notice and the demo all see the same environment)."""
    return Settings.from_env().custodian_roles - NEVER_CUSTODIANS


def _person_problem(person: Custodian, roles: frozenset[str]) -> str | None:
    if not person.active:
        return f"user:{person.user_id} 已停用 (is deactivated)"
    if person.role not in roles or person.role in NEVER_CUSTODIANS:
        return f"user:{person.user_id} 的角色 {person.role} 不能担任保管人 (role may not be one)"
    if person.organization_kind in _NEVER_KINDS:
        return (
            f"user:{person.user_id} 属于{person.organization_kind}单位 "
            "(bidders and agencies may not hold a key)"
        )
    return None


def custodian_problems(people: Sequence[Custodian], *, k: int, roles: frozenset[str]) -> list[str]:
    """Every reason ``people`` may not hold a lot's ``k``-of-n key (empty: they may)."""
    problems = [p for p in (_person_problem(person, roles) for person in people) if p]
    organizations = Counter(person.organization_id for person in people)
    if len(organizations) < 2:
        problems.append("保管人须来自至少两个单位 (custodians must come from two organizations)")
    if not any(person.organization_kind == OrgKind.SUPERVISOR for person in people):
        problems.append("保管人须包括行政监督部门人员 (one custodian must be from a supervisor)")
    alone = sorted(org for org, shares in organizations.items() if shares >= k)
    if alone and len(organizations) >= 2:
        problems.append(
            f"单位 {alone} 持有{k}份以上密钥份额，可单独开标 "
            f"(organization {alone} holds k={k} shares and could open alone)"
        )
    return problems


async def load_custodians(session: AsyncSession, user_ids: Sequence[int]) -> list[Custodian]:
    """The users ``user_ids`` as they are now, in that order (unknown ids are skipped)."""
    rows = (
        await session.execute(
            select(
                col(User.id),
                col(User.role),
                col(User.organization_id),
                col(Organization.kind),
                col(User.is_active),
            )
            .join(Organization, col(Organization.id) == col(User.organization_id))
            .where(col(User.id).in_(list(user_ids)))
        )
    ).all()
    by_id = {
        uid: Custodian(uid, role, org, kind, active)
        for uid, role, org, kind, active in rows
        if uid is not None  # a primary key: never, but the model types it optional
    }
    return [by_id[u] for u in user_ids if u in by_id]


async def check_may_hold_key(session: AsyncSession, user_id: int) -> None:
    """Refuse a custodian key to a user whose role or organization may not hold one."""
    people = await load_custodians(session, [user_id])
    problem = _person_problem(people[0], allowed_roles()) if people else "unknown user"
    if problem:
        raise Forbidden(
            f"您不能登记保管人密钥：{problem}.", code=ErrorCode.OPENING_CUSTODIAN_REFUSED
        )


async def lot_custodian_problems(
    session: AsyncSession, user_ids: Sequence[int], *, k: int
) -> list[str]:
    people = await load_custodians(session, user_ids)
    known = {person.user_id for person in people}
    missing = [f"user:{u} 不存在 (no such user)" for u in user_ids if u not in known]
    return missing + custodian_problems(people, k=k, roles=allowed_roles())


async def check_lot_custodians(session: AsyncSession, user_ids: Sequence[int], *, k: int) -> None:
    """Refuse (``RuleViolation``) a lot whose custodians break the rule of this module."""
    problems = await lot_custodian_problems(session, user_ids, k=k)
    if problems:
        raise RuleViolation(
            f"密钥保管人不符合规定：{'；'.join(problems)}.",
            code=ErrorCode.OPENING_CUSTODIANS_RULE,
            field="custodians",
            details={"problems": problems},
        )
