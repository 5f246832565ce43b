"""What the ledger API takes and gives. Money is integer fen; times RFC 3339."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from tendering.core.params import Integer
from tendering.ledger.rules import DayCount

__all__ = [
    "AssignedRead",
    "CloseRequest",
    "DepositCreate",
    "DepositRead",
    "DepositStatusRead",
    "ImportRead",
    "MovedRead",
    "PaidRead",
    "PayeeSuppliedRead",
    "RefundBatchCreate",
    "RefundBatchRead",
    "RefundBatchSummary",
    "RefundInstructionRead",
    "RefundLineRead",
    "RefundPaid",
    "RefundPayee",
    "RefundReturned",
    "ReissuedRead",
    "ResolveRequest",
    "ResolvedRead",
    "StatementRead",
    "SuspenseRead",
    "VerifyRead",
]


def _plain(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters (such as NUL or newlines)")
    return value


def _plausible(value: datetime | date) -> datetime | date:
    # Far-off years overflow when converted to UTC; no deposit lives outside these.
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be a date between the years 2000 and 2100")
    return value


Plain = Annotated[str, AfterValidator(_plain)]
When = Annotated[AwareDatetime, AfterValidator(_plausible)]
Day = Annotated[date, AfterValidator(_plausible)]
Fen = Annotated[Integer, Field(gt=0, le=10**15, description="amount in fen (分), > 0")]


class DepositCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bidder_org_id: Integer = Field(gt=0, le=2**31 - 1)
    subject: Annotated[Plain, Field(pattern=r"^(lot|auction):\S{1,110}$", max_length=120)]
    amount_due_fen: Fen
    deadline: When


class DepositRead(BaseModel):
    number: str = Field(description="虚拟子账号: 16 digits, ISO 7064 MOD 97-10 check digits")
    bidder_org_id: int
    subject: str
    amount_due_fen: int
    deadline: AwareDatetime
    state: str
    held_fen: int
    status: str = Field(description="none / partial / received, now")
    received_fen: int
    reason: str = ""


class DepositStatusRead(BaseModel):
    state: str
    received_fen: int
    amount_due_fen: int
    deadline: datetime | None
    number: str | None


class ImportRead(BaseModel):
    statement_id: int
    sha256: str
    format: str
    already_imported: bool
    lines: int
    booked: int
    suspense: int
    confirmed: int
    duplicates: int
    reversed: int = Field(description="debit lines that took back an earlier credit")
    opening_fen: int | None = Field(description="the bank's opening balance (OPBD), if given")
    closing_fen: int | None = Field(description="the bank's closing balance (CLBD), if given")
    books_closing_fen: int | None = Field(
        description="the platform's bank clearing account as of this statement"
    )
    difference_fen: int | None = Field(description="closing balance less the books")
    unexplained_fen: int | None = Field(
        description="of the difference, what no outstanding item explains; "
        "ledger verify fails while it is not 0"
    )


class StatementRead(BaseModel):
    """An imported statement, how its lines stand now and its balances against the books
    (the balances are null for a statement that gives none, as a CSV file)."""

    id: int
    sha256: str
    format: str
    bank_account: str
    statement_ref: str
    line_count: int
    imported_by: str
    imported_at: datetime
    booked: int
    suspense: int
    resolved: int
    opening_fen: int | None = Field(default=None, description="the bank's opening balance")
    closing_fen: int | None = Field(default=None, description="the bank's closing balance")
    books_opening_fen: int | None = Field(
        default=None, description="the books at the opening, when the bank gave one"
    )
    books_closing_fen: int | None = Field(
        default=None, description="the books at the closing, when the bank gave one"
    )
    difference_fen: int | None = Field(default=None, description="closing balance less books")
    unexplained_fen: int | None = Field(
        default=None, description="of the difference, what no outstanding item explains"
    )


class RefundBatchSummary(BaseModel):
    """A refund batch in the list: its terms, totals and how many lines are paid."""

    code: str
    subject: str
    paid_on: date
    due_on: date
    annual_rate: str = Field(description="a decimal, e.g. 0.0035")
    day_count: str
    created_by: str
    created_at: datetime
    lines: int
    paid: int
    principal_fen: int
    interest_fen: int


class SuspenseRead(BaseModel):
    id: int
    bank_ref: str
    direction: str
    amount_fen: int
    value_at: datetime
    virtual_account: str
    counterparty_name: str
    counterparty_account: str
    memo: str
    reason: str


class AssignPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, Field(pattern=r"^\d{16}$")]
    amount_fen: Fen


class ResolveRequest(BaseModel):
    """assign one part: "assign"; refund only: "refund"; several parts: "split"."""

    model_config = ConfigDict(extra="forbid")
    assign: list[AssignPart] = Field(default_factory=list, max_length=50)
    refund_fen: Integer = Field(default=0, ge=0, le=10**15)
    note: Annotated[Plain, Field(max_length=500)] = ""


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[Plain, Field(min_length=2, max_length=500)]


class RefundBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Annotated[Plain, Field(pattern=r"^(lot|auction):\S{1,110}$", max_length=120)]
    paid_on: Day = Field(description="the planned payment date; interest runs to it")
    bidder_org_ids: list[Annotated[Integer, Field(gt=0, le=2**31 - 1)]] | None = None
    annual_rate: Decimal | None = Field(default=None, ge=0, le=1, max_digits=9, decimal_places=6)
    day_count: DayCount | None = None
    idempotency_key: Annotated[Plain, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="asking again with the same key answers the first batch"
    )


class RefundInstructionRead(BaseModel):
    """One payment instruction of a refund: to whom, how much, and whether the bank still
    owes the payer's account (``needs_payee``: staff supply it before it can be paid)."""

    instruction_ref: str
    payee_name: str
    payee_account: str
    principal_fen: int
    interest_fen: int
    days: int = Field(description="days of interest")
    needs_payee: bool


class RefundLineRead(RefundInstructionRead):
    number: str = Field(description="the virtual account refunded")


class RefundBatchRead(BaseModel):
    code: str
    subject: str
    paid_on: date
    due_on: date
    annual_rate: Decimal
    day_count: str
    lines: list[RefundLineRead]


class MovedRead(BaseModel):
    moved_fen: int = Field(description="what left the deposit account")


class AssignedRead(BaseModel):
    number: str
    amount_fen: int


class ResolvedRead(BaseModel):
    """A suspense line resolved: the parts assigned and the refund to the payer, if any."""

    line: int
    bank_ref: str
    amount_fen: int
    assigned: list[AssignedRead]
    refund: RefundInstructionRead | None
    note: str


class PaidRead(BaseModel):
    changed: bool = Field(description="false when the line was already confirmed paid")


class ReissuedRead(BaseModel):
    returned: str = Field(description="the instruction the bank sent back")
    reissued: str = Field(description="the new instruction paying it again")


class PayeeSuppliedRead(BaseModel):
    instruction_ref: str
    payee_name: str
    payee_account: str
    needs_payee: bool


class VerifyRead(BaseModel):
    ok: bool
    problems: list[str] = Field(description="each broken invariant, in words")


class RefundReturned(BaseModel):
    """The bank sent the refund back: pay it again to this account."""

    model_config = ConfigDict(extra="forbid")
    payee_name: Annotated[Plain, Field(min_length=1, max_length=200)]
    payee_account: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{4,64}$")]
    reason: Annotated[Plain, Field(min_length=2, max_length=500)]


class RefundPayee(BaseModel):
    """The payee account of a refund line the bank gave no payer account for."""

    model_config = ConfigDict(extra="forbid")
    payee_name: Annotated[Plain, Field(min_length=1, max_length=200)]
    payee_account: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{4,64}$")]
    reason: Annotated[
        Plain,
        Field(min_length=2, max_length=500, description="why this account: who confirmed it"),
    ]


class RefundPaid(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bank_ref: Annotated[Plain, Field(min_length=1, max_length=100)]
    paid_at: When
