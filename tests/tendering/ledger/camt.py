"""camt.053 statements shaped the way banks send them, for the tests.

    raw = statement([entry("C1", at, tx(5_000_000, number)), ...], version="02",
                    opening_fen=0)

* an entry (``Ntry``) carries one or several transactions (``NtryDtls/TxDtls``), a batch
  entry's ``Amt`` being their sum unless told otherwise;
* ``version="08"`` writes ``camt.053.001.08`` (``Dbtr/Pty/Nm``, ``TxDtls/Amt`` with
  ``CdtDbtInd``), ``"02"`` writes ``camt.053.001.02`` (``Dbtr/Nm``, the amount only in
  ``AmtDtls/TxAmt/Amt``);
* the payer's account is ``DbtrAcct/Id/Othr/Id`` or ``DbtrAcct/Id/IBAN``, or left out;
* a reversal (``RvslInd`` true) repeats the original transaction, as banks do;
* ``OPBD``/``CLBD`` balances: the closing one is the opening plus the booked entries unless
  given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from xml.sax.saxutils import escape

from tendering.core.money import yuan
from tendering.ledger.rules import CHINA
from tests.tendering.ledger.files import BANK_ACCOUNT, Line, csv_statement

PAYER = "某某建设工程有限公司"
PAYER_ACCOUNT = "6222020200112233445"


@dataclass(frozen=True)
class Tx:
    amount_fen: int
    virtual_account: str = ""  # CdtrAcct/Id/Othr/Id: the virtual account paid into
    ref: str = ""  # Refs/AcctSvcrRef: the bank's reference of this transaction
    name: str | None = PAYER  # the payer (Dbtr) of a credit; None: left out
    account: str | None = PAYER_ACCOUNT  # DbtrAcct; None: left out
    iban: bool = False  # DbtrAcct/Id/IBAN instead of Othr/Id
    memo: str = "投标保证金"
    instructed: tuple[str, int] | None = None  # AmtDtls/InstdAmt (currency, minor units)
    payee: tuple[str, str] | None = None  # a debit's Cdtr and CdtrAcct (a refund's payee)
    info: str = ""  # AddtlTxInf


def tx(amount_fen: int, virtual_account: str = "", **kw: object) -> Tx:
    return Tx(amount_fen, virtual_account, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Entry:
    ref: str  # Ntry/AcctSvcrRef
    value_at: datetime
    txs: tuple[Tx, ...]
    credit: bool = True
    reversal: bool = False  # RvslInd
    amount_fen: int | None = None  # Ntry/Amt; None: the sum of the transactions
    info: str = ""  # AddtlNtryInf
    status: str = "BOOK"

    @property
    def total(self) -> int:
        return (
            self.amount_fen if self.amount_fen is not None else sum(t.amount_fen for t in self.txs)
        )


def entry(ref: str, value_at: datetime, *txs: Tx, **kw: object) -> Entry:
    return Entry(ref, value_at, tuple(txs), **kw)  # type: ignore[arg-type]


def reversal_of(original: Entry, ref: str, value_at: datetime, **kw: object) -> Entry:
    """The bank taking back ``original``: a DBIT with RvslInd true repeating its transactions
    (their refs, parties and the virtual account credited)."""
    return replace(original, ref=ref, value_at=value_at, credit=False, reversal=True, **kw)


def _amount(tag: str, fen: int, ccy: str = "CNY") -> str:
    return f'<{tag} Ccy="{ccy}">{yuan(fen)}</{tag}>'


def _party(version: str, role: str, name: str | None) -> str:
    if name is None:
        return ""
    if version == "02":
        return f"<{role}><Nm>{escape(name)}</Nm></{role}>"
    return f"<{role}><Pty><Nm>{escape(name)}</Nm></Pty></{role}>"


def _account(role: str, number: str | None, *, iban: bool = False) -> str:
    if number is None:
        return ""
    inner = f"<IBAN>{escape(number)}</IBAN>" if iban else f"<Othr><Id>{escape(number)}</Id></Othr>"
    return f"<{role}Acct><Id>{inner}</Id></{role}Acct>"


def _tx(version: str, e: Entry, t: Tx) -> str:
    refs = f"<Refs><AcctSvcrRef>{escape(t.ref)}</AcctSvcrRef></Refs>" if t.ref else ""
    amounts = ""
    if version != "02":
        amounts += _amount("Amt", t.amount_fen) + f"<CdtDbtInd>{_ind(e)}</CdtDbtInd>"
    details = ""
    if version == "02":
        details += f"<TxAmt>{_amount('Amt', t.amount_fen)}</TxAmt>"
    if t.instructed is not None:
        details = f"<InstdAmt>{_amount('Amt', t.instructed[1], t.instructed[0])}</InstdAmt>" + (
            details
        )
    if details:
        amounts += f"<AmtDtls>{details}</AmtDtls>"
    if e.credit or e.reversal:  # money in, or the original credit repeated
        parties = (
            _party(version, "Dbtr", t.name)
            + _account("Dbtr", t.account, iban=t.iban)
            + _party(version, "Cdtr", "某某公共资源交易中心")
            + _account("Cdtr", t.virtual_account or None)
        )
    else:
        payee = t.payee or (t.name or "", t.account or "")
        parties = (
            _party(version, "Dbtr", "某某公共资源交易中心")
            + _account("Dbtr", BANK_ACCOUNT)
            + _party(version, "Cdtr", payee[0])
            + _account("Cdtr", payee[1] or None)
        )
    info = f"<AddtlTxInf>{escape(t.info)}</AddtlTxInf>" if t.info else ""
    return (
        f"<TxDtls>{refs}{amounts}<RltdPties>{parties}</RltdPties>"
        f"<RmtInf><Ustrd>{escape(t.memo)}</Ustrd></RmtInf>{info}</TxDtls>"
    )


def _ind(e: Entry) -> str:
    return "CRDT" if e.credit else "DBIT"


def _entry(version: str, e: Entry) -> str:
    local = e.value_at.astimezone(CHINA)
    rvsl = "<RvslInd>true</RvslInd>" if e.reversal else ""
    info = f"<AddtlNtryInf>{escape(e.info)}</AddtlNtryInf>" if e.info else ""
    status = f"<Sts>{e.status}</Sts>" if version == "02" else f"<Sts><Cd>{e.status}</Cd></Sts>"
    family = "RCDT" if e.credit else "ICDT"
    return f"""    <Ntry>
      {_amount("Amt", e.total)}
      <CdtDbtInd>{_ind(e)}</CdtDbtInd>{rvsl}
      {status}
      <BookgDt><Dt>{local.date().isoformat()}</Dt></BookgDt>
      <ValDt><DtTm>{local.isoformat()}</DtTm></ValDt>
      <AcctSvcrRef>{escape(e.ref)}</AcctSvcrRef>
      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
      <NtryDtls>{"".join(_tx(version, e, t) for t in e.txs)}</NtryDtls>{info}
    </Ntry>"""


def _balance(code: str, fen: int, on: date) -> str:
    sign = "CRDT" if fen >= 0 else "DBIT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{_amount('Amt', abs(fen))}"
        f"<CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>"
    )


def net(entries: list[Entry]) -> int:
    """What the booked entries move on the bank account (credits less debits)."""
    return sum(e.total if e.credit else -e.total for e in entries if e.status == "BOOK")


def statement(
    entries: list[Entry],
    *,
    version: str = "08",
    bank_account: str = BANK_ACCOUNT,
    stmt_id: str = "STMT-1",
    opening_fen: int | None = 0,
    closing_fen: int | None = None,
    on: date | None = None,
    seq: int | None = None,
) -> bytes:
    """A ``BkToCstmrStmt`` of ``entries`` on ``on`` (default: the first entry's booking day),
    with ``OPBD`` and ``CLBD`` unless ``opening_fen`` is None."""
    day = on or min(e.value_at for e in entries).astimezone(CHINA).date()
    balances = ""
    if opening_fen is not None:
        closing = opening_fen + net(entries) if closing_fen is None else closing_fen
        balances = _balance("OPBD", opening_fen, day) + _balance("CLBD", closing, day)
    body = "\n".join(_entry(version, e) for e in entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{stmt_id}</MsgId><CreDtTm>{day.isoformat()}T18:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{stmt_id}</Id>{f"<ElctrncSeqNb>{seq}</ElctrncSeqNb>" if seq is not None else ""}
      <CreDtTm>{day.isoformat()}T18:00:00+08:00</CreDtTm>
      <FrToDt><FrDtTm>{day.isoformat()}T00:00:00+08:00</FrDtTm><ToDtTm>{day.isoformat()}T23:59:59+08:00</ToDtTm></FrToDt>
      <Acct><Id><Othr><Id>{bank_account}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
      {balances}
{body}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


class Bank:
    """The bank's side of the tests: statements one after another, each opening where the
    last closed (``OPBD``/``CLBD``), CSV statements (no balances) counted too."""

    def __init__(self, account: str = BANK_ACCOUNT) -> None:
        self.account = account
        self.balance = 0
        self.seq = 0

    def camt(self, entries: list[Entry], **kw: object) -> bytes:
        self.seq += 1
        raw = statement(
            entries,
            bank_account=self.account,
            opening_fen=self.balance,
            seq=self.seq,
            stmt_id=f"STMT-{self.seq}",
            **kw,  # type: ignore[arg-type]
        )
        self.balance += net(entries)
        return raw

    def csv(self, lines: list[Line]) -> bytes:
        self.seq += 1
        self.balance += sum(
            ln.amount_fen if ln.direction == "C" else -ln.amount_fen for ln in lines
        )
        return csv_statement(lines, bank_account=self.account)
