from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import pytest
import redis

from tendering.core.embedded import start_embedded, with_database


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"  # exited, not yet reaped


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


async def _sql(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@pytest.fixture
def base_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: as root, pgserver runs PostgreSQL as the user `pgserver`,
    # which must traverse the parents, and pytest keeps /tmp/pytest-of-root at mode 0700.
    path = Path(tempfile.mkdtemp(prefix="tendering-embedded-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def data_dir(base_dir: Path) -> Path:
    return base_dir / "data"


def test_embedded_servers_start_stop_and_keep_their_data(data_dir: Path) -> None:
    servers = start_embedded(data_dir)
    try:
        assert servers.database_url is not None and servers.redis_url is not None
        assert "/tendering?" in servers.database_url
        asyncio.run(_sql(servers.database_url, "CREATE TABLE kept (v text)"))
        asyncio.run(_sql(servers.database_url, "INSERT INTO kept VALUES ('县第一中学')"))
        client = _redis(servers.redis_url)
        client.set("kept", "yes")
        client.close()
        pids = servers.pids
        assert len(pids) == 2
    finally:
        servers.stop()
    assert all(_gone(pid) for pid in pids)
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    assert (data_dir / "redis" / "redis.db").exists()

    again = start_embedded(data_dir)
    try:
        assert again.database_url is not None and again.redis_url is not None
        assert asyncio.run(_sql(again.database_url, "SELECT v FROM kept")) == "县第一中学"
        client = _redis(again.redis_url)
        assert client.get("kept") == b"yes"
        client.close()
    finally:
        again.stop()
        again.stop()  # a second stop is harmless


def test_only_the_servers_asked_for_are_started(data_dir: Path) -> None:
    servers = start_embedded(data_dir, redis=False)
    try:
        assert servers.redis_url is None
        assert servers.database_url is not None
        assert asyncio.run(_sql(servers.database_url, "SELECT current_database()")) == "tendering"
    finally:
        servers.stop()
    assert not (data_dir / "redis").exists()


def test_a_deep_data_dir_still_gets_short_socket_paths(base_dir: Path) -> None:
    deep = base_dir / ("d" * 60) / ("e" * 60) / "data"
    deep.mkdir(parents=True)
    servers = start_embedded(deep)
    try:
        assert servers.database_url is not None and servers.redis_url is not None
        socket_dir = servers.database_url.split("host=", 1)[1]
        assert len(socket_dir) + len("/.s.PGSQL.5432") < 107
        assert len(servers.redis_url.removeprefix("unix://")) < 107
        assert asyncio.run(_sql(servers.database_url, "SELECT 1")) == 1
    finally:
        servers.stop()


def test_the_embedded_redis_is_started_again_when_it_dies(data_dir: Path) -> None:
    servers = start_embedded(data_dir, postgres=False, watch_redis=0.1)
    try:
        assert servers.redis_url is not None
        client = _redis(servers.redis_url)
        client.set("kept", "yes")
        client.save()
        (pid,) = servers.pids
        os.kill(pid, 9)
        for _ in range(200):  # the watch looks every 0.1 s
            if servers.redis_restarts:
                break
            time.sleep(0.05)
        assert servers.redis_restarts == 1 and servers.pids != [pid]
        assert client.get("kept") == b"yes"  # same URL, same data file: it reconnects
        client.close()
    finally:
        servers.stop()


class _SharedServer:
    """pgserver's handle as another process still uses the server: cleanup leaves it."""

    def __init__(self, users: list[int]) -> None:
        self.cleaned = False
        self.global_process_id_list = SimpleNamespace(get=lambda: list(users))

    def get_pid(self) -> int:
        return os.getppid()  # alive for the whole test, like a shared postmaster

    def cleanup(self) -> None:
        self.cleaned = True


def test_a_command_beside_serve_leaves_the_shared_postgres_without_waiting_or_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tendering.core.embedded import _Postgres

    server = _SharedServer([os.getpid(), os.getppid()])  # this process and a live other
    started = time.monotonic()
    with caplog.at_level("INFO", logger="tendering"):
        _Postgres(server=server, url="postgresql://x").stop()
    assert server.cleaned
    assert time.monotonic() - started < 1.0  # no wait for a server that is not stopping
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert "left running" in caplog.text


def test_naming_another_database_keeps_a_socket_directory_in_the_query():
    socket = "postgresql://postgres:@/postgres?host=/tmp/tendering-x/postgres"
    assert with_database(socket, "bench_1") == (
        "postgresql://postgres:@/bench_1?host=/tmp/tendering-x/postgres"
    )
    assert with_database("postgresql://postgres@127.0.0.1:5432/postgres", "bench_1") == (
        "postgresql://postgres@127.0.0.1:5432/bench_1"
    )
