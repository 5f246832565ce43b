from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner

from tendering.cli import main
from tendering.core.embedded import with_database
from tendering.core.interpreter import SWITCH_INTERVAL, tune_interpreter
from tendering.core.runtime import pending_migrations, public_url
from tendering.settings import Settings


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def empty_database(servers: Any) -> Iterator[str]:
    """A database with no schema at all (plain postgresql:// URL)."""
    name = f"tendering_cli_{secrets.token_hex(4)}"
    asyncio.run(_admin(servers.postgres_url, f'CREATE DATABASE "{name}"'))
    yield with_database(servers.postgres_url, name)
    asyncio.run(_admin(servers.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _env(database_url: str | None, redis_url: str | None, tmp_path: Any) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TENDERING_DATA_DIR": str(tmp_path / "data"),
    }


def test_public_url_hides_only_the_password() -> None:
    assert public_url("postgresql://app:s3cret@db:5432/tendering") == (
        "postgresql://app:***@db:5432/tendering"
    )
    assert public_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert public_url("postgresql://postgres:@/tendering?host=/tmp/x") == (
        "postgresql://postgres:@/tendering?host=/tmp/x"
    )


def test_a_serving_process_lets_threads_have_the_gil_back_sooner() -> None:
    before = sys.getswitchinterval()
    try:
        tune_interpreter()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert before > SWITCH_INTERVAL  # CPython's 5 ms starved the decrypting threads
    finally:
        sys.setswitchinterval(before)


def test_worker_refuses_without_both_urls(tmp_path) -> None:
    result = CliRunner().invoke(main, ["worker"], env=_env(None, None, tmp_path))
    assert result.exit_code == 1
    assert "needs DATABASE_URL and REDIS_URL" in result.output


def test_serve_refuses_a_schema_that_is_behind(empty_database, servers, tmp_path) -> None:
    result = CliRunner().invoke(
        main, ["serve"], env=_env(empty_database, servers.redis_url, tmp_path)
    )
    assert result.exit_code == 1
    assert "Run `tendering migrate` first" in result.output
    assert "0001" in result.output


def test_migrate_up_down_and_up_again(empty_database, servers, tmp_path) -> None:
    env = _env(empty_database, None, tmp_path)
    settings = Settings.from_env({"DATABASE_URL": empty_database})
    assert pending_migrations(settings)[-1] == "0001"

    up = CliRunner().invoke(main, ["migrate"], env=env)
    assert up.exit_code == 0, up.output
    assert "database schema is up to date" in up.output
    assert pending_migrations(settings) == []

    down = CliRunner().invoke(main, ["migrate", "--downgrade", "base"], env=env)
    assert down.exit_code == 0, down.output
    assert "database schema is at base" in down.output
    assert pending_migrations(settings)[-1] == "0001"

    again = CliRunner().invoke(main, ["migrate"], env=env)
    assert again.exit_code == 0, again.output
    assert pending_migrations(settings) == []


def test_demo_prints_logins_once_then_leaves_the_database_alone(
    empty_database, servers, tmp_path
) -> None:
    env = _env(empty_database, None, tmp_path)
    assert CliRunner().invoke(main, ["migrate"], env=env).exit_code == 0

    first = CliRunner().invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "demo logins" in first.output
    assert "staff" in first.output and "demo-staff-2026" in first.output
    assert "某某县公共资源交易中心" in first.output

    second = CliRunner().invoke(main, ["demo"], env=env)
    assert second.exit_code == 0, second.output
    assert "the demo data is already in this database" in second.output


def test_demo_refuses_an_unmigrated_database(empty_database, tmp_path) -> None:
    result = CliRunner().invoke(main, ["demo"], env=_env(empty_database, None, tmp_path))
    assert result.exit_code == 1
    assert "tendering migrate" in result.output


def test_serve_with_only_redis_embedded_still_leaves_a_given_database_alone(
    empty_database, tmp_path
) -> None:
    # Redis is started (and stopped again), but the given database is not migrated by serve.
    result = CliRunner().invoke(main, ["serve"], env=_env(empty_database, None, tmp_path))
    assert result.exit_code == 1
    assert "Run `tendering migrate` first" in result.output
    assert "embedded servers stopped" in result.output
    assert (tmp_path / "data" / "redis" / "redis.db").exists()
    assert not (tmp_path / "data" / "postgres").exists()
