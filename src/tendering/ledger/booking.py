"""What an import decides for one statement line, before and after it is stored.

    row = Booking(line=parsed_line)        # key "stmt:<bank account>:<bank_ref>"
    row.park(reason, spec)                 # to suspense, with its transfer

The line's own transfer (``spec``) moves the bank's money: bank clearing → a deposit or
suspense for a credit; suspense → bank clearing for a debit that is no refund payment (a
reversal's pieces then bring back into suspense what the holder gave back,
``ledger/takeback.py``). A refund payment the bank confirms has no transfer of its own: it
posts the refund's pending payment (``ledger/confirmations.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tendering.ledger.postings import TransferSpec
from tendering.ledger.statements import ParsedLine

__all__ = ["Booking", "line_spec"]


@dataclass
class Booking:
    line: ParsedLine
    status: str = "booked"  # booked | suspense
    reason: str = ""  # the suspense reason, or "reversal"
    deposit_id: int | None = None
    spec: TransferSpec | None = None
    transfer_id: int | None = None
    instruction: str | None = None  # the refund instruction a debit confirms
    reversal: str = ""  # "strong" (RvslInd), "weak" (names a virtual account or credit)
    id: int | None = None  # the stored line's, once inserted by this import

    @property
    def key(self) -> str:
        return f"stmt:{self.line.bank_account}:{self.line.bank_ref}"

    @property
    def credit(self) -> bool:
        return self.line.direction == "C"


def line_spec(row: Booking, debit: int, credit: int, kind: str) -> TransferSpec:
    ln = row.line
    return TransferSpec(
        key=row.key,
        debit=debit,
        credit=credit,
        amount_fen=ln.amount_fen,
        kind=kind,
        reference=ln.bank_ref,
        value_at=ln.value_at,
    )
