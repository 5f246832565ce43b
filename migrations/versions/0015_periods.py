"""periods the law fixes: entered calendar years, the law's floors, results and termination

- ``calendar_year`` names the years whose holiday table is entered whole; a period may end
  only in one of them (before, every weekday of a year nobody entered counted as a working
  day). 2025 and 2026, shipped by 0003, are entered here; later years staff enter with
  ``PUT /api/calendar/{year}``. Years staff only marked single days of are not entered.
- ``tender_rule_setting`` gets ``min_valid_bids`` (3) and CHECKs that keep every number at
  least as strict as the law; a value stored below the law is raised to it first.
- ``tender_lot.result``/``result_at``: what the opening decided (OCDS lot status).
- ``tender_notice.termination_reason``: a notice closed before its deadline is terminated,
  with a public reason.
- ``tender_amendment.question``: the question whose published answer a clarification
  corrects (answers are final).

Revision ID: 0015
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0018"
branch_labels = None
depends_on = None

# Fixed data, as 0003's seed: the notices the shipped years come from.
_SHIPPED_YEARS = {2025: "国办发明电〔2024〕12号", 2026: "国办发明电〔2025〕7号"}
# (constraint, CHECK, the column raised to the law first and its SQL function)
_FLOORS = (
    ("document_days_floor", "min_document_days >= 5", "min_document_days", "GREATEST", 5),
    ("bid_days_floor", "min_bid_days >= 20", "min_bid_days", "GREATEST", 20),
    ("deposit_cap", "max_deposit_bp <= 200", "max_deposit_bp", "LEAST", 200),
    ("amendment_days_floor", "amendment_days >= 15", "amendment_days", "GREATEST", 15),
    ("valid_bids_floor", "min_valid_bids >= 3", "min_valid_bids", "GREATEST", 3),
)


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

    op.add_column(
        "tender_rule_setting",
        sa.Column("min_valid_bids", sa.Integer(), server_default="3", nullable=False),
    )
    for name, check, column, function, limit in _FLOORS:
        # The constants above, no input:
        op.execute(f"UPDATE tender_rule_setting SET {column} = {function}({column}, {limit})")  # noqa: S608
        op.create_check_constraint(
            op.f(f"ck_tender_rule_setting_{name}"), "tender_rule_setting", check
        )

    op.add_column(
        "tender_lot",
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    )
    op.add_column("tender_lot", sa.Column("result_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_tender_lot_result"), "tender_lot", "result IN ('opened', 'failed')"
    )
    op.add_column("tender_notice", sa.Column("termination_reason", sa.Text(), nullable=True))
    op.add_column("tender_amendment", sa.Column("question", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("tender_amendment", "question")
    op.drop_column("tender_notice", "termination_reason")
    op.drop_constraint(op.f("ck_tender_lot_result"), "tender_lot", type_="check")
    op.drop_column("tender_lot", "result_at")
    op.drop_column("tender_lot", "result")
    for name, *_ in reversed(_FLOORS):
        op.drop_constraint(
            op.f(f"ck_tender_rule_setting_{name}"), "tender_rule_setting", type_="check"
        )
    op.drop_column("tender_rule_setting", "min_valid_bids")
    op.drop_table("calendar_year")
