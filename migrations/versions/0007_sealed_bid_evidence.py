"""bid rows keep their bidder signature and commitment nonce sealed to the opening key

Either, in clear, names the bidder to whoever reads the table (verify the signature against
every registered key; recompute the commitment for every registered bidder). The receipt
signature is no longer stored: the platform signs the receipt again when asked.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import base64
import json

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The format of tendering.bids.evidence as of this revision (kept here, not imported, so
# this migration does not change when the code does).
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


def _seal(signature: str, nonce: str, lot: str, public_key_b64: str) -> str:
    plain = json.dumps(
        {"bidder_signature": signature, "nonce": nonce}, sort_keys=True, separators=(",", ":")
    ).encode()
    public = X25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    sealed = _SUITE.encrypt(plain, public, info=b"tbid1-evidence|" + lot.encode())
    return base64.b64encode(sealed).decode()


def upgrade() -> None:
    op.add_column("bid", sa.Column("evidence", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT bid.id, bid.bidder_signature, bid.nonce, tender_lot.code, k.public_key"
            " FROM bid JOIN tender_lot ON tender_lot.id = bid.lot_id"
            " JOIN opening_lot_key k ON k.lot_id = bid.lot_id"
        )
    ).all()
    for row in rows:
        bind.execute(
            sa.text("UPDATE bid SET evidence = :e WHERE id = :id"),
            {"e": _seal(row.bidder_signature, row.nonce, row.code, row.public_key), "id": row.id},
        )
    op.alter_column("bid", "evidence", nullable=False)
    op.drop_column("bid", "nonce")
    op.drop_column("bid", "receipt_signature")
    op.drop_column("bid", "bidder_signature")


def downgrade() -> None:
    # The sealed evidence opens only with the lot's rebuilt key: going back loses it.
    op.add_column(
        "bid", sa.Column("bidder_signature", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "bid", sa.Column("receipt_signature", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "bid", sa.Column("nonce", sa.String(length=64), nullable=False, server_default="")
    )
    for column in ("bidder_signature", "receipt_signature", "nonce"):
        op.alter_column("bid", column, server_default=None)
    op.drop_column("bid", "evidence")
