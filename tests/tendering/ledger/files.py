"""Statement files for tests and the benchmark: CSV and camt.053 built from plain lines."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

from tendering.core.money import yuan
from tendering.ledger.rules import CHINA
from tendering.ledger.statements import CSV_COLUMNS

BANK_ACCOUNT = "110060149018800012345"


@dataclass(frozen=True)
class Line:
    bank_ref: str
    amount_fen: int
    value_at: datetime
    virtual_account: str = ""
    direction: str = "C"
    name: str = "某某建设工程有限公司"
    account: str = "6222020200112233445"
    memo: str = "投标保证金"
    extra: dict[str, str] = field(default_factory=dict)


def csv_statement(lines: list[Line], *, bank_account: str = BANK_ACCOUNT) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for ln in lines:
        local = ln.value_at.astimezone(CHINA)
        row = {
            "bank_account": bank_account,
            "bank_ref": ln.bank_ref,
            "value_time": local.isoformat(),
            "booking_date": local.date().isoformat(),
            "direction": ln.direction,
            "amount": yuan(ln.amount_fen),
            "currency": "CNY",
            "virtual_account": ln.virtual_account,
            "counterparty_name": ln.name,
            "counterparty_account": ln.account,
            "memo": ln.memo,
            **ln.extra,
        }
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return out.getvalue().encode()


def camt053(
    lines: list[Line], *, bank_account: str = BANK_ACCOUNT, stmt_id: str = "STMT-1"
) -> bytes:
    entries = []
    for ln in lines:
        local = ln.value_at.astimezone(CHINA)
        credit = ln.direction == "C"
        party, acct = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
        virtual = (
            f"<CdtrAcct><Id><Othr><Id>{escape(ln.virtual_account)}</Id></Othr></Id></CdtrAcct>"
            if credit
            else ""
        )
        entries.append(
            f"""    <Ntry>
      <Amt Ccy="CNY">{yuan(ln.amount_fen)}</Amt>
      <CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>
      <Sts><Cd>BOOK</Cd></Sts>
      <BookgDt><Dt>{local.date().isoformat()}</Dt></BookgDt>
      <ValDt><DtTm>{local.isoformat()}</DtTm></ValDt>
      <AcctSvcrRef>{escape(ln.bank_ref)}</AcctSvcrRef>
      <NtryDtls><TxDtls>
        <RltdPties><{party}><Nm>{escape(ln.name)}</Nm></{party}>
          <{acct}><Id><Othr><Id>{escape(ln.account)}</Id></Othr></Id></{acct}>{virtual}</RltdPties>
        <RmtInf><Ustrd>{escape(ln.memo)}</Ustrd></RmtInf>
      </TxDtls></NtryDtls>
    </Ntry>"""
        )
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{stmt_id}</MsgId><CreDtTm>2026-11-24T18:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{stmt_id}</Id>
      <Acct><Id><Othr><Id>{bank_account}</Id></Othr></Id></Acct>
{body}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()
