"""The experts API: the pool for staff, draw requests, the witness's draw, the sealed list.

    POST /api/experts/import[?accept_valid=true]   CSV body (UTF-8 or GBK): the import report
    GET  /api/experts[?specialty=A08]               the pool, ID numbers masked, paged
    GET  /api/experts/{code}
    POST /api/experts/{code}/relations | /penalties,  PUT /api/experts/{code}/status
    POST /api/experts/draws                         a lot's request: the commitment published
    GET  /api/experts/draws/{code}
    POST /api/experts/draws/{code}/pools            avoidance applied, pools fixed (staff)
    POST /api/experts/draws/{code}/draw             the witness's entropy: the draw
    GET  /api/experts/draws/{code}/list             who was drawn (sealed: staff + witness)
    GET  /api/experts/draws/{code}/record.pdf       抽取记录表 (sealed alike)
    GET  /api/experts/draws/{code}/rerun            the bureau re-runs it against the chain
    POST /api/experts/draws/{code}/release          the evaluation starts: the list is known
    GET|POST /api/experts/answers/{token}           the expert's one-time link (no login)

The transcript itself is served with every draw's at ``GET /api/draws/{code}/transcript``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import select
from sqlmodel import col

from experts import pool
from experts.answers import Asked, ListedPlace, answer, asked, drawn_list
from experts.imports import import_experts
from experts.models import Expert, ExpertDrawRequest
from experts.record import record_of
from experts.requests import draw_experts, fix_pools, load_request, release_experts, request_draw
from experts.schemas import (
    AnswerIn,
    DrawRequestIn,
    EntropyIn,
    ExpertRead,
    PenaltyIn,
    RelationIn,
    StatusIn,
)
from tendering.core import reports
from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.deps import CurrentActor, Page, Secrets, SigningKey, UploadSlot
from tendering.core.draws.checks import check_stored
from tendering.core.errors import ErrorCode, InvalidInput
from tendering.core.pagination import OffsetPagination, paginate

__all__ = ["ExpertAnswerController", "ExpertController"]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
READERS = requires_role(Role.STAFF, Role.SUPERVISOR, Role.ADMIN)
WITNESS = requires_role(Role.SUPERVISOR)
MAX_IMPORT_BYTES = 64 * 1024 * 1024
Code = FromPath[str]


class RequestRead(BaseModel):
    draw_code: str
    supplements: str | None
    lot: str
    title: str
    tenderer: str
    evaluation_at: AwareDatetime
    place: str
    tenderer_reps: int
    categories: list[dict[str, Any]]
    rules: dict[str, Any]
    state: str
    requested_by: str
    witness: str

    @classmethod
    def of(cls, row: ExpertDrawRequest) -> RequestRead:
        return cls(
            **{k: getattr(row, k) for k in ("draw_code", "supplements", "lot", "title")},
            tenderer=row.tenderer,
            evaluation_at=row.evaluation_at,
            place=row.place,
            tenderer_reps=row.tenderer_reps,
            categories=row.categories,
            rules=row.rules,
            state=row.state,
            requested_by=f"user:{row.requested_by}",
            witness=f"user:{row.witness_id}",
        )


class PlaceRead(BaseModel):
    draw_code: str
    slot: int
    category: str
    order: int
    serving: bool
    state: str
    expert: str
    name: str
    id_masked: str
    employer: str
    phone: str
    deadline: AwareDatetime | None
    answered_at: AwareDatetime | None

    @classmethod
    def of(cls, p: ListedPlace, counts: dict[str, int]) -> PlaceRead:
        return cls(
            draw_code=p.place.draw_code,
            slot=p.place.slot,
            category=p.place.category,
            order=p.place.order,
            serving=p.place.order < counts.get(p.place.category, 0),
            state=p.place.state.value,
            expert=p.place.expert,
            name=p.name,
            id_masked=p.id_masked,
            employer=p.employer,
            phone=p.phone,
            deadline=p.place.deadline,
            answered_at=p.place.answered_at,
        )


class AskedRead(BaseModel):
    lot: str
    title: str
    evaluation_at: AwareDatetime
    place: str
    deadline: AwareDatetime | None
    state: str

    @classmethod
    def of(cls, a: Asked) -> AskedRead:
        return cls(
            lot=a.lot,
            title=a.title,
            evaluation_at=a.evaluation_at,
            place=a.place,
            deadline=a.deadline,
            state=a.state.value,
        )


def _expert_read(e: Expert) -> ExpertRead:
    return ExpertRead(
        code=e.code,
        name=e.name,
        id_masked=e.id_masked,
        employer=e.employer,
        specialties=e.specialties,
        region=e.region,
        title=e.title,
        status=e.status,
        suspended_until=e.suspended_until.isoformat() if e.suspended_until else None,
        updated_at=e.updated_at,
    )


class ExpertController(Controller):
    path = "/api/experts"
    tags = ["experts"]  # noqa: RUF012

    @post(
        "/import",
        guards=[STAFF],
        summary="Import the pool from a CSV export (UTF-8 or GBK); all or nothing by default",
        request_max_body_size=MAX_IMPORT_BYTES,
        status_code=200,
    )
    async def import_file(
        self,
        db_session: DbSession,
        request: Request[Any, Any, Any],
        secrecy: Secrets,
        actor: CurrentActor,
        upload_slot: UploadSlot,
        accept_valid: Annotated[
            bool, QueryParameter(description="write the valid rows, report the rest")
        ] = False,
    ) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            raise InvalidInput("请把CSV文件作为请求体发送 (send the CSV as the body)", field="body")
        report = await import_experts(
            db_session, secrecy=secrecy, raw=raw, actor=actor, accept_valid=accept_valid
        )
        if report.rejected and not accept_valid:
            raise InvalidInput(
                f"{len(report.rejected)} 行被拒绝，未导入任何专家 ({len(report.rejected)} rows"
                " rejected, nothing imported: see details.rejected)",
                code=ErrorCode.EXPERT_IMPORT_REJECTED,
                field="body",
                details=report.to_json(),
            )
        return report.to_json()

    @get("/", guards=[READERS], summary="The pool, ID numbers masked")
    async def list_experts(
        self,
        db_session: DbSession,
        page: Page,
        specialty: Annotated[
            str | None, QueryParameter(max_length=20, pattern=r"^[A-Z](\d\d)*$")
        ] = None,
    ) -> OffsetPagination[ExpertRead]:
        query = select(Expert).order_by(col(Expert.code))
        if specialty:
            query = query.where(col(Expert.specialty_keys).contains([specialty]))
        rows, total = await paginate(db_session, query, page)
        return OffsetPagination(
            items=[_expert_read(r[0]) for r in rows],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )

    @get("/{code:str}", guards=[READERS], summary="One expert, ID number masked")
    async def get_expert(self, db_session: DbSession, code: Code) -> ExpertRead:
        return _expert_read(await pool.get_expert(db_session, code))

    @post("/{code:str}/relations", guards=[STAFF], summary="Record a declared relation")
    async def add_relation(
        self, db_session: DbSession, actor: CurrentActor, code: Code, data: JSONBody[RelationIn]
    ) -> dict[str, int]:
        count = await pool.add_relation(
            db_session,
            code=code,
            organization=data.organization,
            relation=data.relation,
            actor=actor,
        )
        return {"relations": count}

    @post("/{code:str}/penalties", guards=[STAFF], summary="Record a penalty")
    async def add_penalty(
        self, db_session: DbSession, actor: CurrentActor, code: Code, data: JSONBody[PenaltyIn]
    ) -> dict[str, int]:
        count = await pool.add_penalty(
            db_session,
            code=code,
            reason=data.reason,
            penalized_on=pool.parse_day(data.penalized_on, "penalized_on"),
            until=pool.parse_day(data.until, "until") if data.until else None,
            actor=actor,
        )
        return {"penalties": count}

    @put("/{code:str}/status", guards=[STAFF], summary="Suspend or reinstate an expert")
    async def set_status(
        self, db_session: DbSession, actor: CurrentActor, code: Code, data: JSONBody[StatusIn]
    ) -> ExpertRead:
        until = (
            pool.parse_day(data.suspended_until, "suspended_until")
            if data.suspended_until
            else None
        )
        expert = await pool.set_status(
            db_session, code=code, status=data.status, until=until, actor=actor
        )
        return _expert_read(expert)

    @post("/draws", guards=[STAFF], summary="Request experts for a lot: the commitment published")
    async def request(
        self,
        db_session: DbSession,
        secrecy: Secrets,
        actor: CurrentActor,
        data: JSONBody[DrawRequestIn],
    ) -> RequestRead:
        return RequestRead.of(
            await request_draw(db_session, secrecy=secrecy, spec=data, actor=actor)
        )

    @get("/draws/{code:str}", guards=[READERS], summary="A request (never its list)")
    async def get_request(self, db_session: DbSession, code: Code) -> RequestRead:
        return RequestRead.of(await load_request(db_session, code))

    @post("/draws/{code:str}/pools", guards=[STAFF], summary="Apply avoidance, fix the pools")
    async def fix(
        self, db_session: DbSession, secrecy: Secrets, actor: CurrentActor, code: Code
    ) -> RequestRead:
        await fix_pools(db_session, secrecy=secrecy, code=code, actor=actor)
        return RequestRead.of(await load_request(db_session, code))

    @post("/draws/{code:str}/draw", guards=[WITNESS], summary="The witness's entropy: the draw")
    async def draw(
        self,
        db_session: DbSession,
        secrecy: Secrets,
        platform_key: SigningKey,
        actor: CurrentActor,
        code: Code,
        data: JSONBody[EntropyIn],
    ) -> dict[str, Any]:
        signed, short = await draw_experts(
            db_session,
            secrecy=secrecy,
            key=platform_key,
            code=code,
            witness_entropy=data.witness_entropy,
            actor=actor,
        )
        # The list stays sealed: the answer says how many were drawn, not whom.
        picks = sum(len(c["picks"]) for c in signed["categories"])
        return {"draw": code, "picks": picks, "short": short}

    @get("/draws/{code:str}/list", guards=[READERS], summary="Who was drawn (sealed)")
    async def drawn(
        self, db_session: DbSession, secrecy: Secrets, actor: CurrentActor, code: Code
    ) -> list[PlaceRead]:
        places = await drawn_list(db_session, secrecy=secrecy, code=code, actor=actor)
        counts: dict[str, dict[str, int]] = {}
        for draw_code in {p.place.draw_code for p in places}:
            request = await load_request(db_session, draw_code)
            counts[draw_code] = {c["specialty"]: c["count"] for c in request.categories}
        return [PlaceRead.of(p, counts[p.place.draw_code]) for p in places]

    @get(
        "/draws/{code:str}/record.pdf",
        guards=[READERS],
        summary="The draw record (抽取记录表), PDF",
        media_type="application/pdf",
    )
    async def record(
        self, db_session: DbSession, secrecy: Secrets, actor: CurrentActor, code: Code
    ) -> Response[bytes]:
        report = await record_of(db_session, secrecy=secrecy, code=code, actor=actor)
        body = await asyncio.to_thread(reports.render_pdf, report)
        return Response(
            body,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{code}-record.pdf"'},
        )

    @get("/draws/{code:str}/rerun", guards=[READERS], summary="Re-run the draw against the chain")
    async def rerun(
        self,
        db_session: DbSession,
        secrecy: Secrets,
        platform_key: SigningKey,
        actor: CurrentActor,
        code: Code,
    ) -> dict[str, Any]:
        check = await check_stored(
            db_session, secrecy=secrecy, key=platform_key, code=code, actor=actor
        )
        return check.to_json()

    @post("/draws/{code:str}/release", guards=[STAFF], summary="The evaluation starts")
    async def release(
        self, db_session: DbSession, secrecy: Secrets, actor: CurrentActor, code: Code
    ) -> RequestRead:
        return RequestRead.of(
            await release_experts(db_session, secrecy=secrecy, code=code, actor=actor)
        )


class ExpertAnswerController(Controller):
    """The expert's one-time link: no login, the token is the credential."""

    path = "/api/experts/answers"
    tags = ["experts (answers)"]  # noqa: RUF012
    security = [{}]  # noqa: RUF012

    @get(
        "/{token:str}",
        opt=public("an expert answers by the one-time link sent to their phone, the credential"),
        summary="What the link asks",
    )
    async def show(self, db_session: DbSession, token: Code) -> AskedRead:
        return AskedRead.of(await asked(db_session, token=token))

    @post(
        "/{token:str}",
        opt=public("an expert answers by the one-time link sent to their phone, the credential"),
        summary="Confirm or decline, once",
        status_code=200,
    )
    async def reply(
        self, db_session: DbSession, secrecy: Secrets, token: Code, data: JSONBody[AnswerIn]
    ) -> AskedRead:
        return AskedRead.of(
            await answer(db_session, secrecy=secrecy, token=token, accept=data.accept)
        )
