"""The whole API, fuzzed from its own OpenAPI schema (schemathesis): whatever a caller
sends, the answer is never a 500. Runs a real ``tendering serve`` on the test database
with the demo data, and fuzzes it as a bidder and as staff (public routes answer both).

The auth-bootstrap phase of schemathesis 4.32 crashes on an unauthenticated run, hence
no anonymous run of its own; the logged-in runs reach every public route too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent
START_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def platform(engine, database_url, settings, tmp_path) -> Iterator[tuple[str, dict[str, str]]]:
    """A served platform with the demo data; yields (base URL, environment)."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": str(settings.redis_url),
        "TENDERING_DATA_DIR": str(tmp_path / "data"),
        "TENDERING_PORT": str(port),
        "TENDERING_QUEUE": settings.queue_name,
    }
    subprocess.run([str(BIN / "tendering"), "demo"], env=env, check=True, capture_output=True)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "tendering"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail(
                "tendering serve did not answer /health: " + (tmp_path / "serve.log").read_text()
            )
        yield base, env
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()


def _token(base: str, username: str, password: str) -> str:
    response = httpx.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["token"])


def _fuzz(base: str, env: dict[str, str], *headers: str) -> subprocess.CompletedProcess[str]:
    args = [
        str(BIN / "st"),
        "run",
        f"{base}/schema/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        "8",
        "--workers",
        "1",
        "--seed",
        "20261125",
        "--no-color",
    ]
    for header in headers:
        args += ["-H", header]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(900)
def test_no_request_makes_the_platform_answer_500(platform):
    base, env = platform
    callers = {
        "bidder": (f"Authorization: Bearer {_token(base, 'bidder1', 'demo-bidder-2026')}",),
        "staff": (f"Authorization: Bearer {_token(base, 'staff', 'demo-staff-2026')}",),
    }
    for who, headers in callers.items():
        result = _fuzz(base, env, *headers)
        summary = result.stdout[-3000:]
        assert "Server error" not in result.stdout, f"{who}:\n{summary}"
        assert result.returncode == 0, f"{who}: schemathesis exited {result.returncode}\n{summary}"
