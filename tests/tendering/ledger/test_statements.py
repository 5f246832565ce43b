from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tendering.ledger.statements import MalformedStatement, parse_statement
from tests.tendering.ledger.camt import entry, reversal_of, statement, tx
from tests.tendering.ledger.files import Line, camt053, csv_statement

AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
GOOD = [
    Line("R1", 5_000_000, AT, "8866123456789012", name='"引号", 逗号公司'),
    Line("R2", 1, AT, "", direction="D", memo="保证金退还 RB-0123456789-0001"),
]


def _parses_or_refuses(raw: bytes) -> None:
    try:
        statement = parse_statement(raw)
    except MalformedStatement as exc:
        assert exc.details["line"] >= 1 and exc.details["problem"]
    else:
        assert statement.lines or statement.closing is not None


def test_csv_and_camt053_give_the_same_lines():
    a, b = parse_statement(csv_statement(GOOD)), parse_statement(camt053(GOOD))
    assert (a.format, b.format) == ("csv", "camt053")
    fields = (
        "bank_ref",
        "direction",
        "amount_fen",
        "value_at",
        "booked_on",
        "virtual_account",
        "counterparty_name",
        "counterparty_account",
        "memo",
    )
    for x, y in zip(a.lines, b.lines, strict=True):
        assert [getattr(x, f) for f in fields] == [getattr(y, f) for f in fields]
    assert a.lines[0].counterparty_name == '"引号", 逗号公司'


def test_a_bare_value_date_counts_as_the_end_of_that_day_in_china():
    raw = camt053(GOOD[:1]).replace(
        b"<ValDt><DtTm>2026-11-30T10:00:00+08:00</DtTm></ValDt>",
        b"<ValDt><Dt>2026-11-30</Dt></ValDt>",
    )
    (line,) = parse_statement(raw).lines
    assert line.value_at.isoformat() == "2026-11-30T23:59:59.999999+08:00"


def _with_doctype(doctype: bytes, memo: bytes = b"") -> bytes:
    """A good camt.053 statement with ``doctype`` before its root (and ``memo`` as the
    second line's memo): were the DTD allowed, it would parse."""
    raw = camt053(GOOD)
    head, root = raw.split(b"\n", 1)
    raw = head + b"\n" + doctype + b"\n" + root
    return raw.replace(b"<Ustrd>" + GOOD[1].memo.encode(), b"<Ustrd>" + memo, 1) if memo else raw


@pytest.mark.parametrize(
    ("doctype", "memo"),
    [
        (b"<!DOCTYPE Document>", b""),
        (b'<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa">]>', b"&a;"),
        (b'<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', b"&b;"),
        (b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/hostname">]>', b"&x;"),
    ],
    ids=["bare DTD", "entity", "nested entities", "external entity"],
)
def test_a_camt053_with_a_dtd_or_entities_is_refused_for_them(doctype, memo):
    assert parse_statement(camt053(GOOD)).format == "camt053"  # the same file without it
    with pytest.raises(MalformedStatement) as refused:
        parse_statement(_with_doctype(doctype, memo))
    assert refused.value.details["line"] == 1
    assert refused.value.details["problem"] == "refused XML (DTDForbidden)"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_are_refused_with_a_line(raw):
    _parses_or_refuses(raw)


# As banks send them: a batch entry, a reversal, balances, both versions.
_BATCH = entry("B1", AT, tx(5_000_000, "8866123456789012", ref="T1"), tx(1, "", account=None))
BANK_SHAPED = [
    statement([_BATCH, reversal_of(_BATCH, "R1", AT)], version=v, opening_fen=100)
    for v in ("02", "08")
]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([csv_statement(GOOD), camt053(GOOD), *BANK_SHAPED]),
    st.integers(0, 10**6),
    st.binary(min_size=1, max_size=3),
)
def test_a_damaged_file_parses_or_is_refused_with_a_line(raw, at, junk):
    at %= len(raw)
    _parses_or_refuses(raw[:at] + junk + raw[at + 1 :])


def test_implausible_years_are_refused_before_they_reach_the_database():
    raw = csv_statement(GOOD[:1]).replace(b"2026-11-30T10:00:00", b"0001-01-01T00:00:00")
    with pytest.raises(MalformedStatement, match="plausible"):
        parse_statement(raw)
