"""periods the law fixes: entered calendar years

``calendar_year`` names the years whose holiday table is entered whole; a period may end
only in one of them (before, every weekday of a year nobody entered counted as a working
day). 2025 and 2026, shipped by 0003, are entered here; later years staff enter with
``PUT /api/calendar/{year}``. Years staff only marked single days of are not entered.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

# Fixed data, as 0003's seed: the notices the shipped years come from.
_SHIPPED_YEARS = {2025: "国办发明电〔2024〕12号", 2026: "国办发明电〔2025〕7号"}


def upgrade() -> None:
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("year BETWEEN 1900 AND 2999", name=op.f("ck_calendar_year_year_range")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
    )
    years = sa.table("calendar_year", sa.column("year", sa.Integer()), sa.column("source"))
    op.bulk_insert(years, [{"year": y, "source": s} for y, s in _SHIPPED_YEARS.items()])


def downgrade() -> None:
    op.drop_table("calendar_year")
