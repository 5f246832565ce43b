"""one table of draws (draw-v1) for every drawing context

``draw`` holds every draw of experts or agencies: its public state, commitment, pool hash
and transcript hash in clear; the server secret, the fixed pools (with their exclusions)
and the signed transcript sealed (``tendering.core.secrecy``) until it is released.

Revision ID: 0018
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("supplements", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("commitment", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pool_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("transcript_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("pools", sa.Text(), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("published", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("witness_id", sa.Integer(), nullable=False),
        sa.Column(
            "scheduled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("pools_fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('experts', 'agencies')", name=op.f("ck_draw_kind")),
        sa.CheckConstraint(
            "state IN ('scheduled', 'pools_fixed', 'drawn', 'released')", name=op.f("ck_draw_state")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["app_user.id"], name=op.f("fk_draw_requested_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["app_user.id"], name=op.f("fk_draw_witness_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw")),
        sa.UniqueConstraint("code", name=op.f("uq_draw_code")),
    )
    op.create_index(op.f("ix_draw_subject"), "draw", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_draw_subject"), table_name="draw")
    op.drop_table("draw")
