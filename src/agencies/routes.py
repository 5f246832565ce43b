"""Agencies API: the agency's own filing and pool applications, staff review, and the
public pool.

    GET  /api/agencies/me                       agency: its filing and review
    PUT  /api/agencies/me                       agency: file (again); waits for review
    GET  /api/agencies/me/pool                  agency: its pool applications
    POST /api/agencies/me/pool                  agency: apply {category, year}
    GET  /api/agencies/filings[?state=]         staff, supervisor
    GET  /api/agencies/filings/{code}           staff, supervisor
    POST /api/agencies/filings/{code}/review    staff {approve, note}
    POST /api/agencies/filings/{code}/suspension  staff {suspended, note}
    GET  /api/agencies/pool/applications?year=  staff, supervisor: waiting for a decision
    POST /api/agencies/pool/{code}/{category}/{year}/decision  staff {approve, note}
    GET  /api/public/agencies/pool?year=[&category=]  anyone: the approved pool
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from agencies import lookup, pool, registry
from agencies.credit_routes import (
    AgencyEventController,
    CreditController,
    PublicCreditController,
)
from agencies.models import FilingState, PoolState, ServiceCategory
from agencies.schemas import (
    FilingIn,
    FilingRead,
    PoolApplicationIn,
    PoolDecisionIn,
    PoolEntryRead,
    ReviewIn,
    SuspensionIn,
)
from agencies.selection_routes import AgencyResponseController, SelectionController
from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.deps import CurrentActor, Page
from tendering.core.pagination import OffsetPagination
from tendering.core.params import PathCode

__all__ = [
    "AgencySelfController",
    "AgencyStaffController",
    "PublicAgencyController",
    "agency_handlers",
]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
READERS = requires_role(Role.STAFF, Role.SUPERVISOR, Role.ADMIN)
Year = Annotated[int, QueryParameter(ge=2000, le=2100, description="the pool's year")]


class AgencySelfController(Controller):
    path = "/api/agencies/me"
    tags = ["agencies"]  # noqa: RUF012
    guards = [requires_role(Role.AGENCY)]  # noqa: RUF012

    @get("/", summary="Our filing (备案) and its review")
    async def mine(self, db_session: DbSession, actor: CurrentActor) -> FilingRead:
        return await registry.filing_of(db_session, await lookup.own_agency(db_session, actor))

    @put("/", summary="File, or file again: the filing waits for staff review")
    async def file(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[FilingIn]
    ) -> FilingRead:
        return await registry.file_agency(db_session, actor=actor, filing=data)

    @get("/pool", summary="Our applications to the pre-selection pool")
    async def my_pool(
        self, db_session: DbSession, actor: CurrentActor, page: Page
    ) -> OffsetPagination[PoolEntryRead]:
        entries, agency, total = await pool.own_pool_entries(db_session, actor, page)
        items = [PoolEntryRead.of(e, agency) for e in entries]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @post("/pool", summary="Apply to the pre-selection pool (预选库) of a category and year")
    async def apply(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[PoolApplicationIn]
    ) -> PoolEntryRead:
        entry, agency = await pool.apply_to_pool(
            db_session, actor=actor, category=data.category, year=data.year
        )
        return PoolEntryRead.of(entry, agency)


class AgencyStaffController(Controller):
    path = "/api/agencies"
    tags = ["agencies"]  # noqa: RUF012
    guards = [READERS]  # noqa: RUF012

    @get("/filings", summary="Filings, by agency code")
    async def filings(
        self,
        db_session: DbSession,
        page: Page,
        filing_state: Annotated[FilingState | None, QueryParameter(name="state")] = None,
    ) -> OffsetPagination[FilingRead]:
        rows, total = await registry.list_filings(db_session, page, state=filing_state)
        items = [await registry.filing_of(db_session, r) for r in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @get("/filings/{code:str}", summary="One filing")
    async def filing(self, db_session: DbSession, code: PathCode) -> FilingRead:
        return await registry.filing_of(db_session, await lookup.agency_by_code(db_session, code))

    @post("/filings/{code:str}/review", guards=[STAFF], status_code=200, summary="Review")
    async def review(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        code: PathCode,
        data: JSONBody[ReviewIn],
    ) -> FilingRead:
        return await registry.review_filing(
            db_session, actor=actor, code=code, approve=data.approve, note=data.note
        )

    @post("/filings/{code:str}/suspension", guards=[STAFF], status_code=200, summary="Suspend")
    async def suspension(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        code: PathCode,
        data: JSONBody[SuspensionIn],
    ) -> FilingRead:
        return await registry.suspend_agency(
            db_session, actor=actor, code=code, suspended=data.suspended, note=data.note
        )

    @get("/pool/applications", summary="Pool applications waiting for a decision")
    async def applications(
        self,
        db_session: DbSession,
        page: Page,
        year: Year,
        category: FromQuery[ServiceCategory | None] = None,
    ) -> OffsetPagination[PoolEntryRead]:
        rows, total = await pool.list_pool(
            db_session, page, year=year, category=category, state=PoolState.APPLIED
        )
        items = [PoolEntryRead.of(e, a) for e, a in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @post(
        "/pool/{code:str}/{category:str}/{year:int}/decision",
        guards=[STAFF],
        status_code=200,
        summary="Approve or reject a pool application, with the reason",
    )
    async def decide(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        code: PathCode,
        category: FromPath[ServiceCategory],
        year: Annotated[int, PathParameter(ge=2000, le=2100)],
        data: JSONBody[PoolDecisionIn],
    ) -> PoolEntryRead:
        entry, agency = await pool.decide_pool_entry(
            db_session,
            actor=actor,
            code=code,
            category=category,
            year=year,
            approve=data.approve,
            reason=data.note,
        )
        return PoolEntryRead.of(entry, agency)


class PublicAgencyController(Controller):
    """The public: no login."""

    path = "/api/public/agencies"
    tags = ["agencies (public)"]  # noqa: RUF012
    security = [{}]  # noqa: RUF012

    @get("/pool", opt=public("the pre-selection pool is public (预选库公示)"), summary="The pool")
    async def public_pool(
        self,
        db_session: DbSession,
        page: Page,
        year: Year,
        category: FromQuery[ServiceCategory | None] = None,
    ) -> OffsetPagination[PoolEntryRead]:
        rows, total = await pool.list_pool(db_session, page, year=year, category=category)
        items = [PoolEntryRead.of(e, a) for e, a in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)


agency_handlers = [
    AgencySelfController,
    AgencyStaffController,
    PublicAgencyController,
    SelectionController,
    AgencyResponseController,
    CreditController,
    AgencyEventController,
    PublicCreditController,
]
