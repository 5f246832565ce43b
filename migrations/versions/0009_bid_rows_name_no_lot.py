"""bid rows name no lot at all, and a receipt's seq is a clock reading, not a counter

``bid.lot_tag`` told a reader of the table which rows share a lot, hence how many bids a
lot has; ``bid_counter`` counted them (a bidder who submits twice learns, from its two
receipts' ``seq``, how many submissions came in between). A row now carries only its
``bidder_tag`` (a keyed tag of lot and organization, different for every pair), and new
receipts take ``seq`` from the database clock's microseconds, unique platform-wide
(``uq_bid_seq``; earlier receipts' per-lot counters, all below 10**15, stay as they are).

Nothing needs the platform key going up. Going down rebuilds ``lot_tag`` and the counters,
which needs the key when rows exist (as 0008 does) to find each row's lot.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_CLOCK = sa.text("seq >= 1000000000000000")
_CURRENT = sa.text("state = 'current'")


def upgrade() -> None:
    op.drop_index("uq_bid_one_current", table_name="bid", postgresql_where=_CURRENT)
    op.drop_index(op.f("ix_bid_lot_tag"), table_name="bid")
    op.drop_column("bid", "lot_tag")
    op.create_index(
        "uq_bid_one_current", "bid", ["bidder_tag"], unique=True, postgresql_where=_CURRENT
    )
    op.create_index("ix_bid_bidder_tag", "bid", ["bidder_tag"])
    op.create_index("uq_bid_seq", "bid", ["seq"], unique=True, postgresql_where=_CLOCK)
    op.drop_table("bid_counter")


def _tag_key() -> bytes:
    from tendering.core.migrate import platform_seed

    seed = platform_seed("bid rows")
    return hashlib.sha256(b"tendering bidder-tag v1|" + seed).digest()


def _lot_of_each_tag(bind: sa.Connection) -> dict[str, int]:
    if not bind.execute(sa.text("SELECT EXISTS (SELECT 1 FROM bid)")).scalar():
        return {}
    key = _tag_key()
    lots = list(bind.execute(sa.text("SELECT id FROM tender_lot")).scalars())
    orgs = list(bind.execute(sa.text("SELECT id FROM organization")).scalars())
    return {
        hmac.new(key, f"{lot}|{org}".encode(), hashlib.sha256).hexdigest(): lot
        for lot in lots
        for org in orgs
    }


def downgrade() -> None:
    bind = op.get_bind()
    lots = _lot_of_each_tag(bind)
    key = _tag_key() if lots else b""
    op.add_column("bid", sa.Column("lot_tag", sa.String(length=64), nullable=True))
    for tag, lot_id in lots.items():
        lot_tag = hmac.new(key, f"lot|{lot_id}".encode(), hashlib.sha256).hexdigest()
        bind.execute(
            sa.text("UPDATE bid SET lot_tag = :lot_tag WHERE bidder_tag = :tag"),
            {"lot_tag": lot_tag, "tag": tag},
        )
    op.alter_column("bid", "lot_tag", nullable=False)
    op.drop_index("uq_bid_seq", table_name="bid", postgresql_where=_CLOCK)
    op.drop_index("ix_bid_bidder_tag", table_name="bid")
    op.drop_index("uq_bid_one_current", table_name="bid", postgresql_where=_CURRENT)
    op.create_index(op.f("ix_bid_lot_tag"), "bid", ["lot_tag"])
    op.create_index(
        "uq_bid_one_current",
        "bid",
        ["lot_tag", "bidder_tag"],
        unique=True,
        postgresql_where=_CURRENT,
    )
    op.create_table(
        "bid_counter",
        sa.Column("lot_tag", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lot_tag", name=op.f("pk_bid_counter")),
    )
    # A lot's counter goes on from its highest seq, clock readings included.
    bind.execute(
        sa.text(
            "INSERT INTO bid_counter (lot_tag, last_seq)"
            " SELECT lot_tag, max(seq) FROM bid GROUP BY lot_tag"
        )
    )
