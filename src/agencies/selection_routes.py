"""Agency selections API (代理机构随机选取).

    POST /api/agencies/selections                    staff: schedule + fix the weighted pool
    GET  /api/agencies/selections                    staff, supervisor
    GET  /api/agencies/selections/{code}             staff, supervisor
    POST /api/agencies/selections/{code}/draw        the witness {witness_entropy}
    GET  /api/agencies/selections/{code}/record.pdf  staff, supervisor: the signed record
    POST /api/agencies/selections/{code}/completion  staff {agency, rating, note}
    GET  /api/agencies/me/selections                 agency: selections that drew it
    POST /api/agencies/me/selections/{code}/response agency {accept, note}

The draw itself is in ``/api/draws`` beside the experts' (transcript, verify).
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import JSONBody

from agencies import listing, selection
from agencies.record import selection_record_pdf
from agencies.schemas import (
    CompletionIn,
    ResponseIn,
    SelectionIn,
    SelectionRead,
    WitnessEntropyIn,
)
from tendering.core.auth.guards import requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.deps import CurrentActor, Page, Secrets, SigningKey
from tendering.core.pagination import OffsetPagination
from tendering.core.params import PathCode

__all__ = ["AgencyResponseController", "SelectionController"]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
Code = PathCode


async def _read(db_session: DbSession, code: str) -> SelectionRead:
    row = await selection.selection_by_code(db_session, code)
    return SelectionRead.of(row, await selection.engagements_of(db_session, row))


class SelectionController(Controller):
    path = "/api/agencies/selections"
    tags = ["agencies"]  # noqa: RUF012
    guards = [requires_role(Role.STAFF, Role.SUPERVISOR, Role.ADMIN)]  # noqa: RUF012

    @post("/", guards=[STAFF], summary="Schedule a selection and fix its weighted pool")
    async def start(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        data: JSONBody[SelectionIn],
    ) -> SelectionRead:
        row = await selection.start_selection(
            db_session,
            secrecy=secrecy,
            actor=actor,
            project=data.project,
            client=data.client,
            category=data.category,
            count=data.count,
            backups=data.backups,
            witness_id=data.witness_id,
            max_open=data.max_open,
        )
        return SelectionRead.of(row, [])

    @get("/", summary="Selections, newest first")
    async def selections(
        self, db_session: DbSession, page: Page
    ) -> OffsetPagination[SelectionRead]:
        rows, total = await listing.list_selections(db_session, page)
        items = [SelectionRead.of(row, engaged) for row, engaged in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @get("/{code:str}", summary="One selection with its drawn agencies")
    async def one(self, db_session: DbSession, code: Code) -> SelectionRead:
        return await _read(db_session, code)

    @post(
        "/{code:str}/draw",
        guards=[requires_role(Role.SUPERVISOR)],
        status_code=200,
        summary="The witness enters the entropy; the draw is made and the first picks offered",
    )
    async def draw(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        platform_key: SigningKey,
        code: Code,
        data: JSONBody[WitnessEntropyIn],
    ) -> SelectionRead:
        await selection.draw_selection(
            db_session,
            secrecy=secrecy,
            key=platform_key,
            actor=actor,
            code=code,
            witness_entropy=data.witness_entropy,
        )
        return await _read(db_session, code)

    @get("/{code:str}/record.pdf", summary="The selection record as PDF")
    async def record(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, code: Code
    ) -> Response[bytes]:
        pdf = await selection_record_pdf(db_session, secrecy=secrecy, code=code, actor=actor)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{code}-record.pdf"'},
        )

    @post(
        "/{code:str}/completion",
        guards=[STAFF],
        status_code=200,
        summary="An engagement ended: record the client's rating (an integrity event)",
    )
    async def complete(
        self, db_session: DbSession, actor: CurrentActor, code: Code, data: JSONBody[CompletionIn]
    ) -> SelectionRead:
        await selection.complete_engagement(
            db_session,
            actor=actor,
            code=code,
            agency_code=data.agency,
            rating=data.rating,
            note=data.note,
        )
        return await _read(db_session, code)


class AgencyResponseController(Controller):
    path = "/api/agencies/me/selections"
    tags = ["agencies"]  # noqa: RUF012
    guards = [requires_role(Role.AGENCY)]  # noqa: RUF012

    @get("/", summary="The selections that drew our agency, newest first")
    async def mine(
        self, db_session: DbSession, actor: CurrentActor, page: Page
    ) -> OffsetPagination[SelectionRead]:
        rows, total = await listing.own_selections(db_session, actor, page)
        items = [SelectionRead.of(row, engaged) for row, engaged in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @post("/{code:str}/response", status_code=200, summary="Accept or decline an offer")
    async def respond(
        self, db_session: DbSession, actor: CurrentActor, code: Code, data: JSONBody[ResponseIn]
    ) -> SelectionRead:
        await selection.respond(
            db_session, actor=actor, code=code, accept=data.accept, note=data.note
        )
        return await _read(db_session, code)
