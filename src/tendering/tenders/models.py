"""Tables of the tender publication context.

A ``TenderProject`` (one transaction code for its whole life) has ``Lot``s (标段); a
``Notice`` (招标公告) announces one or more lots of a project with a schedule, documents,
amendments (澄清/修改) and questions (答疑). ``Registration`` (获取招标文件) ties a bidder
organization to a lot; who registered is secret until opening, so no registration's row
id, count or organization leaves the service except to the registering organization, and
the table itself names no lot, organization or user (``tenders/registration.py``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, fen_column, utc_column

__all__ = [
    "Amendment",
    "AmendmentKind",
    "Category",
    "Lot",
    "LotResult",
    "Notice",
    "NoticeDocument",
    "NoticeLot",
    "NoticeStatus",
    "ProcurementMethod",
    "Question",
    "Registration",
    "TenderProject",
    "TenderRuleSetting",
]


class Category(StrEnum):
    WORKS = "works"  # 工程
    GOODS = "goods"  # 货物
    SERVICES = "services"  # 服务


class ProcurementMethod(StrEnum):
    OPEN = "open"  # 公开招标
    INVITED = "invited"  # 邀请招标


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    CLOSED = "closed"


class LotResult(StrEnum):
    """What the opening decided for a lot (the opening context reports it)."""

    OPENED = "opened"  # 开标: enough valid bids, on to the evaluation
    FAILED = "failed"  # 流标: fewer valid bids than the rules require


class AmendmentKind(StrEnum):
    CLARIFICATION = "clarification"  # 澄清
    AMENDMENT = "amendment"  # 修改


class TenderRuleSetting(SQLModel, table=True):
    """The center's defaults for the legal schedule checks (one row, id 1); the CHECKs keep
    each at least as strict as the law (``rules.STATUTORY_LIMITS``)."""

    __tablename__ = "tender_rule_setting"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("min_document_days >= 5", name="document_days_floor"),
        CheckConstraint("min_bid_days >= 20", name="bid_days_floor"),
        CheckConstraint("max_deposit_bp <= 200", name="deposit_cap"),
        CheckConstraint("amendment_days >= 15", name="amendment_days_floor"),
        CheckConstraint("min_valid_bids >= 3", name="valid_bids_floor"),
    )

    id: int = Field(default=1, primary_key=True)
    min_document_days: int = Field(default=5)
    min_bid_days: int = Field(default=20)
    max_deposit_bp: int = Field(default=200, description="basis points of the estimated price")
    amendment_days: int = Field(default=15)
    min_valid_bids: int = Field(default=3, sa_column_kwargs={"server_default": "3"})


class TenderProject(SQLModel, table=True):
    __tablename__ = "tender_project"
    __table_args__ = (
        enum_check("category", Category, name="category"),
        enum_check("method", ProcurementMethod, name="method"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, description="transaction code JY-2026-0001")
    title: str = Field(max_length=300)
    tenderer_id: int = Field(foreign_key="organization.id", index=True)
    category: str = Field(max_length=20)
    method: str = Field(max_length=20)
    funding_source: str = Field(max_length=200)
    region: str = Field(default="", max_length=100)
    estimated_price_fen: int = Field(sa_column=fen_column())
    rule_overrides: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False)
    )
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class Lot(SQLModel, table=True):
    __tablename__ = "tender_lot"
    __table_args__ = (
        CheckConstraint("deposit_fen >= 0", name="deposit_not_negative"),
        CheckConstraint("custodian_k >= 1", name="custodian_k_positive"),
        CheckConstraint("max_bid_mb BETWEEN 1 AND 102400", name="max_bid_mb_range"),
        enum_check("result", LotResult, name="result"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="tender_project.id", index=True)
    code: str = Field(max_length=80, unique=True, description="public code JY-2026-0001-01")
    title: str = Field(max_length=300)
    estimated_price_fen: int = Field(sa_column=fen_column())
    deposit_fen: int = Field(sa_column=fen_column())
    # What bid.json must hold besides price_fen: [{name, type, required, min, max, label}].
    bid_fields: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    # Opening-key custodians (user ids); the key ceremony (k-of-n) is the opening context's.
    custodian_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    custodian_k: int = Field(default=1)
    # The largest sealed bid the lot accepts, in MiB (a drawing-heavy works tender needs more).
    max_bid_mb: int = Field(default=1024, sa_column_kwargs={"server_default": "1024"})
    # Set once when the lot's opening finishes (``record_lot_result``); public (OCDS).
    result: str | None = Field(default=None, max_length=20)
    result_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Notice(SQLModel, table=True):
    __tablename__ = "tender_notice"
    __table_args__ = (
        enum_check("status", NoticeStatus, name="status"),
        Index("ix_tender_notice_status_published_at", "status", "published_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="tender_project.id", index=True)
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default=NoticeStatus.DRAFT, max_length=20)
    documents_from: datetime = Field(sa_column=utc_column())
    documents_to: datetime = Field(sa_column=utc_column())
    bid_deadline: datetime = Field(sa_column=utc_column())
    opening_at: datetime = Field(sa_column=utc_column())
    publish_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # 终止招标: the public reason a notice was closed by termination (实施条例 第三十一条).
    termination_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class NoticeLot(SQLModel, table=True):
    __tablename__ = "tender_notice_lot"

    notice_id: int = Field(foreign_key="tender_notice.id", primary_key=True)
    lot_id: int = Field(foreign_key="tender_lot.id", primary_key=True, index=True)


class Amendment(SQLModel, table=True):
    """A clarification or amendment; ``old_*``/``new_*`` show a deadline it moved."""

    __tablename__ = "tender_amendment"
    __table_args__ = (
        enum_check("kind", AmendmentKind, name="kind"),
        UniqueConstraint("notice_id", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="tender_notice.id", index=True)
    number: int
    kind: str = Field(max_length=20)
    title: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime = Field(sa_column=utc_column())
    old_deadline: datetime = Field(sa_column=utc_column())
    new_deadline: datetime = Field(sa_column=utc_column())
    old_opening: datetime = Field(sa_column=utc_column())
    new_opening: datetime = Field(sa_column=utc_column())
    pushed: bool = Field(default=False, description="moved by the 15-day rule")
    question: int | None = Field(
        default=None, description="the number of the question whose published answer it corrects"
    )


class NoticeDocument(SQLModel, table=True):
    __tablename__ = "tender_notice_document"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="tender_notice.id", index=True)
    amendment_id: int | None = Field(default=None, foreign_key="tender_amendment.id")
    title: str = Field(max_length=300)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    size: int
    uploaded_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class Question(SQLModel, table=True):
    """A bidder's question. Only a registered bidder may ask, so the asker in clear would name
    one of the notice's potential bidders to a reader of the database: ``asker`` keeps its
    organization sealed (``core/secrecy.py``), and no API shows it; the audit chain and the
    public see only ``asker_ref``, a random reference."""

    __tablename__ = "tender_question"
    __table_args__ = (UniqueConstraint("notice_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="tender_notice.id", index=True)
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    asker: str = Field(sa_column=Column(Text, nullable=False))
    asker_ref: str = Field(max_length=32, unique=True)
    asked_at: datetime = Field(sa_column=utc_column())
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Registration(SQLModel, table=True):
    """获取招标文件: the secret list of who may bid. ``ref`` is the only public handle.

    A reader of the database must learn neither who registered for a lot nor how many
    (招标投标法第二十二条), so no column names the lot, the organization or the user: ``tag``
    is the keyed hash of (lot, organization), distinct for every row and recomputed to find
    one; ``holder`` is the sealed lot, organization and user (``core/secrecy.py``).
    """

    __tablename__ = "tender_registration"

    id: int | None = Field(default=None, primary_key=True)
    tag: str = Field(max_length=64, unique=True)
    holder: str = Field(sa_column=Column(Text, nullable=False))
    ref: str = Field(max_length=32, unique=True)
    registered_at: datetime = Field(sa_column=utc_column())
    # Opens the audit chain's commitment to this registration; secret until the opening.
    nonce: str = Field(max_length=32)
