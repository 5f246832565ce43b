"""The expert pool, draw requests, drawn places, the outbox: what ``experts`` stores.

Personal data that identifies a person outside the platform (the ID number, the phone) is
kept only sealed (``core/secrecy.py``) in ``expert.personal``; the row shows the masked ID
(``3201**********1234``) and finds a person again by ``id_tag``, a keyed HMAC of the number.
Who was drawn is kept only sealed too: an ``expert_assignment`` row names its expert in a box
sealed for its own draw and place, so a reader of the database learns how many places a draw
has and how they were answered, never by whom (the list is secret until the evaluation).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Computed, Date, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = [
    "AssignmentState",
    "Expert",
    "ExpertAssignment",
    "ExpertDrawRequest",
    "ExpertEmployment",
    "ExpertOutbox",
    "ExpertPenalty",
    "ExpertRelation",
    "ExpertService",
    "ExpertStatus",
    "RequestState",
]


# An organization's name as avoidance compares it (``rules.org_key``: no spaces, half-width
# brackets), computed and indexed by the database so the lot's parties are an index lookup.
ORG_KEY_SQL = "translate(organization, '（） 　', '()')"


def _org_key_column() -> Column[str]:
    return Column(String(200), Computed(ORG_KEY_SQL, persisted=True), index=True)


class ExpertStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # until ``suspended_until`` (none: until lifted)


class RequestState(StrEnum):
    SCHEDULED = "scheduled"  # commitment published
    POOLS_FIXED = "pools_fixed"  # avoidance applied, pool hash published
    DRAWN = "drawn"  # the places are being confirmed
    RELEASED = "released"  # the evaluation started: the list is known


class AssignmentState(StrEnum):
    WAITING = "waiting"  # a backup not called yet
    NOTIFIED = "notified"  # asked; the link is live until ``deadline``
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"  # no answer in time
    UNUSED = "unused"  # a backup no longer needed, or a place filled otherwise


class Expert(SQLModel, table=True):
    __tablename__ = "expert"
    __table_args__ = (
        enum_check("status", ExpertStatus, name="status"),
        Index("ix_expert_specialty_keys", "specialty_keys", postgresql_using="gin"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, description="public code: the draw's id")
    name: str = Field(max_length=50)
    id_tag: str = Field(max_length=64, unique=True, description="HMAC of the ID number")
    id_masked: str = Field(max_length=18)
    personal: str = Field(sa_column=Column(Text, nullable=False))  # sealed id number, phone
    employer: str = Field(max_length=200)
    specialties: list[str] = Field(sa_column=Column(ARRAY(String(20)), nullable=False))
    # Every prefix of every specialty (A, A08, A0801): a request for A08 finds A0801 here.
    specialty_keys: list[str] = Field(sa_column=Column(ARRAY(String(20)), nullable=False))
    region: str = Field(default="", max_length=50)
    title: str = Field(default="", max_length=50)
    unavailable: list[date] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Date), nullable=False, server_default=text("'{}'")),
    )
    status: str = Field(default=ExpertStatus.ACTIVE.value, max_length=20)
    suspended_until: date | None = Field(default=None)
    updated_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class ExpertEmployment(SQLModel, table=True):
    """Where an expert worked: the current employer (``ended_on`` none) and earlier ones."""

    __tablename__ = "expert_employment"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    organization: str = Field(max_length=200)
    org_key: str | None = Field(default=None, sa_column=_org_key_column())
    started_on: date | None = Field(default=None)
    ended_on: date | None = Field(default=None)


class ExpertRelation(SQLModel, table=True):
    """A relation the expert declared (a spouse at a company, a former student ...)."""

    __tablename__ = "expert_relation"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    organization: str = Field(max_length=200)
    org_key: str | None = Field(default=None, sa_column=_org_key_column())
    relation: str = Field(max_length=100)


class ExpertPenalty(SQLModel, table=True):
    __tablename__ = "expert_penalty"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    reason: str = Field(max_length=300)
    penalized_on: date
    until: date | None = Field(default=None, description="none: for good")


class ExpertService(SQLModel, table=True):
    """An evaluation served, written when its draw is released (then the list is known)."""

    __tablename__ = "expert_service"
    __table_args__ = (UniqueConstraint("expert_id", "draw_code", name="one_per_draw"),)

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    draw_code: str = Field(max_length=64)
    tenderer: str = Field(max_length=200)
    served_on: date


class ExpertDrawRequest(SQLModel, table=True):
    """A lot's request for experts; its draw is ``draw`` row ``draw_code`` (core.draws)."""

    __tablename__ = "expert_draw_request"
    __table_args__ = (enum_check("state", RequestState, name="state"),)

    id: int | None = Field(default=None, primary_key=True)
    draw_code: str = Field(max_length=64, unique=True)
    supplements: str | None = Field(default=None, max_length=64, index=True)
    lot: str = Field(max_length=64, index=True)
    title: str = Field(max_length=300)
    tenderer: str = Field(max_length=200)
    evaluation_at: datetime = Field(sa_column=utc_column())
    place: str = Field(max_length=200)
    tenderer_reps: int
    # [{"specialty", "count", "backups"}] in request order; {"service_months", ...}
    categories: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    rules: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    # Sealed: {"bidders": [...], "exclusions": [{"expert", "reason"}]}: who bid, and whom
    # staff struck, would tell too much before the evaluation.
    parties: str = Field(sa_column=Column(Text, nullable=False))
    confirm_minutes: int
    state: str = Field(max_length=20)
    requested_by: int = Field(foreign_key="app_user.id")
    witness_id: int = Field(foreign_key="app_user.id")
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class ExpertAssignment(SQLModel, table=True):
    """One drawn place (a pick of the transcript, serving or backup), sealed."""

    __tablename__ = "expert_assignment"
    __table_args__ = (
        enum_check("state", AssignmentState, name="state"),
        UniqueConstraint("draw_code", "slot", name="one_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draw_code: str = Field(max_length=64, index=True)
    slot: int = Field(description="the pick's place in the transcript, from 0")
    category: str = Field(max_length=20)
    box: str = Field(sa_column=Column(Text, nullable=False))  # sealed {"expert", "order"}
    state: str = Field(max_length=20)
    token_sha256: str | None = Field(default=None, max_length=64, unique=True)
    deadline: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ExpertOutbox(SQLModel, table=True):
    """Messages to experts, sent by the notifier after the transaction that wrote them."""

    __tablename__ = "expert_outbox"

    id: int | None = Field(default=None, primary_key=True)
    box: str = Field(sa_column=Column(Text, nullable=False))  # sealed {"to", "text"}
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, max_length=300)
