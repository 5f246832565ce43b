"""The one table of draws, whichever context draws (experts, agencies).

A row follows draw-v1's steps: ``scheduled`` (the commitment published) → ``pools_fixed``
(the pool hash published) → ``drawn`` (the witness's entropy in, the transcript signed) →
``released``. What would tell a reader of the database who may be or was drawn stays sealed
(``core/secrecy.py``): the server secret, the fixed pools with their exclusions, and the
signed transcript. A ``sealed`` draw (an expert draw: the list is secret until the
evaluation starts) keeps them so until it is released, when ``published`` gets the signed
transcript in clear; an unsealed one (an agency selection) publishes it when drawn.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = ["Draw", "DrawKind", "DrawState"]


class DrawKind(StrEnum):
    EXPERTS = "experts"  # 评标专家抽取
    AGENCIES = "agencies"  # 代理机构选取


class DrawState(StrEnum):
    SCHEDULED = "scheduled"
    POOLS_FIXED = "pools_fixed"
    DRAWN = "drawn"
    RELEASED = "released"


class Draw(SQLModel, table=True):
    __tablename__ = "draw"
    __table_args__ = (
        enum_check("kind", DrawKind, name="kind"),
        enum_check("state", DrawState, name="state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, description="public code, e.g. D-2026-0001")
    kind: str = Field(max_length=20)
    subject: str = Field(max_length=200, index=True, description="what it is for: lot:<code>")
    title: str = Field(max_length=300)
    supplements: str | None = Field(default=None, max_length=64, description="an earlier draw")
    state: str = Field(max_length=20)
    sealed: bool = Field(description="transcript kept sealed until released")
    commitment: str = Field(max_length=64)
    pool_hash: str | None = Field(default=None, max_length=64)
    transcript_sha256: str | None = Field(default=None, max_length=64)
    secret: str = Field(sa_column=Column(Text, nullable=False))
    pools: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    transcript: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    published: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    requested_by: int = Field(foreign_key="app_user.id")
    witness_id: int = Field(foreign_key="app_user.id")
    scheduled_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    pools_fixed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    drawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    released_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
