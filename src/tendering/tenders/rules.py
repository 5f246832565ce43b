"""The legal rules of tender publication, as pure functions (no I/O).

Sources: 招标投标法 第二十四条 (at least 20 days from the documents first going out to the
bid deadline); 招标投标法实施条例 第十六条 (documents on sale for at least 5 days), 第二十一条
(a clarification or amendment that may affect the bids: at least 15 days before the
deadline, else the deadline moves), 第二十六条 (deposit at most 2% of the estimated price).
A center may configure other numbers (:class:`ScheduleRules`); projects may override them.
Times are passed in; the service reads them from the database clock.

Who registered, and how many, are secret until the opening (招标投标法 第二十二条): the
audit chain holds a :func:`registration_commitment` in the global stream, opened by the
registration's nonce in the lot's stream once the opening has finished.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from tendering.core.calendar import WorkingCalendar, roll_to_working_day
from tendering.core.canonical import canonical_json
from tendering.core.errors import ErrorCode, InvalidInput, RuleViolation
from tendering.core.money import yuan

__all__ = [
    "BidField",
    "DeadlinePush",
    "ScheduleRules",
    "check_deposit",
    "check_schedule",
    "describe_duration",
    "parse_bid_fields",
    "push_deadline",
    "registered_fields",
    "registration_commitment",
]

DAY = timedelta(days=1)
# China Standard Time: the date a deadline falls on is its date in Beijing.
CST = timezone(timedelta(hours=8), "CST")
BASIS_POINTS = 10_000
_BID_FIELD_TYPES = ("integer", "string")
_RESERVED_FIELDS = ("price_fen",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRules:
    min_document_days: int = 5
    min_bid_days: int = 20
    max_deposit_bp: int = 200  # 2% in basis points
    amendment_days: int = 15

    def overridden(self, overrides: Mapping[str, Any]) -> ScheduleRules:
        """These rules with a project's overrides (only known keys, whole numbers)."""
        known = {f.name for f in fields(self)}
        chosen = {k: int(v) for k, v in overrides.items() if k in known and v is not None}
        return replace(self, **chosen)


def describe_duration(span: timedelta) -> str:
    """``4 days 23 hours 59 minutes`` (whole minutes, zero parts left out)."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words) or "less than a minute"


def check_schedule(
    rules: ScheduleRules,
    *,
    published_at: datetime,
    documents_from: datetime,
    documents_to: datetime,
    bid_deadline: datetime,
    opening_at: datetime,
) -> None:
    """Refuse a schedule that breaks an ordering or a minimum period.

    Documents can go out no earlier than the notice itself, so the periods are counted
    from ``max(documents_from, published_at)``.
    """
    first = max(documents_from, published_at)
    if documents_to <= first:
        raise InvalidInput(
            "documents_to must be after documents_from and after the publication time.",
            code=ErrorCode.TENDER_SCHEDULE_ORDER,
            field="documents_to",
        )
    if documents_to > bid_deadline:
        raise InvalidInput(
            "documents_to must not be after bid_deadline.",
            code=ErrorCode.TENDER_SCHEDULE_ORDER,
            field="documents_to",
        )
    if opening_at < bid_deadline:
        raise InvalidInput(
            "opening_at must not be before bid_deadline (bids are opened at the deadline).",
            code=ErrorCode.TENDER_SCHEDULE_ORDER,
            field="opening_at",
        )
    available = documents_to - first
    if available < rules.min_document_days * DAY:
        raise RuleViolation(
            f"招标文件发售期不得少于{rules.min_document_days}日: documents are available for "
            f"{describe_duration(available)}; at least {rules.min_document_days} days "
            "are required.",
            code=ErrorCode.TENDER_DOCUMENT_PERIOD,
            field="documents_to",
            details={"available_seconds": int(available.total_seconds())},
        )
    bid_period = bid_deadline - first
    if bid_period < rules.min_bid_days * DAY:
        raise RuleViolation(
            f"自招标文件开始发出之日起至投标截止之日止不得少于{rules.min_bid_days}日: the bid "
            f"deadline is {describe_duration(bid_period)} after the documents first become "
            f"available; at least {rules.min_bid_days} days are required.",
            code=ErrorCode.TENDER_BID_PERIOD,
            field="bid_deadline",
            details={"bid_period_seconds": int(bid_period.total_seconds())},
        )


def check_deposit(rules: ScheduleRules, *, deposit_fen: int, estimated_price_fen: int) -> None:
    """Deposit at most ``max_deposit_bp`` basis points of the estimated price (integers)."""
    if deposit_fen < 0 or estimated_price_fen <= 0:
        raise InvalidInput(
            "deposit_fen must be zero or more and estimated_price_fen more than zero.",
            code=ErrorCode.TENDER_BAD_AMOUNT,
            field="deposit_fen" if deposit_fen < 0 else "estimated_price_fen",
        )
    if deposit_fen * BASIS_POINTS > estimated_price_fen * rules.max_deposit_bp:
        limit = estimated_price_fen * rules.max_deposit_bp // BASIS_POINTS
        percent = f"{rules.max_deposit_bp / 100:g}%"
        deposit, price = yuan(deposit_fen, grouped=True), yuan(estimated_price_fen, grouped=True)
        raise RuleViolation(
            f"投标保证金不得超过招标项目估算价的{percent}: the deposit of {deposit} yuan "
            f"is more than {percent} of the estimated price {price} yuan "
            f"(at most {yuan(limit, grouped=True)} yuan).",
            code=ErrorCode.TENDER_DEPOSIT_LIMIT,
            field="deposit_fen",
            details={"deposit_fen": deposit_fen, "limit_fen": limit},
        )


@dataclass(frozen=True, slots=True)
class DeadlinePush:
    bid_deadline: datetime
    opening_at: datetime
    pushed: bool


def push_deadline(
    rules: ScheduleRules,
    calendar: WorkingCalendar,
    *,
    issued_at: datetime,
    bid_deadline: datetime,
    opening_at: datetime,
) -> DeadlinePush:
    """Where the deadline must go when an amendment is issued at ``issued_at``.

    With fewer than ``amendment_days`` left, the deadline moves out by whole days (keeping
    its time of day) until that many remain, then onto a working day in the deadline's own
    local date (China Standard Time); the opening moves by the same amount.
    """
    needed = rules.amendment_days * DAY
    if bid_deadline - issued_at >= needed:
        return DeadlinePush(bid_deadline, opening_at, pushed=False)
    shortfall = needed - (bid_deadline - issued_at)
    whole_days = -(-shortfall // DAY)  # ceiling
    moved = bid_deadline + whole_days * DAY
    local = moved.astimezone(CST)
    rolled = roll_to_working_day(calendar, local.date())
    moved += (rolled - local.date()).days * DAY
    return DeadlinePush(moved, opening_at + (moved - bid_deadline), pushed=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class BidField:
    """One typed field of a lot's bid form (``bid.json``), besides ``price_fen``."""

    name: str
    type: str
    label: str
    required: bool = True
    min: int | None = None
    max: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "required": self.required,
            "min": self.min,
            "max": self.max,
        }


def parse_bid_fields(raw: list[Mapping[str, Any]]) -> list[BidField]:
    """Validate a lot's bid-form fields; ``price_fen`` is always there and not listed."""
    seen: set[str] = set()
    result = []
    for index, item in enumerate(raw):
        where = f"bid_fields[{index}]"
        name = str(item.get("name", ""))
        if not name.isidentifier() or not name.isascii():
            raise InvalidInput(
                f"{where}.name must be an ASCII identifier such as duration_days.", field=where
            )
        if name in _RESERVED_FIELDS or name in seen:
            raise InvalidInput(f"{where}.name {name!r} is reserved or repeated.", field=where)
        kind = item.get("type")
        if kind not in _BID_FIELD_TYPES:
            raise InvalidInput(f"{where}.type must be 'integer' or 'string'.", field=where)
        low, high = item.get("min"), item.get("max")
        if low is not None and high is not None and low > high:
            raise InvalidInput(f"{where}: min must not be more than max.", field=where)
        seen.add(name)
        result.append(
            BidField(
                name=name,
                type=str(kind),
                label=str(item.get("label") or name),
                required=bool(item.get("required", True)),
                min=low,
                max=high,
            )
        )
    return result


def registered_fields(*, lot: str, organization: int, registration: str) -> dict[str, str | int]:
    """What ``registration.made`` commits to (and ``registration.revealed`` shows)."""
    return {
        "event": "registration.made",
        "lot": lot,
        "organization": organization,
        "registration": registration,
    }


def registration_commitment(fields: Mapping[str, str | int], nonce: str) -> str:
    """``SHA-256(canonical_json(fields + {"nonce": nonce}))`` in lowercase hex: hiding without
    the nonce (guessing the lot and the bidder tests nothing), binding with it."""
    if "nonce" in fields:
        raise ValueError("fields must not carry their own nonce")
    return hashlib.sha256(canonical_json({**fields, "nonce": nonce})).hexdigest()
