"""nonces that open the audit chain's commitments to registrations and deposit accounts

Who registered for a lot, and who opened a deposit account for it, is recorded in the
audit chain only as a hiding commitment until the lot's opening; each row keeps the nonce
that opens its commitment. Rows made before this revision had their events recorded in
clear, so they get a random nonce that opens nothing.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLES = ("tender_registration", "deposit_account")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table,
            sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        )
        rows = sa.table(table, sa.column("id", sa.Integer), sa.column("nonce", sa.String))
        op.execute(
            rows.update().values(nonce=sa.func.md5(sa.func.concat(sa.func.random(), rows.c.id)))
        )
        op.alter_column(table, "nonce", nullable=False)


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_column(table, "nonce")
