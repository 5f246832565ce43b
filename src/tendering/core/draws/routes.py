"""Draws of every context, for the staff who run them and the bureaus who audit them.

    GET  /api/draws[?kind=experts|agencies&subject=lot:L-1]   newest first, paged
    GET  /api/draws/{code}
    GET  /api/draws/{code}/transcript     the signed draw-v1 transcript (canonical bytes)
    GET  /api/draws/{code}/verify         re-run the stored transcript against the chain
    POST /api/draws/verify                re-run a transcript handed in (the JSON object)

A sealed draw's transcript (an expert draw before the evaluation starts) is served only to
the staff member running it and to its witness; everyone else of these roles gets 403.
Agency selections are registered through the same service (``core/draws/service.py``) and
so appear here beside expert draws.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from tendering.core.auth.guards import requires_role
from tendering.core.auth.models import Role
from tendering.core.canonical import canonical_json
from tendering.core.db import DbSession
from tendering.core.deps import CurrentActor, Page, Secrets, SigningKey
from tendering.core.draws import checks, queries
from tendering.core.draws.models import DrawKind
from tendering.core.draws.schemas import DrawRead, TranscriptCheckRead
from tendering.core.pagination import OffsetPagination

__all__ = ["DrawController"]

Code = FromPath[str]


class DrawController(Controller):
    path = "/api/draws"
    tags = ["draws"]  # noqa: RUF012
    guards = [requires_role(Role.STAFF, Role.SUPERVISOR, Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Draws of experts and agencies, newest first")
    async def list_draws(
        self,
        db_session: DbSession,
        page: Page,
        kind: Annotated[DrawKind | None, QueryParameter(description="experts or agencies")] = None,
        subject: Annotated[
            str | None, QueryParameter(max_length=200, description="e.g. lot:L-2026-001")
        ] = None,
    ) -> OffsetPagination[DrawRead]:
        views, total = await queries.list_draws(db_session, page, kind=kind, subject=subject)
        return OffsetPagination(
            items=[DrawRead.of(v) for v in views], limit=page.limit, offset=page.offset, total=total
        )

    @get("/{code:str}", summary="One draw: its state and what the chain published")
    async def get_draw(self, db_session: DbSession, code: Code) -> DrawRead:
        return DrawRead.of(await queries.get_draw(db_session, code))

    @get(
        "/{code:str}/transcript",
        summary="The signed draw-v1 transcript, as its canonical bytes",
        description="Exactly the DESIGN.md object; its SHA-256 is the chain's transcript_sha256."
        " Re-run it with `tendering draws verify`.",
        media_type="application/json",
    )
    async def transcript(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, code: Code
    ) -> Response[bytes]:
        document = await queries.read_transcript(
            db_session, secrecy=secrecy, code=code, actor=actor
        )
        return Response(
            canonical_json(document),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{code}.json"'},
        )

    @get("/{code:str}/verify", summary="Re-run the stored transcript against the audit chain")
    async def verify_stored(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        platform_key: SigningKey,
        code: Code,
    ) -> TranscriptCheckRead:
        check = await checks.check_stored(
            db_session, secrecy=secrecy, key=platform_key, code=code, actor=actor
        )
        return TranscriptCheckRead.model_validate(check.to_json())

    @post("/verify", summary="Re-run a transcript handed in", status_code=200)
    async def verify_document(
        self, db_session: DbSession, platform_key: SigningKey, data: JSONBody[Any]
    ) -> TranscriptCheckRead:
        check = await checks.check_document(db_session, key=platform_key, document=data)
        return TranscriptCheckRead.model_validate(check.to_json())
