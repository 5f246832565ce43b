"""``tendering serve`` on the embedded default, as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import _free_port, _wait_healthy

TENDERING = Path(sys.executable).with_name("tendering")
STOP_SECONDS = 60


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie has exited


def _processes_using(path: Path) -> list[int]:
    """pids of live processes whose command line names ``path`` (postgres, redis)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _redis_pid(data_dir: Path) -> int | None:
    registry = data_dir / "redis" / "redis.db.settings"
    if not registry.exists():
        return None
    import json

    pidfile = Path(json.loads(registry.read_text())["pidfile"])
    return int(pidfile.read_text()) if pidfile.exists() else None


class Platform:
    def __init__(self, data_dir: Path, log: Path, *args: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(TENDERING_DATA_DIR=str(data_dir), TENDERING_PORT=str(self.port))
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [str(TENDERING), "serve", *args],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_healthy(self) -> None:
        _wait_healthy(self.base, self.log, self.process)

    def stop(self, sig: signal.Signals) -> int:
        """Send ``sig`` (if still running) and return the exit code."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(sig)
            return self.process.wait(timeout=STOP_SECONDS)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self._log_file.closed:
            self._log_file.close()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: as root, pgserver runs PostgreSQL as the user `pgserver`,
    # which must traverse the parents, and pytest keeps /tmp/pytest-of-root at mode 0700
    # (re-tightened by any other pytest run starting meanwhile).
    path = Path(tempfile.mkdtemp(prefix="tendering-e2e-")) / "data"
    yield path
    # Whatever happened, leave no server of ours running.
    for pid in _processes_using(path):
        os.kill(pid, signal.SIGKILL)
    pid = _redis_pid(path)
    if pid is not None and _alive(pid):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path.parent, ignore_errors=True)


def _login(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_serve_demo_on_the_embedded_default_then_restart_on_the_same_data(
    data_dir: Path, tmp_path: Path
) -> None:
    first = Platform(data_dir, tmp_path / "first.log", "--demo")
    try:
        first.wait_healthy()
        headers = _login(first.base, "staff", "demo-staff-2026")
        me = httpx.get(f"{first.base}/api/auth/me", headers=headers, timeout=10)
        assert me.status_code == 200
        assert me.json()["role"] == "staff"
        redis_pid = _redis_pid(data_dir)
        assert redis_pid is not None and _alive(redis_pid)
        assert _processes_using(data_dir / "postgres")
    finally:
        code = first.stop(signal.SIGINT)
    output = first.output()
    assert code == 0, output
    assert "demo logins" in output and "demo-staff-2026" in output
    assert f"serving http://127.0.0.1:{first.port}" in output
    assert "database: postgresql://" in output
    assert "embedded servers stopped" in output
    assert _processes_using(data_dir / "postgres") == []
    assert not _alive(redis_pid)

    second = Platform(data_dir, tmp_path / "second.log", "--demo")
    try:
        second.wait_healthy()
        # The demo user made by the first start is still there: the data was kept.
        headers = _login(second.base, "bidder1", "demo-bidder-2026")
        me = httpx.get(f"{second.base}/api/auth/me", headers=headers, timeout=10)
        assert me.json()["username"] == "bidder1"
    finally:
        code = second.stop(signal.SIGTERM)
    output = second.output()
    assert code == 0, output
    assert "the demo data is already in this database" in output
    assert _processes_using(data_dir / "postgres") == []
