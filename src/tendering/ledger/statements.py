"""Bank statement parsing (pure): CSV and ISO 20022 camt.053, all or nothing.

    statement = parse_statement(raw_bytes)      # detects the format
    statement.lines[0].amount_fen                # 5000000

A malformed file raises :class:`MalformedStatement` (400) naming the line and the problem;
nothing of it is returned, so nothing of it can be booked.

CSV statement (UTF-8, optional BOM, comma-separated, RFC 4180 quoting), a header row with
exactly these columns, in any order:

==================== =============================================================
``bank_account``     the platform's own account at the bank the line is on
``bank_ref``         the bank's unique reference of the line (流水号)
``value_time``       value time (起息时间), ISO 8601 with an offset,
                     ``2026-11-24T10:15:00+08:00``
``booking_date``     booking date ``YYYY-MM-DD`` (记账日期)
``direction``        ``C`` money in (贷/收入) or ``D`` money out (借/支出)
``amount``           yuan with at most two decimals, > 0: ``50000.00``
``currency``         ``CNY``
``virtual_account``  the 16-digit virtual account (子账号) paid into; empty for ``D``
``counterparty_name``   payer (``C``) or payee (``D``) name
``counterparty_account``  payer's / payee's bank account
``memo``             remittance text (附言); for ``D``, the refund instruction reference
==================== =============================================================

camt.053 (``urn:iso:std:iso:20022:tech:xsd:camt.053.001.02`` .. ``.08``): one
``BkToCstmrStmt/Stmt`` per file; each booked ``Ntry`` is one line: ``AcctSvcrRef`` (else
``NtryRef``) → bank_ref, ``Amt@Ccy`` CNY, ``CdtDbtInd`` CRDT/DBIT, ``ValDt/DtTm`` (else
``ValDt/Dt``, read as the end of that day in China time, so a date alone never beats a
deadline on that day), ``BookgDt``, the creditor account ``CdtrAcct/Id/Othr/Id`` of a credit
→ virtual account, the debtor (credit) or creditor (debit) name and account, and
``RmtInf/Ustrd`` → memo. ``Stmt/Acct/Id`` (``Othr/Id`` or ``IBAN``) is the bank account.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml.ElementTree import DefusedXMLParser

from tendering.core.errors import ErrorCode, InvalidInput
from tendering.ledger.rules import CHINA, parse_yuan

__all__ = ["CSV_COLUMNS", "MalformedStatement", "ParsedLine", "ParsedStatement", "parse_statement"]

CSV_COLUMNS = (
    "bank_account",
    "bank_ref",
    "value_time",
    "booking_date",
    "direction",
    "amount",
    "currency",
    "virtual_account",
    "counterparty_name",
    "counterparty_account",
    "memo",
)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedStatement(InvalidInput):
    default_code = ErrorCode.LEDGER_STATEMENT_MALFORMED


@dataclass(frozen=True, kw_only=True)
class ParsedLine:
    line_no: int
    bank_account: str
    bank_ref: str
    direction: str  # "C" | "D"
    amount_fen: int
    value_at: datetime
    booked_on: date
    virtual_account: str
    counterparty_name: str
    counterparty_account: str
    memo: str


@dataclass(frozen=True, kw_only=True)
class ParsedStatement:
    format: str  # "csv" | "camt053"
    sha256: str
    bank_account: str
    statement_ref: str
    lines: list[ParsedLine]


def _bad(line: int, problem: str) -> MalformedStatement:
    return MalformedStatement(
        f"第{line}行 line {line}: {problem}; the file was not imported, nothing was booked.",
        details={"line": line, "problem": problem},
    )


def parse_statement(raw: bytes) -> ParsedStatement:
    """Parse a CSV or camt.053 statement; format by content (``<`` first means XML)."""
    digest = hashlib.sha256(raw).hexdigest()
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise _bad(1, "the file is empty")
    if head.startswith(b"<"):
        return _parse_camt(raw, digest)
    return _parse_csv(raw, digest)


def _parse_time(value: str, line: int, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(line, f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise _bad(line, f"{name} {value!r} has no UTC offset (write +08:00)")
    if not 2000 <= moment.year <= 2100:
        raise _bad(line, f"{name} {value!r} is not a plausible bank time (years 2000-2100)")
    return moment


def _parse_date(value: str, line: int, name: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise _bad(line, f"{name} {value!r} is not a date YYYY-MM-DD") from None
    if not 2000 <= day.year <= 2100:
        raise _bad(line, f"{name} {value!r} is not a plausible bank date (years 2000-2100)")
    return day


def _amount(value: str, line: int) -> int:
    try:
        return parse_yuan(value)
    except InvalidInput as exc:
        raise _bad(line, exc.message) from None


def _check_unique(lines: list[ParsedLine]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for item in lines:
        key = (item.bank_account, item.bank_ref)
        if key in seen:
            raise _bad(item.line_no, f"bank_ref {item.bank_ref!r} repeats line {seen[key]}")
        seen[key] = item.line_no


def _parse_csv(raw: bytes, digest: str) -> ParsedStatement:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _bad(line, "the file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise _bad(1, "no header row") from None
    header = [h.strip() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    extra = [c for c in header if c not in CSV_COLUMNS]
    if missing or extra:
        raise _bad(
            1,
            f"header must have the columns {', '.join(CSV_COLUMNS)}; "
            f"missing {missing or 'none'}, unknown {extra or 'none'}",
        )
    lines: list[ParsedLine] = []
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise _bad(line_no, f"{len(row)} fields, the header has {len(header)}")
            lines.append(_csv_line(dict(zip(header, row, strict=True)), line_no))
    except csv.Error as exc:
        raise _bad(reader.line_num, f"not valid CSV ({exc})") from None
    if not lines:
        raise _bad(1, "the statement has no lines")
    _check_unique(lines)
    return ParsedStatement(
        format="csv",
        sha256=digest,
        bank_account=lines[0].bank_account,
        statement_ref="",
        lines=lines,
    )


def _csv_line(cells: dict[str, str], line_no: int) -> ParsedLine:
    cells = {k: v.strip() for k, v in cells.items()}
    if _CONTROL.search("".join(cells.values())):
        bad = next(k for k, v in cells.items() if _CONTROL.search(v))
        raise _bad(line_no, f"{bad} contains a control character")
    for name in ("bank_account", "bank_ref", "value_time", "booking_date", "amount"):
        if not cells[name]:
            raise _bad(line_no, f"{name} is empty")
    if cells["direction"] not in ("C", "D"):
        raise _bad(line_no, f"direction must be C or D, got {cells['direction']!r}")
    if cells["currency"] != "CNY":
        raise _bad(line_no, f"currency must be CNY, got {cells['currency']!r}")
    for name, limit in (("bank_ref", 100), ("bank_account", 64), ("memo", 500)):
        if len(cells[name]) > limit:
            raise _bad(line_no, f"{name} is longer than {limit} characters")
    return ParsedLine(
        line_no=line_no,
        bank_account=cells["bank_account"],
        bank_ref=cells["bank_ref"],
        direction=cells["direction"],
        amount_fen=_amount(cells["amount"], line_no),
        value_at=_parse_time(cells["value_time"], line_no, "value_time"),
        booked_on=_parse_date(cells["booking_date"], line_no, "booking_date"),
        virtual_account=cells["virtual_account"][:64],
        counterparty_name=cells["counterparty_name"][:200],
        counterparty_account=cells["counterparty_account"][:64],
        memo=cells["memo"],
    )


# --- camt.053 -------------------------------------------------------------------------


class _LineBuilder(TreeBuilder):
    """Remembers the source line of every element (ElementTree itself does not)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.parser: Any = None

    def start(self, tag: Any, attrs: Any) -> Element:
        elem = super().start(tag, attrs)
        self.lines[id(elem)] = self.parser.parser.CurrentLineNumber
        return elem


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(elem: Element, path: str) -> Element | None:
    node: Element | None = elem
    for part in path.split("/"):
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == part), None)
    return node


def _text(elem: Element, path: str) -> str:
    node = _find(elem, path)
    return (node.text or "").strip() if node is not None else ""


def _parse_camt(raw: bytes, digest: str) -> ParsedStatement:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(raw)
        root = parser.close()
    except ParseError as exc:
        raise _bad(exc.position[0], f"not well-formed XML ({exc.msg})") from None
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own errors
        raise _bad(1, f"refused XML ({type(exc).__name__})") from None
    if _local(root.tag) != "Document" or "camt.053" not in root.tag:
        raise _bad(1, "not an ISO 20022 camt.053 Document")
    stmt = _find(root, "BkToCstmrStmt/Stmt")
    if stmt is None:
        raise _bad(1, "no BkToCstmrStmt/Stmt element")
    at = builder.lines.get(id(stmt), 1)
    account = _text(stmt, "Acct/Id/Othr/Id") or _text(stmt, "Acct/Id/IBAN")
    if not account:
        raise _bad(at, "Stmt/Acct/Id is missing")
    lines = [
        _camt_entry(entry, builder.lines.get(id(entry), at), account)
        for entry in stmt
        if _local(entry.tag) == "Ntry"
        and (_text(entry, "Sts/Cd") or _text(entry, "Sts")) in ("BOOK", "")
    ]
    if not lines:
        raise _bad(at, "the statement has no booked entries")
    _check_unique(lines)
    return ParsedStatement(
        format="camt053",
        sha256=digest,
        bank_account=account,
        statement_ref=_text(stmt, "Id"),
        lines=lines,
    )


def _camt_entry(entry: Element, line_no: int, account: str) -> ParsedLine:
    ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    if not ref:
        raise _bad(line_no, "Ntry has no AcctSvcrRef or NtryRef")
    amt = _find(entry, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise _bad(line_no, "Ntry has no Amt")
    if amt.get("Ccy") != "CNY":
        raise _bad(line_no, f"Amt currency must be CNY, got {amt.get('Ccy')!r}")
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise _bad(line_no, f"CdtDbtInd must be CRDT or DBIT, got {indicator!r}")
    credit = indicator == "CRDT"
    booked_text = _text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm")[:10]
    if not booked_text:
        raise _bad(line_no, "Ntry has no BookgDt")
    booked_on = _parse_date(booked_text, line_no, "BookgDt")
    if _text(entry, "ValDt/DtTm"):
        value_at = _parse_time(_text(entry, "ValDt/DtTm"), line_no, "ValDt/DtTm")
    elif _text(entry, "ValDt/Dt"):
        day = _parse_date(_text(entry, "ValDt/Dt"), line_no, "ValDt/Dt")
        value_at = datetime.combine(day, time(23, 59, 59, 999999), CHINA)
    else:
        raise _bad(line_no, "Ntry has no ValDt")
    tx = _find(entry, "NtryDtls/TxDtls")
    party = "Dbtr" if credit else "Cdtr"
    details = tx if tx is not None else entry
    return ParsedLine(
        line_no=line_no,
        bank_account=account,
        bank_ref=ref[:100],
        direction="C" if credit else "D",
        amount_fen=_amount(amt.text or "", line_no),
        value_at=value_at,
        booked_on=booked_on,
        virtual_account=_text(details, "RltdPties/CdtrAcct/Id/Othr/Id")[:64] if credit else "",
        counterparty_name=(
            _text(details, f"RltdPties/{party}/Nm") or _text(details, f"RltdPties/{party}/Pty/Nm")
        )[:200],
        counterparty_account=_text(details, f"RltdPties/{party}Acct/Id/Othr/Id")[:64],
        memo=_text(details, "RmtInf/Ustrd")[:500],
    )
