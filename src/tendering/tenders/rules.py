"""The legal rules of tender publication, as pure functions (no I/O).

Sources: 招标投标法 第二十四条 (at least 20 days from the documents first going out to the
bid deadline); 招标投标法实施条例 第十六条 (documents on sale for at least 5 days), 第二十一条
(a clarification or amendment that may affect the bids: at least 15 days before the
deadline, else the deadline moves), 第二十六条 (deposit at most 2% of the estimated price).
A center may configure other numbers (:class:`ScheduleRules`); projects may override them,
but only to be stricter: the law's numbers are floors (:data:`STATUTORY_LIMITS`; the deposit
cap a ceiling) that configuration may raise and never lower, and fewer than 3 valid bids
always fails a lot (招标投标法 第二十八条). Times are passed in; the service reads them from
the database clock.

No period ends on a rest day (民法典 第二百零三条): a documents' end or a bid deadline that
staff enter on a weekend or public holiday is refused with the first working day after it
named; one the platform computes (the 15-day push) is moved onto it. The working-day
calendar is passed in (``tendering.core.holidays.load_calendar``); a period reaching into a
year whose table is not entered is refused naming the year (``YearNotEntered``).

Who registered, and how many, are secret until the opening (招标投标法 第二十二条): the
audit chain holds a :func:`registration_commitment` in the global stream, opened by the
registration's nonce in the lot's stream once the opening has finished.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tendering.core.calendar import (
    WEEKDAY_NAMES,
    WorkingCalendar,
    YearNotEntered,
    is_working_day,
    roll_to_working_day,
)
from tendering.core.canonical import canonical_json
from tendering.core.errors import ErrorCode, InvalidInput, RuleViolation
from tendering.core.money import yuan

__all__ = [
    "STATUTORY_LIMITS",
    "BidField",
    "DeadlinePush",
    "ScheduleRules",
    "StatutoryLimit",
    "check_deposit",
    "check_moved_deadline",
    "check_schedule",
    "check_statutory_limits",
    "describe_day",
    "describe_duration",
    "describe_moment",
    "parse_bid_fields",
    "push_deadline",
    "registered_fields",
    "registration_commitment",
    "roll_moment",
]

DAY = timedelta(days=1)
# China Standard Time: the date a deadline falls on is its date in Beijing.
CST = timezone(timedelta(hours=8), "CST")
BASIS_POINTS = 10_000
_BID_FIELD_TYPES = ("integer", "string")
_RESERVED_FIELDS = ("price_fen",)


@dataclass(frozen=True, slots=True)
class StatutoryLimit:
    """The law's number for one rule: a floor, or a ceiling (``ceiling``) for the deposit."""

    value: int
    law: str
    rule: str
    ceiling: bool = False

    def allows(self, value: int) -> bool:
        return value <= self.value if self.ceiling else value >= self.value

    def nearest(self, value: int) -> int:
        """``value``, or the limit when ``value`` is beyond it."""
        return min(value, self.value) if self.ceiling else max(value, self.value)


STATUTORY_LIMITS: Mapping[str, StatutoryLimit] = {
    "min_document_days": StatutoryLimit(
        5, "招标投标法实施条例 第十六条", "招标文件发售期不得少于5日"
    ),
    "min_bid_days": StatutoryLimit(
        20, "招标投标法 第二十四条", "自招标文件开始发出之日起至投标截止之日止不得少于20日"
    ),
    "amendment_days": StatutoryLimit(
        15, "招标投标法实施条例 第二十一条", "澄清或者修改应当在投标截止时间至少15日前发出"
    ),
    "max_deposit_bp": StatutoryLimit(
        200, "招标投标法实施条例 第二十六条", "投标保证金不得超过招标项目估算价的2%", ceiling=True
    ),
    "min_valid_bids": StatutoryLimit(3, "招标投标法 第二十八条", "投标人少于3个的，应当重新招标"),
}


def check_statutory_limits(values: Mapping[str, int | None], *, prefix: str = "") -> None:
    """Refuse a configured number that is less strict than the law (400 naming the field,
    the law and its number); ``None`` leaves a rule as it is."""
    for name, limit in STATUTORY_LIMITS.items():
        value = values.get(name)
        if value is None or limit.allows(value):
            continue
        field = f"{prefix}{name}"
        if limit.ceiling:
            zh, en = (
                f"可以低于、不得高于法定上限{limit.value}",
                f"at most the legal cap {limit.value}",
            )
        else:
            zh, en = (
                f"可以高于、不得低于法定下限{limit.value}",
                f"at least the legal floor {limit.value}",
            )
        raise RuleViolation(
            f"{limit.rule}（{limit.law}）：{field} {zh}，不能设为{value}。 {field} must be {en}; "
            "a center or a project may only make the rule stricter.",
            code=ErrorCode.TENDER_STATUTORY_LIMIT,
            field=field,
            details={"limit": limit.value, "value": value},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRules:
    min_document_days: int = 5
    min_bid_days: int = 20
    max_deposit_bp: int = 200  # 2% in basis points
    amendment_days: int = 15
    min_valid_bids: int = 3

    def within_the_law(self) -> ScheduleRules:
        """These rules, each at least as strict as the law (a value stored before the limits
        were enforced counts as the law's own)."""
        return replace(
            self,
            **{
                name: limit.nearest(getattr(self, name)) for name, limit in STATUTORY_LIMITS.items()
            },
        )

    def overridden(self, overrides: Mapping[str, Any]) -> ScheduleRules:
        """These rules with a project's overrides (only known keys, whole numbers), never
        less strict than the law."""
        known = {f.name for f in fields(self)}
        chosen = {k: int(v) for k, v in overrides.items() if k in known and v is not None}
        return replace(self, **chosen).within_the_law()


def describe_duration(span: timedelta) -> str:
    """``4 days 23 hours 59 minutes`` (whole minutes, zero parts left out)."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words) or "less than a minute"


def describe_day(day: date) -> str:
    """``2027-01-04（星期一）``: a date as the users read it."""
    return f"{day.isoformat()}（{WEEKDAY_NAMES[day.weekday()]}）"


def describe_moment(moment: datetime) -> str:
    """``2027-01-04（星期一） 09:30``: a time as the users read it (Beijing)."""
    local = moment.astimezone(CST)
    return f"{describe_day(local.date())} {local:%H:%M}"


def roll_moment(calendar: WorkingCalendar, moment: datetime) -> datetime:
    """``moment`` moved out by whole days, keeping its time of day, until its date in Beijing
    is a working day (itself when it already is)."""
    local = moment.astimezone(CST).date()
    return moment + (roll_to_working_day(calendar, local) - local).days * DAY


def _earliest(calendar: WorkingCalendar, moment: datetime) -> str:
    """The earliest legal end at or after ``moment``, as users read it; when its year's
    table is missing, the moment itself with a word saying the day was not checked."""
    try:
        return describe_moment(roll_moment(calendar, moment))
    except YearNotEntered as missing:
        return f"{describe_moment(moment)}（{missing.year}年日历尚未录入，未核对是否休息日）"


def _refuse_rest_day(
    calendar: WorkingCalendar, moment: datetime, *, field: str, zh: str, en: str
) -> None:
    """Refuse an entered period end that falls on a rest day, naming the first working day."""
    day = moment.astimezone(CST).date()
    if is_working_day(calendar, day):
        return
    first = roll_to_working_day(calendar, day)
    raise RuleViolation(
        f"{zh}不得为休息日（期限的最后一日是法定休假日的，以休假日结束的次日为最后一日，民法典 "
        f"第二百零三条）：{describe_day(day)}是休息日，第一个工作日是{describe_day(first)}。 "
        f"{en} falls on a rest day ({day.isoformat()}); the first working day after it is "
        f"{first.isoformat()}.",
        code=ErrorCode.TENDER_REST_DAY,
        field=field,
        details={"day": day.isoformat(), "first_working_day": first.isoformat()},
    )


def _check_bid_period(
    rules: ScheduleRules, calendar: WorkingCalendar, *, first: datetime, bid_deadline: datetime
) -> None:
    bid_period = bid_deadline - first
    if bid_period < rules.min_bid_days * DAY:
        earliest = _earliest(calendar, first + rules.min_bid_days * DAY)
        raise RuleViolation(
            f"自招标文件开始发出之日起至投标截止之日止不得少于{rules.min_bid_days}日，投标截止"
            f"时间最早为{earliest}: the bid deadline is {describe_duration(bid_period)} after "
            f"the documents first become available; at least {rules.min_bid_days} days are "
            "required.",
            code=ErrorCode.TENDER_BID_PERIOD,
            field="bid_deadline",
            details={"bid_period_seconds": int(bid_period.total_seconds())},
        )


def check_schedule(
    rules: ScheduleRules,
    calendar: WorkingCalendar,
    *,
    published_at: datetime,
    documents_from: datetime,
    documents_to: datetime,
    bid_deadline: datetime,
    opening_at: datetime,
) -> None:
    """Refuse a schedule that breaks an ordering or a minimum period, or whose documents'
    end or bid deadline falls on a rest day (Beijing dates, by ``calendar``).

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
    _refuse_rest_day(
        calendar,
        documents_to,
        field="documents_to",
        zh="招标文件发售截止日",
        en="The end of the documents' period",
    )
    _check_bid_period(rules, calendar, first=first, bid_deadline=bid_deadline)
    _refuse_rest_day(
        calendar, bid_deadline, field="bid_deadline", zh="投标截止时间", en="The bid deadline"
    )


def check_moved_deadline(
    rules: ScheduleRules,
    calendar: WorkingCalendar,
    *,
    first: datetime,
    issued_at: datetime,
    bid_deadline: datetime,
    entered: bool,
) -> None:
    """The checks of publication, for a deadline an amendment issued at ``issued_at`` moves.

    ``first`` is when the documents first went out. An ``entered`` deadline (staff gave it)
    must also be at least ``amendment_days`` after the amendment (实施条例 第二十一条) and is
    refused, not moved, when it breaks a rule; a computed one (the push) is checked the same.
    """
    needed = rules.amendment_days * DAY
    if entered and bid_deadline - issued_at < needed:
        raise RuleViolation(
            f"澄清或者修改招标文件的，应当在投标截止时间至少{rules.amendment_days}日前发出"
            f"（招标投标法实施条例 第二十一条），投标截止时间最早为"
            f"{_earliest(calendar, issued_at + needed)}: the new deadline is "
            f"{describe_duration(bid_deadline - issued_at)} after this amendment; at least "
            f"{rules.amendment_days} days are required.",
            code=ErrorCode.TENDER_AMENDMENT_PERIOD,
            field="bid_deadline",
            details={"after_amendment_seconds": int((bid_deadline - issued_at).total_seconds())},
        )
    _check_bid_period(rules, calendar, first=first, bid_deadline=bid_deadline)
    _refuse_rest_day(
        calendar, bid_deadline, field="bid_deadline", zh="投标截止时间", en="The bid deadline"
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
    moved = roll_moment(calendar, bid_deadline + whole_days * DAY)
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
