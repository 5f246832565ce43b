"""Deposit accounts (子账号): the ledger's public face for other contexts (with
``ledger/eligibility.py``, whether a deposit is in).

    secrecy = Secrecy.of(platform_key)
    view = await open_deposit_account(session, secrecy=secrecy, bidder_org_id=7,
                                      subject="lot:L-2026-001", amount_due_fen=5_000_000,
                                      deadline=deadline)
    status = await deposit_status(session, 7, "lot:L-2026-001", at, secrecy=secrecy)
    status.state  # "none" | "partial" | "received"

The ledger never imports the tenders or auction contexts: a deposit account is keyed by the
bidder organization's id and a *subject* string, ``lot:<code>`` or ``auction:<code>``; the
caller says what is due and by when. Every function runs in the caller's transaction.

Who opened an account for which subject is secret until the subject's opening (招标投标法
第二十二条): ``deposit.opened`` in the global stream carries only a hiding commitment, and
:func:`reveal_deposits` opens every account's commitment in the subject's own stream when
the caller (the opening) says the secret is over. The ``deposit_account`` row itself holds
only a keyed tag and a sealed box (``holders.py``), so the functions that find or read an
account take the platform's ``secrecy``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode, InvalidInput, NotFound
from tendering.core.secrecy import Secrecy
from tendering.ledger import rules
from tendering.ledger.holders import AccountTerms, holder_tag, open_terms, seal_terms, subject_tags
from tendering.ledger.models import AccountKind

__all__ = [
    "DepositView",
    "get_deposit",
    "list_deposits",
    "list_revealed_deposits",
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


def _check_subject(subject: str) -> None:
    kind, _, code = subject.partition(":")
    if kind not in ("lot", "auction") or not code or len(subject) > 120:
        raise InvalidInput(
            f"subject must be 'lot:<code>' or 'auction:<code>', got {subject!r}", field="subject"
        )


_VIEW = """
    SELECT d.id, d.number, d.holder_tag, d.terms, d.state, d.ledger_account_id, d.reason,
        a.credits_posted - a.debits_posted - a.debits_pending AS held
    FROM deposit_account d JOIN ledger_account a ON a.id = d.ledger_account_id
"""


def _view(r: Any, secrecy: Secrecy) -> DepositView:
    terms = open_terms(secrecy, number=r.number, holder_tag=r.holder_tag, box=r.terms)
    return DepositView(
        id=r.id,
        number=r.number,
        bidder_org_id=terms.bidder_org_id,
        subject=terms.subject,
        amount_due_fen=terms.amount_due_fen,
        deadline=terms.deadline,
        state=r.state,
        ledger_account_id=r.ledger_account_id,
        held_fen=int(r.held),
        reason=r.reason,
    )


async def get_deposit(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    number: str | None = None,
    bidder_org_id: int | None = None,
    subject: str | None = None,
) -> DepositView:
    """One virtual account, by number or by (bidder, subject); 404 when there is none."""
    if number is not None:
        where, params = "d.number = :number", {"number": number}
    elif bidder_org_id is not None and subject is not None:
        tag = holder_tag(secrecy, bidder_org_id=bidder_org_id, subject=subject)
        where, params = "d.holder_tag = :tag", {"tag": tag}
    else:  # no organization (not a bidder's login): it holds no account
        where, params = "false", {}
    row = (await session.execute(text(f"{_VIEW} WHERE {where}"), params)).one_or_none()
    if row is None:
        raise NotFound(
            "没有这个保证金子账号 no such deposit account", code=ErrorCode.LEDGER_NO_DEPOSIT
        )
    return _view(row, secrecy)


_LISTED = 1000
_BATCH = 500


async def list_deposits(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    bidder_org_id: int | None = None,
    subject: str | None = None,
) -> list[DepositView]:
    """Virtual accounts, newest first (at most 1000); filtered by bidder and/or subject.

    A subject's are found by their tags (one per bidder organization); a bidder's alone, or
    all of them, by opening every box, newest first, until 1000 are found (the ledger does
    not know which subjects exist to tag them)."""
    if subject is None:

        async def of_bidder(views: list[DepositView]) -> list[DepositView]:
            return [v for v in views if bidder_org_id in (None, v.bidder_org_id)]

        return await _scan(session, secrecy, of_bidder)
    tags = await subject_tags(
        session, secrecy, subject, None if bidder_org_id is None else [bidder_org_id]
    )
    rows = (
        await session.execute(
            text(f"{_VIEW} WHERE d.holder_tag = ANY(:tags) ORDER BY d.id DESC LIMIT :n"),
            {"tags": tags, "n": _LISTED},
        )
    ).all()
    return [_view(r, secrecy) for r in rows]


async def list_revealed_deposits(
    session: AsyncSession, *, secrecy: Secrecy, subject: str | None = None
) -> list[DepositView]:
    """As :func:`list_deposits`, but only the accounts :func:`reveal_deposits` has revealed:
    what oversight may list. Before a subject's opening nobody lists its accounts (who and
    how many is secret, 招标投标法第二十二条); one account is still read by its number."""

    async def revealed(views: list[DepositView]) -> list[DepositView]:
        shown = set(
            (
                await session.execute(
                    text(
                        "SELECT payload ->> 'number' FROM audit_event"
                        " WHERE stream = ANY(:subjects) AND action = 'deposit.revealed'"
                        " AND payload ->> 'number' = ANY(:numbers)"
                    ),
                    {
                        "subjects": sorted({v.subject for v in views}),
                        "numbers": [v.number for v in views],
                    },
                )
            ).scalars()
        )
        return [v for v in views if v.number in shown]

    if subject is None:
        return await _scan(session, secrecy, revealed)
    return await revealed(await list_deposits(session, secrecy=secrecy, subject=subject))


async def deposit_revealed(session: AsyncSession, view: DepositView) -> bool:
    """Has the subject's opening revealed this account (``deposit.revealed``)?"""
    found = await session.scalar(
        text(
            "SELECT 1 FROM audit_event WHERE stream = :subject AND action = 'deposit.revealed'"
            " AND payload ->> 'number' = :number LIMIT 1"
        ),
        {"subject": view.subject, "number": view.number},
    )
    return found is not None


async def _scan(
    session: AsyncSession,
    secrecy: Secrecy,
    keep: Callable[[list[DepositView]], Awaitable[list[DepositView]]],
) -> list[DepositView]:
    """Every account, newest first, opened a batch at a time; those ``keep`` keeps, up to
    1000."""
    found: list[DepositView] = []
    below = None
    while len(found) < _LISTED:
        rows = (
            await session.execute(
                text(
                    f"{_VIEW} WHERE (CAST(:below AS int) IS NULL OR d.id < :below)"
                    " ORDER BY d.id DESC LIMIT :n"
                ),
                {"below": below, "n": _BATCH},
            )
        ).all()
        found += await keep([_view(r, secrecy) for r in rows])
        if len(rows) < _BATCH:
            break
        below = rows[-1].id
    return found[:_LISTED]


async def open_deposit_account(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
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
        return await get_deposit(
            session, secrecy=secrecy, bidder_org_id=bidder_org_id, subject=subject
        )
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
    terms = AccountTerms(bidder_org_id, subject, amount_due_fen, deadline)
    number, ledger_id, new_id = await _insert_account(session, secrecy, terms, nonce)
    if new_id is None:  # a concurrent call opened it first: keep theirs
        await session.execute(text("DELETE FROM ledger_account WHERE id = :id"), {"id": ledger_id})
        return await get_deposit(
            session, secrecy=secrecy, bidder_org_id=bidder_org_id, subject=subject
        )
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
    return await get_deposit(session, secrecy=secrecy, number=number)


async def _insert_account(
    session: AsyncSession, secrecy: Secrecy, terms: AccountTerms, nonce: str
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
                "INSERT INTO deposit_account (number, holder_tag, terms, state,"
                " ledger_account_id, reason, nonce) VALUES (:number, :tag, :terms, 'open',"
                " :ledger, '', :nonce) ON CONFLICT (holder_tag) DO NOTHING RETURNING id"
            ),
            {
                "number": number,
                "tag": holder_tag(
                    secrecy, bidder_org_id=terms.bidder_org_id, subject=terms.subject
                ),
                "terms": seal_terms(secrecy, number, terms),
                "ledger": ledger_id,
                "nonce": nonce,
            },
        )
    ).scalar_one_or_none()
    return number, ledger_id, new_id


async def set_deposit_terms(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    subject: str,
    deadline: datetime | None = None,
    amount_due_fen: int | None = None,
    actor: Actor = SYSTEM,
) -> int:
    """Move the deadline (an amendment) or change the amount due of every account of a
    subject still open (each sealed anew); returns how many changed. Money already
    received stays.

    One ``deposit.terms_changed`` event per call, whether or not any account changed: an
    event per account, or none for a subject nobody registered for, would count them."""
    if deadline is not None and deadline.tzinfo is None:
        raise InvalidInput("deadline must carry a timezone", field="deadline")
    if amount_due_fen is not None and amount_due_fen <= 0:
        raise InvalidInput("amount_due_fen must be more than 0", field="amount_due_fen")
    rows = (
        await session.execute(
            text(
                "SELECT id, number, holder_tag, terms FROM deposit_account"
                " WHERE holder_tag = ANY(:tags) AND state = 'open' ORDER BY id FOR UPDATE"
            ),
            {"tags": await subject_tags(session, secrecy, subject)},
        )
    ).all()
    for row in rows:
        old = open_terms(secrecy, number=row.number, holder_tag=row.holder_tag, box=row.terms)
        new = replace(
            old,
            deadline=deadline or old.deadline,
            amount_due_fen=amount_due_fen or old.amount_due_fen,
        )
        await session.execute(
            text("UPDATE deposit_account SET terms = :terms WHERE id = :id"),
            {"terms": seal_terms(secrecy, row.number, new), "id": row.id},
        )
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


async def reveal_deposits(
    session: AsyncSession, *, secrecy: Secrecy, subject: str, actor: Actor
) -> int:
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
                "SELECT d.number, d.holder_tag, d.terms, d.nonce FROM deposit_account d"
                " WHERE d.holder_tag = ANY(:tags) AND NOT EXISTS (SELECT 1 FROM audit_event e"
                " WHERE e.stream = :subject AND e.action = 'deposit.revealed'"
                " AND e.payload ->> 'number' = d.number) ORDER BY d.number"
            ),
            {"subject": subject, "tags": await subject_tags(session, secrecy, subject)},
        )
    ).all()
    for row in rows:
        terms = open_terms(secrecy, number=row.number, holder_tag=row.holder_tag, box=row.terms)
        opened = rules.committed_opening(
            number=row.number, bidder_org_id=terms.bidder_org_id, subject=subject
        )
        await record(
            session,
            stream=subject,
            action="deposit.revealed",
            actor=actor,
            payload=opened | {"nonce": row.nonce},
        )
    return len(rows)
