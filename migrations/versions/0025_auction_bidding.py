"""auction bidding: the writer's own state beside the auction row, and the live frames

* ``auction_live``: one row per auction that has had live activity: ``frame_seq`` (the
  gapless counter of its live frames), ``distinct_bidders`` (counted up to 2: what the
  listing's freeze rule needs) and ``freeze_decided`` (the listing passed its freeze time
  without two bidders and runs to its end);
* ``auction_frame``: every live frame (accepted bid, phase or countdown change, pause,
  resume, result) with its per-auction ``seq``, written in the transaction that made the
  change, so a watcher that reconnects reads everything after its last ``seq``.

New tables only: the downgrade drops them.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auction_live",
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("frame_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("distinct_bidders", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("freeze_decided", sa.Boolean(), server_default="false", nullable=False),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auction.id"], name=op.f("fk_auction_live_auction_id_auction")
        ),
        sa.PrimaryKeyConstraint("auction_id", name=op.f("pk_auction_live")),
    )
    op.create_table(
        "auction_frame",
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auction.id"], name=op.f("fk_auction_frame_auction_id_auction")
        ),
        sa.PrimaryKeyConstraint("auction_id", "seq", name=op.f("pk_auction_frame")),
    )


def downgrade() -> None:
    op.drop_table("auction_frame")
    op.drop_table("auction_live")
