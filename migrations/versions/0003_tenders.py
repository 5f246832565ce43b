"""tenders tables, the working-day calendar (seeded with 2025 and 2026)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

from tendering.core.holidays.shipped import SHIPPED_DAYS

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _seed() -> None:
    days = sa.table(
        "calendar_day",
        sa.column("day", sa.Date()),
        sa.column("kind", sa.String()),
        sa.column("name", sa.String()),
    )
    # 2025 and 2026 as the State Council announced them; staff add later years.
    op.bulk_insert(days, [{"day": d, "kind": k, "name": n} for d, k, n in SHIPPED_DAYS])
    rules = sa.table(
        "tender_rule_setting",
        sa.column("id", sa.Integer()),
        sa.column("min_document_days", sa.Integer()),
        sa.column("min_bid_days", sa.Integer()),
        sa.column("max_deposit_bp", sa.Integer()),
        sa.column("amendment_days", sa.Integer()),
    )
    op.bulk_insert(
        rules,
        [
            {
                "id": 1,
                "min_document_days": 5,
                "min_bid_days": 20,
                "max_deposit_bp": 200,
                "amendment_days": 15,
            }
        ],
    )


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_calendar_day_kind")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "tender_rule_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("min_document_days", sa.Integer(), nullable=False),
        sa.Column("min_bid_days", sa.Integer(), nullable=False),
        sa.Column("max_deposit_bp", sa.Integer(), nullable=False),
        sa.Column("amendment_days", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_tender_rule_setting_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_rule_setting")),
    )
    op.create_table(
        "tender_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("tenderer_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("funding_source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("estimated_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("rule_overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "category IN ('works', 'goods', 'services')", name=op.f("ck_tender_project_category")
        ),
        sa.CheckConstraint("method IN ('open', 'invited')", name=op.f("ck_tender_project_method")),
        sa.ForeignKeyConstraint(
            ["tenderer_id"],
            ["organization.id"],
            name=op.f("fk_tender_project_tenderer_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_project")),
        sa.UniqueConstraint("code", name=op.f("uq_tender_project_code")),
    )
    op.create_index(
        op.f("ix_tender_project_tenderer_id"), "tender_project", ["tenderer_id"], unique=False
    )
    op.create_table(
        "tender_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("estimated_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("bid_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("custodian_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("custodian_k", sa.Integer(), nullable=False),
        sa.Column("max_bid_mb", sa.Integer(), server_default="1024", nullable=False),
        sa.CheckConstraint("custodian_k >= 1", name=op.f("ck_tender_lot_custodian_k_positive")),
        sa.CheckConstraint(
            "max_bid_mb BETWEEN 1 AND 102400", name=op.f("ck_tender_lot_max_bid_mb_range")
        ),
        sa.CheckConstraint("deposit_fen >= 0", name=op.f("ck_tender_lot_deposit_not_negative")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["tender_project.id"],
            name=op.f("fk_tender_lot_project_id_tender_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_lot")),
        sa.UniqueConstraint("code", name=op.f("uq_tender_lot_code")),
    )
    op.create_index(op.f("ix_tender_lot_project_id"), "tender_lot", ["project_id"], unique=False)
    op.create_table(
        "tender_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("documents_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("documents_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bid_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opening_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'published', 'closed')",
            name=op.f("ck_tender_notice_status"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["tender_project.id"],
            name=op.f("fk_tender_notice_project_id_tender_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_notice")),
    )
    op.create_index(
        op.f("ix_tender_notice_project_id"), "tender_notice", ["project_id"], unique=False
    )
    op.create_index(
        "ix_tender_notice_status_published_at",
        "tender_notice",
        ["status", "published_at"],
        unique=False,
    )
    op.create_table(
        "tender_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_opening", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_opening", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('clarification', 'amendment')", name=op.f("ck_tender_amendment_kind")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["tender_notice.id"],
            name=op.f("fk_tender_amendment_notice_id_tender_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_amendment")),
        sa.UniqueConstraint(
            "notice_id", "number", name=op.f("uq_tender_amendment_notice_id_number")
        ),
    )
    op.create_index(
        op.f("ix_tender_amendment_notice_id"), "tender_amendment", ["notice_id"], unique=False
    )
    op.create_table(
        "tender_notice_lot",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_tender_notice_lot_lot_id_tender_lot")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["tender_notice.id"],
            name=op.f("fk_tender_notice_lot_notice_id_tender_notice"),
        ),
        sa.PrimaryKeyConstraint("notice_id", "lot_id", name=op.f("pk_tender_notice_lot")),
    )
    op.create_index(
        op.f("ix_tender_notice_lot_lot_id"), "tender_notice_lot", ["lot_id"], unique=False
    )
    op.create_table(
        "tender_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asker_organization_id", sa.Integer(), nullable=False),
        sa.Column("asker_ref", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asker_organization_id"],
            ["organization.id"],
            name=op.f("fk_tender_question_asker_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["tender_notice.id"],
            name=op.f("fk_tender_question_notice_id_tender_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_question")),
        sa.UniqueConstraint("asker_ref", name=op.f("uq_tender_question_asker_ref")),
        sa.UniqueConstraint(
            "notice_id", "number", name=op.f("uq_tender_question_notice_id_number")
        ),
    )
    op.create_index(
        op.f("ix_tender_question_notice_id"), "tender_question", ["notice_id"], unique=False
    )
    op.create_table(
        "tender_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_tender_registration_lot_id_tender_lot")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_tender_registration_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_tender_registration_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_registration")),
        sa.UniqueConstraint(
            "lot_id", "organization_id", name=op.f("uq_tender_registration_lot_id_organization_id")
        ),
        sa.UniqueConstraint("ref", name=op.f("uq_tender_registration_ref")),
    )
    op.create_index(
        op.f("ix_tender_registration_lot_id"), "tender_registration", ["lot_id"], unique=False
    )
    op.create_index(
        op.f("ix_tender_registration_organization_id"),
        "tender_registration",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "tender_notice_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["tender_amendment.id"],
            name=op.f("fk_tender_notice_document_amendment_id_tender_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["tender_notice.id"],
            name=op.f("fk_tender_notice_document_notice_id_tender_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tender_notice_document")),
    )
    op.create_index(
        op.f("ix_tender_notice_document_notice_id"),
        "tender_notice_document",
        ["notice_id"],
        unique=False,
    )
    op.create_table(
        "tender_registration_message",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["tender_amendment.id"],
            name=op.f("fk_tender_registration_message_amendment_id_tender_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_tender_registration_message_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "amendment_id", name=op.f("pk_tender_registration_message")
        ),
    )
    _seed()


def downgrade() -> None:
    op.drop_table("tender_registration_message")
    op.drop_index(op.f("ix_tender_notice_document_notice_id"), table_name="tender_notice_document")
    op.drop_table("tender_notice_document")
    op.drop_index(op.f("ix_tender_registration_organization_id"), table_name="tender_registration")
    op.drop_index(op.f("ix_tender_registration_lot_id"), table_name="tender_registration")
    op.drop_table("tender_registration")
    op.drop_index(op.f("ix_tender_question_notice_id"), table_name="tender_question")
    op.drop_table("tender_question")
    op.drop_index(op.f("ix_tender_notice_lot_lot_id"), table_name="tender_notice_lot")
    op.drop_table("tender_notice_lot")
    op.drop_index(op.f("ix_tender_amendment_notice_id"), table_name="tender_amendment")
    op.drop_table("tender_amendment")
    op.drop_index("ix_tender_notice_status_published_at", table_name="tender_notice")
    op.drop_index(op.f("ix_tender_notice_project_id"), table_name="tender_notice")
    op.drop_table("tender_notice")
    op.drop_index(op.f("ix_tender_lot_project_id"), table_name="tender_lot")
    op.drop_table("tender_lot")
    op.drop_index(op.f("ix_tender_project_tenderer_id"), table_name="tender_project")
    op.drop_table("tender_project")
    op.drop_table("tender_rule_setting")
    op.drop_table("calendar_day")
