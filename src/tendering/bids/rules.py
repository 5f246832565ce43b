"""Pure rules of sealed bids: the bid form (``bid.json``), audit commitments, receipt ``seq``.

No I/O here; the client (before sealing) and the opening (after decrypting) both check a
``bid.json`` with :func:`check_bid_form`::

    problems = check_bid_form(lot_fields, {"price_fen": 123_000_00, "duration_days": 180})
    # [] when valid, else plain-words problems naming the field and the rule
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "BID_JSON",
    "check_bid_form",
    "commitment",
    "legacy_withdrawal_commitment",
    "parse_bid_json",
    "withdrawal_commitment",
]

BID_JSON = "bid.json"
MAX_BID_JSON = 1024 * 1024
MAX_PRICE_FEN = 10**15


def _check_integer(name: str, value: object, spec: Mapping[str, Any]) -> str | None:
    if type(value) is not int:
        return f"{name} must be an integer"
    low, high = spec.get("min"), spec.get("max")
    if low is not None and value < low:
        return f"{name} must be at least {low}"
    if high is not None and value > high:
        return f"{name} must be at most {high}"
    return None


def _check_string(name: str, value: object, spec: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return f"{name} must be a string"
    low, high = spec.get("min"), spec.get("max")
    if low is not None and len(value) < low:
        return f"{name} must have at least {low} characters"
    if high is not None and len(value) > high:
        return f"{name} must have at most {high} characters"
    return None


def check_bid_form(fields: Sequence[Mapping[str, Any]], form: object) -> list[str]:
    """Problems of ``form`` against the lot's ``fields`` (price_fen always required)."""
    if not isinstance(form, dict):
        return ["bid.json must be a JSON object"]
    problems = []
    price = form.get("price_fen")
    if "price_fen" not in form:
        problems.append("price_fen is required")
    elif type(price) is not int or not 0 < price <= MAX_PRICE_FEN:
        problems.append("price_fen must be a whole number of fen, more than 0")
    known = {"price_fen"}
    for spec in fields:
        name = str(spec["name"])
        known.add(name)
        if name not in form:
            if spec.get("required", True):
                problems.append(f"{name} is required")
            continue
        check = _check_integer if spec.get("type") == "integer" else _check_string
        problem = check(name, form[name], spec)
        if problem:
            problems.append(problem)
    problems.extend(
        f"{name} is not a field of this lot's bid form" for name in form if name not in known
    )
    return problems


def parse_bid_json(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(form, None)`` or ``(None, problem)`` for the bytes of a ``bid.json``."""
    if len(raw) > MAX_BID_JSON:
        return None, "bid.json is larger than 1 MiB"
    try:
        form = json.loads(raw.decode("utf-8"), parse_float=_no_float)
    except (UnicodeDecodeError, ValueError) as error:
        return None, f"bid.json is not valid UTF-8 JSON ({error})"
    except RecursionError:  # a sealed file could otherwise stop the opening that reads it
        return None, "bid.json nests arrays or objects too deep"
    if not isinstance(form, dict):
        return None, "bid.json must be a JSON object"
    return form, None


def _no_float(text: str) -> Any:
    raise ValueError(f"numbers must be integers (fen), not {text}")


def commitment(*, lot: str, bidder: str, sha256: str, seq: int, nonce: str) -> str:
    """The audit chain's hiding commitment to a submission, opened in the opening record."""
    text = f"tbid1-commit|{lot}|{bidder}|{seq}|{sha256}|{nonce}"
    return hashlib.sha256(text.encode()).hexdigest()


def withdrawal_commitment(*, lot: str, bidder: str, seq: int, nonce: str) -> str:
    """The hiding commitment of ``bid.withdrawn``: the withdrawn submission (``seq``) of
    ``bidder`` (its organization code) on ``lot``, opened at the opening by
    ``bid.withdrawals_revealed``. Its own prefix, so it never equals a ``bid.sealed`` one."""
    text = f"tbid1-withdraw|{lot}|{bidder}|{seq}|{nonce}"
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_withdrawal_commitment(*, lot: str, tag: str) -> str:
    """What ``bid.withdrawn`` held before it had a nonce (chains written until 2026-12):
    no nonce, so the same for every withdrawal of one bidder on one lot, and recomputable
    by anyone who knows the bid rows' tag. Kept so those chains stay verifiable: the
    revealed ``tag`` of a withdrawal opens it."""
    text = f"tbid1-commit|{lot}|{tag}|0||"
    return hashlib.sha256(text.encode()).hexdigest()
