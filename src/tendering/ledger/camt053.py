"""ISO 20022 camt.053 (``BkToCstmrStmt``, ``camt.053.001.02`` to ``.08``), read with
``defusedxml`` (no DTDs, no entities), all or nothing.

    statement = parse_camt053(raw, sha256_hex)

What is read, per element (the rest of the file is ignored):

* ``Stmt`` (one per file): ``Id`` → statement reference; ``Acct/Id/Othr/Id`` (or ``IBAN``)
  → the bank account; ``ElctrncSeqNb`` (else ``LglSeqNb``) → the bank's order of its
  statements; ``Bal`` with ``Tp/CdOrPrtry/Cd`` ``OPBD`` (else ``PRCD``) and ``CLBD`` →
  opening and closing balance (``Amt`` in CNY, ``CdtDbtInd`` ``DBIT`` means overdrawn,
  ``Dt/Dt``); ``FrToDt/ToDtTm`` → the statement's day when it has no closing balance.
* ``Ntry`` with ``Sts`` (``Sts/Cd`` from .08) ``BOOK`` (or none): ``AcctSvcrRef`` (else
  ``NtryRef``) → the entry's reference, ``Amt@Ccy`` (must be ``CNY``: the deposit account is
  kept in yuan), ``CdtDbtInd`` ``CRDT``/``DBIT``, ``RvslInd`` (the bank taking back earlier
  money), ``BookgDt``, ``ValDt/DtTm`` (a bare ``ValDt/Dt`` counts as the **end** of that
  day, China time, so a date alone never beats a deadline that day), ``AddtlNtryInf``.
* Each ``NtryDtls/TxDtls`` of an entry is a line of its own (a batch entry carries
  several): its amount is ``TxDtls/Amt`` (.03 on) or ``AmtDtls/TxAmt/Amt`` (.02), in CNY,
  and a batch's must add up to the entry's ``Amt`` exactly, else the file is refused. A
  single transaction's line is the entry's ``Amt`` under the entry's reference; a batch's
  lines are ``<entry reference>/<n>``. Per transaction: ``Refs/AcctSvcrRef`` (its own
  reference), ``AmtDtls/InstdAmt@Ccy`` (the currency the payer paid in), ``RltdPties``:
  ``Dbtr/Nm`` (.02) or ``Dbtr/Pty/Nm`` (.08) and ``DbtrAcct/Id/IBAN`` or ``/Othr/Id`` (the
  payer of a credit and the account a refund goes back to), ``CdtrAcct/Id/Othr/Id`` (the
  virtual account paid into), ``Cdtr`` and ``CdtrAcct`` (the payee of a debit),
  ``RmtInf/Ustrd`` → memo, ``AddtlTxInf``. A debit that repeats a virtual account (as a
  reversal repeats the credit's parties) names it; the references a debit names (``Refs``,
  ``NtryRef``, words of its information and memo) may name the credit it takes back.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml.ElementTree import DefusedXMLParser

from tendering.core.money import yuan
from tendering.ledger.rules import CHINA, is_virtual_account
from tendering.ledger.statements import (
    MalformedStatement,
    ParsedLine,
    ParsedStatement,
    StatementBalance,
    amount_fen,
    bad,
    check_unique,
    memo_refs,
    parse_date,
    parse_time,
)

__all__ = ["parse_camt053"]

_DIGITS = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # ISO 20022 ActiveOrHistoricCurrencyAndAmount

_REFS = ("AcctSvcrRef", "TxId", "EndToEndId", "InstrId", "PmtInfId", "MsgId", "ClrSysRef", "UETR")


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


def _children(elem: Element, name: str) -> list[Element]:
    return [c for c in elem if _local(c.tag) == name]


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


def _account(elem: Element, path: str) -> str:
    return (_text(elem, f"{path}/Id/IBAN") or _text(elem, f"{path}/Id/Othr/Id"))[:64]


def _name(elem: Element, path: str) -> str:
    return (_text(elem, f"{path}/Nm") or _text(elem, f"{path}/Pty/Nm"))[:200]


def parse_camt053(raw: bytes, digest: str) -> ParsedStatement:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(raw)
        root = parser.close()
    except ParseError as exc:
        raise bad(exc.position[0], f"not well-formed XML ({exc.msg})") from None
    except Exception as exc:  # defusedxml refuses entities and DTDs with its own errors
        raise bad(1, f"refused XML ({type(exc).__name__})") from None
    if _local(root.tag) != "Document" or "camt.053" not in root.tag:
        raise bad(1, "not an ISO 20022 camt.053 Document")
    stmt = _find(root, "BkToCstmrStmt/Stmt")
    if stmt is None:
        raise bad(1, "no BkToCstmrStmt/Stmt element")
    at = builder.lines.get(id(stmt), 1)
    account = _text(stmt, "Acct/Id/Othr/Id") or _text(stmt, "Acct/Id/IBAN")
    if not account:
        raise bad(at, "Stmt/Acct/Id is missing")
    opening, closing = _balances(stmt, builder.lines, at)
    lines = [
        line
        for entry in _children(stmt, "Ntry")
        if (_text(entry, "Sts/Cd") or _text(entry, "Sts")) in ("BOOK", "")
        for line in _entry_lines(entry, builder.lines, account)
    ]
    if not lines and closing is None:
        raise bad(at, "the statement has no booked entries and no closing balance")
    check_unique(lines)
    period_end = _text(stmt, "FrToDt/ToDtTm")[:10]
    sequence = _text(stmt, "ElctrncSeqNb") or _text(stmt, "LglSeqNb")
    return ParsedStatement(
        format="camt053",
        sha256=digest,
        bank_account=account[:64],
        statement_ref=_text(stmt, "Id")[:100],
        lines=lines,
        opening=opening,
        closing=closing,
        statement_on=closing.on
        if closing is not None
        else (parse_date(period_end, at, "FrToDt/ToDtTm") if period_end else None),
        sequence=int(sequence) if sequence.isdigit() and len(sequence) <= 18 else None,
    )


def _balances(
    stmt: Element, lines: dict[int, int], at: int
) -> tuple[StatementBalance | None, StatementBalance | None]:
    found: dict[str, StatementBalance] = {}
    for bal in _children(stmt, "Bal"):
        line = lines.get(id(bal), at)
        code = _text(bal, "Tp/CdOrPrtry/Cd") or _text(bal, "Tp/CdOrPrtry/Prtry")
        if code not in ("OPBD", "PRCD", "CLBD") or code in found:
            continue
        amt = _find(bal, "Amt")
        if amt is None or amt.get("Ccy") != "CNY":
            raise bad(line, f"balance {code}: Amt must be in CNY")
        written = (amt.text or "").strip()
        if not _DIGITS.fullmatch(written):  # what Decimal also takes (1e3, NaN) is refused
            raise bad(line, f"balance {code}: Amt {amt.text!r} is not an amount in digits")
        value = Decimal(written)
        if (
            not value.is_finite()
            or not 0 <= value < 10**13
            or value != value.quantize(Decimal("0.01"))
        ):
            raise bad(line, f"balance {code}: Amt {amt.text!r} is not an amount in yuan")
        sign = {"CRDT": 1, "DBIT": -1}.get(_text(bal, "CdtDbtInd"))
        if sign is None:
            raise bad(line, f"balance {code}: CdtDbtInd must be CRDT or DBIT")
        day = _text(bal, "Dt/Dt") or _text(bal, "Dt/DtTm")[:10]
        if not day:
            raise bad(line, f"balance {code} has no Dt")
        found[code] = StatementBalance(sign * int(value * 100), parse_date(day, line, "Bal/Dt"))
    return found.get("OPBD") or found.get("PRCD"), found.get("CLBD")


def _entry_lines(entry: Element, lines: dict[int, int], account: str) -> list[ParsedLine]:
    line_no = lines.get(id(entry), 1)
    ref = (_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"))[:100]
    if not ref:
        raise bad(line_no, "Ntry has no AcctSvcrRef or NtryRef")
    amt = _find(entry, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise bad(line_no, f"entry {ref}: Ntry has no Amt")
    if amt.get("Ccy") != "CNY":
        raise bad(line_no, f"entry {ref}: Amt currency must be CNY, got {amt.get('Ccy')!r}")
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise bad(line_no, f"CdtDbtInd must be CRDT or DBIT, got {indicator!r}")
    booked_text = _text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm")[:10]
    if not booked_text:
        raise bad(line_no, f"entry {ref}: Ntry has no BookgDt")
    if _text(entry, "ValDt/DtTm"):
        value_at = parse_time(_text(entry, "ValDt/DtTm"), line_no, "ValDt/DtTm")
    elif _text(entry, "ValDt/Dt"):
        day = parse_date(_text(entry, "ValDt/Dt"), line_no, "ValDt/Dt")
        value_at = datetime.combine(day, time(23, 59, 59, 999999), CHINA)
    else:
        raise bad(line_no, f"entry {ref}: Ntry has no ValDt")
    total = amount_fen(amt.text or "", line_no)
    common: dict[str, Any] = {
        "bank_account": account,
        "direction": "C" if indicator == "CRDT" else "D",
        "value_at": value_at,
        "booked_on": parse_date(booked_text, line_no, "BookgDt"),
        "entry_ref": ref,
        "reversal": _text(entry, "RvslInd").lower() in ("true", "1"),
    }
    txs = [tx for details in _children(entry, "NtryDtls") for tx in _children(details, "TxDtls")]
    if len(txs) <= 1:
        return [_line(entry, txs[0] if txs else None, line_no, ref, total, common)]
    amounts = [_tx_amount(tx) for tx in txs]
    for n, (tx, amount) in enumerate(zip(txs, amounts, strict=True), 1):
        if amount is None:
            raise bad(
                lines.get(id(tx), line_no),
                f"entry {ref}: transaction {n} of {len(txs)} has no amount in CNY"
                " (TxDtls/Amt or AmtDtls/TxAmt/Amt)",
            )
    parts = sum(a for a in amounts if a is not None)
    if parts != total:
        raise bad(
            line_no,
            f"entry {ref}: its Amt {yuan(total)} is not the sum of its {len(txs)} transactions"
            f" ({yuan(parts)}); a batch entry must add up",
        )
    return [
        _line(entry, tx, lines.get(id(tx), line_no), f"{ref[:90]}/{n}", amount or 0, common)
        for n, (tx, amount) in enumerate(zip(txs, amounts, strict=True), 1)
    ]


def _tx_amount(tx: Element) -> int | None:
    for path in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/CntrValAmt/Amt"):
        node = _find(tx, path)
        if node is not None and node.get("Ccy") == "CNY" and (node.text or "").strip():
            try:
                return amount_fen(node.text or "", 0)
            except MalformedStatement:
                return None
    return None


def _line(
    entry: Element, tx: Element | None, line_no: int, ref: str, amount: int, common: dict[str, Any]
) -> ParsedLine:
    details = tx if tx is not None else entry
    credit = common["direction"] == "C"
    creditor_account = _account(details, "RltdPties/CdtrAcct")
    debtor_account = _account(details, "RltdPties/DbtrAcct")
    payer = (_name(details, "RltdPties/Dbtr"), debtor_account)
    repeats_credit = bool(creditor_account) and (
        common["reversal"] or is_virtual_account(creditor_account)
    )
    if credit or repeats_credit:  # a debit repeating the parties of the credit it takes back
        virtual, party = creditor_account, payer
    else:
        virtual = debtor_account if is_virtual_account(debtor_account) else ""
        party = (_name(details, "RltdPties/Cdtr"), creditor_account)
    remittance = _find(details, "RmtInf")
    ustrd = _children(remittance, "Ustrd") if remittance is not None else []
    memo = " ".join((u.text or "").strip() for u in ustrd)[:500]
    instructed = _find(details, "AmtDtls/InstdAmt/Amt")
    related: tuple[str, ...] = ()
    if not credit:
        named = [_text(details, f"Refs/{r}") for r in _REFS] + [_text(entry, "NtryRef")]
        words = memo_refs(_text(details, "AddtlTxInf"), _text(entry, "AddtlNtryInf"), memo)
        related = tuple(
            dict.fromkeys(
                r[:100] for r in (*named, *words) if r and r != "NOTPROVIDED" and r != ref
            )
        )[:20]
    return ParsedLine(
        line_no=line_no,
        bank_ref=ref,
        amount_fen=amount,
        virtual_account=virtual,
        counterparty_name=party[0],
        counterparty_account=party[1],
        memo=memo,
        tx_ref=_text(details, "Refs/AcctSvcrRef")[:100] if tx is not None else "",
        currency=(instructed.get("Ccy") or "CNY") if instructed is not None else "CNY",
        related_refs=related,
        **common,
    )
