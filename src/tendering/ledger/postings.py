"""The double-entry engine: transfers in SQLAlchemy Core, in the caller's transaction.

    t = await create_transfer(session, TransferSpec(key="stmt:ICBC:20261124-001",
            debit=ids["bank_clearing"], credit=deposit_ledger_id, amount_fen=5_000_000,
            kind="deposit.received"))
    await post_pending(session, t.id)      # or void_pending

* One round trip per transfer: the insert (``ON CONFLICT`` on the idempotency key) and the
  guarded balance update are one statement. A retried key returns the first transfer and
  moves nothing (different accounts or amount under the same key is a 409).
* Only non-``hot`` account rows are updated (and so locked): the bidder's own. A hot
  platform account's balance is the sum of its transfers (:func:`balances`).
* ``no_negative`` accounts refuse a transfer that would take their balance (on their
  normal side, posted minus posted and pending the other way) below zero; the check is in the
  ``UPDATE``'s ``WHERE``, which PostgreSQL re-checks on the newest row version after waiting
  for a lock, so two racing debits cannot both pass (READ COMMITTED is enough).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.errors import Conflict, ErrorCode, NotFound, RuleViolation
from tendering.ledger.models import AccountKind

__all__ = [
    "PLATFORM_ACCOUNTS",
    "Balance",
    "Transfer",
    "TransferSpec",
    "balances",
    "create_transfer",
    "create_transfers_bulk",
    "platform_accounts",
    "post_pending",
    "void_pending",
]

# code → (kind, normal side). Liabilities and income are credit-normal; assets and expenses
# debit-normal. All are hot: never locked, balances summed on read.
PLATFORM_ACCOUNTS: dict[str, tuple[AccountKind, str]] = {
    "bank_clearing": (AccountKind.BANK_CLEARING, "debit"),
    "suspense": (AccountKind.SUSPENSE, "credit"),
    "refunds_payable": (AccountKind.REFUNDS_PAYABLE, "credit"),
    "forfeited": (AccountKind.FORFEITED, "credit"),
    "interest_expense": (AccountKind.INTEREST_EXPENSE, "debit"),
    "payments": (AccountKind.PAYMENTS, "credit"),
}


@dataclass(frozen=True, kw_only=True)
class TransferSpec:
    key: str
    debit: int
    credit: int
    amount_fen: int
    kind: str
    reference: str = ""
    value_at: datetime | None = None
    pending: bool = False


@dataclass(frozen=True, kw_only=True)
class Transfer:
    id: int
    key: str
    debit: int
    credit: int
    amount_fen: int
    state: str
    kind: str
    created: bool  # False: the key existed, this is the first result and nothing moved


@dataclass(frozen=True, kw_only=True)
class Balance:
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    def available(self, normal_side: str = "credit") -> int:
        """Posted balance on its normal side less what pending transfers reserve."""
        if normal_side == "credit":
            return self.credits_posted - self.debits_posted - self.debits_pending
        return self.debits_posted - self.credits_posted - self.credits_pending


async def platform_accounts(session: AsyncSession) -> dict[str, int]:
    """Ids of the platform's own accounts, made on first use (idempotent)."""
    rows = (await session.execute(text("SELECT code, id FROM ledger_account WHERE hot"))).all()
    found = {r.code: r.id for r in rows}
    if len(found) < len(PLATFORM_ACCOUNTS):
        for code, (kind, side) in PLATFORM_ACCOUNTS.items():
            await session.execute(
                text(
                    "INSERT INTO ledger_account (code, kind, normal_side, no_negative, hot)"
                    " VALUES (:code, :kind, :side, false, true) ON CONFLICT (code) DO NOTHING"
                ),
                {"code": code, "kind": kind.value, "side": side},
            )
        rows = (await session.execute(text("SELECT code, id FROM ledger_account WHERE hot"))).all()
        found = {r.code: r.id for r in rows}
    return found


_CREATE = text(
    """
    WITH ins AS (
        INSERT INTO ledger_transfer (idempotency_key, debit_account_id, credit_account_id,
            amount_fen, state, kind, reference, value_at, settled_at)
        VALUES (:key, :debit, :credit, :amount, :state, :kind, :reference, :value_at,
            CASE WHEN :posted THEN clock_timestamp() END)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
    ), upd AS (
        UPDATE ledger_account a SET
            debits_posted = a.debits_posted
                + CASE WHEN a.id = :debit AND :posted THEN :amount ELSE 0 END,
            debits_pending = a.debits_pending
                + CASE WHEN a.id = :debit AND NOT :posted THEN :amount ELSE 0 END,
            credits_posted = a.credits_posted
                + CASE WHEN a.id = :credit AND :posted THEN :amount ELSE 0 END,
            credits_pending = a.credits_pending
                + CASE WHEN a.id = :credit AND NOT :posted THEN :amount ELSE 0 END
        FROM ins
        WHERE a.id IN (:debit, :credit) AND NOT a.hot AND (NOT a.no_negative OR CASE
            WHEN a.id = :debit AND a.normal_side = 'credit'
                THEN a.debits_posted + a.debits_pending + :amount <= a.credits_posted
            WHEN a.id = :credit AND a.normal_side = 'debit'
                THEN a.credits_posted + a.credits_pending + :amount <= a.debits_posted
            ELSE true END)
        RETURNING a.id
    )
    SELECT (SELECT id FROM ins) AS new_id,
        ARRAY(SELECT id FROM upd) AS updated,
        (SELECT count(*) FROM ledger_account WHERE id IN (:debit, :credit) AND NOT hot)
            AS expected
    """
)

_UNDO = text(
    """
    UPDATE ledger_account a SET
        debits_posted = a.debits_posted
            - CASE WHEN a.id = :debit AND :posted THEN :amount ELSE 0 END,
        debits_pending = a.debits_pending
            - CASE WHEN a.id = :debit AND NOT :posted THEN :amount ELSE 0 END,
        credits_posted = a.credits_posted
            - CASE WHEN a.id = :credit AND :posted THEN :amount ELSE 0 END,
        credits_pending = a.credits_pending
            - CASE WHEN a.id = :credit AND NOT :posted THEN :amount ELSE 0 END
    WHERE a.id = ANY(:ids)
    """
)


async def create_transfer(session: AsyncSession, spec: TransferSpec) -> Transfer:
    """Write one transfer (posted, or pending when ``spec.pending``) and its balances."""
    if spec.amount_fen <= 0:
        raise RuleViolation("a transfer amount must be more than 0 fen", field="amount_fen")
    if spec.debit == spec.credit:
        raise RuleViolation("a transfer needs two different accounts", field="credit")
    params: dict[str, Any] = {
        "key": spec.key,
        "debit": spec.debit,
        "credit": spec.credit,
        "amount": spec.amount_fen,
        "state": "pending" if spec.pending else "posted",
        "posted": not spec.pending,
        "kind": spec.kind,
        "reference": spec.reference,
        "value_at": spec.value_at,
    }
    row = (await session.execute(_CREATE, params)).one()
    if row.new_id is None:
        return await _existing(session, spec)
    if len(row.updated) < row.expected:
        if row.updated:
            await session.execute(_UNDO, {**params, "ids": list(row.updated)})
        await session.execute(
            text("DELETE FROM ledger_transfer WHERE id = :id"), {"id": row.new_id}
        )
        raise RuleViolation(
            f"转账被拒绝: the account may not go negative; moving {spec.amount_fen} fen "
            "would take it below zero",
            code=ErrorCode.LEDGER_INSUFFICIENT_FUNDS,
            details={"debit": spec.debit, "credit": spec.credit, "amount_fen": spec.amount_fen},
        )
    return Transfer(
        id=row.new_id,
        key=spec.key,
        debit=spec.debit,
        credit=spec.credit,
        amount_fen=spec.amount_fen,
        state=params["state"],
        kind=spec.kind,
        created=True,
    )


async def _existing(session: AsyncSession, spec: TransferSpec) -> Transfer:
    row = (
        await session.execute(
            text(
                "SELECT id, debit_account_id, credit_account_id, amount_fen, state, kind"
                " FROM ledger_transfer WHERE idempotency_key = :key"
            ),
            {"key": spec.key},
        )
    ).one()
    if (row.debit_account_id, row.credit_account_id, row.amount_fen) != (
        spec.debit,
        spec.credit,
        spec.amount_fen,
    ):
        raise Conflict(
            f"idempotency key {spec.key!r} was already used for a different transfer",
            code=ErrorCode.LEDGER_IDEMPOTENCY_MISMATCH,
        )
    return Transfer(
        id=row.id,
        key=spec.key,
        debit=row.debit_account_id,
        credit=row.credit_account_id,
        amount_fen=row.amount_fen,
        state=row.state,
        kind=row.kind,
        created=False,
    )


_SETTLE = text(
    """
    WITH t AS (
        UPDATE ledger_transfer SET state = :to, settled_at = clock_timestamp()
        WHERE id = :id AND state = 'pending'
        RETURNING id, debit_account_id AS d, credit_account_id AS c, amount_fen AS amount
    ), upd AS (
        UPDATE ledger_account a SET
            debits_pending = a.debits_pending - CASE WHEN a.id = t.d THEN t.amount ELSE 0 END,
            debits_posted = a.debits_posted
                + CASE WHEN a.id = t.d AND :post THEN t.amount ELSE 0 END,
            credits_pending = a.credits_pending - CASE WHEN a.id = t.c THEN t.amount ELSE 0 END,
            credits_posted = a.credits_posted
                + CASE WHEN a.id = t.c AND :post THEN t.amount ELSE 0 END
        FROM t WHERE a.id IN (t.d, t.c) AND NOT a.hot
        RETURNING a.id
    )
    SELECT (SELECT id FROM t) AS id, (SELECT count(*) FROM upd) AS n
    """
)


async def _settle(session: AsyncSession, transfer_id: int, to: str) -> bool:
    row = (
        await session.execute(_SETTLE, {"id": transfer_id, "to": to, "post": to == "posted"})
    ).one()
    if row.id is not None:
        return True
    state = (
        await session.execute(
            text("SELECT state FROM ledger_transfer WHERE id = :id"), {"id": transfer_id}
        )
    ).scalar_one_or_none()
    if state is None:
        raise NotFound(f"no transfer {transfer_id}", code=ErrorCode.LEDGER_TRANSFER_NOT_FOUND)
    if state == to:
        return False  # already done: a retry moves nothing
    raise Conflict(
        f"transfer {transfer_id} is already {state}; it cannot become {to}",
        code=ErrorCode.LEDGER_TRANSFER_SETTLED,
    )


async def post_pending(session: AsyncSession, transfer_id: int) -> bool:
    """Post a pending transfer; False when it already was posted (nothing moved)."""
    return await _settle(session, transfer_id, "posted")


async def void_pending(session: AsyncSession, transfer_id: int) -> bool:
    """Void a pending transfer, releasing what it reserved; False when already voided."""
    return await _settle(session, transfer_id, "voided")


_BULK = text(
    """
    WITH ins AS (
        INSERT INTO ledger_transfer (idempotency_key, debit_account_id, credit_account_id,
            amount_fen, state, kind, reference, value_at, settled_at)
        SELECT k, d, c, a, 'posted', kd, r, v, clock_timestamp()
        FROM unnest(CAST(:keys AS text[]), CAST(:debits AS int[]), CAST(:credits AS int[]),
            CAST(:amounts AS bigint[]), CAST(:kinds AS text[]), CAST(:refs AS text[]),
            CAST(:values AS timestamptz[])) AS x(k, d, c, a, kd, r, v)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, idempotency_key, credit_account_id, amount_fen
    ), sums AS (
        SELECT credit_account_id AS id, sum(amount_fen) AS amount FROM ins
        GROUP BY credit_account_id
    ), upd AS (
        UPDATE ledger_account a SET credits_posted = a.credits_posted + sums.amount
        FROM sums WHERE a.id = sums.id AND NOT a.hot
        RETURNING a.id
    )
    SELECT ins.idempotency_key AS key, ins.id FROM ins
    """
)


async def create_transfers_bulk(
    session: AsyncSession, specs: Sequence[TransferSpec], *, hot_ids: Iterable[int]
) -> dict[str, int]:
    """Post many credits from hot accounts in one statement; returns key → id of new ones.

    Only for transfers whose debit side is a hot platform account (bank clearing,
    suspense): those can never refuse, so no guard is needed. Existing keys are skipped.
    """
    hot = set(hot_ids)
    if any(s.debit not in hot or s.pending for s in specs):
        raise ValueError("bulk transfers must be posted debits of hot platform accounts")
    if not specs:
        return {}
    params = {
        "keys": [s.key for s in specs],
        "debits": [s.debit for s in specs],
        "credits": [s.credit for s in specs],
        "amounts": [s.amount_fen for s in specs],
        "kinds": [s.kind for s in specs],
        "refs": [s.reference for s in specs],
        "values": [s.value_at for s in specs],
    }
    rows = (await session.execute(_BULK, params)).all()
    return {r.key: r.id for r in rows}


async def balances(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, Balance]:
    """Balances of any accounts: stored totals for bidders', transfer sums for hot ones."""
    rows = (
        await session.execute(
            text(
                """
                SELECT a.id,
                    CASE WHEN a.hot THEN s.dp ELSE a.debits_posted END AS dp,
                    CASE WHEN a.hot THEN s.cp ELSE a.credits_posted END AS cp,
                    CASE WHEN a.hot THEN s.dq ELSE a.debits_pending END AS dq,
                    CASE WHEN a.hot THEN s.cq ELSE a.credits_pending END AS cq
                FROM ledger_account a CROSS JOIN LATERAL (
                    SELECT
                      coalesce(sum(amount_fen) FILTER (WHERE debit_account_id = a.id
                          AND state = 'posted'), 0) AS dp,
                      coalesce(sum(amount_fen) FILTER (WHERE credit_account_id = a.id
                          AND state = 'posted'), 0) AS cp,
                      coalesce(sum(amount_fen) FILTER (WHERE debit_account_id = a.id
                          AND state = 'pending'), 0) AS dq,
                      coalesce(sum(amount_fen) FILTER (WHERE credit_account_id = a.id
                          AND state = 'pending'), 0) AS cq
                    FROM ledger_transfer t
                    WHERE a.hot AND (t.debit_account_id = a.id OR t.credit_account_id = a.id)
                ) s
                WHERE a.id = ANY(:ids)
                """
            ),
            {"ids": list(account_ids)},
        )
    ).all()
    return {
        r.id: Balance(
            debits_posted=int(r.dp),
            credits_posted=int(r.cp),
            debits_pending=int(r.dq),
            credits_pending=int(r.cq),
        )
        for r in rows
    }
