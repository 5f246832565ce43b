"""Property: for any sequence of statements (payments, batch entries, reversals, bank fees and
interest), suspense splits, refunds and their confirmations (by the bank or by staff), in
the order a bank's days come:

* the books agree with the bank: ``ledger verify`` finds nothing, each statement's closing
  balance included; what the platform owes equals the bank's closing balance less the bank's
  own interest, plus its fees, the interest the platform pays on refunds and what it paid out
  of money the bank took back, less refunds staff confirmed that the bank has not shown yet;
* nothing is refunded that the bank took back: a model that knows only the bank's movements
  and which refunds were paid says what each deposit holds or has pending for refund, and
  what was refunded before the bank took it back (owed to the platform); the books say the
  same.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict
from tendering.ledger import create_refund_batch
from tendering.ledger.confirmations import confirm_refund_paid
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import balances, platform_accounts
from tendering.ledger.returns import supply_payee
from tendering.ledger.suspense import resolve_suspense
from tendering.ledger.verify import verify_ledger
from tests.tendering.ledger.camt import Bank, Entry, Tx, entry, net, reversal_of, tx
from tests.tendering.ledger.conftest import DEADLINE, SECRECY

STAFF = Actor.system("bank-property")
DUE = 10_000
_examples = itertools.count()


@dataclass
class Totals:
    """What every example of a run did to the platform's own accounts, which they share
    (the database is cleaned per test, not per example)."""

    bank: int = 0  # the closing balances of every example's bank account
    interest: int = 0  # the banks' interest
    fees: int = 0  # the banks' charges
    owed_back: int = 0  # refunded before the bank took it back


TOTALS = Totals()

amount = st.sampled_from([DUE, DUE - 1, 3_000, DUE + 700, 1])
payment = st.tuples(st.integers(0, 3), amount, st.booleans())  # (account, amount, no DbtrAcct)
step = st.one_of(
    st.tuples(
        st.just("pay"), st.lists(payment, min_size=1, max_size=3), st.sampled_from(["02", "08"])
    ),
    st.tuples(st.just("reverse"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("split"), st.integers(0, 20), st.sampled_from(["assign", "refund", "split"])),
    st.tuples(st.just("refund"), st.booleans()),
    st.tuples(st.just("confirm"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("payee"), st.integers(0, 20)),
    st.tuples(st.just("fee"), st.integers(1, 500)),
    st.tuples(st.just("interest"), st.integers(1, 500)),
    st.tuples(st.just("wait"), st.integers(1, 72)),
)


@dataclass
class Credit:
    ref: str  # the transaction's own reference (Refs/AcctSvcrRef)
    entry: Entry
    amount_fen: int
    to: int | None  # the deposit it booked to, None: suspense
    reversed: bool = False
    parts: list[tuple[int, int]] = field(default_factory=list)  # staff's (deposit, fen)
    refund_pending: int = 0  # of a part staff refunded, what the bank has not paid yet


@dataclass
class World:
    n: int
    subject: str
    deposits: list[Any]
    bank: Bank
    clock: Any = DEADLINE - timedelta(days=3)
    credits: list[Credit] = field(default_factory=list)
    refunded: bool = False  # a refund batch closed the subject's accounts
    serial: int = 0
    # The model: what each deposit holds or has pending for refund.
    held: list[int] = field(default_factory=lambda: [0, 0, 0])

    def ref(self, kind: str) -> str:
        self.serial += 1
        return f"{kind}{self.n:03d}{self.serial:04d}"

    def later(self, hours: int = 1) -> Any:
        self.clock += timedelta(hours=hours)
        return self.clock


async def _statement(maker: Any, w: World, entries: list[Entry], **kw: Any) -> Any:
    """The bank's next statement of ``w``'s account, imported."""
    raw = w.bank.camt(entries, **kw)
    async with maker() as session, session.begin():
        result = await import_statement(session, raw, actor=STAFF, secrecy=SECRECY)
    TOTALS.bank += net(entries)
    return result


async def _pay(maker: Any, w: World, payments: list[tuple[int, int, bool]], version: str) -> None:
    at = w.later()
    ref = w.ref("P")
    txs, credits = [], []
    for k, (account, fen, no_account) in enumerate(payments, 1):
        number = w.deposits[account].number if account < 3 else "8866000000000000"
        tx_ref = f"{ref}T{k}"
        txs.append(tx(fen, number, ref=tx_ref, account=None if no_account else f"62220{k:011d}"))
        on_time = account < 3 and at <= DEADLINE and not w.refunded
        credits.append(Credit(tx_ref, None, fen, account if on_time else None))  # type: ignore[arg-type]
    paid = entry(ref, at, *txs)
    await _statement(maker, w, [paid], version=version)
    for c in credits:
        c.entry = paid
        if c.to is not None:
            w.held[c.to] += c.amount_fen
    w.credits += credits


async def _reverse(maker: Any, w: World, pick: int, strong: bool) -> None:
    standing = [c for c in w.credits if not c.reversed]
    if not standing:
        return
    c = standing[pick % len(standing)]
    at = w.later()
    original = next(t for t in c.entry.txs if t.ref == c.ref)
    if strong:  # RvslInd, repeating the original transaction
        back = reversal_of(Entry(c.entry.ref, c.entry.value_at, (original,)), w.ref("R"), at)
    else:  # a plain debit naming the original's reference
        back = entry(
            w.ref("R"), at, Tx(c.amount_fen, memo="退汇"), credit=False, info=f"原流水 {c.ref}"
        )
    await _statement(maker, w, [back])
    c.reversed = True
    # the money comes back from where it is while it is still there; the rest was paid out
    gone = [(c.to, c.amount_fen)] if c.to is not None else [p for p in c.parts if p[0] >= 0]
    for k, fen in gone:
        take = min(fen, w.held[k])  # type: ignore[index]
        w.held[k] -= take  # type: ignore[index]
        TOTALS.owed_back += fen - take
    refunded = sum(fen for to, fen in c.parts if to == -1)
    TOTALS.owed_back += refunded - min(refunded, c.refund_pending)
    c.refund_pending = 0


async def _split(maker: Any, w: World, pick: int, how: str) -> None:
    async with maker() as session:
        ids = {
            r.bank_ref: r.id
            for r in await session.execute(
                text(
                    "SELECT id, bank_ref FROM statement_line WHERE status = 'suspense'"
                    " AND direction = 'C' AND bank_ref LIKE :p"
                ),
                {"p": f"P{w.n:03d}%"},
            )
        }
    parked = [c for c in w.credits if c.to is None and not c.reversed and not c.parts]
    parked = [c for c in parked if _line_ref(c) in ids]
    if not parked:
        return
    c = parked[pick % len(parked)]
    target = pick % 3
    number = w.deposits[target].number
    if how == "assign" or (how == "split" and c.amount_fen < 2):
        assign, refund = [(number, c.amount_fen)], 0
    elif how == "refund":
        assign, refund = [], c.amount_fen
    else:
        half = c.amount_fen // 2
        other = w.deposits[(target + 1) % 3].number
        assign, refund = [(number, half), (other, c.amount_fen - half - 1)], 1
        if c.amount_fen - half - 1 <= 0:
            assign, refund = [(number, half)], c.amount_fen - half
    async with maker() as session, session.begin():
        await resolve_suspense(
            session,
            ids[_line_ref(c)],
            secrecy=SECRECY,
            assign=assign,
            refund_fen=refund,
            actor=STAFF,
            paid_on=(w.clock + timedelta(days=1)).date(),
        )
    numbers = [d.number for d in w.deposits]
    c.parts = [(numbers.index(n), fen) for n, fen in assign] + [(-1, refund)]
    c.refund_pending = refund
    for k, fen in c.parts:
        if k >= 0:
            w.held[k] += fen


def _line_ref(c: Credit) -> str:
    """The statement line's reference: the entry's, or ``<entry>/<n>`` in a batch."""
    if len(c.entry.txs) == 1:
        return c.entry.ref
    return f"{c.entry.ref}/{[t.ref for t in c.entry.txs].index(c.ref) + 1}"


async def _refund(maker: Any, w: World) -> None:
    try:
        async with maker() as session, session.begin():
            await create_refund_batch(
                session,
                subject=w.subject,
                paid_on=(w.clock + timedelta(days=1)).date(),
                actor=STAFF,
                secrecy=SECRECY,
            )
    except Conflict:  # nothing to refund: nothing changed
        return
    w.refunded = True


async def _open_refunds(maker: Any, w: World) -> list[Any]:
    async with maker() as session:
        rows = await session.execute(
            text(
                "SELECT f.instruction_ref, f.principal_fen + f.interest_fen AS total, f.status,"
                " f.needs_payee, f.principal_fen, f.deposit_account_id, l.bank_ref"
                " FROM refund_line f LEFT JOIN statement_line l ON l.id = f.statement_line_id"
                " WHERE f.status IN ('pending', 'paid') AND (f.deposit_account_id = ANY(:deposits)"
                " OR l.bank_account = :account) AND NOT EXISTS (SELECT 1 FROM statement_line x"
                " WHERE x.transfer_id = f.payment_transfer_id) ORDER BY f.id"
            ),
            {"deposits": [d.id for d in w.deposits], "account": w.bank.account},
        )
        return list(rows)


async def _confirm(maker: Any, w: World, pick: int, by_bank: bool) -> None:
    lines = [r for r in await _open_refunds(maker, w) if not r.needs_payee]
    if not by_bank:
        lines = [r for r in lines if r.status == "pending"]
    if not lines:
        return
    line = lines[pick % len(lines)]
    at = w.later()
    if line.status == "pending":  # paid now: the model's money leaves
        numbers = [d.id for d in w.deposits]
        if line.deposit_account_id is not None:
            w.held[numbers.index(line.deposit_account_id)] -= line.principal_fen
        else:
            c = next(c for c in w.credits if _line_ref(c) == line.bank_ref)
            c.refund_pending -= line.principal_fen
    if by_bank:
        memo = f"保证金退还 {line.instruction_ref}"
        debit = entry(w.ref("O"), at, Tx(int(line.total), memo=memo), credit=False)
        result = await _statement(maker, w, [debit])
        assert result.confirmed == (1 if line.status == "pending" else 0), result
        return
    async with maker() as session, session.begin():
        await confirm_refund_paid(
            session,
            instruction_ref=line.instruction_ref,
            bank_ref="BY-HAND",
            paid_at=at,
            actor=STAFF,
        )


async def _payee(maker: Any, w: World, pick: int) -> None:
    waiting = [r for r in await _open_refunds(maker, w) if r.needs_payee and r.status == "pending"]
    if not waiting:
        return
    async with maker() as session, session.begin():
        await supply_payee(
            session,
            secrecy=SECRECY,
            instruction_ref=waiting[pick % len(waiting)].instruction_ref,
            payee=("某付款人", "6228480000000001"),
            reason="付款人书面确认账户",
            actor=STAFF,
        )


async def _run(maker: Any, w: World, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "pay":
        await _pay(maker, w, op[1], op[2])
    elif kind == "reverse":
        await _reverse(maker, w, op[1], op[2])
    elif kind == "split":
        await _split(maker, w, op[1], op[2])
    elif kind == "refund":
        await _refund(maker, w)
    elif kind == "confirm":
        await _confirm(maker, w, op[1], op[2])
    elif kind == "payee":
        await _payee(maker, w, op[1])
    elif kind == "fee":  # the bank's charge: a debit naming nothing
        await _statement(
            maker, w, [entry(w.ref("F"), w.later(), Tx(op[1], memo="手续费"), credit=False)]
        )
        TOTALS.fees += op[1]
    elif kind == "interest":  # the bank's interest on the account: a credit to no account
        await _statement(maker, w, [entry(w.ref("I"), w.later(), Tx(op[1], memo="结息"))])
        TOTALS.interest += op[1]
    else:
        w.later(op[1])


async def _facts(maker: Any, w: World) -> dict[str, Any]:
    async with maker() as session:
        ids = await platform_accounts(session)
        accounts = [d.ledger_account_id for d in w.deposits]
        bal = await balances(session, [*ids.values(), *accounts])
        refunds = (
            await session.execute(
                text(
                    "SELECT f.deposit_account_id, f.statement_line_id, f.status, f.principal_fen"
                    " FROM refund_line f WHERE f.status IN ('pending', 'paid')"
                )
            )
        ).all()
        parked = (
            await session.execute(
                text(
                    "SELECT coalesce(sum(CASE WHEN direction = 'C' THEN amount_fen ELSE -amount_fen"
                    " END), 0) FROM statement_line WHERE status = 'suspense' AND bank_ref LIKE 'P%'"
                ),
            )
        ).scalar_one()
        every_deposit = (
            await session.execute(
                text(
                    "SELECT coalesce(sum(credits_posted - debits_posted), 0) FROM ledger_account"
                    " WHERE kind = 'deposit'"
                )
            )
        ).scalar_one()
        outstanding = (
            await session.execute(
                text(
                    "SELECT coalesce(sum(f.principal_fen + f.interest_fen), 0) FROM refund_line f"
                    " WHERE f.status = 'paid' AND NOT EXISTS (SELECT 1 FROM statement_line l"
                    " WHERE l.transfer_id = f.payment_transfer_id)"
                )
            )
        ).scalar_one()
    return {
        "ids": ids,
        "bal": bal,
        "refunds": refunds,
        "parked": int(parked),
        "outstanding": int(outstanding),
        "deposits": int(every_deposit),  # of every example's deposits
    }


def _posted(bal: Any, side: str = "credit") -> int:
    net = bal.credits_posted - bal.debits_posted
    return net if side == "credit" else -net


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=2, max_size=12))
# Paths a random run may miss: refunds paid, then the bank takes the money back ...
@example([("refund", True), ("confirm", 0, True), ("confirm", 1, False), ("reverse", 0, True)])
# ... refunds pending (one waiting for its payee) when it does, in part ...
@example(
    [
        ("pay", [(0, 3_000, False)], "02"),
        ("refund", True),
        ("reverse", 3, False),
        ("reverse", 1, True),
        ("payee", 0),
        ("confirm", 0, True),
        ("confirm", 1, True),
    ]
)
# ... a suspense line split over two deposits and a refund, paid, then taken back ...
@example(
    [
        ("pay", [(3, DUE, False)], "08"),
        ("split", 0, "split"),
        ("confirm", 0, True),
        ("reverse", 3, True),
        ("fee", 7),
        ("interest", 3),
    ]
)
# ... and money assigned to a deposit after its refund was paid.
@example(
    [
        ("refund", True),
        ("confirm", 0, True),
        ("confirm", 0, True),
        ("confirm", 0, True),
        ("pay", [(3, 5_000, False)], "08"),
        ("split", 0, "assign"),
        ("reverse", 0, True),
    ]
)
async def test_the_books_agree_with_the_bank_and_nothing_taken_back_is_refunded(
    open_account, maker, steps
):
    n = next(_examples)
    if n == 0:
        TOTALS.__init__()  # type: ignore[misc]
    subject = f"lot:B-{n}"
    deposits = [await open_account(subject=subject, due=DUE) for _ in range(3)]
    w = World(n=n, subject=subject, deposits=deposits, bank=Bank(f"11006014{n:08d}"))
    for op in [("pay", [(0, DUE, False), (1, DUE, True), (2, 3_000, False)], "08"), *steps]:
        await _run(maker, w, op)

    async with maker() as session:
        assert await verify_ledger(session) == []
    f = await _facts(maker, w)
    ids, bal = f["ids"], f["bal"]
    bank_clearing = _posted(bal[ids["bank_clearing"]], "debit")
    # the books are the bank, but for refunds staff confirmed that no statement shows yet
    assert bank_clearing == TOTALS.bank - f["outstanding"]
    owed = f["deposits"] + sum(
        _posted(bal[ids[k]]) for k in ("refunds_payable", "forfeited", "payments")
    )
    interest_paid = _posted(bal[ids["interest_expense"]], "debit")
    receivable = _posted(bal[ids["reversal_receivable"]], "debit")
    assert owed + f["parked"] == (
        TOTALS.bank - TOTALS.interest + TOTALS.fees + interest_paid + receivable - f["outstanding"]
    )

    # nothing is refunded that the bank took back
    for k, d in enumerate(deposits):
        pending = sum(
            r.principal_fen
            for r in f["refunds"]
            if r.deposit_account_id == d.id and r.status == "pending"
        )
        assert _posted(bal[d.ledger_account_id]) + pending == w.held[k], (k, w.held, pending)
    assert receivable == TOTALS.owed_back
