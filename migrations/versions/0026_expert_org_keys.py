"""expert org keys: a computed, indexed key of each employer and declared relation

Avoidance compares organization names without spaces and with full- and half-width
brackets alike (``experts.rules.org_key``). The draw used to compute that key in its query
for every row of ``expert_employment`` (one per expert and employer: 100,000 and more in a
city pool); ``org_key``, a stored generated column with an index, makes the lookup of the
lot's parties an index scan.

Revision ID: 0026
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0027"
branch_labels = None
depends_on = None

# The same expression as experts.models.ORG_KEY_SQL (a migration keeps its own copy).
ORG_KEY = "translate(organization, '（） 　', '()')"
TABLES = ("expert_employment", "expert_relation")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "org_key",
                sa.String(length=200),
                sa.Computed(ORG_KEY, persisted=True),
                nullable=True,
            ),
        )
        op.create_index(op.f(f"ix_{table}_org_key"), table, ["org_key"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(op.f(f"ix_{table}_org_key"), table_name=table)
        op.drop_column(table, "org_key")
