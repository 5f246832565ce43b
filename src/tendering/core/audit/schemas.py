"""What the audit API gives: verification reports, stream heads, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "AuditEventRead",
    "CheckpointRead",
    "ProblemRead",
    "StreamRead",
    "StreamReportRead",
    "VerifyReport",
]


class ProblemRead(BaseModel):
    seq: int
    reason: str


class StreamReportRead(BaseModel):
    stream: str
    ok: bool
    events: int
    head_seq: int | None
    checkpoints: int
    last_checkpoint_seq: int | None
    first_bad_seq: int | None = Field(description="the first seq an auditor should look at")
    reason: str | None
    problems: list[ProblemRead]


class VerifyReport(BaseModel):
    algorithm: str = "chain-v1"
    ok: bool
    key_id: str = Field(description="SHA-256 hex of the public key checkpoints were checked with")
    streams: list[StreamReportRead]


class CheckpointRead(BaseModel):
    seq: int
    hash: str
    signature: str = Field(description="base64 Ed25519 over canonical {hash, seq, stream}")
    signed_at: datetime | None


class StreamRead(BaseModel):
    stream: str
    head_seq: int
    head_hash: str
    last_checkpoint: CheckpointRead | None


class AuditEventRead(BaseModel):
    stream: str
    seq: int
    action: str
    actor: str
    at: str = Field(description="RFC 3339 UTC with microseconds, as hashed")
    payload: dict[str, Any]
    prev_hash: str
    hash: str
