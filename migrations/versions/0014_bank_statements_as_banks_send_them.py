"""bank statements as banks send them: batch entries, reversals, payer accounts, balances

* ``statement_line.entry_ref`` / ``tx_ref``: the bank's reference of the entry (a batch
  entry's lines share it) and of the transaction; ``reversed_by``: the debit line by which
  the bank took a credit back; status ``reversed``; indexes for what a reversal names.
* ``bank_statement.opening_fen`` / ``closing_fen`` (OPBD / CLBD), ``statement_on``,
  ``sequence`` and ``net_fen``, to reconcile each statement against the books. Existing
  statements get their lines' latest booking day and their lines' net.
* ``refund_line.needs_payee`` (the bank left out the payer's account) and status
  ``cancelled`` (the bank took back money a pending refund would have paid).
* ledger account kind ``reversal_receivable``.

Nothing sealed changes: no key is needed. The downgrade stops (a check constraint) once
a line was reversed, a refund cancelled or a receivable booked: those cannot be said before.

Revision ID: 0014
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

_KINDS = (
    "bank_clearing",
    "deposit",
    "suspense",
    "refunds_payable",
    "forfeited",
    "interest_expense",
    "payments",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _recheck(table: str, name: str, column: str, values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, f"{column} IN ({_in(values)})")


def upgrade() -> None:
    for column in ("entry_ref", "tx_ref"):
        op.add_column(
            "statement_line",
            sa.Column(
                column,
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            ),
        )
    op.add_column("statement_line", sa.Column("reversed_by", sa.BigInteger(), nullable=True))
    op.create_index(
        op.f("ix_statement_line_reversed_by"), "statement_line", ["reversed_by"], unique=False
    )
    op.execute("UPDATE statement_line SET entry_ref = bank_ref")
    op.create_index("ix_statement_line_entry_ref", "statement_line", ["bank_account", "entry_ref"])
    op.create_index(
        "ix_statement_line_tx_ref",
        "statement_line",
        ["bank_account", "tx_ref"],
        postgresql_where=sa.text("tx_ref <> ''"),
    )
    op.create_index(
        "ix_statement_line_credited",
        "statement_line",
        ["bank_account", "virtual_account"],
        postgresql_where=sa.text("direction = 'C'"),
    )
    _recheck("statement_line", "status", "status", ("booked", "suspense", "resolved", "reversed"))

    op.add_column("bank_statement", sa.Column("opening_fen", sa.BigInteger(), nullable=True))
    op.add_column("bank_statement", sa.Column("closing_fen", sa.BigInteger(), nullable=True))
    op.add_column("bank_statement", sa.Column("statement_on", sa.Date(), nullable=True))
    op.add_column("bank_statement", sa.Column("sequence", sa.BigInteger(), nullable=True))
    op.add_column(
        "bank_statement",
        sa.Column("net_fen", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(
        """
        UPDATE bank_statement s SET
            statement_on = coalesce(
                (SELECT max(l.booked_on) FROM statement_line l WHERE l.statement_id = s.id),
                CAST(s.imported_at AT TIME ZONE 'Asia/Shanghai' AS date)),
            net_fen = coalesce((SELECT sum(CASE WHEN l.direction = 'C' THEN l.amount_fen
                ELSE -l.amount_fen END) FROM statement_line l WHERE l.statement_id = s.id), 0)
        """
    )
    op.alter_column("bank_statement", "statement_on", nullable=False)

    op.add_column(
        "refund_line",
        sa.Column("needs_payee", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    _recheck("refund_line", "status", "status", ("pending", "paid", "returned", "cancelled"))
    _recheck("ledger_account", "kind", "kind", (*_KINDS, "reversal_receivable"))


def downgrade() -> None:
    op.execute(
        "DELETE FROM ledger_account WHERE kind = 'reversal_receivable' AND NOT EXISTS"
        " (SELECT 1 FROM ledger_transfer t WHERE ledger_account.id IN"
        " (t.debit_account_id, t.credit_account_id))"
    )
    _recheck("ledger_account", "kind", "kind", _KINDS)
    _recheck("refund_line", "status", "status", ("pending", "paid", "returned"))
    op.drop_column("refund_line", "needs_payee")
    for column in ("net_fen", "sequence", "statement_on", "closing_fen", "opening_fen"):
        op.drop_column("bank_statement", column)
    _recheck("statement_line", "status", "status", ("booked", "suspense", "resolved"))
    for index in ("credited", "tx_ref", "entry_ref"):
        op.drop_index(f"ix_statement_line_{index}", table_name="statement_line")
    op.drop_index(op.f("ix_statement_line_reversed_by"), table_name="statement_line")
    for column in ("reversed_by", "tx_ref", "entry_ref"):
        op.drop_column("statement_line", column)
