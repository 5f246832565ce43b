"""A real ``tendering serve`` on the test database, for tests that go over the wire."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import redis

from tendering.settings import Settings

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120
POLL_SECONDS = 0.05  # /health is asked this often while the server starts


@dataclass(frozen=True)
class LivePlatform:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def tendering(self, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        """Run the ``tendering`` command as a user would, against this platform."""
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            [str(BIN / "tendering"), *args], env=self.env, capture_output=True, text=True, **kw
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(
    command: list[str],
    database_url: str,
    settings: Settings,
    tmp_path: Path,
    env_changes: dict[str, str | None] | None = None,
) -> Iterator[LivePlatform]:
    """``command`` (a ``tendering serve``) on the test database, once it answers /health;
    stopped with SIGINT at the end unless the test stopped it. ``env_changes`` sets
    variables (None: removes one)."""
    with _serving_all([(command, tmp_path)], database_url, settings, env_changes) as (live,):
        yield live


@contextmanager
def _serving_all(
    servers: list[tuple[list[str], Path]],
    database_url: str,
    settings: Settings,
    env_changes: dict[str, str | None] | None = None,
) -> Iterator[list[LivePlatform]]:
    """Each ``(command, tmp_path)`` as :func:`_serving` runs it, every one started before
    waiting for any: a start costs seconds of a core, and two start side by side."""
    started: list[tuple[LivePlatform, IO[str]]] = []
    try:
        for command, tmp_path in servers:
            started.append(_start(command, database_url, settings, tmp_path, env_changes))
        for live, _ in started:
            _wait_healthy(live.url, live.log)
        yield [live for live, _ in started]
    finally:
        for live, _ in reversed(started):
            live.process.send_signal(signal.SIGINT)
        for live, log in reversed(started):
            live.process.wait(timeout=60)
            log.close()
        _forget_login_failures(settings)


def _start(
    command: list[str],
    database_url: str,
    settings: Settings,
    tmp_path: Path,
    env_changes: dict[str, str | None] | None,
) -> tuple[LivePlatform, IO[str]]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": str(settings.redis_url),
        "TENDERING_DATA_DIR": str(tmp_path / "data"),
        "TENDERING_PORT": str(port),
        "TENDERING_QUEUE": settings.queue_name,
    }
    for name, value in (env_changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return LivePlatform(f"http://127.0.0.1:{port}", env, server, log_path), log


def _wait_healthy(url: str, log_path: Path, process: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``url`` answers /health; fails at once if ``process`` (the server) exits. One
    client for every probe: ``httpx.get`` makes a new one (and its TLS context, ~20 ms of a
    core) each time, taken from the starting server."""
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(timeout=2) as probe:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if probe.get(f"{url}/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(POLL_SECONDS)
    pytest.fail(f"tendering serve did not answer /health:\n{log_path.read_text()}")


def _forget_login_failures(settings: Settings) -> None:
    """Every live platform's clients come from 127.0.0.1: the login throttle's counters of
    one test (a fuzzer's wrong logins) would refuse a later test's logins."""
    client = redis.Redis.from_url(str(settings.redis_url))
    try:
        keys = list(client.scan_iter(match=f"{settings.queue_name}:login-failures:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def live_platform(committed, engine, database_url, settings, tmp_path) -> Iterator[LivePlatform]:
    with _serving([str(BIN / "tendering"), "serve"], database_url, settings, tmp_path) as live:
        yield live


@pytest.fixture
def stalling_platform(
    committed, engine, database_url, settings, tmp_path
) -> Iterator[LivePlatform]:
    """A live platform whose openings stall before recording a result (``stalling.py``)."""
    command = [sys.executable, "-m", "tests.e2e.stalling"]
    with _serving(command, database_url, settings, tmp_path) as live:
        yield live


UPLOAD_IDLE_SECONDS = 1
UPLOADS_PER_USER = 2


@pytest.fixture(scope="module")
def _strict_upload_server(
    database_url: str, servers: Any, _data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePlatform]:
    """One server for the module's tests: starting ``tendering serve`` costs seconds of
    both cores, and their uploads need nothing of a server that another test left. Not
    shared wider: its background work (the opening runner) would act on the committed rows
    of other modules' tests."""
    from tests.conftest import run_settings

    limits = {
        "TENDERING_UPLOAD_IDLE_SECONDS": str(UPLOAD_IDLE_SECONDS),
        "TENDERING_UPLOADS_PER_USER": str(UPLOADS_PER_USER),
    }
    command = [str(BIN / "tendering"), "serve"]
    settings = run_settings(_data_dir, database_url, servers)
    tmp_path = tmp_path_factory.mktemp("strict-upload")
    with _serving(command, database_url, settings, tmp_path, limits) as live:
        yield live


@pytest.fixture
def strict_upload_platform(
    committed, engine, settings, _strict_upload_server
) -> Iterator[LivePlatform]:
    """A live platform whose request bodies may idle 1 s, 2 uploads per user at once (the
    module's one server; its login throttle forgets each test's failures)."""
    yield _strict_upload_server
    _forget_login_failures(settings)
