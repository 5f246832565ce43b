"""Pure ledger rules: virtual account numbers, statement-line matching, refund interest.

No database, no web: plain values in, results or a :class:`RuleViolation` out.

Virtual account numbers (子账号) are 16 digits: a 4-digit platform prefix, 10 random
digits, and 2 check digits by **ISO 7064 MOD 97-10** (the IBAN check): the number read as an
integer is ≡ 1 (mod 97). It catches every single wrong digit and every swap of two adjacent
digits, so a mistyped number in a payment goes to suspense instead of to a wrong bidder.

Interest on refunded deposits defaults to the People's Bank of China benchmark rate for
current (demand) deposits, **0.35 % a year**, day count **ACT/360** (Chinese banks' daily rate
is the annual rate / 360), counted from each receipt's value date (Asia/Shanghai) to the
payment date, summed over receipts and rounded half-up to the fen once. Both are
configurable (``TENDERING_DEPOSIT_RATE``, ``TENDERING_DEPOSIT_DAY_COUNT``, read and checked
by ``tendering.settings``) and per batch; the rules here take them as plain values.

Who holds a deposit account for which lot is secret until that lot's opening (招标投标法
第二十二条), so the audit chain first holds only :func:`commitment` to it, opened by the
account's nonce in ``deposit.revealed``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from tendering.core.canonical import canonical_json
from tendering.core.errors import InvalidInput, RuleViolation

__all__ = [
    "CHINA",
    "DEFAULT_POLICY",
    "DayCount",
    "DepositTerms",
    "IncomingLine",
    "LedgerPolicy",
    "Match",
    "SuspenseReason",
    "account_number",
    "classify_credits",
    "commitment",
    "committed_assignment",
    "committed_opening",
    "deposit_status",
    "interest_fen",
    "is_valid_account_number",
    "is_virtual_account",
    "parse_yuan",
]

CHINA = ZoneInfo("Asia/Shanghai")
ACCOUNT_PREFIX = "8866"


class DayCount(StrEnum):
    ACT_360 = "ACT/360"
    ACT_365 = "ACT/365"

    @property
    def basis(self) -> int:
        return 360 if self is DayCount.ACT_360 else 365


@dataclass(frozen=True, kw_only=True)
class LedgerPolicy:
    annual_rate: Decimal = Decimal("0.0035")
    day_count: DayCount = DayCount.ACT_360
    refund_due_days: int = 5  # 合同签订后5日内退还 (招标投标法实施条例 第五十七条)


DEFAULT_POLICY = LedgerPolicy()


def _mod97_check(body: str) -> str:
    return f"{98 - int(body + '00') % 97:02d}"


def account_number(random_digits: str, *, prefix: str = ACCOUNT_PREFIX) -> str:
    """``prefix + random_digits + 2 check digits`` (ISO 7064 MOD 97-10)."""
    body = prefix + random_digits
    if not body.isdigit():
        raise ValueError("an account number is digits only")
    return body + _mod97_check(body)


def is_valid_account_number(number: str) -> bool:
    return len(number) == 16 and number.isascii() and number.isdigit() and int(number) % 97 == 1


def is_virtual_account(number: str, *, prefix: str = ACCOUNT_PREFIX) -> bool:
    """A well-formed virtual account number of this platform (prefix and check digits)."""
    return number.startswith(prefix) and is_valid_account_number(number)


_YUAN_DIGITS = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")


def parse_yuan(text: str, *, field_name: str = "amount") -> int:
    """``"50000.00"`` (yuan, at most two decimals, > 0) → 5000000 fen.

    Digits only (thousands commas allowed): a bank writes amounts that way, and what Python's
    ``Decimal`` would also take (``1e3``, ``+5``, ``1_000``, ``Infinity``) is a file that
    did not come from a bank's export, refused rather than guessed at.
    """
    written = text.strip()
    if not _YUAN_DIGITS.fullmatch(written):
        why = " (no exponent: write 1000.00, not 1e3)" if "e" in written.lower() else ""
        raise InvalidInput(
            f"{field_name} must be an amount in yuan written in digits like 50000.00{why},"
            f" got {text!r}",
            field=field_name,
        )
    value = Decimal(written.replace(",", ""))
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(
            f"{field_name} must have at most two decimals, got {text!r}", field=field_name
        )
    fen = int(value * 100)
    if fen <= 0:
        raise InvalidInput(f"{field_name} must be more than 0, got {text!r}", field=field_name)
    return fen


class SuspenseReason(StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"  # no such virtual account (or a bad check digit)
    AFTER_DEADLINE = "after_deadline"  # the bank's value time is after the deadline
    ACCOUNT_CLOSED = "account_closed"  # the deposit was already refunded/forfeited/converted
    WRONG_CURRENCY = "wrong_currency"  # the payer paid in another currency, converted by the bank
    UNMATCHED_DEBIT = "unmatched_debit"  # money left the bank for no refund instruction we know
    UNMATCHED_REVERSAL = "unmatched_reversal"  # the bank took back a credit we have not seen
    # Lines parked before migration 0014 may still say these; nothing parks for them now
    # (money on a bidder's own account is the bidder's, whatever the amount).
    SHORT = "short"
    OVER = "over"


@dataclass(frozen=True, kw_only=True)
class DepositTerms:
    """What the matcher needs to know of one virtual account."""

    deposit_id: int
    amount_due_fen: int
    deadline: datetime
    is_open: bool = True


@dataclass(frozen=True, kw_only=True)
class IncomingLine:
    key: int  # the caller's index of the line
    virtual_account: str
    amount_fen: int
    value_at: datetime
    currency: str = "CNY"  # the currency the payer paid in


@dataclass(frozen=True)
class Match:
    key: int
    deposit_id: int | None
    reason: SuspenseReason | None = None  # None: booked to the deposit account


def classify_credits(
    lines: Iterable[IncomingLine], accounts: Mapping[str, DepositTerms]
) -> list[Match]:
    """Decide which credit lines book to their virtual account and which go to suspense.

    Money on a bidder's own open account, paid in yuan by the deadline (bank value time), is
    the bidder's whatever its amount: a part payment makes the deposit ``partial`` until the
    sum reaches what is due, an excess stays on the account and is refunded with it.
    Suspense is only for money nobody can be credited with: an unknown or closed account,
    a payment after the deadline, or one made in another currency (the deposit is due in
    yuan; what the conversion gave is not what the payer meant to pay).
    """
    result: list[Match] = []
    for line in lines:
        terms = accounts.get(line.virtual_account)
        if terms is None:
            result.append(Match(line.key, None, SuspenseReason.UNKNOWN_ACCOUNT))
            continue
        reason: SuspenseReason | None = None
        if not terms.is_open:
            reason = SuspenseReason.ACCOUNT_CLOSED
        elif line.value_at > terms.deadline:
            reason = SuspenseReason.AFTER_DEADLINE
        elif line.currency != "CNY":
            reason = SuspenseReason.WRONG_CURRENCY
        result.append(Match(line.key, terms.deposit_id, reason))
    return result


def deposit_status(*, received_fen: int, amount_due_fen: int) -> str:
    """``none`` / ``partial`` / ``received`` for the amount received in time."""
    if received_fen <= 0:
        return "none"
    return "received" if received_fen >= amount_due_fen else "partial"


@dataclass(frozen=True)
class InterestResult:
    interest_fen: int
    days: int  # the days of the largest receipt, shown on the instruction
    detail: list[tuple[int, int]] = field(default_factory=list)  # (amount_fen, days)


def interest_fen(
    receipts: Iterable[tuple[int, datetime]],
    *,
    paid_on: date,
    annual_rate: Decimal,
    day_count: DayCount,
) -> InterestResult:
    """Interest on each receipt from its value date to ``paid_on``, rounded once, half up.

    A receipt on the payment day earns nothing; a negative span is a caller's mistake.
    """
    if annual_rate < 0:
        raise RuleViolation("the interest rate must not be negative", field="annual_rate")
    total = Decimal(0)
    detail: list[tuple[int, int]] = []
    for amount, value_at in receipts:
        days = (paid_on - value_at.astimezone(CHINA).date()).days
        if days < 0:
            raise RuleViolation(
                f"payment date {paid_on} is before the money arrived ({value_at.date()})",
                field="paid_on",
            )
        total += Decimal(amount) * annual_rate * days / day_count.basis
        detail.append((amount, days))
    rounded = int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    largest = max(detail, default=(0, 0))
    return InterestResult(rounded, largest[1], detail)


def due_date(paid_on: date, policy: LedgerPolicy = DEFAULT_POLICY) -> date:
    return paid_on + timedelta(days=policy.refund_due_days)


def commitment(fields: Mapping[str, str | int], nonce: str) -> str:
    """A hiding, binding commitment to ``fields`` for the audit chain (lowercase hex):
    ``SHA-256(canonical_json(fields + {"nonce": nonce}))``. Without the nonce nobody can test
    guesses of the bidder or the subject against it; with it anyone can recompute it."""
    if "nonce" in fields:
        raise ValueError("fields must not carry their own nonce")
    return hashlib.sha256(canonical_json({**fields, "nonce": nonce})).hexdigest()


def committed_opening(*, number: str, bidder_org_id: int, subject: str) -> dict[str, str | int]:
    """What ``deposit.opened`` commits to: only what never changes (an amendment may move
    the deadline and the amount due, which are the subject's public terms anyway)."""
    return {
        "event": "deposit.opened",
        "number": number,
        "bidder_org_id": bidder_org_id,
        "subject": subject,
    }


def committed_assignment(
    *, line: int, part: int, number: str, amount_fen: int
) -> dict[str, str | int]:
    """What a suspense resolution commits to for its ``part``-th assignment of ``line``."""
    return {
        "event": "suspense.assigned",
        "line": line,
        "part": part,
        "number": number,
        "amount_fen": amount_fen,
    }
