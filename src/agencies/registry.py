"""The registry (备案): an agency user keeps its own filing; staff review and suspend.

Each change is one function, in the caller's transaction, with its event in the global
audit stream (``agency.filed``, ``agency.filing_reviewed``, ``agency.suspension_changed``).
Sending a filing again replaces it and puts it back to review: what staff approved is
what the agency filed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from agencies.credit import rescore, today
from agencies.lookup import agency_by_code
from agencies.models import Agency, AgencyCertificate, AgencyStaff, FilingState
from agencies.schemas import FilingIn, FilingRead
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, Role
from tendering.core.clock import db_now
from tendering.core.errors import Conflict, ErrorCode, Forbidden
from tendering.core.pagination import LimitOffset, paginate

__all__ = [
    "file_agency",
    "filing_of",
    "list_filings",
    "review_filing",
    "suspend_agency",
]


async def filing_of(session: AsyncSession, agency: Agency) -> FilingRead:
    certificates = (
        await session.scalars(
            select(AgencyCertificate)
            .where(col(AgencyCertificate.agency_id) == agency.id)
            .order_by(col(AgencyCertificate.id))
        )
    ).all()
    staff = (
        await session.scalars(
            select(AgencyStaff)
            .where(col(AgencyStaff.agency_id) == agency.id)
            .order_by(col(AgencyStaff.id))
        )
    ).all()
    return FilingRead.of(agency, list(certificates), list(staff))


async def _organization(session: AsyncSession, actor: Actor) -> Organization:
    org = (
        await session.get(Organization, actor.organization_id)
        if actor.organization_id is not None
        else None
    )
    if org is None or actor.role != Role.AGENCY or org.kind != OrgKind.AGENCY:
        raise Forbidden(
            "只有代理机构用户可以备案 (only a user of an agency organization may file)",
            code=ErrorCode.AGENCY_NOT_YOURS,
        )
    return org


async def file_agency(session: AsyncSession, *, actor: Actor, filing: FilingIn) -> FilingRead:
    """Create or replace the actor's agency filing; it waits for review again."""
    org = await _organization(session, actor)
    # Two first filings at once: the second waits here on the first's row, then finds and
    # locks it (a plain INSERT would fail it with a 500). No conflict target: the agency's
    # code is the organization's, so either unique index may be the one that is hit first.
    await session.execute(
        insert(Agency)
        .values(
            organization_id=org.id,
            code=org.code,
            name=org.name,
            credit_code=org.credit_code or "",
            contact="",
            state=FilingState.SUBMITTED.value,
            review_note="",
            suspended=False,
            suspension_note="",
        )
        .on_conflict_do_nothing()
    )
    row = (
        await session.scalars(
            select(Agency)
            .where(col(Agency.organization_id) == org.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    row.contact = filing.contact
    row.categories = [c.value for c in filing.categories]
    row.affiliations = sorted(set(filing.affiliations))
    row.state = FilingState.SUBMITTED
    row.review_note = ""
    row.submitted_at = await db_now(session)
    await session.flush()
    await session.execute(
        delete(AgencyCertificate).where(col(AgencyCertificate.agency_id) == row.id)
    )
    await session.execute(delete(AgencyStaff).where(col(AgencyStaff.agency_id) == row.id))
    session.add_all(
        AgencyCertificate(agency_id=row.id, **c.model_dump())  # type: ignore[arg-type]
        for c in filing.certificates
    )
    session.add_all(
        AgencyStaff(agency_id=row.id, **s.model_dump())  # type: ignore[arg-type]
        for s in filing.staff
    )
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.filed",
        actor=actor,
        payload={"agency": row.code, "categories": row.categories},
    )
    return await filing_of(session, row)


async def review_filing(
    session: AsyncSession, *, actor: Actor, code: str, approve: bool, note: str
) -> FilingRead:
    """Staff approve or reject a submitted filing (a rejection says why)."""
    row = await agency_by_code(session, code, lock=True)
    if row.state != FilingState.SUBMITTED:
        raise Conflict(
            f"备案 {code} 现为 {row.state}，无待审内容 (filing {code} is {row.state}: nothing"
            " waits for review)",
            code=ErrorCode.AGENCY_FILING_STATE,
            details={"state": row.state},
        )
    row.state = FilingState.APPROVED if approve else FilingState.REJECTED
    row.review_note = note
    row.reviewed_by = actor.user_id
    row.reviewed_at = await db_now(session)
    await session.flush()
    if approve and row.grade is None:  # its first grade, from the base score
        await rescore(session, row, on=await today(session), actor=actor)
    await record(
        session,
        stream=GLOBAL,
        action="agency.filing_reviewed",
        actor=actor,
        payload={"agency": code, "state": row.state, "note": note},
    )
    return await filing_of(session, row)


async def suspend_agency(
    session: AsyncSession, *, actor: Actor, code: str, suspended: bool, note: str
) -> FilingRead:
    """Suspend (暂停) an agency from selection, or lift the suspension, saying why."""
    row = await agency_by_code(session, code, lock=True)
    row.suspended = suspended
    row.suspension_note = note
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.suspension_changed",
        actor=actor,
        payload={"agency": code, "suspended": suspended, "note": note},
    )
    return await filing_of(session, row)


async def list_filings(
    session: AsyncSession, page: LimitOffset, *, state: FilingState | None = None
) -> tuple[Sequence[Agency], int]:
    query = select(Agency).order_by(col(Agency.code))
    if state is not None:
        query = query.where(col(Agency.state) == state.value)
    rows, total = await paginate(session, query, page)
    return [r[0] for r in rows], total
