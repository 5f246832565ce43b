"""evaluation experts: the pool, draw requests, sealed drawn places, the outbox

``expert`` keeps the ID number and phone only sealed (``personal``), the masked ID and a
keyed tag of the number in clear; ``expert_assignment`` names its expert only sealed; the
draws themselves are ``draw`` rows (0018).

Revision ID: 0020
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "expert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("id_tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("personal", sa.Text(), nullable=False),
        sa.Column("employer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("specialties", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("specialty_keys", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column(
            "unavailable",
            postgresql.ARRAY(sa.Date()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("suspended_until", sa.Date(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_expert_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert")),
        sa.UniqueConstraint("code", name=op.f("uq_expert_code")),
        sa.UniqueConstraint("id_tag", name=op.f("uq_expert_id_tag")),
    )
    op.create_index(
        "ix_expert_specialty_keys",
        "expert",
        ["specialty_keys"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "expert_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("box", sa.Text(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("token_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('waiting', 'notified', 'confirmed', 'declined', 'expired', 'unused')",
            name=op.f("ck_expert_assignment_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_assignment")),
        sa.UniqueConstraint("draw_code", "slot", name="one_slot"),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_expert_assignment_token_sha256")),
    )
    op.create_index(
        op.f("ix_expert_assignment_draw_code"), "expert_assignment", ["draw_code"], unique=False
    )
    op.create_table(
        "expert_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("box", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_outbox")),
    )
    op.create_table(
        "expert_employment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("organization", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["expert.id"], name=op.f("fk_expert_employment_expert_id_expert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_employment")),
    )
    op.create_index(
        op.f("ix_expert_employment_expert_id"), "expert_employment", ["expert_id"], unique=False
    )
    op.create_table(
        "expert_penalty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("penalized_on", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["expert.id"], name=op.f("fk_expert_penalty_expert_id_expert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_penalty")),
    )
    op.create_index(
        op.f("ix_expert_penalty_expert_id"), "expert_penalty", ["expert_id"], unique=False
    )
    op.create_table(
        "expert_relation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("organization", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["expert.id"], name=op.f("fk_expert_relation_expert_id_expert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_relation")),
    )
    op.create_index(
        op.f("ix_expert_relation_expert_id"), "expert_relation", ["expert_id"], unique=False
    )
    op.create_table(
        "expert_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("draw_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenderer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["expert.id"], name=op.f("fk_expert_service_expert_id_expert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_service")),
        sa.UniqueConstraint("expert_id", "draw_code", name="one_per_draw"),
    )
    op.create_index(
        op.f("ix_expert_service_expert_id"), "expert_service", ["expert_id"], unique=False
    )
    op.create_table(
        "expert_draw_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("supplements", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("lot", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("tenderer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("evaluation_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tenderer_reps", sa.Integer(), nullable=False),
        sa.Column("categories", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("parties", sa.Text(), nullable=False),
        sa.Column("confirm_minutes", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("witness_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('scheduled', 'pools_fixed', 'drawn', 'released')",
            name=op.f("ck_expert_draw_request_state"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["app_user.id"],
            name=op.f("fk_expert_draw_request_requested_by_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["app_user.id"], name=op.f("fk_expert_draw_request_witness_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_draw_request")),
        sa.UniqueConstraint("draw_code", name=op.f("uq_expert_draw_request_draw_code")),
    )
    op.create_index(
        op.f("ix_expert_draw_request_lot"), "expert_draw_request", ["lot"], unique=False
    )
    op.create_index(
        op.f("ix_expert_draw_request_supplements"),
        "expert_draw_request",
        ["supplements"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_expert_draw_request_supplements"), table_name="expert_draw_request")
    op.drop_index(op.f("ix_expert_draw_request_lot"), table_name="expert_draw_request")
    op.drop_table("expert_draw_request")
    op.drop_index(op.f("ix_expert_service_expert_id"), table_name="expert_service")
    op.drop_table("expert_service")
    op.drop_index(op.f("ix_expert_relation_expert_id"), table_name="expert_relation")
    op.drop_table("expert_relation")
    op.drop_index(op.f("ix_expert_penalty_expert_id"), table_name="expert_penalty")
    op.drop_table("expert_penalty")
    op.drop_index(op.f("ix_expert_employment_expert_id"), table_name="expert_employment")
    op.drop_table("expert_employment")
    op.drop_table("expert_outbox")
    op.drop_index(op.f("ix_expert_assignment_draw_code"), table_name="expert_assignment")
    op.drop_table("expert_assignment")
    op.drop_index("ix_expert_specialty_keys", table_name="expert", postgresql_using="gin")
    op.drop_table("expert")
