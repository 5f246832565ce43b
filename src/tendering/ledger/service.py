"""Deposit accounts (子账号) and eligibility: the ledger's public face for other contexts.

    view = await open_deposit_account(session, bidder_org_id=7, subject="lot:L-2026-001",
                                      amount_due_fen=5_000_000, deadline=deadline)
    status = await deposit_status(session, 7, "lot:L-2026-001", at=await db_now(session))
    status.state  # "none" | "partial" | "received"

The ledger never imports the tenders or auction contexts: a deposit account is keyed by the
bidder organization's id and a *subject* string, ``lot:<code>`` or ``auction:<code>``; the
caller says what is due and by when. Every function runs in the caller's transaction.

Who opened an account for which subject is secret until the subject's opening (招标投标法
第二十二条): ``deposit.opened`` in the global stream carries only a hiding commitment, and
:func:`reveal_deposits` opens every account's commitment in the subject's own stream when
the caller (the opening) says the secret is over.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.clock import rfc3339
from tendering.core.errors import InvalidInput, NotFound
from tendering.ledger import rules
from tendering.ledger.models import AccountKind, DepositState

__all__ = [
    "DepositStatus",
    "DepositView",
    "deposit_status",
    "get_deposit",
    "list_deposits",
    "open_deposit_account",
    "reveal_deposits",
    "set_deposit_terms",
]


@dataclass(frozen=True, kw_only=True)
class DepositView:
    id: int
    number: str
    bidder_org_id: int
    subject: str
    amount_due_fen: int
    deadline: datetime
    state: str
    ledger_account_id: int
    held_fen: int  # what the account holds now (posted credits less debits and reservations)
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class DepositStatus:
    state: str  # none | partial | received
    received_fen: int
    amount_due_fen: int
    deadline: datetime | None
    number: str | None


def _check_subject(subject: str) -> None:
    kind, _, code = subject.partition(":")
    if kind not in ("lot", "auction") or not code or len(subject) > 120:
        raise InvalidInput(
            f"subject must be 'lot:<code>' or 'auction:<code>', got {subject!r}", field="subject"
        )


_VIEW = """
    SELECT d.id, d.number, d.bidder_org_id, d.subject, d.amount_due_fen, d.deadline, d.state,
        d.ledger_account_id, d.reason,
        a.credits_posted - a.debits_posted - a.debits_pending AS held
    FROM deposit_account d JOIN ledger_account a ON a.id = d.ledger_account_id
"""


def _view(r: Any) -> DepositView:
    return DepositView(
        id=r.id,
        number=r.number,
        bidder_org_id=r.bidder_org_id,
        subject=r.subject,
        amount_due_fen=r.amount_due_fen,
        deadline=r.deadline,
        state=r.state,
        ledger_account_id=r.ledger_account_id,
        held_fen=int(r.held),
        reason=r.reason,
    )


async def get_deposit(
    session: AsyncSession,
    *,
    number: str | None = None,
    bidder_org_id: int | None = None,
    subject: str | None = None,
) -> DepositView:
    """One virtual account, by number or by (bidder, subject); 404 when there is none."""
    if number is not None:
        where, params = "d.number = :number", {"number": number}
    else:
        where = "d.bidder_org_id = :bidder AND d.subject = :subject"
        params = {"bidder": bidder_org_id, "subject": subject}  # type: ignore[dict-item]
    row = (await session.execute(text(f"{_VIEW} WHERE {where}"), params)).one_or_none()
    if row is None:
        raise NotFound("没有这个保证金子账号 no such deposit account", code="ledger.no_deposit")
    return _view(row)


async def list_deposits(
    session: AsyncSession, *, bidder_org_id: int | None = None, subject: str | None = None
) -> list[DepositView]:
    """Virtual accounts, newest first; filtered by bidder and/or subject."""
    rows = (
        await session.execute(
            text(
                f"{_VIEW} WHERE (CAST(:bidder AS int) IS NULL OR d.bidder_org_id = :bidder)"
                " AND (CAST(:subject AS text) IS NULL OR d.subject = :subject)"
                " ORDER BY d.id DESC LIMIT 1000"
            ),
            {"bidder": bidder_org_id, "subject": subject},
        )
    ).all()
    return [_view(r) for r in rows]


async def open_deposit_account(
    session: AsyncSession,
    *,
    bidder_org_id: int,
    subject: str,
    amount_due_fen: int,
    deadline: datetime,
    actor: Actor = SYSTEM,
) -> DepositView:
    """The bidder's virtual account for ``subject``, opened on first call (idempotent).

    ``actor`` is recorded in clear: a caller acting for the bidder itself passes a system
    actor, or the bidder's user would be named next to the commitment."""
    _check_subject(subject)
    if amount_due_fen <= 0:
        raise InvalidInput("amount_due_fen must be more than 0", field="amount_due_fen")
    if deadline.tzinfo is None:
        raise InvalidInput("deadline must carry a timezone", field="deadline")
    try:
        return await get_deposit(session, bidder_org_id=bidder_org_id, subject=subject)
    except NotFound:
        pass
    kind = (
        await session.execute(
            text("SELECT kind FROM organization WHERE id = :id"), {"id": bidder_org_id}
        )
    ).scalar_one_or_none()
    if kind != "bidder":
        raise InvalidInput(
            f"bidder_org_id {bidder_org_id} is not a bidder organization", field="bidder_org_id"
        )
    nonce = secrets.token_hex(16)
    number, ledger_id, new_id = await _insert_account(
        session, bidder_org_id, subject, amount_due_fen, deadline, nonce
    )
    if new_id is None:  # a concurrent call opened it first: keep theirs
        await session.execute(text("DELETE FROM ledger_account WHERE id = :id"), {"id": ledger_id})
        return await get_deposit(session, bidder_org_id=bidder_org_id, subject=subject)
    # Neither the bidder, the subject, the number nor the subject's terms (amount and
    # deadline name the lot): counting these per lot would count its bidders.
    opened = rules.committed_opening(number=number, bidder_org_id=bidder_org_id, subject=subject)
    await record(
        session,
        stream=GLOBAL,
        action="deposit.opened",
        actor=actor,
        payload={"commitment": rules.commitment(opened, nonce)},
    )
    return await get_deposit(session, number=number)


async def _insert_account(
    session: AsyncSession,
    bidder_org_id: int,
    subject: str,
    due: int,
    deadline: datetime,
    nonce: str,
) -> tuple[str, int, int | None]:
    """A fresh random number (retried on the rare clash), its ledger account and the
    virtual account row; ``None`` as the id when a concurrent call opened it first."""
    ledger_id = None
    number = ""
    while ledger_id is None:
        number = rules.account_number(f"{secrets.randbelow(10**10):010d}")
        ledger_id = (
            await session.execute(
                text(
                    "INSERT INTO ledger_account (code, kind, normal_side, no_negative, hot)"
                    " VALUES (:code, :kind, 'credit', true, false)"
                    " ON CONFLICT (code) DO NOTHING RETURNING id"
                ),
                {"code": f"deposit:{number}", "kind": AccountKind.DEPOSIT.value},
            )
        ).scalar_one_or_none()
    new_id = (
        await session.execute(
            text(
                "INSERT INTO deposit_account (number, bidder_org_id, subject, amount_due_fen,"
                " deadline, state, ledger_account_id, reason, nonce) VALUES (:number, :bidder,"
                " :subject, :due, :deadline, 'open', :ledger, '', :nonce)"
                " ON CONFLICT (bidder_org_id, subject) DO NOTHING RETURNING id"
            ),
            {
                "number": number,
                "bidder": bidder_org_id,
                "subject": subject,
                "due": due,
                "deadline": deadline,
                "ledger": ledger_id,
                "nonce": nonce,
            },
        )
    ).scalar_one_or_none()
    return number, ledger_id, new_id


async def set_deposit_terms(
    session: AsyncSession,
    *,
    subject: str,
    deadline: datetime | None = None,
    amount_due_fen: int | None = None,
    actor: Actor = SYSTEM,
) -> int:
    """Move the deadline (an amendment) or change the amount due of every account of a
    subject still open; returns how many changed. Money already received stays.

    One ``deposit.terms_changed`` event per call, whether or not any account changed: an
    event per account, or none for a subject nobody registered for, would count them."""
    if deadline is not None and deadline.tzinfo is None:
        raise InvalidInput("deadline must carry a timezone", field="deadline")
    if amount_due_fen is not None and amount_due_fen <= 0:
        raise InvalidInput("amount_due_fen must be more than 0", field="amount_due_fen")
    rows = (
        await session.execute(
            text(
                "UPDATE deposit_account SET deadline = coalesce(:deadline, deadline),"
                " amount_due_fen = coalesce(:due, amount_due_fen)"
                " WHERE subject = :subject AND state = 'open' RETURNING number"
            ),
            {"deadline": deadline, "due": amount_due_fen, "subject": subject},
        )
    ).all()
    await record(
        session,
        stream=GLOBAL,
        action="deposit.terms_changed",
        actor=actor,
        payload={
            "subject": subject,
            "deadline": rfc3339(deadline) if deadline else None,
            "amount_due_fen": amount_due_fen,
        },
    )
    return len(rows)


async def reveal_deposits(session: AsyncSession, *, subject: str, actor: Actor) -> int:
    """Open the commitments of every deposit account of ``subject`` in its own stream.

    Call it only once the subject's bidders may be known (the lot's opening has finished).
    Records one ``deposit.revealed`` per account not revealed before (idempotent), with the
    committed fields and the nonce, so anyone can recompute each ``deposit.opened`` and
    suspense-assignment commitment of the global stream; returns how many it revealed.
    """
    _check_subject(subject)
    # Two reveals at once would both see nothing revealed yet and reveal everything twice.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"reveal:{subject}"}
    )
    rows = (
        await session.execute(
            text(
                "SELECT d.number, d.bidder_org_id, d.nonce FROM deposit_account d"
                " WHERE d.subject = :subject AND NOT EXISTS (SELECT 1 FROM audit_event e"
                " WHERE e.stream = :subject AND e.action = 'deposit.revealed'"
                " AND e.payload ->> 'number' = d.number) ORDER BY d.number"
            ),
            {"subject": subject},
        )
    ).all()
    for row in rows:
        opened = rules.committed_opening(
            number=row.number, bidder_org_id=row.bidder_org_id, subject=subject
        )
        await record(
            session,
            stream=subject,
            action="deposit.revealed",
            actor=actor,
            payload=opened | {"nonce": row.nonce},
        )
    return len(rows)


async def deposit_status(
    session: AsyncSession, bidder_org_id: int, subject: str, at: datetime
) -> DepositStatus:
    """Eligibility at ``at``: what arrived by the bank's value time no later than the deadline
    (and ``at``), less what was paid out of the account by ``at``."""
    row = (
        await session.execute(
            text(
                """
                SELECT d.number, d.amount_due_fen, d.deadline, d.state,
                  coalesce((SELECT sum(amount_fen) FROM ledger_transfer t
                    WHERE t.credit_account_id = d.ledger_account_id AND t.state = 'posted'
                      AND t.value_at <= least(d.deadline, :at)), 0)
                  - coalesce((SELECT sum(amount_fen) FROM ledger_transfer t
                    WHERE t.debit_account_id = d.ledger_account_id AND t.state <> 'voided'
                      AND t.created_at <= :at), 0) AS received
                FROM deposit_account d WHERE d.bidder_org_id = :bidder AND d.subject = :subject
                """
            ),
            {"bidder": bidder_org_id, "subject": subject, "at": at},
        )
    ).one_or_none()
    if row is None:
        return DepositStatus(
            state="none", received_fen=0, amount_due_fen=0, deadline=None, number=None
        )
    received = max(int(row.received), 0)
    state = rules.deposit_status(received_fen=received, amount_due_fen=row.amount_due_fen)
    if row.state == DepositState.FORFEITED:
        state = "none"
    return DepositStatus(
        state=state,
        received_fen=received,
        amount_due_fen=row.amount_due_fen,
        deadline=row.deadline,
        number=row.number,
    )
