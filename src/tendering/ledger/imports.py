"""Importing a bank statement: parse all, then book every new line in one transaction.

    result = await import_statement(session, raw_bytes, secrecy=secrecy, actor=staff)

* The same file twice (same SHA-256) changes nothing and answers the first import.
* A line the bank already sent in another file (same bank account and ``bank_ref``) is
  skipped; transfers carry the idempotency key ``stmt:<bank account>:<bank_ref>`` so even two
  imports racing cannot book one line twice.
* Credits: booked to their virtual account (bank clearing → deposit) when they pay exactly
  what is due by the deadline, else to suspense (bank clearing → suspense) with the reason.
  Debits: a refund payment the bank confirms (memo carries the instruction ref and the
  amount matches) posts that refund's pending payment; anything else goes to suspense
  (suspense → bank clearing, ``unmatched_debit``).
* Set-based: a few statements whatever the number of lines (arrays through ``unnest``).
* Each line's counterparty and memo are stored sealed (``payers.py``); matching reads them
  from the parsed line, in memory, before the insert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.holders import open_terms
from tendering.ledger.payers import Payer, seal_payer
from tendering.ledger.postings import TransferSpec, create_transfers_bulk, platform_accounts
from tendering.ledger.statements import ParsedLine, ParsedStatement, parse_statement

__all__ = ["ImportResult", "import_statement"]

_INSTRUCTION = re.compile(r"RB-[0-9A-F]{10}-\d{4}")


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


async def import_statement(
    session: AsyncSession, raw: bytes, *, secrecy: Secrecy, actor: Actor
) -> ImportResult:
    """Parse (all or nothing) and book a CSV or camt.053 statement (``secrecy`` opens the
    sealed terms, amount due and deadline, of the accounts paid into)."""
    parsed = parse_statement(raw)
    statement_id = (
        await session.execute(
            text(
                "INSERT INTO bank_statement (file_sha256, format, bank_account, statement_ref,"
                " line_count, imported_by) VALUES (:sha, :fmt, :acct, :ref, :n, :by)"
                " ON CONFLICT (file_sha256) DO NOTHING RETURNING id"
            ),
            {
                "sha": parsed.sha256,
                "fmt": parsed.format,
                "acct": parsed.bank_account,
                "ref": parsed.statement_ref,
                "n": len(parsed.lines),
                "by": actor.ref,
            },
        )
    ).scalar_one_or_none()
    if statement_id is None:
        return await _previous(session, parsed)
    known = await _known_refs(session, parsed.lines)
    fresh = [ln for ln in parsed.lines if (ln.bank_account, ln.bank_ref) not in known]
    ids = await platform_accounts(session)
    rows = await _classify(session, fresh, ids, secrecy)
    made = await create_transfers_bulk(
        session, [r["spec"] for r in rows if r["spec"] is not None], hot_ids=ids.values()
    )
    for r in rows:
        if r["spec"] is not None:
            r["transfer_id"] = made.get(r["key"])
    await _insert_lines(session, statement_id, rows, secrecy)
    confirmed = await _confirm_refunds(session, rows, actor)
    result = ImportResult(
        statement_id=statement_id,
        sha256=parsed.sha256,
        format=parsed.format,
        already_imported=False,
        lines=len(parsed.lines),
        booked=sum(1 for r in rows if r["status"] == "booked"),
        suspense=sum(1 for r in rows if r["status"] == "suspense"),
        confirmed=confirmed,
        duplicates=len(parsed.lines) - len(fresh),
    )
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
            "duplicates": result.duplicates,
            "credits_fen": sum(ln.amount_fen for ln in fresh if ln.direction == "C"),
            "debits_fen": sum(ln.amount_fen for ln in fresh if ln.direction == "D"),
        },
    )
    return result


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
    return ImportResult(
        statement_id=row.id,
        sha256=parsed.sha256,
        format=parsed.format,
        already_imported=True,
        lines=row.line_count,
        booked=row.booked,
        suspense=row.other,
        confirmed=0,
        duplicates=row.line_count - row.stored,
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


async def _deposit_terms(
    session: AsyncSession, numbers: list[str], secrecy: Secrecy
) -> tuple[dict[str, rules.DepositTerms], dict[int, int]]:
    """Terms of the paid-into accounts, their ledger rows locked (in id order) so that
    what they hold cannot change under the matcher."""
    rows = (
        await session.execute(
            text(
                "SELECT d.id, d.number, d.holder_tag, d.terms, d.state,"
                " a.id AS ledger_id, a.credits_posted - a.debits_posted - a.debits_pending"
                " AS held FROM deposit_account d JOIN ledger_account a"
                " ON a.id = d.ledger_account_id WHERE d.number = ANY(:numbers)"
                " ORDER BY a.id FOR UPDATE OF a"
            ),
            {"numbers": numbers},
        )
    ).all()
    terms = {}
    for r in rows:
        sealed = open_terms(secrecy, number=r.number, holder_tag=r.holder_tag, box=r.terms)
        terms[r.number] = rules.DepositTerms(
            deposit_id=r.id,
            amount_due_fen=sealed.amount_due_fen,
            deadline=sealed.deadline,
            received_fen=int(r.held),
            is_open=r.state == "open",
        )
    return terms, {r.id: r.ledger_id for r in rows}


async def _classify(
    session: AsyncSession, lines: list[ParsedLine], ids: dict[str, int], secrecy: Secrecy
) -> list[dict[str, Any]]:
    credits = [ln for ln in lines if ln.direction == "C"]
    terms, ledger_of = await _deposit_terms(
        session, sorted({ln.virtual_account for ln in credits if ln.virtual_account}), secrecy
    )
    matches = rules.classify_credits(
        [
            rules.IncomingLine(
                key=i,
                virtual_account=ln.virtual_account,
                amount_fen=ln.amount_fen,
                value_at=ln.value_at,
            )
            for i, ln in enumerate(lines)
            if ln.direction == "C"
        ],
        terms,
    )
    by_key = {m.key: m for m in matches}
    rows: list[dict[str, Any]] = []
    for i, ln in enumerate(lines):
        key = f"stmt:{ln.bank_account}:{ln.bank_ref}"
        row: dict[str, Any] = {
            "line": ln,
            "key": key,
            "deposit_id": None,
            "reason": "",
            "instruction": None,
            "transfer_id": None,
        }
        if ln.direction == "C":
            m = by_key[i]
            row["deposit_id"] = m.deposit_id
            row["reason"] = m.reason.value if m.reason else ""
            row["status"] = "suspense" if m.reason else "booked"
            credit = ids["suspense"] if m.reason else ledger_of[m.deposit_id]  # type: ignore[index]
            row["spec"] = _spec(
                key,
                ids["bank_clearing"],
                credit,
                ln,
                "suspense.in" if m.reason else "deposit.received",
            )
        else:
            found = _INSTRUCTION.search(ln.memo)
            row["instruction"] = found.group(0) if found else None
            row["status"] = "booked"  # provisional: _confirm_refunds decides
            row["spec"] = None
        rows.append(row)
    await _match_debits(session, rows, ids)
    return rows


def _spec(key: str, debit: int, credit: int, ln: ParsedLine, kind: str) -> TransferSpec:
    return TransferSpec(
        key=key,
        debit=debit,
        credit=credit,
        amount_fen=ln.amount_fen,
        kind=kind,
        reference=ln.bank_ref,
        value_at=ln.value_at,
    )


async def _match_debits(
    session: AsyncSession, rows: list[dict[str, Any]], ids: dict[str, int]
) -> None:
    """A debit confirms a refund when its memo names a pending instruction of that amount."""
    refs = [r["instruction"] for r in rows if r["instruction"]]
    # Pending instructions, and paid ones no bank line has confirmed yet (staff confirmed
    # by hand before the statement came): both are what a bank debit line can settle.
    open_refs = {
        r.instruction_ref: (int(r.amount), r.status, r.payment_transfer_id)
        for r in (
            await session.execute(
                text(
                    "SELECT instruction_ref, principal_fen + interest_fen AS amount, status,"
                    " payment_transfer_id FROM refund_line f WHERE instruction_ref = ANY(:refs)"
                    " AND (status = 'pending' OR status = 'paid' AND NOT EXISTS"
                    " (SELECT 1 FROM statement_line l"
                    " WHERE l.transfer_id = f.payment_transfer_id))"
                ),
                {"refs": refs},
            )
        ).all()
    }
    for r in rows:
        ln: ParsedLine = r["line"]
        if ln.direction != "D":
            continue
        found = open_refs.get(r["instruction"]) if r["instruction"] else None
        if found is not None and found[0] == ln.amount_fen:
            del open_refs[r["instruction"]]
            if found[1] == "paid":
                r["instruction"] = None
                r["transfer_id"] = found[2]
            continue
        r["instruction"] = None
        r["status"] = "suspense"
        r["reason"] = rules.SuspenseReason.UNMATCHED_DEBIT.value
        r["spec"] = _spec(r["key"], ids["suspense"], ids["bank_clearing"], ln, "suspense.out")


async def _insert_lines(
    session: AsyncSession, statement_id: int, rows: list[dict[str, Any]], secrecy: Secrecy
) -> None:
    """Store the lines, each one's counterparty and memo sealed (``payers.py``)."""
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "no",
            "acct",
            "ref",
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
    }
    for r in rows:
        ln: ParsedLine = r["line"]
        for k, v in (
            ("no", ln.line_no),
            ("acct", ln.bank_account),
            ("ref", ln.bank_ref),
            ("dir", ln.direction),
            ("amt", ln.amount_fen),
            ("val", ln.value_at),
            ("booked", ln.booked_on),
            ("va", ln.virtual_account),
            ("payer", seal_payer(secrecy, ln.bank_account, ln.bank_ref, _payer(ln))),
            ("status", r["status"]),
            ("reason", r["reason"]),
            ("dep", r["deposit_id"]),
            ("tid", r["transfer_id"]),
        ):
            cols[k].append(v)
    await session.execute(
        text(
            """
            INSERT INTO statement_line (statement_id, line_no, bank_account, bank_ref, direction,
                amount_fen, value_at, booked_on, virtual_account, payer, status, reason,
                deposit_account_id, transfer_id, resolution)
            SELECT :sid, * , '' FROM unnest(CAST(:no AS int[]), CAST(:acct AS text[]),
                CAST(:ref AS text[]), CAST(:dir AS text[]), CAST(:amt AS bigint[]),
                CAST(:val AS timestamptz[]), CAST(:booked AS date[]), CAST(:va AS text[]),
                CAST(:payer AS text[]), CAST(:status AS text[]), CAST(:reason AS text[]),
                CAST(:dep AS int[]), CAST(:tid AS bigint[]))
            ON CONFLICT (bank_account, bank_ref) DO NOTHING
            """
        ),
        {"sid": statement_id, **cols},
    )


def _payer(ln: ParsedLine) -> Payer:
    return Payer(name=ln.counterparty_name, account=ln.counterparty_account, memo=ln.memo)


async def _confirm_refunds(session: AsyncSession, rows: list[dict[str, Any]], actor: Actor) -> int:
    """Post the payments the bank confirmed; link each debit line to its payment."""
    confirmed = 0
    for r in rows:
        if r["instruction"] is None:
            continue
        ln: ParsedLine = r["line"]
        transfer_id = await confirm_refund_paid(
            session,
            instruction_ref=r["instruction"],
            bank_ref=ln.bank_ref,
            paid_at=ln.value_at,
            actor=actor,
        )
        if transfer_id is not None:
            confirmed += 1
        else:
            # Staff confirmed it by hand while we matched: the line is that same payment.
            transfer_id = (
                await session.execute(
                    text("SELECT payment_transfer_id FROM refund_line WHERE instruction_ref = :r"),
                    {"r": r["instruction"]},
                )
            ).scalar_one()
        await session.execute(
            text(
                "UPDATE statement_line SET transfer_id = :t WHERE bank_account = :a"
                " AND bank_ref = :r"
            ),
            {"t": transfer_id, "a": ln.bank_account, "r": ln.bank_ref},
        )
    return confirmed
