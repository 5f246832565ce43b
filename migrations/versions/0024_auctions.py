"""land and property auctions: auctions, registrations, accepted bids, pauses

* ``auction``: subject (kind-specific JSONB), periods, the sealed reserve (底价) with its
  commitment, the live bidding state (current price, leader paddle, ``last_seq``, ``ends_at``,
  pause) and the result;
* ``auction_registration``: applications named only by a keyed tag and a sealed holder, with
  the approved paddle (竞买号) and its keyed ``paddle_tag``;
* ``auction_bid``: accepted bids, gapless ``seq`` and the idempotency key unique per auction;
* ``auction_pause``: the auctioneer's pauses and resumes.

New tables only: the downgrade drops them. After 0027 (the HKDF secrecy keys): the
registrations' tags, holders and paddle tags and the sealed reserves are written with the
v2 keys from the start, so no re-keying is needed here.

Revision ID: 0024
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("start_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("increment_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("announce_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registration_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registration_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deposit_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listing_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("freeze_before_seconds", sa.Integer(), nullable=False),
        sa.Column("preparation_seconds", sa.Integer(), nullable=False),
        sa.Column("countdown_seconds", sa.Integer(), nullable=False),
        sa.Column("reserve_user_id", sa.Integer(), nullable=True),
        sa.Column("reserve_cutoff_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reserve_commitment", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reserve_box", sa.Text(), nullable=True),
        sa.Column("reserve_entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reserve_fen", sa.BigInteger(), nullable=True),
        sa.Column("current_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("leader_paddle", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("last_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("paused_remaining_ms", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("winner_paddle", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("final_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("result_signature", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('land_use', 'state_property', 'rural_property')", name=op.f("ck_auction_kind")
        ),
        sa.CheckConstraint("mode IN ('listing', 'live')", name=op.f("ck_auction_mode")),
        sa.CheckConstraint("outcome IN ('sold', 'failed')", name=op.f("ck_auction_outcome")),
        sa.CheckConstraint(
            "state IN ('draft', 'announced', 'listing', 'preparing', 'timed', 'live', 'closed', 'cancelled')",
            name=op.f("ck_auction_state"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_auction_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["reserve_user_id"], ["app_user.id"], name=op.f("fk_auction_reserve_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["organization.id"], name=op.f("fk_auction_seller_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction")),
        sa.UniqueConstraint("code", name=op.f("uq_auction_code")),
    )
    op.create_index(op.f("ix_auction_seller_id"), "auction", ["seller_id"], unique=False)
    op.create_table(
        "auction_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("paddle", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("paddle_tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.CheckConstraint(
            "state IN ('applied', 'approved', 'rejected')",
            name=op.f("ck_auction_registration_state"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["app_user.id"],
            name=op.f("fk_auction_registration_decided_by_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_registration")),
        sa.UniqueConstraint("paddle_tag", name=op.f("uq_auction_registration_paddle_tag")),
        sa.UniqueConstraint("ref", name=op.f("uq_auction_registration_ref")),
        sa.UniqueConstraint("tag", name=op.f("uq_auction_registration_tag")),
    )
    op.create_table(
        "auction_bid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("paddle", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column(
            "accepted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "phase IN ('listing', 'timed', 'live')", name=op.f("ck_auction_bid_phase")
        ),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auction.id"], name=op.f("fk_auction_bid_auction_id_auction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_bid")),
        sa.UniqueConstraint(
            "auction_id", "idempotency_key", name=op.f("uq_auction_bid_auction_id_idempotency_key")
        ),
        sa.UniqueConstraint("auction_id", "seq", name=op.f("uq_auction_bid_auction_id_seq")),
    )
    op.create_index(
        "ix_auction_bid_auction_id_amount_fen",
        "auction_bid",
        ["auction_id", "amount_fen"],
        unique=False,
    )
    op.create_table(
        "auction_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("after_seq", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("fault", sa.Boolean(), nullable=False),
        sa.Column("paused_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remaining_ms", sa.Integer(), nullable=True),
        sa.Column("resumed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resume_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auction.id"], name=op.f("fk_auction_pause_auction_id_auction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_pause")),
    )
    op.create_index("ix_auction_pause_auction_id", "auction_pause", ["auction_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_auction_pause_auction_id", table_name="auction_pause")
    op.drop_table("auction_pause")
    op.drop_index("ix_auction_bid_auction_id_amount_fen", table_name="auction_bid")
    op.drop_table("auction_bid")
    op.drop_table("auction_registration")
    op.drop_index(op.f("ix_auction_seller_id"), table_name="auction")
    op.drop_table("auction")
