"""Tables of the audit chain ``chain-v1`` (DESIGN.md, "Audit chain").

``audit_event`` has exactly the columns an outside auditor re-checks; ``audit_stream`` holds
each stream's head (last seq and hash), the row that serializes appends to one stream and
makes ``seq`` gapless; ``audit_checkpoint`` holds the platform's signed (stream, seq, hash).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import utc_column

__all__ = ["AuditCheckpoint", "AuditEvent", "AuditStream"]


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    stream: str = Field(primary_key=True, max_length=200)
    seq: int = Field(primary_key=True)
    action: str = Field(max_length=100)
    actor: str = Field(max_length=100)
    at: datetime = Field(sa_column=utc_column())
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditStream(SQLModel, table=True):
    __tablename__ = "audit_stream"

    stream: str = Field(primary_key=True, max_length=200)
    seq: int
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    __tablename__ = "audit_checkpoint"

    stream: str = Field(primary_key=True, max_length=200)
    seq: int = Field(primary_key=True)
    hash: str = Field(max_length=64)
    signed_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    signature: str = Field(max_length=200, description="base64 Ed25519 over canonical JSON")
