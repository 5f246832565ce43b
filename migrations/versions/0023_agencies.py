"""intermediary agencies: filings, pool, rulebooks, events, grades, selections

* ``agency`` (备案 filing, one per agency organization) with ``agency_certificate`` and
  ``agency_staff``; ``agency_pool_entry`` (预选库 per category and year);
* ``agency_rulebook`` (versioned scoring rules, JSONB), ``agency_event`` (violations, awards,
  client ratings, with their disputes), ``agency_grade_change`` (public grade history);
* ``agency_selection`` and ``agency_engagement``: a random selection (its draw lives in
  ``draw`` under the same code) and the drawn agencies in pick order.

New tables only: the downgrade drops them.

Revision ID: 0023
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_rulebook",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_agency_rulebook")),
    )
    op.create_table(
        "agency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("credit_code", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "categories",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "affiliations",
            postgresql.ARRAY(sa.String(length=40)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("review_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspension_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("scored_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "state IN ('submitted', 'approved', 'rejected')", name=op.f("ck_agency_state")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_agency_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["app_user.id"], name=op.f("fk_agency_reviewed_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("code", name=op.f("uq_agency_code")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_agency_organization_id")),
    )
    op.create_table(
        "agency_selection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("project", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("backups", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('scheduled', 'offered', 'engaged', 'failed')",
            name=op.f("ck_agency_selection_state"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["organization.id"],
            name=op.f("fk_agency_selection_client_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["app_user.id"],
            name=op.f("fk_agency_selection_requested_by_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_selection")),
        sa.UniqueConstraint("code", name=op.f("uq_agency_selection_code")),
    )
    op.create_index(
        op.f("ix_agency_selection_client_id"), "agency_selection", ["client_id"], unique=False
    )
    op.create_table(
        "agency_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_certificate_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_certificate")),
    )
    op.create_index(
        op.f("ix_agency_certificate_agency_id"), "agency_certificate", ["agency_id"], unique=False
    )
    op.create_table(
        "agency_engagement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("selection_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('waiting', 'offered', 'accepted', 'declined', 'completed')",
            name=op.f("ck_agency_engagement_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_engagement_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["selection_id"],
            ["agency_selection.id"],
            name=op.f("fk_agency_engagement_selection_id_agency_selection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_engagement")),
        sa.UniqueConstraint(
            "selection_id", "rank", name=op.f("uq_agency_engagement_selection_id_rank")
        ),
    )
    op.create_index(
        op.f("ix_agency_engagement_agency_id"), "agency_engagement", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_agency_engagement_selection_id"),
        "agency_engagement",
        ["selection_id"],
        unique=False,
    )
    op.create_table(
        "agency_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("type_code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("dispute_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('recorded', 'disputed', 'upheld', 'dismissed')",
            name=op.f("ck_agency_event_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_event_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_agency_event_decided_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_event")),
    )
    op.create_index(op.f("ix_agency_event_agency_id"), "agency_event", ["agency_id"], unique=False)
    op.create_table(
        "agency_grade_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("old_grade", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("new_grade", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("rulebook_version", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_grade_change_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_grade_change")),
    )
    op.create_index(
        op.f("ix_agency_grade_change_agency_id"), "agency_grade_change", ["agency_id"], unique=False
    )
    op.create_index(op.f("ix_agency_grade_change_at"), "agency_grade_change", ["at"], unique=False)
    op.create_table(
        "agency_pool_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('applied', 'approved', 'rejected')", name=op.f("ck_agency_pool_entry_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_pool_entry_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_agency_pool_entry_decided_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_pool_entry")),
        sa.UniqueConstraint(
            "agency_id",
            "category",
            "year",
            name=op.f("uq_agency_pool_entry_agency_id_category_year"),
        ),
    )
    op.create_index(
        op.f("ix_agency_pool_entry_agency_id"), "agency_pool_entry", ["agency_id"], unique=False
    )
    op.create_table(
        "agency_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("qualification", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_staff_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_staff")),
    )
    op.create_index(op.f("ix_agency_staff_agency_id"), "agency_staff", ["agency_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_agency_staff_agency_id"), table_name="agency_staff")
    op.drop_table("agency_staff")
    op.drop_index(op.f("ix_agency_pool_entry_agency_id"), table_name="agency_pool_entry")
    op.drop_table("agency_pool_entry")
    op.drop_index(op.f("ix_agency_grade_change_at"), table_name="agency_grade_change")
    op.drop_index(op.f("ix_agency_grade_change_agency_id"), table_name="agency_grade_change")
    op.drop_table("agency_grade_change")
    op.drop_index(op.f("ix_agency_event_agency_id"), table_name="agency_event")
    op.drop_table("agency_event")
    op.drop_index(op.f("ix_agency_engagement_selection_id"), table_name="agency_engagement")
    op.drop_index(op.f("ix_agency_engagement_agency_id"), table_name="agency_engagement")
    op.drop_table("agency_engagement")
    op.drop_index(op.f("ix_agency_certificate_agency_id"), table_name="agency_certificate")
    op.drop_table("agency_certificate")
    op.drop_index(op.f("ix_agency_selection_client_id"), table_name="agency_selection")
    op.drop_table("agency_selection")
    op.drop_table("agency")
    op.drop_table("agency_rulebook")
