"""Deposit ledger tables: double-entry accounts and transfers, virtual accounts, bank
statements, refunds.

Money is integer fen in ``BIGINT``. A transfer's accounts and amount never change; its
``state`` moves once, ``pending`` → ``posted`` or ``voided`` (a guarded update).

Balances: a *bidder's* account row carries its four running totals (posted/pending ×
debits/credits), updated in the transaction that writes the transfer, so the must-not-go-
negative guard is one conditional ``UPDATE``. The platform's own busy accounts (bank
clearing, suspense, refunds payable, ...) are ``hot``: their row is never updated, their
balance is the sum of their transfers, read on demand (DESIGN.md, "Hot paths": one hot row
updated by every transfer costs ~70 % of the throughput).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import AutoString, Field, SQLModel

from tendering.core.db import enum_check, fen_column, utc_column

__all__ = [
    "AccountKind",
    "BankStatement",
    "DepositAccount",
    "DepositState",
    "LedgerAccount",
    "LedgerTransfer",
    "LineStatus",
    "RefundBatch",
    "RefundLine",
    "RefundLineStatus",
    "StatementLine",
    "TransferState",
]


class AccountKind(StrEnum):
    BANK_CLEARING = "bank_clearing"  # 银行存款 (the platform's deposit bank account), debit-normal
    DEPOSIT = "deposit"  # one per bidder per lot/auction: what the platform owes the bidder
    SUSPENSE = "suspense"  # 待查明款项: money that arrived but is not yet matched
    REFUNDS_PAYABLE = "refunds_payable"  # 应退保证金: refund instructions not yet paid
    FORFEITED = "forfeited"  # 没收的保证金
    INTEREST_EXPENSE = "interest_expense"  # 退还保证金利息
    PAYMENTS = "payments"  # 中标人保证金转为价款/履约保证金
    # 应收退汇款: refunds already paid out of money the bank later took back (a reversal
    # after the refund); debit-normal, staff recover it from the payee.
    REVERSAL_RECEIVABLE = "reversal_receivable"


class TransferState(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class DepositState(StrEnum):
    OPEN = "open"
    REFUNDED = "refunded"
    FORFEITED = "forfeited"
    CONVERTED = "converted"


class LineStatus(StrEnum):
    BOOKED = "booked"  # matched: credited to a deposit account / confirmed a refund
    SUSPENSE = "suspense"  # parked in the suspense account with a reason
    RESOLVED = "resolved"  # was in suspense; staff assigned, refunded or split it
    REVERSED = "reversed"  # a credit the bank took back (``reversed_by`` names the debit)


class RefundLineStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    RETURNED = "returned"  # the bank sent it back (退票); a reissued line replaces it
    CANCELLED = "cancelled"  # the bank took back money it refunds before paying it


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_account"
    __table_args__ = (
        enum_check("kind", AccountKind, name="kind"),
        CheckConstraint("normal_side IN ('debit', 'credit')", name="normal_side"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=20)
    normal_side: str = Field(max_length=6)
    no_negative: bool = Field(default=False)
    hot: bool = Field(default=False)
    debits_posted: int = Field(default=0, sa_column=fen_column(server_default=text("0")))
    credits_posted: int = Field(default=0, sa_column=fen_column(server_default=text("0")))
    debits_pending: int = Field(default=0, sa_column=fen_column(server_default=text("0")))
    credits_pending: int = Field(default=0, sa_column=fen_column(server_default=text("0")))


class LedgerTransfer(SQLModel, table=True):
    __tablename__ = "ledger_transfer"
    __table_args__ = (
        enum_check("state", TransferState, name="state"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    idempotency_key: str = Field(max_length=200, unique=True)
    debit_account_id: int = Field(foreign_key="ledger_account.id", index=True)
    credit_account_id: int = Field(foreign_key="ledger_account.id", index=True)
    amount_fen: int = Field(sa_column=fen_column())
    state: str = Field(max_length=10)
    kind: str = Field(max_length=40)
    reference: str = Field(default="", max_length=200)
    # The bank's value time of the money this transfer moves (deposits), else None.
    value_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column(server_default=text("clock_timestamp()")))
    settled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DepositAccount(SQLModel, table=True):
    """A virtual account (子账号): one per (bidder organization, subject).

    The row does not say whose it is or for which lot (招标投标法第二十二条: the names and
    number of a lot's potential bidders are secret until its opening): ``holder_tag`` is
    ``secrecy.tag("deposit", subject, bidder_org_id)`` (core/secrecy.py), and the bidder,
    the subject and its terms (amount due, deadline: per-lot values, they would group the
    rows by lot) are sealed in ``terms``. Only the platform key finds and opens them."""

    __tablename__ = "deposit_account"
    __table_args__ = (enum_check("state", DepositState, name="state"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    holder_tag: str = Field(max_length=64, unique=True)
    # {"bidder_org_id", "subject", "amount_due_fen", "deadline"}, sealed for "deposit".
    terms: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default=DepositState.OPEN, max_length=10)
    ledger_account_id: int = Field(foreign_key="ledger_account.id", unique=True)
    reason: str = Field(default="", max_length=500)  # why forfeited / converted
    created_at: datetime = Field(sa_column=utc_column(server_default=text("clock_timestamp()")))
    # Opens this account's commitments in the audit chain; secret until the subject's opening.
    nonce: str = Field(max_length=32)


class BankStatement(SQLModel, table=True):
    __tablename__ = "bank_statement"

    id: int | None = Field(default=None, primary_key=True)
    file_sha256: str = Field(max_length=64, unique=True)
    format: str = Field(max_length=10)
    bank_account: str = Field(max_length=64)
    statement_ref: str = Field(default="", max_length=100)
    line_count: int
    # The bank's balances (OPBD / CLBD; None in a CSV file), reconciled against the books.
    opening_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    closing_fen: int | None = Field(default=None, sa_column=fen_column(nullable=True))
    statement_on: date  # the day it is for: its closing balance's, else its lines' latest
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # What the file's own booked lines move, duplicates included (credits less debits).
    net_fen: int = Field(default=0, sa_column=fen_column(server_default=text("0")))
    imported_by: str = Field(max_length=100)
    imported_at: datetime = Field(sa_column=utc_column(server_default=text("clock_timestamp()")))


class StatementLine(SQLModel, table=True):
    __tablename__ = "statement_line"
    __table_args__ = (
        UniqueConstraint("bank_account", "bank_ref"),
        enum_check("status", LineStatus, name="status"),
        CheckConstraint("direction IN ('C', 'D')", name="direction"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index(
            "ix_statement_line_status_open", "status", postgresql_where=text("status = 'suspense'")
        ),
        # What a reversal names: a credit's entry or transaction reference, or its account.
        Index("ix_statement_line_entry_ref", "bank_account", "entry_ref"),
        Index(
            "ix_statement_line_tx_ref",
            "bank_account",
            "tx_ref",
            postgresql_where=text("tx_ref <> ''"),
        ),
        Index(
            "ix_statement_line_credited",
            "bank_account",
            "virtual_account",
            postgresql_where=text("direction = 'C'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    statement_id: int = Field(foreign_key="bank_statement.id", index=True)
    line_no: int
    bank_account: str = Field(max_length=64)
    bank_ref: str = Field(max_length=100)
    # The bank's reference of the entry (several lines share it in a batch entry) and of
    # the transaction itself: what a reversal names.
    entry_ref: str = Field(
        default="", sa_column=Column(AutoString(100), nullable=False, server_default="")
    )
    tx_ref: str = Field(
        default="", sa_column=Column(AutoString(100), nullable=False, server_default="")
    )
    direction: str = Field(max_length=1)
    amount_fen: int = Field(sa_column=fen_column())
    value_at: datetime = Field(sa_column=utc_column())
    booked_on: date
    virtual_account: str = Field(default="", max_length=64)
    # The counterparty's name and account and the memo, sealed (ledger/payers.py): in
    # clear they would say who paid a deposit, often for which lot, before its opening.
    payer: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=10)
    reason: str = Field(default="", max_length=20)
    deposit_account_id: int | None = Field(
        default=None, foreign_key="deposit_account.id", index=True
    )
    transfer_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    resolution: str = Field(default="", max_length=500)
    # The debit line by which the bank took this credit back.
    reversed_by: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )


class RefundBatch(SQLModel, table=True):
    __tablename__ = "refund_batch"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    # The caller's key: asking again with it answers the first batch and pays nothing more.
    request_key: str | None = Field(default=None, max_length=100, unique=True)
    subject: str = Field(default="", max_length=120)
    annual_rate: Decimal = Field(sa_column=Column(Numeric(9, 6), nullable=False))
    day_count: str = Field(max_length=10)
    paid_on: date  # the planned payment date interest runs to
    due_on: date
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_column=utc_column(server_default=text("clock_timestamp()")))


class RefundLine(SQLModel, table=True):
    __tablename__ = "refund_line"
    __table_args__ = (enum_check("status", RefundLineStatus, name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="refund_batch.id", index=True)
    instruction_ref: str = Field(max_length=40, unique=True)
    deposit_account_id: int | None = Field(default=None, foreign_key="deposit_account.id")
    statement_line_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    # Who the refund goes to and their account, sealed (ledger/payers.py): in clear they
    # would say who paid a deposit for a lot, the refund often being written before its opening.
    payee: str = Field(sa_column=Column(Text, nullable=False))
    principal_fen: int = Field(sa_column=fen_column())
    interest_fen: int = Field(sa_column=fen_column())
    days: int = Field(default=0)
    status: str = Field(default=RefundLineStatus.PENDING, max_length=10)
    # The bank left out the payer's account: kept out of the instruction file until staff
    # supply one (``refund.payee_supplied``).
    needs_payee: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    payment_transfer_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    bank_ref: str = Field(default="", max_length=100)
    paid_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
