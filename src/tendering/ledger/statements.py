"""Bank statement parsing (pure): CSV and ISO 20022 camt.053, all or nothing.

    statement = parse_statement(raw_bytes)      # detects the format
    statement.lines[0].amount_fen                # 5000000

A malformed file raises :class:`MalformedStatement` (400) naming the line and the problem;
nothing of it is returned, so nothing of it can be booked.

CSV statement (UTF-8, optional BOM, comma-separated, RFC 4180 quoting), a header row with
these columns, in any order (``original_ref`` may be left out):

==================== =============================================================
``bank_account``     the platform's own account at the bank the line is on
``bank_ref``         the bank's unique reference of the line (流水号)
``value_time``       value time (起息时间), ISO 8601 with an offset,
                     ``2026-11-24T10:15:00+08:00``
``booking_date``     booking date ``YYYY-MM-DD`` (记账日期)
``direction``        ``C`` money in (贷/收入) or ``D`` money out (借/支出)
``amount``           yuan with at most two decimals, > 0: ``50000.00``
``currency``         ``CNY``
``virtual_account``  the 16-digit virtual account (子账号) paid into; for ``D``, the one
                     a credit the bank takes back (冲正/退汇) had been paid into, else empty
``counterparty_name``   payer (``C``) or payee (``D``) name
``counterparty_account``  payer's / payee's bank account
``memo``             remittance text (附言); for ``D``, the refund instruction reference
``original_ref``     optional: for ``D``, the ``bank_ref`` of the credit it takes back
==================== =============================================================

camt.053 (``camt.053.001.02`` .. ``.08``): ``tendering.ledger.camt053``. A CSV file carries
no balances; a camt.053 file's ``OPBD``/``CLBD`` are reconciled (``ledger/reconcile.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from tendering.core.errors import ErrorCode, InvalidInput
from tendering.ledger.rules import parse_yuan

__all__ = [
    "CSV_COLUMNS",
    "MalformedStatement",
    "ParsedLine",
    "ParsedStatement",
    "StatementBalance",
    "parse_statement",
]

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
CSV_OPTIONAL = ("original_ref",)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MalformedStatement(InvalidInput):
    default_code = ErrorCode.LEDGER_STATEMENT_MALFORMED


@dataclass(frozen=True, kw_only=True)
class ParsedLine:
    """One transaction the bank booked: a CSV row, or one ``TxDtls`` of a camt.053 entry."""

    line_no: int
    bank_account: str
    bank_ref: str  # unique per bank account: the entry's reference, "<entry>/<n>" in a batch
    direction: str  # "C" | "D"
    amount_fen: int
    value_at: datetime
    booked_on: date
    virtual_account: str  # credit: paid into; debit: the one it names (a reversal), else ""
    counterparty_name: str
    counterparty_account: str
    memo: str
    entry_ref: str = ""  # the bank's reference of the entry (a batch: all its lines')
    tx_ref: str = ""  # the bank's own reference of the transaction (``Refs/AcctSvcrRef``)
    currency: str = "CNY"  # the currency the payer paid in (``AmtDtls/InstdAmt``)
    reversal: bool = False  # ``RvslInd``: the bank takes back (or returns) earlier money
    # References a debit names (its ``Refs``, ``NtryRef``, words of its information and
    # memo): the credit it takes back may be one of them.
    related_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatementBalance:
    amount_fen: int  # negative when the bank says DBIT (overdrawn)
    on: date


@dataclass(frozen=True, kw_only=True)
class ParsedStatement:
    format: str  # "csv" | "camt053"
    sha256: str
    bank_account: str
    statement_ref: str
    lines: list[ParsedLine]
    opening: StatementBalance | None = None  # OPBD (else PRCD)
    closing: StatementBalance | None = None  # CLBD
    statement_on: date | None = None  # the day it is for (CLBD, else its period, else lines)
    sequence: int | None = None  # ElctrncSeqNb (else LglSeqNb): the bank's order of them

    @property
    def net_fen(self) -> int:
        """What the file's own lines move on the account (credits less debits)."""
        return sum(ln.amount_fen if ln.direction == "C" else -ln.amount_fen for ln in self.lines)

    @property
    def day(self) -> date:
        if self.statement_on is not None:
            return self.statement_on
        return max((ln.booked_on for ln in self.lines), default=date(2000, 1, 1))


def bad(line: int, problem: str) -> MalformedStatement:
    return MalformedStatement(
        f"第{line}行 line {line}: {problem}; the file was not imported, nothing was booked.",
        details={"line": line, "problem": problem},
    )


def parse_statement(raw: bytes) -> ParsedStatement:
    """Parse a CSV or camt.053 statement; format by content (``<`` first means XML)."""
    digest = hashlib.sha256(raw).hexdigest()
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise bad(1, "the file is empty")
    if head.startswith(b"<"):
        # Imported here: the camt.053 reader builds on this module's lines and helpers.
        from tendering.ledger.camt053 import parse_camt053

        return parse_camt053(raw, digest)
    return _parse_csv(raw, digest)


def parse_time(value: str, line: int, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise bad(line, f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise bad(line, f"{name} {value!r} has no UTC offset (write +08:00)")
    if not 2000 <= moment.year <= 2100:
        raise bad(line, f"{name} {value!r} is not a plausible bank time (years 2000-2100)")
    return moment


def parse_date(value: str, line: int, name: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise bad(line, f"{name} {value!r} is not a date YYYY-MM-DD") from None
    if not 2000 <= day.year <= 2100:
        raise bad(line, f"{name} {value!r} is not a plausible bank date (years 2000-2100)")
    return day


def amount_fen(value: str, line: int) -> int:
    try:
        return parse_yuan(value)
    except InvalidInput as exc:
        raise bad(line, exc.message) from None


def check_unique(lines: list[ParsedLine]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for item in lines:
        key = (item.bank_account, item.bank_ref)
        if key in seen:
            raise bad(item.line_no, f"bank_ref {item.bank_ref!r} repeats line {seen[key]}")
        seen[key] = item.line_no


def _parse_csv(raw: bytes, digest: str) -> ParsedStatement:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise bad(line, "the file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise bad(1, "no header row") from None
    header = [h.strip() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    extra = [c for c in header if c not in (*CSV_COLUMNS, *CSV_OPTIONAL)]
    if missing or extra or len(set(header)) != len(header):
        raise bad(
            1,
            f"header must have the columns {', '.join(CSV_COLUMNS)} (and may have"
            f" {', '.join(CSV_OPTIONAL)}), each once; "
            f"missing {missing or 'none'}, unknown {extra or 'none'}",
        )
    lines: list[ParsedLine] = []
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise bad(line_no, f"{len(row)} fields, the header has {len(header)}")
            lines.append(_csv_line(dict(zip(header, row, strict=True)), line_no))
    except csv.Error as exc:
        raise bad(reader.line_num, f"not valid CSV ({exc})") from None
    if not lines:
        raise bad(1, "the statement has no lines")
    check_unique(lines)
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
        column = next(k for k, v in cells.items() if _CONTROL.search(v))
        raise bad(line_no, f"{column} contains a control character")
    for name in ("bank_account", "bank_ref", "value_time", "booking_date", "amount"):
        if not cells[name]:
            raise bad(line_no, f"{name} is empty")
    if cells["direction"] not in ("C", "D"):
        raise bad(line_no, f"direction must be C or D, got {cells['direction']!r}")
    if cells["currency"] != "CNY":
        raise bad(line_no, f"currency must be CNY, got {cells['currency']!r}")
    original = cells.get("original_ref", "")
    for name, limit in (("bank_ref", 100), ("bank_account", 64), ("memo", 500)):
        if len(cells[name]) > limit:
            raise bad(line_no, f"{name} is longer than {limit} characters")
    debit = cells["direction"] == "D"
    return ParsedLine(
        line_no=line_no,
        bank_account=cells["bank_account"],
        bank_ref=cells["bank_ref"],
        direction=cells["direction"],
        amount_fen=amount_fen(cells["amount"], line_no),
        value_at=parse_time(cells["value_time"], line_no, "value_time"),
        booked_on=parse_date(cells["booking_date"], line_no, "booking_date"),
        virtual_account=cells["virtual_account"][:64],
        counterparty_name=cells["counterparty_name"][:200],
        counterparty_account=cells["counterparty_account"][:64],
        memo=cells["memo"],
        entry_ref=cells["bank_ref"],
        related_refs=tuple(
            r
            for r in dict.fromkeys(
                ((original[:100],) if original else ()) + memo_refs(cells["memo"])
            )
            if r != cells["bank_ref"]
        )
        if debit
        else (),
    )


_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_./-]{2,99}")


def memo_refs(*texts: str) -> tuple[str, ...]:
    """The words of free text that may be a bank reference (at most 20)."""
    found: list[str] = []
    for value in texts:
        for word in _TOKEN.findall(value):
            if word not in found:
                found.append(word)
    return tuple(found[:20])
