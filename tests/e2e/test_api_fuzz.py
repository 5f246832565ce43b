"""The whole API, fuzzed from its own OpenAPI schema (schemathesis): whatever a caller
sends, the answer is never a 500. Runs a real ``tendering serve`` on the test database
with the demo data, and fuzzes it as a bidder and as staff (public routes answer both).

The auth-bootstrap phase of schemathesis 4.32 crashes on an unauthenticated run, hence
no anonymous run of its own; the logged-in runs reach every public route too."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.e2e.conftest import BIN, LivePlatform


@pytest.fixture
def platform(live_platform: LivePlatform) -> tuple[str, dict[str, str]]:
    """The live platform with the demo data: (base URL, environment)."""
    live_platform.tendering("demo", check=True)
    return live_platform.url, live_platform.env


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
