"""Importing a bank statement: parse all, then book every new line in one transaction.

    result = await import_statement(session, raw_bytes, secrecy=secrecy, actor=staff)

* The same file twice (same SHA-256) changes nothing and answers the first import.
* A line the bank already sent in another file (same bank account and ``bank_ref``) is
  skipped; transfers carry the idempotency key ``stmt:<bank account>:<bank_ref>`` so even two
  imports racing cannot book one line twice.
* Credits book to their virtual account or park in suspense (``ledger/credits.py``);
  debits confirm refund payments, take back credits (reversals) or park in suspense
  (``ledger/debits.py``, ``ledger/reversals.py``). Then reversals that waited in suspense
  for a credit this statement brought apply.
* The statement's balances are checked against the books at once (``ledger/reconcile.py``):
  the answer says the difference; ``ledger verify`` fails while one is unexplained.
* Set-based where it counts: a few statements for the credits whatever their number.
* Each line's counterparty and memo are stored sealed (``payers.py``); matching reads them
  from the parsed line, in memory, before the insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.secrecy import Secrecy
from tendering.ledger.booking import Booking
from tendering.ledger.credits import classify_credits
from tendering.ledger.debits import classify_debits, confirm_bank_payments
from tendering.ledger.payers import Payer, seal_payer
from tendering.ledger.postings import create_transfers_bulk, platform_accounts
from tendering.ledger.reconcile import StatementCheck, check_statement
from tendering.ledger.reversals import apply_waiting_reversals, book_reversals
from tendering.ledger.statements import ParsedLine, ParsedStatement, parse_statement

__all__ = ["ImportResult", "import_statement"]


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    statement_id: int
    sha256: str
    format: str
    already_imported: bool
    lines: int
    booked: int
    suspense: int
    confirmed: int
    duplicates: int
    reversed: int = 0  # debit lines that took back a credit (now, or one that waited)
    # The bank's balances and the books' as of this statement (None: the file has none).
    opening_fen: int | None = None
    closing_fen: int | None = None
    books_closing_fen: int | None = None
    difference_fen: int | None = None  # bank less books at the close
    unexplained_fen: int | None = None  # of it, what no outstanding item explains


async def import_statement(
    session: AsyncSession, raw: bytes, *, secrecy: Secrecy, actor: Actor
) -> ImportResult:
    """Parse (all or nothing) and book a CSV or camt.053 statement (``secrecy`` opens the
    sealed terms, amount due and deadline, of the accounts paid into)."""
    parsed = parse_statement(raw)
    statement_id = await _insert_statement(session, parsed, actor)
    if statement_id is None:
        return await _previous(session, parsed)
    known = await _known_refs(session, parsed.lines)
    rows = [Booking(ln) for ln in parsed.lines if (ln.bank_account, ln.bank_ref) not in known]
    ids = await platform_accounts(session)
    await classify_credits(session, rows, ids, secrecy)
    await classify_debits(session, rows, ids)
    made = await create_transfers_bulk(
        session, [r.spec for r in rows if r.spec is not None], hot_ids=ids.values()
    )
    for r in rows:
        if r.spec is not None:
            r.transfer_id = made.get(r.key)
    await _insert_lines(session, statement_id, rows, secrecy)
    confirmed = await confirm_bank_payments(session, rows, actor)
    reversals = await book_reversals(session, rows, ids=ids, secrecy=secrecy, actor=actor)
    waited = None
    credited = [r.line for r in rows if r.credit and r.id is not None]
    if credited:
        waited = await apply_waiting_reversals(
            session, credited, ids=ids, secrecy=secrecy, actor=actor
        )
    check = await check_statement(session, statement_id)
    result = _result(parsed, statement_id, rows, confirmed, check, already=False)
    result = _with(result, reversed=reversals.reversed + (waited.reversed if waited else 0))
    await record(
        session,
        stream=GLOBAL,
        action="statement.imported",
        actor=actor,
        payload={
            "sha256": parsed.sha256,
            "format": parsed.format,
            "bank_account": parsed.bank_account,
            "lines": result.lines,
            "booked": result.booked,
            "suspense": result.suspense,
            "confirmed": confirmed,
            "reversed": result.reversed,
            "duplicates": result.duplicates,
            "credits_fen": sum(r.line.amount_fen for r in rows if r.credit),
            "debits_fen": sum(r.line.amount_fen for r in rows if not r.credit),
            "unrecovered_fen": reversals.unrecovered_fen
            + (waited.unrecovered_fen if waited else 0),
            "closing_fen": result.closing_fen,
            "difference_fen": result.difference_fen,
        },
    )
    return result


def _with(result: ImportResult, **changes: Any) -> ImportResult:
    return ImportResult(**{**result.__dict__, **changes})


def _result(
    parsed: ParsedStatement,
    statement_id: int,
    rows: list[Booking],
    confirmed: int,
    check: StatementCheck,
    *,
    already: bool,
) -> ImportResult:
    return ImportResult(
        statement_id=statement_id,
        sha256=parsed.sha256,
        format=parsed.format,
        already_imported=already,
        lines=len(parsed.lines),
        booked=sum(1 for r in rows if r.status == "booked"),
        suspense=sum(1 for r in rows if r.status == "suspense"),
        confirmed=confirmed,
        duplicates=len(parsed.lines) - len(rows),
        opening_fen=check.bank_opening_fen,
        closing_fen=check.bank_closing_fen,
        books_closing_fen=check.books_closing_fen if check.bank_closing_fen is not None else None,
        difference_fen=check.closing_difference_fen,
        unexplained_fen=check.unexplained_closing_fen,
    )


async def _insert_statement(
    session: AsyncSession, parsed: ParsedStatement, actor: Actor
) -> int | None:
    row = await session.execute(
        text(
            "INSERT INTO bank_statement (file_sha256, format, bank_account, statement_ref,"
            " line_count, imported_by, opening_fen, closing_fen, statement_on, sequence,"
            " net_fen) VALUES (:sha, :fmt, :acct, :ref, :n, :by, :open, :close, :on, :seq,"
            " :net) ON CONFLICT (file_sha256) DO NOTHING RETURNING id"
        ),
        {
            "sha": parsed.sha256,
            "fmt": parsed.format,
            "acct": parsed.bank_account,
            "ref": parsed.statement_ref,
            "n": len(parsed.lines),
            "by": actor.ref,
            "open": parsed.opening.amount_fen if parsed.opening else None,
            "close": parsed.closing.amount_fen if parsed.closing else None,
            "on": parsed.day,
            "seq": parsed.sequence,
            "net": parsed.net_fen,
        },
    )
    return row.scalar_one_or_none()


async def _previous(session: AsyncSession, parsed: ParsedStatement) -> ImportResult:
    row = (
        await session.execute(
            text(
                "SELECT s.id, s.line_count, count(l.id) FILTER (WHERE l.status = 'booked')"
                " AS booked, count(l.id) FILTER (WHERE l.status <> 'booked') AS other,"
                " count(l.id) AS stored FROM bank_statement s LEFT JOIN statement_line l"
                " ON l.statement_id = s.id WHERE s.file_sha256 = :sha GROUP BY s.id"
            ),
            {"sha": parsed.sha256},
        )
    ).one()
    check = await check_statement(session, row.id)
    first = _result(parsed, row.id, [], 0, check, already=True)
    return _with(
        first, booked=row.booked, suspense=row.other, duplicates=row.line_count - row.stored
    )


async def _known_refs(session: AsyncSession, lines: list[ParsedLine]) -> set[tuple[str, str]]:
    rows = (
        await session.execute(
            text(
                "SELECT bank_account, bank_ref FROM statement_line WHERE (bank_account, bank_ref)"
                " IN (SELECT * FROM unnest(CAST(:accts AS text[]), CAST(:refs AS text[])))"
            ),
            {"accts": [ln.bank_account for ln in lines], "refs": [ln.bank_ref for ln in lines]},
        )
    ).all()
    return {(r.bank_account, r.bank_ref) for r in rows}


_INSERT_LINES = text(
    """
    INSERT INTO statement_line (statement_id, line_no, bank_account, bank_ref, entry_ref,
        tx_ref, direction, amount_fen, value_at, booked_on, virtual_account, payer, status,
        reason, deposit_account_id, transfer_id, resolution)
    SELECT :sid, *, '' FROM unnest(CAST(:no AS int[]), CAST(:acct AS text[]),
        CAST(:ref AS text[]), CAST(:entry AS text[]), CAST(:tx AS text[]),
        CAST(:dir AS text[]), CAST(:amt AS bigint[]), CAST(:val AS timestamptz[]),
        CAST(:booked AS date[]), CAST(:va AS text[]), CAST(:payer AS text[]),
        CAST(:status AS text[]), CAST(:reason AS text[]), CAST(:dep AS int[]),
        CAST(:tid AS bigint[]))
    ON CONFLICT (bank_account, bank_ref) DO NOTHING
    RETURNING id, bank_ref
    """
)
_COLUMNS = (
    "no",
    "acct",
    "ref",
    "entry",
    "tx",
    "dir",
    "amt",
    "val",
    "booked",
    "va",
    "payer",
    "status",
    "reason",
    "dep",
    "tid",
)


async def _insert_lines(
    session: AsyncSession, statement_id: int, rows: list[Booking], secrecy: Secrecy
) -> None:
    """Store the lines, each one's counterparty, memo and named references sealed
    (``payers.py``); note each stored line's id on its row."""
    cols: dict[str, list[Any]] = {k: [] for k in _COLUMNS}
    for r in rows:
        ln = r.line
        payer = Payer(ln.counterparty_name, ln.counterparty_account, ln.memo, ln.related_refs)
        values = (
            ln.line_no,
            ln.bank_account,
            ln.bank_ref,
            ln.entry_ref,
            ln.tx_ref,
            ln.direction,
            ln.amount_fen,
            ln.value_at,
            ln.booked_on,
            ln.virtual_account,
            seal_payer(secrecy, ln.bank_account, ln.bank_ref, payer),
            r.status,
            r.reason,
            r.deposit_id,
            r.transfer_id,
        )
        for k, v in zip(_COLUMNS, values, strict=True):
            cols[k].append(v)
    stored = await session.execute(_INSERT_LINES, {"sid": statement_id, **cols})
    ids = {r.bank_ref: r.id for r in stored}
    for r in rows:
        r.id = ids.get(r.line.bank_ref)
