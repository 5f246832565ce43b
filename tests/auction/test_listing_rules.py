"""The announcement's pure rules: periods (20-day announcement, 10-day listing, no rest-day
end), windows, money and subject."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from auction.listing_rules import (
    Schedule,
    check_money,
    check_schedule,
    check_subject,
    reserve_cutoff,
)
from tendering.core.calendar import WorkingCalendar
from tendering.core.errors import InvalidInput, RuleViolation

PLAIN = WorkingCalendar.of()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def schedule(**changes: object) -> Schedule:
    values: dict[str, object] = {
        "mode": "listing",
        "announce_at": T0,
        "registration_from": T0,
        "registration_to": T0 + timedelta(days=30),
        "deposit_deadline": T0 + timedelta(days=29),
        "starts_at": T0 + timedelta(days=21),
        "listing_ends_at": T0 + timedelta(days=31),  # a Thursday
    }
    values.update(changes)
    return Schedule(**values)  # type: ignore[arg-type]


def refused(s: Schedule, calendar: WorkingCalendar = PLAIN, **kw: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check_schedule(s, calendar, **kw)  # type: ignore[arg-type]
    assert caught.value.code == "auction.period"
    return caught.value


def test_a_valid_listing_and_a_valid_live_auction_pass() -> None:
    check_schedule(schedule(), PLAIN)
    live = schedule(
        mode="live",
        listing_ends_at=None,
        registration_to=T0 + timedelta(days=20),
        deposit_deadline=T0 + timedelta(days=20),
    )
    check_schedule(live, PLAIN)


def test_the_announcement_must_come_twenty_days_before_bidding_starts() -> None:
    check_schedule(schedule(starts_at=T0 + timedelta(days=20)), PLAIN)
    error = refused(schedule(starts_at=T0 + timedelta(days=20) - timedelta(seconds=1)))
    assert error.field == "starts_at"
    assert "20日" in error.message
    # announcing later than planned counts from when it really goes out
    late = refused(schedule(), announced_at=T0 + timedelta(days=2))
    assert late.field == "starts_at"


def test_the_listing_lasts_ten_days_at_least() -> None:
    starts = T0 + timedelta(days=21)  # a Monday
    check_schedule(schedule(listing_ends_at=starts + timedelta(days=10)), PLAIN)
    error = refused(schedule(listing_ends_at=starts + timedelta(days=10) - timedelta(minutes=1)))
    assert error.field == "listing_ends_at"
    assert "10日" in error.message


def test_listing_counted_in_working_days_where_a_province_says_so() -> None:
    starts = T0 + timedelta(days=21)  # Monday 2026-03-23
    ten_calendar_days = starts + timedelta(days=10)  # Thursday: only 8 working days
    error = refused(schedule(listing_ends_at=ten_calendar_days), listing_working_days=True)
    assert error.details["earliest_day"] == "2026-04-06"
    check_schedule(
        schedule(listing_ends_at=starts + timedelta(days=14)), PLAIN, listing_working_days=True
    )


def test_a_listing_cannot_end_on_a_rest_day_and_the_first_working_day_is_named() -> None:
    saturday = T0 + timedelta(days=33)
    error = refused(schedule(listing_ends_at=saturday))
    assert error.details["first_working_day"] == "2026-04-06"
    holiday = WorkingCalendar.of(holidays=[date(2026, 4, 2)])
    error = refused(schedule(), holiday)
    assert error.details["first_working_day"] == "2026-04-03"


def test_modes_and_windows_are_checked() -> None:
    assert refused(schedule(listing_ends_at=None)).field == "listing_ends_at"
    assert refused(schedule(mode="live")).field == "listing_ends_at"
    early = refused(schedule(registration_from=T0 - timedelta(hours=1)))
    assert early.field == "registration_from"
    assert refused(schedule(registration_to=T0)).field == "registration_to"
    assert refused(schedule(registration_to=T0 + timedelta(days=40))).field == "registration_to"
    late = refused(schedule(deposit_deadline=T0 + timedelta(days=30, seconds=1)))
    assert late.field == "deposit_deadline"


def test_the_reserve_cutoff_is_an_hour_before_bidding_can_end() -> None:
    s = schedule()
    assert reserve_cutoff(s) == T0 + timedelta(days=31) - timedelta(hours=1)
    live = schedule(mode="live", listing_ends_at=None)
    assert reserve_cutoff(live) == T0 + timedelta(days=21) - timedelta(hours=1)


def test_money_must_be_positive_and_the_deposit_within_the_start_price() -> None:
    check_money(start_price_fen=100, increment_fen=1, deposit_fen=100)
    with pytest.raises(InvalidInput) as caught:
        check_money(start_price_fen=100, increment_fen=0, deposit_fen=10)
    assert caught.value.field == "increment_fen"
    with pytest.raises(InvalidInput) as caught:
        check_money(start_price_fen=100, increment_fen=1, deposit_fen=101)
    assert caught.value.field == "deposit_fen"


@pytest.mark.parametrize(
    ("kind", "subject", "field"),
    [
        (
            "land_use",
            {"location": "x", "area_m2": "1", "use": "u", "term_years": 50},
            "subject.parcel_no",
        ),
        (
            "land_use",
            {"parcel_no": "G", "location": "x", "area_m2": "-1", "use": "u", "term_years": 50},
            "subject.area_m2",
        ),
        (
            "land_use",
            {"parcel_no": "G", "location": "x", "area_m2": "1", "use": "u", "term_years": 0},
            "subject.term_years",
        ),
        ("rural_property", {"right_type": "forest", "location": "x"}, "subject.collective"),
        (
            "rural_property",
            {"right_type": "mine", "location": "x", "collective": "村"},
            "subject.right_type",
        ),
        ("state_property", {}, "subject.location"),
    ],
)
def test_each_kind_needs_its_attributes(kind: str, subject: dict[str, object], field: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_subject(kind, subject)
    assert (caught.value.code, caught.value.field) == ("auction.subject", field)


def test_complete_subjects_pass() -> None:
    check_subject(
        "rural_property", {"right_type": "forest", "location": "x", "collective": "青山村"}
    )
    check_subject("state_property", {"location": "x"})
