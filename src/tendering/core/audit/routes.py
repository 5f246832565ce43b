"""Audit chain API, for the supervisory bureau (and admins): verify, list streams and events.

GET /api/audit/verify?stream=lot:L-1     the verification report (all streams without it)
GET /api/audit/streams                   heads and last checkpoints
GET /api/audit/streams/lot:L-1/events?after_seq=0&limit=100
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from tendering.core.audit.chain import ALGORITHM
from tendering.core.audit.schemas import (
    AuditEventRead,
    CheckpointRead,
    EventPage,
    StreamRead,
    StreamReportRead,
    VerifyReport,
)
from tendering.core.audit.service import list_events, list_streams
from tendering.core.audit.verify import verify_streams
from tendering.core.auth.guards import requires_role
from tendering.core.auth.models import Role
from tendering.core.db import DbSession
from tendering.core.deps import SigningKey

__all__ = ["AuditController"]

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="at most this many (1-1000)")]


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
        after: Annotated[
            str, QueryParameter(description="the last stream of the previous page")
        ] = "",
        limit: Limit = 100,
    ) -> list[StreamRead]:
        heads = await list_streams(db_session, after=after, limit=limit)
        return [
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

    @get("/streams/{stream:str}/events", summary="A stream's events, oldest first, paged by seq")
    async def events(
        self,
        db_session: DbSession,
        stream: FromPath[str],
        after_seq: Annotated[int, QueryParameter(ge=0, description="events after this seq")] = 0,
        limit: Limit = 100,
    ) -> EventPage:
        events = await list_events(db_session, stream=stream, after_seq=after_seq, limit=limit)
        return EventPage(
            stream=stream,
            events=[AuditEventRead.model_validate(dict(e)) for e in events],
            next_after_seq=events[-1]["seq"] if len(events) == limit else None,
        )
