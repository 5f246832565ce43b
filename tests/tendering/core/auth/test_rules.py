from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tendering.core.auth.models import OrgKind, Role
from tendering.core.auth.rules import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    credit_code_problem,
    ensure_organization_codes,
    ensure_role_fits,
    role_fits,
)
from tendering.core.errors import RuleViolation


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_real_credit_codes_are_accepted(code):
    assert credit_code_problem(code) is None


def test_credit_code_with_a_wrong_check_character_names_the_right_one():
    problem = credit_code_problem("91350100M000100Y44")
    assert problem is not None
    assert "'3'" in problem


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("91350100M0001O0Y43", "capital letters"),  # letter O is not in the alphabet
        ("913501A0M000100Y43", "positions 3 to 8"),  # region code must be digits
        ("91350100m000100y43", "capital letters"),
    ],
)
def test_malformed_credit_codes_say_what_is_wrong(code, words):
    problem = credit_code_problem(code)
    assert problem is not None
    assert words in problem


_body = st.tuples(
    st.text(CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
).map("".join)


@given(_body)
def test_any_code_with_its_computed_check_character_is_valid(first17):
    assert credit_code_problem(first17 + credit_code_check_char(first17)) is None


@given(_body, st.integers(0, 16), st.sampled_from(CREDIT_CODE_ALPHABET))
def test_changing_any_one_character_is_caught(first17, position, replacement):
    code = first17 + credit_code_check_char(first17)
    assume(replacement != code[position])
    changed = code[:position] + replacement + code[position + 1 :]
    assert credit_code_problem(changed) is not None


def test_bidders_and_agencies_belong_only_to_their_own_kind():
    assert role_fits(Role.BIDDER, OrgKind.BIDDER)
    assert not role_fits(Role.BIDDER, OrgKind.CENTER)
    assert not role_fits(Role.AGENCY, OrgKind.BIDDER)
    assert role_fits(Role.STAFF, OrgKind.CENTER)
    assert not role_fits(Role.ADMIN, OrgKind.SUPERVISOR)
    assert role_fits(Role.AUCTIONEER, OrgKind.AGENCY)
    assert all(role_fits(Role.EXPERT, kind) for kind in OrgKind)


def test_a_misplaced_role_is_refused_naming_the_field_and_kinds():
    with pytest.raises(RuleViolation) as caught:
        ensure_role_fits(Role.BIDDER, OrgKind.CENTER, organization="CENTER")
    assert caught.value.field == "role"
    assert "bidder" in caught.value.message
    assert "CENTER is of kind center" in caught.value.message


@pytest.mark.parametrize(
    ("code", "credit_code", "field"),
    [
        ("bid-1", None, "code"),
        ("BID|1", None, "code"),
        ("BID-1\n", None, "code"),
        ("", None, "code"),
        ("BID-1", "91350100M000100Y44", "credit_code"),
    ],
)
def test_organization_codes_are_checked_for_every_caller(code, credit_code, field):
    with pytest.raises(RuleViolation) as caught:
        ensure_organization_codes(code, credit_code)
    assert caught.value.field == field


def test_well_formed_organization_codes_pass():
    ensure_organization_codes("BID-0001", "91350100M000100Y43")
    ensure_organization_codes("CENTER", None)
