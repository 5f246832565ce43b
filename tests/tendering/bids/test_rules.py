from __future__ import annotations

from tendering.bids.rules import check_bid_form, commitment, parse_bid_json

FIELDS = [
    {"name": "duration_days", "type": "integer", "min": 1, "max": 1000},
    {"name": "manager", "type": "string", "required": False, "max": 10},
]


def test_a_complete_form_has_no_problems():
    assert check_bid_form(FIELDS, {"price_fen": 100, "duration_days": 10}) == []


def test_price_is_always_required_and_positive_whole_fen():
    assert "price_fen is required" in check_bid_form(FIELDS, {"duration_days": 10})
    assert check_bid_form(FIELDS, {"price_fen": 0, "duration_days": 10})
    assert check_bid_form(FIELDS, {"price_fen": True, "duration_days": 10})


def test_fields_follow_their_type_and_bounds_and_unknown_fields_are_refused():
    problems = check_bid_form(
        FIELDS, {"price_fen": 1, "duration_days": 1001, "manager": "x" * 11, "extra": 1}
    )
    assert problems == [
        "duration_days must be at most 1000",
        "manager must have at most 10 characters",
        "extra is not a field of this lot's bid form",
    ]


def test_bid_json_with_floats_is_refused():
    form, problem = parse_bid_json(b'{"price_fen": 1.5}')
    assert form is None and problem is not None and "integers" in problem


def test_a_commitment_hides_nothing_but_binds_everything():
    base = {"lot": "L", "bidder": "B", "sha256": "0" * 64, "seq": 1, "nonce": "n"}
    assert commitment(**base) != commitment(**(base | {"bidder": "C"}))
    assert commitment(**base) != commitment(**(base | {"nonce": "m"}))


def test_a_deeply_nested_bid_json_is_a_problem_not_a_crash():
    form, problem = parse_bid_json(b'{"price_fen": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert form is None
    assert problem is not None and "too deep" in problem
