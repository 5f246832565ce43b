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
from tendering.core.migrate import downgrade, upgrade
from tendering.models import metadata


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


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
    plain = _with_database(servers.postgres_url, name)
    yield "postgresql+asyncpg://" + plain.split("://", 1)[1]
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


def test_migrated_schema_equals_the_models(fresh_url: str) -> None:
    upgrade(fresh_url)
    diff, _ = asyncio.run(_inspect(fresh_url))
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
