from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tendering.core.errors import InvalidInput, RuleViolation
from tendering.ledger.rules import (
    DayCount,
    DepositTerms,
    IncomingLine,
    SuspenseReason,
    account_number,
    classify_credits,
    deposit_status,
    interest_fen,
    is_valid_account_number,
    is_virtual_account,
    parse_yuan,
)

digits = st.text("0123456789", min_size=10, max_size=10)


@given(digits)
def test_account_numbers_carry_iso7064_mod97_check_digits(body):
    number = account_number(body)
    assert len(number) == 16 and is_valid_account_number(number)
    assert int(number) % 97 == 1


@given(digits, st.integers(0, 15), st.integers(1, 9))
def test_any_single_wrong_digit_is_caught(body, pos, delta):
    number = account_number(body)
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert not is_valid_account_number(wrong)


@given(digits, st.integers(0, 14))
def test_any_swap_of_adjacent_digits_is_caught(body, pos):
    number = account_number(body)
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    assert swapped == number or not is_valid_account_number(swapped)


def test_yuan_amounts_parse_to_fen_and_refuse_fractions_of_a_fen():
    assert parse_yuan("50000.00") == 5_000_000
    assert parse_yuan("1,234.5") == 123_450
    for bad in ("0", "-1.00", "1.001", "abc", "NaN", "Infinity"):
        with pytest.raises(InvalidInput):
            parse_yuan(bad)


@pytest.mark.parametrize(
    "written", ["1e3", "1E3", "5e-1", "+5.00", "1_000.00", " .50", "100.", "0x10"]
)
def test_yuan_amounts_are_digits_only(written):
    with pytest.raises(InvalidInput) as refused:
        parse_yuan(written)
    assert "digits" in refused.value.message


def test_an_exponent_is_refused_with_its_own_reason():
    with pytest.raises(InvalidInput, match="no exponent"):
        parse_yuan("1e3")


DEADLINE = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


def _terms(is_open=True):
    return DepositTerms(deposit_id=1, amount_due_fen=100, deadline=DEADLINE, is_open=is_open)


def _line(key, amount, *, late=False, account="A", currency="CNY"):
    at = DEADLINE + (timedelta(microseconds=1) if late else timedelta(0))
    return IncomingLine(
        key=key, virtual_account=account, amount_fen=amount, value_at=at, currency=currency
    )


def test_exact_payment_at_the_deadline_books_one_microsecond_late_does_not():
    on_time, late = classify_credits([_line(0, 100), _line(1, 100, late=True)], {"A": _terms()})
    assert on_time.reason is None
    assert late.reason is SuspenseReason.AFTER_DEADLINE


def test_money_on_the_bidders_own_account_books_whatever_the_amount():
    part, rest, excess = classify_credits(
        [_line(0, 60), _line(1, 40), _line(2, 100)], {"A": _terms()}
    )
    assert part.reason is rest.reason is excess.reason is None
    assert part.deposit_id == rest.deposit_id == excess.deposit_id == 1


def test_unknown_closed_and_foreign_currency_go_to_suspense():
    matches = classify_credits(
        [_line(0, 40, account="B"), _line(1, 40, account="C"), _line(2, 100, currency="USD")],
        {"A": _terms(), "C": _terms(is_open=False)},
    )
    assert [m.reason for m in matches] == [
        SuspenseReason.UNKNOWN_ACCOUNT,
        SuspenseReason.ACCOUNT_CLOSED,
        SuspenseReason.WRONG_CURRENCY,
    ]


def test_only_this_platforms_numbers_are_virtual_accounts():
    number = account_number("0123456789")
    assert is_virtual_account(number)
    assert not is_virtual_account("9999" + number[4:])  # another prefix, even if it checks
    assert not is_virtual_account(number[:-1] + str((int(number[-1]) + 1) % 10))


def test_deposit_status_by_amount_received():
    assert deposit_status(received_fen=0, amount_due_fen=100) == "none"
    assert deposit_status(received_fen=99, amount_due_fen=100) == "partial"
    assert deposit_status(received_fen=100, amount_due_fen=100) == "received"


def test_interest_is_act_360_by_default_and_rounded_once_half_up():
    received = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 China time
    result = interest_fen(
        [(5_000_000, received)],
        paid_on=date(2026, 12, 10),
        annual_rate=Decimal("0.0035"),
        day_count=DayCount.ACT_360,
    )
    assert (result.interest_fen, result.days) == (1458, 30)  # 1458.33 fen
    odd = interest_fen(
        [(1, received)] * 3,
        paid_on=date(2026, 12, 10),
        annual_rate=Decimal("6"),
        day_count=DayCount.ACT_365,
    )
    assert odd.interest_fen == 1  # 3 x 0.493 = 1.479 -> 1; rounding each would give 0


def test_value_date_counts_in_china_time():
    late_evening_utc = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 Dec in China
    result = interest_fen(
        [(100, late_evening_utc)],
        paid_on=date(2026, 12, 1),
        annual_rate=Decimal("0.01"),
        day_count=DayCount.ACT_365,
    )
    assert result.days == 0


def test_paying_before_the_money_arrived_is_refused():
    with pytest.raises(RuleViolation):
        interest_fen(
            [(100, DEADLINE)],
            paid_on=date(2026, 11, 1),
            annual_rate=Decimal("0.0035"),
            day_count=DayCount.ACT_360,
        )
