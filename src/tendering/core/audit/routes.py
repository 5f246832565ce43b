"""Audit chain API, for the supervisory bureau (and admins): verify, list streams and events.

GET /api/audit/verify?stream=lot:L-1     the verification report (all streams without it)
GET /api/audit/streams[?after=]          heads and last checkpoints, paged
GET /api/audit/streams/lot:L-1/events?after_seq=0&current_page=1&page_size=100
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from tendering.core.audit.chain import ALGORITHM
from tendering.core.audit.schemas import (
    AuditEventRead,
    CheckpointRead,
    StreamRead,
    StreamReportRead,
    VerifyReport,
)
from tendering.core.audit.service import events_page, streams_page
from tendering.core.audit.verify import verify_streams
from tendering.core.auth.guards import requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.deps import Page, SigningKey
from tendering.core.pagination import OffsetPagination

__all__ = ["AuditController"]


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]  # noqa: RUF012
    # The supervisory bureau verifies the chain independently; admins run the platform and
    # may check it too. Staff, whose actions the chain records, may not browse it here.
    guards = [requires_role(Role.SUPERVISOR, Role.ADMIN)]  # noqa: RUF012

    @get("/verify", summary="Re-check the audit chain (one stream, or all)")
    async def verify(
        self,
        db_session: DbSession,
        platform_key: SigningKey,
        stream: Annotated[str | None, QueryParameter(description="e.g. global, lot:L-1")] = None,
    ) -> VerifyReport:
        key = platform_key
        reports = [
            StreamReportRead.model_validate(report.to_json())
            async for report in verify_streams(db_session, public_key=key.public_raw, stream=stream)
        ]
        return VerifyReport(
            algorithm=ALGORITHM,
            ok=all(r.ok for r in reports),
            key_id=key.key_id,
            streams=reports,
        )

    @get("/streams", summary="Streams with their head and last signed checkpoint")
    async def streams(
        self,
        db_session: DbSession,
        page: Page,
        after: Annotated[
            str, QueryParameter(max_length=200, description="only streams named after this")
        ] = "",
    ) -> OffsetPagination[StreamRead]:
        heads, total = await streams_page(db_session, page, after=after)
        items = [
            StreamRead(
                stream=h.stream,
                head_seq=h.seq,
                head_hash=h.hash,
                last_checkpoint=None
                if h.checkpoint_seq is None
                else CheckpointRead(
                    seq=h.checkpoint_seq,
                    hash=h.checkpoint_hash or "",
                    signature=h.checkpoint_signature or "",
                    signed_at=h.checkpoint_signed_at,
                ),
            )
            for h in heads
        ]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @get("/streams/{stream:str}/events", summary="A stream's events, oldest first, paged by seq")
    async def events(
        self,
        db_session: DbSession,
        page: Page,
        stream: FromPath[str],
        after_seq: Annotated[
            int, QueryParameter(ge=0, le=2**62, description="only events after this seq")
        ] = 0,
    ) -> OffsetPagination[AuditEventRead]:
        events, total = await events_page(db_session, page, stream=stream, after_seq=after_seq)
        return OffsetPagination(
            items=[AuditEventRead.model_validate(dict(e)) for e in events],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )
