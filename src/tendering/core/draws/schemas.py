"""What the draws API gives (``GET /api/draws``, ``.../verify``)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from tendering.core.draws.models import DrawKind, DrawState
from tendering.core.draws.views import DrawView

__all__ = ["DrawRead", "TranscriptCheckRead"]


class DrawRead(BaseModel):
    code: str
    kind: DrawKind = Field(description="experts (评标专家) or agencies (代理机构)")
    subject: str = Field(description="what the draw is for, e.g. lot:L-2026-001")
    title: str
    supplements: str | None = Field(description="the draw this one tops up, if any")
    state: DrawState
    sealed: bool = Field(description="the list is secret until released")
    commitment: str = Field(description="SHA-256 of the server secret, published when scheduled")
    pool_hash: str | None = Field(description="SHA-256 of the fixed pools, before the entropy")
    transcript_sha256: str | None = Field(description="SHA-256 of the signed transcript")
    requested_by: str = Field(description="user:<id> of the staff member running it")
    witness: str = Field(description="user:<id> of the witnessing supervisor")
    scheduled_at: AwareDatetime | None
    pools_fixed_at: AwareDatetime | None
    drawn_at: AwareDatetime | None
    released_at: AwareDatetime | None

    @classmethod
    def of(cls, view: DrawView) -> DrawRead:
        return cls(
            code=view.code,
            kind=view.kind,
            subject=view.subject,
            title=view.title,
            supplements=view.supplements,
            state=view.state,
            sealed=view.sealed,
            commitment=view.commitment,
            pool_hash=view.pool_hash,
            transcript_sha256=view.transcript_sha256,
            requested_by=f"user:{view.requested_by}",
            witness=f"user:{view.witness_id}",
            scheduled_at=view.scheduled_at,
            pools_fixed_at=view.pools_fixed_at,
            drawn_at=view.drawn_at,
            released_at=view.released_at,
        )


class TranscriptCheckRead(BaseModel):
    draw: str | None
    ok: bool
    problems: list[str] = Field(description="every problem found, in plain words")
