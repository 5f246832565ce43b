"""bids and opening: bidder keys, sealed bids, custodian keys, lot keys, openings

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bidder_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=44), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_bidder_key_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["app_user.id"], name=op.f("fk_bidder_key_registered_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidder_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_bidder_key_public_key")),
    )
    op.create_index(
        op.f("ix_bidder_key_organization_id"), "bidder_key", ["organization_id"], unique=False
    )
    op.create_table(
        "custodian_key",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=44), nullable=False),
        sa.Column("wrapped_private", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_custodian_key_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_custodian_key")),
    )
    op.create_table(
        "bid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("bidder_tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bidder_signature", sa.Text(), nullable=False),
        sa.Column("receipt_signature", sa.Text(), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('current', 'replaced', 'withdrawn')", name=op.f("ck_bid_state")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_bid_lot_id_tender_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bid")),
    )
    op.create_index(op.f("ix_bid_lot_id"), "bid", ["lot_id"], unique=False)
    op.create_index(
        "uq_bid_one_current",
        "bid",
        ["lot_id", "bidder_tag"],
        unique=True,
        postgresql_where=sa.text("state = 'current'"),
    )
    op.create_table(
        "bid_counter",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_bid_counter_lot_id_tender_lot")
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_bid_counter")),
    )
    op.create_table(
        "opening",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("custodians", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("valid_bids", sa.Integer(), nullable=False),
        sa.Column("record_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("record_signature", sa.Text(), nullable=True),
        sa.Column("last_event_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('started', 'opened', 'failed')", name=op.f("ck_opening_state")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_opening_lot_id_tender_lot")
        ),
        sa.ForeignKeyConstraint(
            ["started_by"], ["app_user.id"], name=op.f("fk_opening_started_by_app_user")
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_opening")),
    )
    op.create_table(
        "opening_event",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_opening_event_lot_id_tender_lot")
        ),
        sa.PrimaryKeyConstraint("lot_id", "seq", name=op.f("pk_opening_event")),
    )
    op.create_table(
        "opening_key_share",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sealed_share", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_opening_key_share_lot_id_tender_lot")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_opening_key_share_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("lot_id", "user_id", name=op.f("pk_opening_key_share")),
    )
    op.create_table(
        "opening_lot_key",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=44), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_opening_lot_key_lot_id_tender_lot")
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_opening_lot_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_opening_lot_key_key_id")),
    )
    op.create_table(
        "opening_pending_share",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.LargeBinary(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_opening_pending_share_lot_id_tender_lot")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_opening_pending_share_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("lot_id", "user_id", name=op.f("pk_opening_pending_share")),
    )
    op.create_table(
        "opening_result",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("bid_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("bidder", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("receipt_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("form", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('valid', 'revoked', 'platform_fault')",
            name=op.f("ck_opening_result_outcome"),
        ),
        sa.ForeignKeyConstraint(["bid_id"], ["bid.id"], name=op.f("fk_opening_result_bid_id_bid")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["tender_lot.id"], name=op.f("fk_opening_result_lot_id_tender_lot")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_opening_result_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("lot_id", "bid_id", name=op.f("pk_opening_result")),
    )


def downgrade() -> None:
    op.drop_table("opening_result")
    op.drop_table("opening_pending_share")
    op.drop_table("opening_lot_key")
    op.drop_table("opening_key_share")
    op.drop_table("opening_event")
    op.drop_table("opening")
    op.drop_table("bid_counter")
    op.drop_index(
        "uq_bid_one_current", table_name="bid", postgresql_where=sa.text("state = 'current'")
    )
    op.drop_index(op.f("ix_bid_lot_id"), table_name="bid")
    op.drop_table("bid")
    op.drop_table("custodian_key")
    op.drop_index(op.f("ix_bidder_key_organization_id"), table_name="bidder_key")
    op.drop_table("bidder_key")
