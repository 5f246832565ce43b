"""ledger tables

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("bank_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("statement_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statement")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_bank_statement_file_sha256")),
    )
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("normal_side", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("no_negative", sa.Boolean(), nullable=False),
        sa.Column("hot", sa.Boolean(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('bank_clearing', 'deposit', 'suspense', 'refunds_payable', 'forfeited', 'interest_expense', 'payments')",
            name=op.f("ck_ledger_account_kind"),
        ),
        sa.CheckConstraint(
            "normal_side IN ('debit', 'credit')", name=op.f("ck_ledger_account_normal_side")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_account_code")),
    )
    op.create_table(
        "refund_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("day_count", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_batch")),
        sa.UniqueConstraint("code", name=op.f("uq_refund_batch_code")),
        sa.UniqueConstraint("request_key", name=op.f("uq_refund_batch_request_key")),
    )
    op.create_table(
        "deposit_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("bidder_org_id", sa.Integer(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("amount_due_fen", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("ledger_account_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('open', 'refunded', 'forfeited', 'converted')",
            name=op.f("ck_deposit_account_state"),
        ),
        sa.CheckConstraint(
            "amount_due_fen > 0", name=op.f("ck_deposit_account_amount_due_positive")
        ),
        sa.ForeignKeyConstraint(
            ["bidder_org_id"],
            ["organization.id"],
            name=op.f("fk_deposit_account_bidder_org_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_account_id"],
            ["ledger_account.id"],
            name=op.f("fk_deposit_account_ledger_account_id_ledger_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_account")),
        sa.UniqueConstraint(
            "bidder_org_id", "subject", name=op.f("uq_deposit_account_bidder_org_id_subject")
        ),
        sa.UniqueConstraint("ledger_account_id", name=op.f("uq_deposit_account_ledger_account_id")),
        sa.UniqueConstraint("number", name=op.f("uq_deposit_account_number")),
    )
    op.create_index(
        op.f("ix_deposit_account_bidder_org_id"), "deposit_account", ["bidder_org_id"], unique=False
    )
    op.create_index(
        op.f("ix_deposit_account_subject"), "deposit_account", ["subject"], unique=False
    )
    op.create_table(
        "ledger_transfer",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("debit_account_id", sa.Integer(), nullable=False),
        sa.Column("credit_account_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("value_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'posted', 'voided')", name=op.f("ck_ledger_transfer_state")
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_ledger_transfer_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id",
            name=op.f("ck_ledger_transfer_distinct_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_transfer_credit_account_id_ledger_account"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_transfer_debit_account_id_ledger_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfer")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transfer_idempotency_key")),
    )
    op.create_index(
        op.f("ix_ledger_transfer_credit_account_id"),
        "ledger_transfer",
        ["credit_account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ledger_transfer_debit_account_id"),
        "ledger_transfer",
        ["debit_account_id"],
        unique=False,
    )
    op.create_table(
        "refund_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("instruction_ref", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("deposit_account_id", sa.Integer(), nullable=True),
        sa.Column("statement_line_id", sa.BigInteger(), nullable=True),
        sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("payee_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("payment_transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("bank_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'returned')", name=op.f("ck_refund_line_status")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["refund_batch.id"], name=op.f("fk_refund_line_batch_id_refund_batch")
        ),
        sa.ForeignKeyConstraint(
            ["deposit_account_id"],
            ["deposit_account.id"],
            name=op.f("fk_refund_line_deposit_account_id_deposit_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_line")),
        sa.UniqueConstraint("instruction_ref", name=op.f("uq_refund_line_instruction_ref")),
    )
    op.create_index(op.f("ix_refund_line_batch_id"), "refund_line", ["batch_id"], unique=False)
    op.create_index(
        op.f("ix_refund_line_statement_line_id"), "refund_line", ["statement_line_id"], unique=False
    )
    op.create_table(
        "statement_line",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("bank_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("bank_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("value_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("virtual_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "counterparty_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column(
            "counterparty_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("memo", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("deposit_account_id", sa.Integer(), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.CheckConstraint("direction IN ('C', 'D')", name=op.f("ck_statement_line_direction")),
        sa.CheckConstraint(
            "status IN ('booked', 'suspense', 'resolved')", name=op.f("ck_statement_line_status")
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_statement_line_amount_positive")),
        sa.ForeignKeyConstraint(
            ["deposit_account_id"],
            ["deposit_account.id"],
            name=op.f("fk_statement_line_deposit_account_id_deposit_account"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statement.id"],
            name=op.f("fk_statement_line_statement_id_bank_statement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_line")),
        sa.UniqueConstraint(
            "bank_account", "bank_ref", name=op.f("uq_statement_line_bank_account_bank_ref")
        ),
    )
    op.create_index(
        op.f("ix_statement_line_deposit_account_id"),
        "statement_line",
        ["deposit_account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_statement_line_statement_id"), "statement_line", ["statement_id"], unique=False
    )
    op.create_index(
        "ix_statement_line_status_open",
        "statement_line",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status = 'suspense'"),
    )
    op.create_index(
        op.f("ix_statement_line_transfer_id"), "statement_line", ["transfer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_statement_line_transfer_id"), table_name="statement_line")
    op.drop_index(
        "ix_statement_line_status_open",
        table_name="statement_line",
        postgresql_where=sa.text("status = 'suspense'"),
    )
    op.drop_index(op.f("ix_statement_line_statement_id"), table_name="statement_line")
    op.drop_index(op.f("ix_statement_line_deposit_account_id"), table_name="statement_line")
    op.drop_table("statement_line")
    op.drop_index(op.f("ix_refund_line_statement_line_id"), table_name="refund_line")
    op.drop_index(op.f("ix_refund_line_batch_id"), table_name="refund_line")
    op.drop_table("refund_line")
    op.drop_index(op.f("ix_ledger_transfer_debit_account_id"), table_name="ledger_transfer")
    op.drop_index(op.f("ix_ledger_transfer_credit_account_id"), table_name="ledger_transfer")
    op.drop_table("ledger_transfer")
    op.drop_index(op.f("ix_deposit_account_subject"), table_name="deposit_account")
    op.drop_index(op.f("ix_deposit_account_bidder_org_id"), table_name="deposit_account")
    op.drop_table("deposit_account")
    op.drop_table("refund_batch")
    op.drop_table("ledger_account")
    op.drop_table("bank_statement")
