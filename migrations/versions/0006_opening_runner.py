"""opening runs in the background (an 'opening' state, the runner's heartbeat); each
opened bid's plaintext is kept (its SHA-256 on the result)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BEFORE = "state IN ('started', 'opened', 'failed')"
AFTER = "state IN ('started', 'opening', 'opened', 'failed')"


def upgrade() -> None:
    op.add_column("opening", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "opening_result",
        sa.Column("plaintext_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.drop_constraint(op.f("ck_opening_state"), "opening", type_="check")
    op.create_check_constraint(op.f("ck_opening_state"), "opening", AFTER)


def downgrade() -> None:
    # An opening under way loses its rebuilt key with the process anyway: back to waiting.
    op.execute("UPDATE opening SET state = 'started', custodians = '[]' WHERE state = 'opening'")
    op.drop_constraint(op.f("ck_opening_state"), "opening", type_="check")
    op.create_check_constraint(op.f("ck_opening_state"), "opening", BEFORE)
    op.drop_column("opening_result", "plaintext_sha256")
    op.drop_column("opening", "heartbeat_at")
