"""The migrations are the only way the schema is made: they must build exactly the models,
and go down to nothing and back up again."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from tendering.core.db import make_engine
from tendering.core.embedded import with_database
from tendering.core.migrate import downgrade, upgrade
from tendering.models import metadata
from tendering.settings import asyncpg_url


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def fresh_url(servers: Any) -> Iterator[str]:
    """An empty database of its own (asyncpg URL), dropped afterwards."""
    name = f"tendering_migrations_{secrets.token_hex(4)}"
    asyncio.run(_admin(servers.postgres_url, f'CREATE DATABASE "{name}"'))
    plain = with_database(servers.postgres_url, name)
    yield asyncpg_url(plain)
    asyncio.run(_admin(servers.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, metadata))


_LEFTOVERS = """
    SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public'
        AND tablename <> 'alembic_version'
    UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
    UNION ALL SELECT 'type ' || t.typname FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
"""


async def _inspect(url: str) -> tuple[list[Any], list[str]]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_differences)
            leftovers = [row[0] for row in (await conn.exec_driver_sql(_LEFTOVERS)).all()]
            return diff, leftovers
    finally:
        await engine.dispose()


def test_migrated_schema_equals_the_models(database_url: str) -> None:
    # The run's database is made by the migrations alone (tests/conftest.py).
    diff, _ = asyncio.run(_inspect(database_url))
    assert diff == [], "models and migrations differ; write the difference into a migration"


def test_downgrade_to_base_leaves_nothing_and_upgrade_works_again(fresh_url: str) -> None:
    upgrade(fresh_url)
    downgrade(fresh_url, "base")
    _, leftovers = asyncio.run(_inspect(fresh_url))
    assert leftovers == []

    upgrade(fresh_url)
    diff, leftovers = asyncio.run(_inspect(fresh_url))
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= {
        name.removeprefix("table ") for name in leftovers if name.startswith("table ")
    }


def test_0007_seals_existing_bid_evidence_in_the_format_the_opening_opens() -> None:
    import base64
    import importlib.util

    from tendering.bids.evidence import Evidence, open_evidence
    from tendering.core.crypto import hpke

    path = Path(__file__).parents[2] / "migrations/versions/0007_sealed_bid_evidence.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    private = hpke.generate_opening_key()
    public_b64 = base64.b64encode(hpke.public_raw_of(private)).decode()
    sealed = migration._seal("c2lnbmF0dXJl", "ab" * 16, "JY-2026-0001-01", public_b64)
    assert open_evidence(sealed, lot="JY-2026-0001-01", private_key=private) == Evidence(
        nonce="ab" * 16, bidder_signature="c2lnbmF0dXJl"
    )
    assert open_evidence(sealed, lot="JY-2026-0001-02", private_key=private) is None


def test_0010_converts_registrations_down_and_up_again_with_the_platform_key(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from tendering.core import demo
    from tendering.core.auth.actor import Actor
    from tendering.core.auth.models import OrgKind, Role
    from tendering.core.db import make_sessionmaker
    from tendering.core.secrecy import Secrecy
    from tendering.core.signing import load_platform_key
    from tendering.settings import Settings
    from tendering.tenders.demo import add_demo_tenders
    from tendering.tenders.registration import own_messages, own_registrations

    monkeypatch.delenv("TENDERING_SIGNING_KEY", raising=False)
    monkeypatch.setenv("TENDERING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(demo, "_STEPS", {})
    demo.register_demo_step(add_demo_tenders)

    async def query(statement: str) -> list[Any]:
        engine = make_engine(migrated_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(statement))).all())
        finally:
            await engine.dispose()

    async def fill() -> demo.DemoBook:
        engine = make_engine(migrated_url, pool_size=1)
        try:
            key = load_platform_key(Settings.from_env())
            book = await demo.run_demo(make_sessionmaker(engine), secrecy=Secrecy.of(key))
            assert book is not None
            return book
        finally:
            await engine.dispose()

    book = asyncio.run(fill())  # registrations (7) and a clarification, made by the code
    bidders = {n: book.users[f"bidder{n}"] for n in (1, 2, 3, 5)}
    tagged = dict(asyncio.run(query("SELECT ref, tag FROM tender_registration")))
    assert len(tagged) == 7

    # Without the key the migration refuses in plain words, and changes nothing.
    monkeypatch.setenv("TENDERING_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(RuntimeError, match="TENDERING_SIGNING_KEY"):
        downgrade(migrated_url, "0009")
    assert dict(asyncio.run(query("SELECT ref, tag FROM tender_registration"))) == tagged

    monkeypatch.setenv("TENDERING_DATA_DIR", str(tmp_path / "data"))
    downgrade(migrated_url, "0009")
    clear = asyncio.run(
        query(
            "SELECT l.code, r.organization_id, r.user_id FROM tender_registration r"
            " JOIN tender_lot l ON l.id = r.lot_id"
        )
    )
    year = clear[0][0][3:7]
    expected = {
        (f"JY-{year}-{lot}", u.organization_id, u.id)
        for n, u in bidders.items()
        for lot in (("0001-01", "0001-02") if n != 5 else ("0002-01",))
    }
    assert set(clear) == expected
    inbox = asyncio.run(query("SELECT organization_id FROM tender_registration_message"))
    assert sorted(org for (org,) in inbox) == sorted(bidders[n].organization_id for n in (1, 2, 3))
    asker = asyncio.run(query("SELECT asker_organization_id FROM tender_question"))
    assert asker == [(bidders[5].organization_id,)]  # the demo's one question

    upgrade(migrated_url)
    assert dict(asyncio.run(query("SELECT ref, tag FROM tender_registration"))) == tagged
    secrecy = Secrecy.of(load_platform_key(Settings.from_env()))
    ((asker_ref, box),) = asyncio.run(query("SELECT asker_ref, asker FROM tender_question"))
    sealed = secrecy.open(f"question|{asker_ref}", box)
    assert int(sealed["organization_id"]) == bidders[5].organization_id

    async def seen_by(n: int) -> tuple[list[str], int]:
        user = bidders[n]
        actor = Actor(user.id, user.username, Role.BIDDER, user.organization_id, OrgKind.BIDDER)
        engine = make_engine(migrated_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                mine = await own_registrations(session, actor=actor, secrecy=secrecy)
                messages = await own_messages(session, actor=actor, secrecy=secrecy)
                return sorted(code for _, code, _ in mine), len(messages)
        finally:
            await engine.dispose()

    assert asyncio.run(seen_by(1)) == ([f"JY-{year}-0001-01", f"JY-{year}-0001-02"], 1)
    assert asyncio.run(seen_by(5)) == ([f"JY-{year}-0002-01"], 0)


_OLD_DEPOSITS = """
    INSERT INTO organization (id, code, name, kind, region) VALUES
        (7, 'BID-7', '甲公司', 'bidder', ''), (8, 'BID-8', '乙公司', 'bidder', '');
    INSERT INTO ledger_account (id, code, kind, normal_side, no_negative, hot) VALUES
        (1, 'deposit:8866000000000101', 'deposit', 'credit', true, false),
        (2, 'deposit:8866000000000202', 'deposit', 'credit', true, false),
        (3, 'deposit:8866000000000303', 'deposit', 'credit', true, false);
    INSERT INTO deposit_account (number, bidder_org_id, subject, amount_due_fen, deadline,
        state, ledger_account_id, reason, nonce) VALUES
        ('8866000000000101', 7, 'lot:L-1', 5000000, '2026-12-01T01:30:00Z', 'open', 1, '', 'n1'),
        ('8866000000000202', 8, 'lot:L-1', 5000000, '2026-12-01T01:30:00Z', 'refunded', 2, '',
         'n2'),
        ('8866000000000303', 7, 'auction:A-9', 123456, '2026-12-24T02:00:00.5Z', 'forfeited', 3,
         '拒签合同', 'n3');
"""
_OLD_COLUMNS = (
    "SELECT number, bidder_org_id, subject, amount_due_fen, deadline, state, ledger_account_id,"
    " reason, nonce FROM deposit_account ORDER BY number"
)


async def _sql(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        if sql.lstrip().upper().startswith("SELECT"):
            return [tuple(r) for r in await conn.fetch(sql)]
        await conn.execute(sql)
        return []
    finally:
        await conn.close()


async def _sealed_deposits(url: str, seed: bytes) -> list[Any]:
    from tendering.core.db import make_sessionmaker
    from tendering.core.secrecy import Secrecy
    from tendering.ledger import get_deposit

    secrecy = Secrecy.from_seed(seed)
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return [
                await get_deposit(session, secrecy=secrecy, bidder_org_id=org, subject=subject)
                for org, subject in ((7, "lot:L-1"), (8, "lot:L-1"), (7, "auction:A-9"))
            ]
    finally:
        await engine.dispose()


def test_0011_seals_existing_deposit_accounts_and_the_downgrade_unseals_them(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    seed = bytes(range(32))
    monkeypatch.setenv("TENDERING_DATA_DIR", str(tmp_path / "no-key-here"))
    monkeypatch.delenv("TENDERING_SIGNING_KEY", raising=False)
    upgrade(fresh_url, "0008")
    asyncio.run(_sql(fresh_url, _OLD_DEPOSITS))
    before = asyncio.run(_sql(fresh_url, _OLD_COLUMNS))

    with pytest.raises(RuntimeError, match="TENDERING_SIGNING_KEY"):  # rows, and no key
        upgrade(fresh_url)
    assert asyncio.run(_sql(fresh_url, _OLD_COLUMNS)) == before  # nothing half done

    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(seed).decode())
    upgrade(fresh_url)
    columns = asyncio.run(
        _sql(
            fresh_url,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'deposit_account' ORDER BY column_name",
        )
    )
    assert "subject" not in str(columns) and "bidder_org_id" not in str(columns)
    views = asyncio.run(_sealed_deposits(fresh_url, seed))
    assert [(v.number, v.bidder_org_id, v.subject, v.amount_due_fen, v.state) for v in views] == [
        ("8866000000000101", 7, "lot:L-1", 5_000_000, "open"),
        ("8866000000000202", 8, "lot:L-1", 5_000_000, "refunded"),
        ("8866000000000303", 7, "auction:A-9", 123_456, "forfeited"),
    ]
    assert [v.deadline for v in views] == [row[4] for row in before]

    downgrade(fresh_url, "0010")
    assert asyncio.run(_sql(fresh_url, _OLD_COLUMNS)) == before
    upgrade(fresh_url)  # and up again, with the same key
    assert len(asyncio.run(_sealed_deposits(fresh_url, seed))) == 3


_OLD_LINES = """
    INSERT INTO bank_statement (id, file_sha256, format, bank_account, statement_ref,
        line_count, imported_by) VALUES (1, repeat('a', 64), 'csv', '1100', '', 3, 'staff');
    INSERT INTO statement_line (statement_id, line_no, bank_account, bank_ref, direction,
        amount_fen, value_at, booked_on, virtual_account, counterparty_name,
        counterparty_account, memo, status, reason, resolution) VALUES
        (1, 1, '1100', 'PAY-1', 'C', 5000000, '2026-11-30T01:00:00Z', '2026-11-30',
         '8866000000000101', '甲公司', '6222020200112233445', '投标保证金 JY-2026-0001-01',
         'booked', '', ''),
        (1, 2, '1100', 'PAY-2', 'C', 700, '2026-11-30T02:00:00Z', '2026-11-30',
         '', '"引号", 逗号公司', '', '', 'suspense', 'unknown_account', ''),
        (1, 3, '1100', 'OUT-1', 'D', 5000000, '2026-12-10T02:00:00Z', '2026-12-10',
         '', '甲公司', '6222020200112233445', '保证金退还 RB-0123456789-0001', 'suspense',
         'unmatched_debit', '');
"""
_OLD_LINE_COLUMNS = (
    "SELECT bank_ref, counterparty_name, counterparty_account, memo, amount_fen, status"
    " FROM statement_line ORDER BY bank_ref"
)


def _refused_without_key(
    url: str,
    previous: str,
    old_rows: str,
    read: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """With no platform key: the migration after ``previous`` goes up and down on an empty
    table, then, with ``old_rows`` in it, refuses and leaves them as they were (``read``)."""
    monkeypatch.setenv("TENDERING_DATA_DIR", str(tmp_path / "no-key-here"))
    monkeypatch.delenv("TENDERING_SIGNING_KEY", raising=False)
    upgrade(url)  # an empty table needs no key, up or down
    downgrade(url, previous)
    asyncio.run(_sql(url, old_rows))
    before = asyncio.run(_sql(url, read))
    with pytest.raises(RuntimeError, match="TENDERING_SIGNING_KEY"):  # rows, and no key
        upgrade(url)
    assert asyncio.run(_sql(url, read)) == before  # nothing half done
    return before


def test_0012_seals_existing_statement_lines_and_the_downgrade_unseals_them(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from tendering.core.secrecy import Secrecy
    from tendering.ledger.payers import Payer, open_payer, seal_payer

    seed = bytes(range(32, 64))
    before = _refused_without_key(
        fresh_url, "0011", _OLD_LINES, _OLD_LINE_COLUMNS, tmp_path, monkeypatch
    )

    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(seed).decode())
    upgrade(fresh_url)
    sealed = asyncio.run(
        _sql(
            fresh_url,
            "SELECT bank_account, bank_ref, payer, amount_fen, status FROM statement_line"
            " ORDER BY bank_ref",
        )
    )
    secrecy = Secrecy.from_seed(seed)
    opened = []
    for account, ref, box, amount, status in sealed:
        payer = open_payer(secrecy, bank_account=account, bank_ref=ref, box=box)
        opened.append((ref, payer.name, payer.account, payer.memo, amount, status))
    assert opened == before
    # padded alike, and as the platform pads what it seals itself
    made = seal_payer(secrecy, "1100", "X", Payer("甲公司", "6222020200112233445", "投标保证金"))
    assert {len(box) for _, _, box, _, _ in sealed} == {len(made)}

    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(bytes(32)).decode())
    with pytest.raises(RuntimeError, match="does not open with this signing key"):
        downgrade(fresh_url, "0011")
    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(seed).decode())
    downgrade(fresh_url, "0011")
    assert asyncio.run(_sql(fresh_url, _OLD_LINE_COLUMNS)) == before
    upgrade(fresh_url)  # and up again, with the same key
    assert len(asyncio.run(_sql(fresh_url, "SELECT payer FROM statement_line"))) == 3


_OLD_REFUNDS = """
    INSERT INTO refund_batch (id, code, subject, annual_rate, day_count, paid_on, due_on,
        created_by) VALUES (1, 'RB-0123456789', 'lot:L-1', 0.0035, 'ACT/365', '2026-12-10',
        '2026-12-15', 'staff');
    INSERT INTO refund_line (batch_id, instruction_ref, deposit_account_id, statement_line_id,
        payee_name, payee_account, principal_fen, interest_fen, days, status,
        payment_transfer_id, bank_ref) VALUES
        (1, 'RB-0123456789-0001', NULL, NULL, '甲公司', '6222020200112233445', 5000000, 479,
         10, 'paid', 11, 'OUT-1'),
        (1, 'RB-0123456789-0002', NULL, 7, '"引号", 逗号公司', '', 700, 0, 0, 'pending', 12, ''),
        (1, 'RB-0123456789-0003', NULL, NULL, '', '', 1, 0, 0, 'returned', 13, '');
"""
_OLD_REFUND_COLUMNS = (
    "SELECT instruction_ref, payee_name, payee_account, principal_fen, status, bank_ref"
    " FROM refund_line ORDER BY instruction_ref"
)


def test_0013_seals_existing_refund_payees_and_the_downgrade_unseals_them(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from tendering.core.secrecy import Secrecy
    from tendering.ledger.payers import open_payee, seal_payee

    seed = bytes(range(64, 96))
    before = _refused_without_key(
        fresh_url, "0012", _OLD_REFUNDS, _OLD_REFUND_COLUMNS, tmp_path, monkeypatch
    )

    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(seed).decode())
    upgrade(fresh_url)
    columns = asyncio.run(
        _sql(
            fresh_url,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'refund_line'",
        )
    )
    assert "payee_name" not in str(columns) and "payee_account" not in str(columns)
    sealed = asyncio.run(
        _sql(
            fresh_url,
            "SELECT instruction_ref, payee, principal_fen, status, bank_ref FROM refund_line"
            " ORDER BY instruction_ref",
        )
    )
    secrecy = Secrecy.from_seed(seed)
    opened = [
        (ref, *open_payee(secrecy, instruction_ref=ref, box=box), amount, status, bank_ref)
        for ref, box, amount, status, bank_ref in sealed
    ]
    assert opened == before
    # padded alike, and as the platform pads what it seals itself
    made = seal_payee(secrecy, "RB-X-0001", ("甲公司", "6222020200112233445"))
    assert {len(row[1]) for row in sealed} == {len(made)}

    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(bytes(32)).decode())
    with pytest.raises(RuntimeError, match="does not open with this signing key"):
        downgrade(fresh_url, "0012")
    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(seed).decode())
    downgrade(fresh_url, "0012")
    assert asyncio.run(_sql(fresh_url, _OLD_REFUND_COLUMNS)) == before
    upgrade(fresh_url)  # and up again, with the same key
    assert len(asyncio.run(_sql(fresh_url, "SELECT payee FROM refund_line"))) == 3
