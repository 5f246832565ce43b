"""bid rows name their lot only by a keyed tag, so the table does not count a lot's bids

``bid.lot_id`` and ``bid_counter.lot_id`` become ``lot_tag`` = HMAC-SHA256 under the key
``tendering.bids.rules.tag_key`` derives from the platform's signing seed. Existing rows are
tagged here, which needs that seed: run the migration with the platform's own environment
(``TENDERING_SIGNING_KEY`` or ``TENDERING_DATA_DIR``), as ``tendering migrate`` and
``tendering serve`` do. An empty table needs no key.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _tag_key() -> bytes:
    # The derivation of tendering.bids.rules as of this revision, kept here on purpose.
    from tendering.core.migrate import platform_seed

    seed = platform_seed("bid rows")
    return hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest()


def _tags(bind: sa.Connection) -> dict[int, str]:
    """Every lot id that a bid or counter row names, with its tag (empty: nothing to do)."""
    lots = bind.execute(
        sa.text("SELECT lot_id FROM bid UNION SELECT lot_id FROM bid_counter")
    ).scalars()
    ids = list(lots)
    if not ids:
        return {}
    key = _tag_key()
    return {i: hmac.new(key, f"lot|{i}".encode(), hashlib.sha256).hexdigest() for i in ids}


def upgrade() -> None:
    bind = op.get_bind()
    tags = _tags(bind)
    for table in ("bid", "bid_counter"):
        op.add_column(table, sa.Column("lot_tag", sa.String(length=64), nullable=True))
        for lot_id, tag in tags.items():
            bind.execute(
                sa.text(f"UPDATE {table} SET lot_tag = :tag WHERE lot_id = :lot"),  # noqa: S608
                {"tag": tag, "lot": lot_id},
            )
        op.alter_column(table, "lot_tag", nullable=False)
    op.drop_index(
        "uq_bid_one_current", table_name="bid", postgresql_where=sa.text("state = 'current'")
    )
    op.drop_index(op.f("ix_bid_lot_id"), table_name="bid")
    op.drop_constraint(op.f("fk_bid_lot_id_tender_lot"), "bid", type_="foreignkey")
    op.drop_column("bid", "lot_id")
    op.create_index(op.f("ix_bid_lot_tag"), "bid", ["lot_tag"])
    op.create_index(
        "uq_bid_one_current",
        "bid",
        ["lot_tag", "bidder_tag"],
        unique=True,
        postgresql_where=sa.text("state = 'current'"),
    )
    op.drop_constraint(op.f("pk_bid_counter"), "bid_counter", type_="primary")
    op.drop_constraint(op.f("fk_bid_counter_lot_id_tender_lot"), "bid_counter", type_="foreignkey")
    op.drop_column("bid_counter", "lot_id")
    op.create_primary_key(op.f("pk_bid_counter"), "bid_counter", ["lot_tag"])


def downgrade() -> None:
    bind = op.get_bind()
    has_rows = bind.execute(
        sa.text("SELECT EXISTS (SELECT 1 FROM bid) OR EXISTS (SELECT 1 FROM bid_counter)")
    ).scalar()
    lots: dict[str, int] = {}
    if has_rows:
        key = _tag_key()
        for (lot_id,) in bind.execute(sa.text("SELECT id FROM tender_lot")):
            lots[hmac.new(key, f"lot|{lot_id}".encode(), hashlib.sha256).hexdigest()] = lot_id
    for table in ("bid", "bid_counter"):
        op.add_column(table, sa.Column("lot_id", sa.Integer(), nullable=True))
        for tag, lot_id in lots.items():
            bind.execute(
                sa.text(f"UPDATE {table} SET lot_id = :lot WHERE lot_tag = :tag"),  # noqa: S608
                {"tag": tag, "lot": lot_id},
            )
        op.alter_column(table, "lot_id", nullable=False)
    op.drop_index(
        "uq_bid_one_current", table_name="bid", postgresql_where=sa.text("state = 'current'")
    )
    op.drop_index(op.f("ix_bid_lot_tag"), table_name="bid")
    op.drop_column("bid", "lot_tag")
    op.create_foreign_key(op.f("fk_bid_lot_id_tender_lot"), "bid", "tender_lot", ["lot_id"], ["id"])
    op.create_index(op.f("ix_bid_lot_id"), "bid", ["lot_id"])
    op.create_index(
        "uq_bid_one_current",
        "bid",
        ["lot_id", "bidder_tag"],
        unique=True,
        postgresql_where=sa.text("state = 'current'"),
    )
    op.drop_constraint(op.f("pk_bid_counter"), "bid_counter", type_="primary")
    op.drop_column("bid_counter", "lot_tag")
    op.create_foreign_key(
        op.f("fk_bid_counter_lot_id_tender_lot"), "bid_counter", "tender_lot", ["lot_id"], ["id"]
    )
    op.create_primary_key(op.f("pk_bid_counter"), "bid_counter", ["lot_id"])
