"""Property: any sequence of imports, transfers, voids, refunds and forfeits keeps the
ledger's invariants, and replaying every step of it changes nothing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.errors import Conflict, RuleViolation
from tendering.ledger import close_deposit, create_refund_batch
from tendering.ledger.imports import import_statement
from tendering.ledger.postings import (
    TransferSpec,
    create_transfer,
    platform_accounts,
    post_pending,
    void_pending,
)
from tendering.ledger.returns import reissue_refund
from tendering.ledger.suspense import resolve_suspense
from tendering.ledger.verify import verify_ledger
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, camt053, csv_statement

STAFF = Actor.system("property")
DUE = 10_000
_examples = itertools.count()

amount = st.sampled_from([DUE, DUE - 1, DUE + 1, 1, 2 * DUE])
credit_line = st.tuples(st.integers(0, 3), amount, st.booleans())  # (account, amount, late)
step = st.one_of(
    st.tuples(st.just("import"), st.lists(credit_line, min_size=1, max_size=4), st.booleans()),
    st.tuples(st.just("transfer"), st.integers(0, 2), amount, st.booleans(), st.booleans()),
    st.tuples(st.just("settle"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("refund"), st.booleans()),
    st.tuples(st.just("forfeit"), st.integers(0, 2)),
    st.tuples(st.just("confirm"), st.integers(0, 5)),
    st.tuples(
        st.just("resolve"), st.integers(0, 5), st.sampled_from(["assign", "refund", "split"])
    ),
    st.tuples(st.just("reissue"), st.integers(0, 5)),
)


@dataclass
class World:
    n: int
    subject: str
    deposits: list[Any]
    pending: list[int]
    refunds: list[dict[str, Any]]
    done: list[tuple[Any, ...]]  # concrete steps, to replay


async def _do(maker: Any, world: World, op: tuple[Any, ...]) -> bool:
    """Run one concrete step in its own transaction; a refusal rolls back (False)."""
    try:
        async with maker() as session, session.begin():
            await _apply(session, world, op)
    except (RuleViolation, Conflict):
        return False
    return True


async def _apply(session: Any, world: World, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "file":
        await import_statement(session, op[1], actor=STAFF, secrecy=SECRECY)
    elif kind == "spec":
        t = await create_transfer(session, op[1])
        if t.state == "pending" and t.id not in world.pending:
            world.pending.append(t.id)
    elif kind == "settle":
        await (post_pending if op[2] else void_pending)(session, op[1])
    elif kind == "refund":
        batch = await create_refund_batch(
            session,
            subject=world.subject,
            paid_on=op[1],
            actor=STAFF,
            request_key=op[2],
            secrecy=SECRECY,
        )
        world.refunds.extend(batch.lines)
    elif kind == "resolve":
        await resolve_suspense(
            session,
            op[1],
            secrecy=SECRECY,
            assign=op[2],
            refund_fen=op[3],
            actor=STAFF,
            paid_on=op[4],
        )
    elif kind == "reissue":
        await reissue_refund(
            session,
            secrecy=SECRECY,
            instruction_ref=op[1],
            payee=("新账户", "62220000"),
            reason="退票",
            actor=STAFF,
        )
    elif kind == "forfeit":
        d = world.deposits[op[1]]
        await close_deposit(
            session,
            bidder_org_id=d.bidder_org_id,
            subject=d.subject,
            to="forfeited",
            reason="拒签合同",
            actor=STAFF,
            secrecy=SECRECY,
        )


async def _concrete(maker: Any, world: World, i: int, raw: tuple[Any, ...]) -> tuple[Any, ...]:
    """Turn a drawn step into a concrete, replayable one."""
    kind = raw[0]
    tag = f"p{world.n}-{i}"
    if kind == "import":
        lines = [
            Line(
                f"{tag}-{j}",
                amt,
                DEADLINE + timedelta(minutes=5) if late else before(60 * 24 * 3),
                world.deposits[acct].number if acct < 3 else "8866000000000000",
            )
            for j, (acct, amt, late) in enumerate(raw[1])
        ]
        return ("file", (camt053 if raw[2] else csv_statement)(lines))
    if kind == "transfer":
        async with maker() as session:
            ids = await platform_accounts(session)
        acct = world.deposits[raw[1]].ledger_account_id
        debit, credit = (ids["bank_clearing"], acct) if raw[3] else (acct, ids["refunds_payable"])
        return (
            "spec",
            TransferSpec(
                key=tag, debit=debit, credit=credit, amount_fen=raw[2], kind="test", pending=raw[4]
            ),
        )
    if kind == "settle":
        if not world.pending:
            return ("noop",)
        return ("settle", world.pending[raw[1] % len(world.pending)], raw[2])
    if kind == "refund":
        return ("refund", (DEADLINE + timedelta(days=3 if raw[1] else 10)).date(), tag)
    if kind == "confirm":
        if not world.refunds:
            return ("noop",)
        line = world.refunds[raw[1] % len(world.refunds)]
        total = line["principal_fen"] + line["interest_fen"]
        return (
            "file",
            csv_statement(
                [
                    Line(
                        f"{tag}-out",
                        total,
                        DEADLINE + timedelta(days=4),
                        direction="D",
                        memo=line["instruction_ref"],
                    )
                ]
            ),
        )
    if kind == "resolve":
        return await _resolution(maker, world, raw)
    if kind == "reissue":
        if not world.refunds:
            return ("noop",)
        return ("reissue", world.refunds[raw[1] % len(world.refunds)]["instruction_ref"])
    return raw


async def _resolution(maker: Any, world: World, raw: tuple[Any, ...]) -> tuple[Any, ...]:
    async with maker() as session:
        parked = (
            await session.execute(
                text(
                    "SELECT id, amount_fen FROM statement_line WHERE status = 'suspense'"
                    " AND direction = 'C' AND bank_ref LIKE :p ORDER BY id"
                ),
                {"p": f"p{world.n}-%"},
            )
        ).all()
    if not parked:
        return ("noop",)
    line = parked[raw[1] % len(parked)]
    number = world.deposits[raw[1] % 3].number
    paid_on = (DEADLINE + timedelta(days=10)).date()
    if raw[2] == "assign":
        return ("resolve", line.id, [(number, line.amount_fen)], 0, paid_on)
    if raw[2] == "refund" or line.amount_fen < 2:
        return ("resolve", line.id, [], line.amount_fen, paid_on)
    half = line.amount_fen // 2
    return ("resolve", line.id, [(number, half)], line.amount_fen - half, paid_on)


async def _snapshot(maker: Any) -> Any:
    async with maker() as session:
        return (
            await session.execute(
                text(
                    "SELECT (SELECT array_agg(ARRAY[id, debits_posted, credits_posted,"
                    " debits_pending, credits_pending] ORDER BY id) FROM ledger_account),"
                    " (SELECT array_agg(ARRAY[id, amount_fen] || ARRAY[length(state)] ORDER BY id)"
                    "  FROM ledger_transfer),"
                    " (SELECT count(*) FROM statement_line), (SELECT count(*) FROM refund_line),"
                    " (SELECT array_agg(state ORDER BY id) FROM deposit_account),"
                    " (SELECT array_agg(status ORDER BY id) FROM refund_line)"
                )
            )
        ).one()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(credit_line, min_size=1, max_size=5),  # money to work with
    steps=st.lists(step, min_size=1, max_size=10),
)
async def test_any_sequence_keeps_the_invariants_and_replays_change_nothing(
    open_account, maker, first, steps
):
    n = next(_examples)
    subject = f"lot:P-{n}"
    deposits = [await open_account(subject=subject, due=DUE) for _ in range(3)]
    world = World(n=n, subject=subject, deposits=deposits, pending=[], refunds=[], done=[])
    paid_in_full = [(k, DUE, False) for k in range(3)]
    for i, raw in enumerate([("import", paid_in_full + first, False), *steps]):
        op = await _concrete(maker, world, i, raw)
        if await _do(maker, world, op):
            world.done.append(op)  # a refused step was never accepted: nothing to replay
    async with maker() as session:
        assert await verify_ledger(session) == []
    before_replay = await _snapshot(maker)
    for op in world.done:
        await _do(maker, world, op)  # a no-op, or refused (409): either way nothing moves
    assert await _snapshot(maker) == before_replay
    async with maker() as session:
        assert await verify_ledger(session) == []
