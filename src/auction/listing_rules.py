"""Pure rules of an auction's announcement: its periods, money, subject and reserve cut-off.

The bidding rules (increments at bid time, the countdown) are the bidding side's
``rules.py``; these are what staff enter, checked when they save and again when they
announce. Sources:

- 招标拍卖挂牌出让国有建设用地使用权规定 (国土资源部令第39号) 第十条: the announcement is
  published at least 20 days before the auction or listing starts; 第十七条: the listing lasts
  at least 10 days (some provinces count working days: ``listing_working_days``);
- 民法典 第二百零三条: a period whose last day is a rest day ends on the next working day, so a
  listing end entered on a rest day is refused, naming the first working day;
- 农村产权流转交易: the seller of a rural right is the village collective (or its members
  through it); the subject names it.

Every refusal names the field and the rule, Chinese first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tendering.core.calendar import (
    WorkingCalendar,
    add_working_days,
    is_working_day,
    roll_to_working_day,
)
from tendering.core.errors import ErrorCode, InvalidInput, RuleViolation

__all__ = [
    "ANNOUNCEMENT_DAYS",
    "LISTING_DAYS",
    "RESERVE_CUTOFF",
    "Schedule",
    "check_money",
    "check_schedule",
    "check_subject",
    "reserve_cutoff",
]

ANNOUNCEMENT_DAYS = 20
LISTING_DAYS = 10
RESERVE_CUTOFF = timedelta(hours=1)  # the reserve is fixed this long before bidding can end
CST = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)

_KINDS_NEEDING = {
    "land_use": ("parcel_no", "location", "area_m2", "use", "term_years"),
    "state_property": ("location",),
    "rural_property": ("right_type", "location", "collective"),
}
_RIGHT_TYPES = ("land_management", "collective_assets", "forest")
_FIELD_NAMES = {
    "parcel_no": "宗地编号",
    "location": "坐落位置",
    "area_m2": "面积(平方米)",
    "use": "土地用途",
    "term_years": "出让年限",
    "right_type": "权利类型",
    "collective": "出让方村集体经济组织",
}
_MORE_NAMES = {"description": "标的描述", "planning": "规划条件"}
_RIGHT_NAMES = {
    "land_management": "土地经营权",
    "collective_assets": "集体资产",
    "forest": "林权",
}


def describe_subject(subject: dict[str, object]) -> str:
    """The subject as people read it on a record: Chinese labels, known fields first."""
    names = {**_FIELD_NAMES, **_MORE_NAMES}
    order = [k for k in names if k in subject] + sorted(k for k in subject if k not in names)
    parts = []
    for key in order:
        value = subject[key]
        if value is None or value == "":
            continue
        if key == "right_type":
            value = _RIGHT_NAMES.get(str(value), value)
        parts.append(f"{names.get(key, key)}: {value}")
    return "; ".join(parts)


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """The moments staff enter (UTC). ``listing_ends_at`` is ``None`` for a live auction."""

    mode: str
    announce_at: datetime
    registration_from: datetime
    registration_to: datetime
    deposit_deadline: datetime
    starts_at: datetime
    listing_ends_at: datetime | None


def _refuse(message: str, *, field: str, **details: Any) -> RuleViolation:
    return RuleViolation(message, code=ErrorCode.AUCTION_PERIOD, field=field, details=details)


def _day(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def bidding_can_end(schedule: Schedule) -> datetime:
    """The earliest moment bidding can end: the listing's end (one bidder ends it there), or
    a live auction's start."""
    return schedule.listing_ends_at or schedule.starts_at


def reserve_cutoff(schedule: Schedule, *, before: timedelta = RESERVE_CUTOFF) -> datetime:
    return bidding_can_end(schedule) - before


def check_schedule(
    schedule: Schedule,
    calendar: WorkingCalendar,
    *,
    announced_at: datetime | None = None,
    listing_working_days: bool = False,
) -> None:
    """Refuse a schedule that breaks the periods (``auction.period``, 400). ``announced_at``
    is when the announcement really goes out (the database clock at announcing); the
    planned ``announce_at`` otherwise."""
    published = announced_at or schedule.announce_at
    if schedule.starts_at - published < ANNOUNCEMENT_DAYS * DAY:
        earliest = published + ANNOUNCEMENT_DAYS * DAY
        raise _refuse(
            f"出让公告应在竞价开始{ANNOUNCEMENT_DAYS}日前发布，开始时间最早为{_day(earliest)}"
            f"（国土资源部令第39号第十条）: bidding must start at least {ANNOUNCEMENT_DAYS} "
            "days after the announcement.",
            field="starts_at",
            earliest=earliest.isoformat(),
        )
    _check_listing(schedule, calendar, listing_working_days=listing_working_days)
    _check_windows(schedule)


def _check_listing(
    schedule: Schedule, calendar: WorkingCalendar, *, listing_working_days: bool
) -> None:
    ends = schedule.listing_ends_at
    if schedule.mode == "live":
        if ends is not None:
            raise _refuse(
                "现场拍卖没有挂牌期，请勿填写挂牌截止时间: a live auction has no listing end.",
                field="listing_ends_at",
            )
        return
    if ends is None:
        raise _refuse(
            "挂牌出让须填写挂牌截止时间: a listing needs its end (listing_ends_at).",
            field="listing_ends_at",
        )
    start_day = schedule.starts_at.astimezone(CST).date()
    if listing_working_days:
        last = add_working_days(calendar, start_day, LISTING_DAYS)
        short = ends.astimezone(CST).date() < last
        unit = "个工作日"
    else:
        short = ends - schedule.starts_at < LISTING_DAYS * DAY
        last = (schedule.starts_at + LISTING_DAYS * DAY).astimezone(CST).date()
        unit = "日"
    if short:
        raise _refuse(
            f"挂牌时间不得少于{LISTING_DAYS}{unit}，挂牌截止最早为{last.isoformat()}"
            f"（国土资源部令第39号第十七条）: the listing must last at least {LISTING_DAYS} "
            f"{'working ' if listing_working_days else ''}days.",
            field="listing_ends_at",
            earliest_day=last.isoformat(),
        )
    end_day = ends.astimezone(CST).date()
    if not is_working_day(calendar, end_day):
        first = roll_to_working_day(calendar, end_day)
        raise _refuse(
            f"挂牌截止日不得为休息日（民法典第二百零三条）：{end_day.isoformat()}是休息日，"
            f"第一个工作日是{first.isoformat()}: the listing cannot end on a rest day.",
            field="listing_ends_at",
            first_working_day=first.isoformat(),
        )


def _check_windows(schedule: Schedule) -> None:
    last_registration = schedule.listing_ends_at or schedule.starts_at
    if schedule.registration_from < schedule.announce_at:
        raise _refuse(
            "报名不得早于公告发布: registration cannot open before the announcement.",
            field="registration_from",
        )
    if schedule.registration_to <= schedule.registration_from:
        raise _refuse(
            "报名截止时间须晚于报名开始时间: registration must close after it opens.",
            field="registration_to",
        )
    if schedule.registration_to > last_registration:
        raise _refuse(
            f"报名截止不得晚于{'挂牌截止' if schedule.listing_ends_at else '拍卖开始'}"
            f"（{_day(last_registration)}）: registration must close before bidding can end.",
            field="registration_to",
        )
    if not schedule.registration_from <= schedule.deposit_deadline <= schedule.registration_to:
        raise _refuse(
            "保证金到账截止时间须在报名期内: the deposit deadline must fall within the "
            "registration window.",
            field="deposit_deadline",
        )


def check_money(*, start_price_fen: int, increment_fen: int, deposit_fen: int) -> None:
    """Positive amounts; the deposit no more than the start price."""
    for field, value, zh in (
        ("start_price_fen", start_price_fen, "起始价"),
        ("increment_fen", increment_fen, "加价幅度"),
        ("deposit_fen", deposit_fen, "竞买保证金"),
    ):
        if value <= 0:
            raise InvalidInput(f"{zh}须大于零: {field} must be positive.", field=field)
    if deposit_fen > start_price_fen:
        raise InvalidInput(
            "竞买保证金不得高于起始价: the deposit cannot exceed the start price.",
            field="deposit_fen",
        )


def check_subject(kind: str, subject: dict[str, Any]) -> None:
    """The kind's required attributes are present and well formed (``auction.subject``)."""
    for name in _KINDS_NEEDING.get(kind, ()):
        value = subject.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RuleViolation(
                f"{_FIELD_NAMES[name]}必须填写: subject.{name} is required for a {kind} auction.",
                code=ErrorCode.AUCTION_SUBJECT,
                field=f"subject.{name}",
            )
    if "area_m2" in subject and subject["area_m2"] is not None:
        try:
            area = Decimal(str(subject["area_m2"]))
        except InvalidOperation:
            area = Decimal(0)
        if not area.is_finite() or area <= 0:
            raise RuleViolation(
                "面积须为正数(平方米): subject.area_m2 must be a positive number of m².",
                code=ErrorCode.AUCTION_SUBJECT,
                field="subject.area_m2",
            )
    term = subject.get("term_years")
    if term is not None and (not isinstance(term, int) or isinstance(term, bool) or term <= 0):
        raise RuleViolation(
            "年限须为正整数: subject.term_years must be a positive whole number of years.",
            code=ErrorCode.AUCTION_SUBJECT,
            field="subject.term_years",
        )
    if kind == "rural_property" and subject.get("right_type") not in _RIGHT_TYPES:
        raise RuleViolation(
            "权利类型须为 土地经营权(land_management)、集体资产(collective_assets) 或 "
            f"林权(forest): subject.right_type must be one of {', '.join(_RIGHT_TYPES)}.",
            code=ErrorCode.AUCTION_SUBJECT,
            field="subject.right_type",
        )
