"""Reading integrity records: rulebook versions, an agency's events, disputes waiting for
staff, the public credit listing, grade history and the feed of grade changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from agencies.credit import load_rulebooks
from agencies.lookup import own_agency
from agencies.models import (
    Agency,
    AgencyEvent,
    AgencyRulebook,
    AgencySelection,
    Engagement,
    EventState,
    FilingState,
    GradeChange,
    ServiceCategory,
)
from agencies.selection import engagements_of
from tendering.core.auth.actor import Actor
from tendering.core.errors import Inconsistent
from tendering.core.pagination import LimitOffset, paginate

__all__ = [
    "credit_listing",
    "grade_changes",
    "grade_history",
    "list_selections",
    "own_events",
    "own_selections",
    "pending_disputes",
    "rulebook_rows",
    "rulebook_version",
]


async def rulebook_rows(
    session: AsyncSession, page: LimitOffset
) -> tuple[list[AgencyRulebook], int]:
    """A page of the rulebook versions, newest first."""
    await load_rulebooks(session)  # version 1 exists from the first read
    query = select(AgencyRulebook).order_by(col(AgencyRulebook.version).desc())
    rows, total = await paginate(session, query, page)
    return [r[0] for r in rows], total


async def rulebook_version(session: AsyncSession, version: int) -> AgencyRulebook:
    row = await session.scalar(select(AgencyRulebook).where(col(AgencyRulebook.version) == version))
    if row is None:
        raise Inconsistent(f"rulebook version {version} is missing")
    return row


async def own_events(
    session: AsyncSession, actor: Actor, page: LimitOffset
) -> tuple[Agency, list[AgencyEvent], int]:
    """The actor's agency and a page of its events, newest first, and their count."""
    agency = await own_agency(session, actor)
    query = (
        select(AgencyEvent)
        .where(col(AgencyEvent.agency_id) == agency.id)
        .order_by(col(AgencyEvent.occurred_on).desc(), col(AgencyEvent.id).desc())
    )
    rows, total = await paginate(session, query, page)
    return agency, [r[0] for r in rows], total


async def pending_disputes(
    session: AsyncSession, page: LimitOffset
) -> tuple[list[tuple[AgencyEvent, Agency]], int]:
    query = (
        select(AgencyEvent, Agency)
        .join(Agency, col(Agency.id) == col(AgencyEvent.agency_id))
        .where(col(AgencyEvent.state) == EventState.DISPUTED)
        .order_by(col(AgencyEvent.disputed_at))
    )
    rows, total = await paginate(session, query, page)
    return [(r[0], r[1]) for r in rows], total


async def credit_listing(
    session: AsyncSession,
    page: LimitOffset,
    *,
    grade: str | None = None,
    category: ServiceCategory | None = None,
) -> tuple[list[Agency], int]:
    """Filed (approved) agencies with their current grade and score, best first."""
    query = (
        select(Agency)
        .where(col(Agency.state) == FilingState.APPROVED)
        .order_by(col(Agency.score).desc().nulls_last(), col(Agency.code))
    )
    if grade is not None:
        query = query.where(col(Agency.grade) == grade)
    if category is not None:
        query = query.where(col(Agency.categories).contains([category.value]))
    rows, total = await paginate(session, query, page)
    return [r[0] for r in rows], total


async def grade_history(session: AsyncSession, agency: Agency) -> list[GradeChange]:
    query = (
        select(GradeChange)
        .where(col(GradeChange.agency_id) == agency.id)
        .order_by(col(GradeChange.id))
    )
    return list((await session.scalars(query)).all())


async def grade_changes(
    session: AsyncSession, *, limit: int = 50
) -> list[tuple[GradeChange, Agency]]:
    """The newest grade changes, for the Atom feed."""
    query = (
        select(GradeChange, Agency)
        .join(Agency, col(Agency.id) == col(GradeChange.agency_id))
        .order_by(col(GradeChange.id).desc())
        .limit(limit)
    )
    return [(g, a) for g, a in (await session.execute(query)).all()]


async def list_selections(
    session: AsyncSession, page: LimitOffset
) -> tuple[list[tuple[AgencySelection, list[tuple[Engagement, Agency]]]], int]:
    """Selections, newest first, each with its drawn agencies."""
    query = select(AgencySelection).order_by(col(AgencySelection.id).desc())
    rows, total = await paginate(session, query, page)
    return [(r[0], await engagements_of(session, r[0])) for r in rows], total


async def own_selections(
    session: AsyncSession, actor: Actor, page: LimitOffset
) -> tuple[list[tuple[AgencySelection, list[tuple[Engagement, Agency]]]], int]:
    """A page of the selections that drew the actor's agency (as one serving or as a
    backup), newest first, each with its drawn agencies; and their count."""
    agency = await own_agency(session, actor)
    query = (
        select(AgencySelection)
        .join(Engagement, col(Engagement.selection_id) == col(AgencySelection.id))
        .where(col(Engagement.agency_id) == agency.id)
        .order_by(col(AgencySelection.id).desc())
    )
    rows, total = await paginate(session, query, page)
    return [(r[0], await engagements_of(session, r[0])) for r in rows], total
