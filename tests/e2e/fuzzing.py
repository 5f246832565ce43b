"""Fuzzing the whole API from its own OpenAPI schema (schemathesis) as every caller the
platform has: each role of ``Role`` with its demo login's token, and the public without
one. Shared by ``tests/e2e/test_api_fuzz.py`` (a small budget) and ``bench/api_fuzz.py``
(the long run whose totals the closing note quotes).

Each caller's run is a separate ``st run`` recording every exchange in a HAR file; the
totals (operations, requests, answers of 5xx) are read from those files, not from
schemathesis' own summary, so that a 500 is counted even where schemathesis would shrink
or stop."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tendering.core.auth.models import Role
from tendering.core.demo import demo_logins

BIN = Path(sys.executable).parent
SEED = 20261125
QUICK_PHASES = "examples,fuzzing"
LONG_PHASES = "examples,coverage,fuzzing"
PUBLIC = "public"
# Operations that can end the caller's session (log out, a new password, a deactivated
# login): fuzzed last, in a run of their own, so that the others are fuzzed with a live token.
SESSION_ENDING = r"^/api/(auth/(logout|password)|users/[^/]+/deactivate)$"


def callers() -> list[str]:
    """Every role (in the enum's order), then the public."""
    return [role.value for role in Role] + [PUBLIC]


def login(base: str, caller: str) -> tuple[str, ...]:
    """``-H`` arguments for ``caller``: a bearer token of the role's first demo login."""
    if caller == PUBLIC:
        return ()
    demo = next(d for d in demo_logins() if d.role.value == caller)
    response = httpx.post(
        f"{base}/api/auth/login",
        json={"username": demo.username, "password": demo.password},
        timeout=30,
    )
    response.raise_for_status()
    return (f"Authorization: Bearer {response.json()['token']}",)


@dataclass
class CallerRun:
    caller: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # "METHOD url -> status"
    operations: set[str] = field(default_factory=set)  # "METHOD /path/{template}"
    asked: set[str] = field(default_factory=set)  # those at least one request went to
    failures: list[str] = field(default_factory=list)  # st runs that exited non-zero

    def read_har(self, har: Path) -> None:
        shapes = [(op, _shape(op)) for op in self.operations]
        for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
            status = int(entry["response"]["status"])
            request = entry["request"]
            self.requests += 1
            self.statuses[status] += 1
            asked = f"{request['method']} {urlsplit(request['url']).path}"
            self.asked.update(op for op, shape in shapes if shape.fullmatch(asked))
            if status >= 500:
                self.server_errors.append(f"{request['method']} {request['url']} -> {status}")


def _shape(operation: str) -> re.Pattern[str]:
    """``GET /api/lots/{code}`` -> a pattern of the requests to it (a parameter is one
    segment: schemathesis percent-encodes a ``/`` in it)."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]*", re.escape(operation)))


def operations(base: str) -> list[str]:
    """Every operation of the served schema, as ``METHOD /path``."""
    schema = httpx.get(f"{base}/schema/openapi.json", timeout=30).json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in methods
    )


def _st(
    base: str,
    env: dict[str, str],
    headers: tuple[str, ...],
    examples: int,
    phases: str,
    seed: int,
    har: Path,
    path_filter: tuple[str, str],
) -> subprocess.CompletedProcess[str]:
    config = har.with_suffix(".toml")
    # No sign-up of schemathesis' own: it cannot make a platform login (and crashes trying).
    config.write_text("[auth]\nauto-signup = false\n", encoding="utf-8")
    args = [
        str(BIN / "st"),
        "--config-file",
        str(config),
        "run",
        f"{base}/schema/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        phases,
        "--max-examples",
        str(examples),
        "--workers",
        "1",
        "--seed",
        str(seed),
        "--no-shrink",
        "--continue-on-failure",
        "--request-timeout",
        "60",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--no-color",
        *path_filter,
    ]
    for header in headers:
        args += ["-H", header]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)


def fuzz_callers(
    base: str,
    env: dict[str, str],
    workdir: Path,
    *,
    examples: int,
    phases: str = QUICK_PHASES,
    only: list[str] | None = None,
    seed: int = SEED,
    workers: int = 2,
) -> Iterator[CallerRun]:
    """Every operation fuzzed as each caller (``only`` those), ``workers`` callers at a time
    (one ``st`` waits on the server's answer while the other makes its next case: two use
    both cores), in the callers' order: first all operations but those ending the session,
    then those with a second token. Every token is taken before any fuzzing: the fuzzed
    login, sent the demo's usernames with wrong passwords, soon has the login throttle
    refuse them for a quarter of an hour. ``phases`` are schemathesis' (``examples,fuzzing``;
    the long run adds ``coverage``: boundary values of every parameter, thousands of
    requests)."""
    chosen = only or callers()
    tokens = {caller: (login(base, caller), login(base, caller)) for caller in chosen}
    every = set(operations(base))
    parts = (
        ("main", ("--exclude-path-regex", SESSION_ENDING)),
        ("session", ("--include-path-regex", SESSION_ENDING)),
    )

    def fuzz(caller: str) -> CallerRun:
        run = CallerRun(caller, operations=every)
        for (part, path_filter), headers in zip(parts, tokens[caller], strict=True):
            har = workdir / f"{caller}-{part}.har"
            result = _st(base, env, headers, examples, phases, seed, har, path_filter)
            if har.exists():
                run.read_har(har)
            if result.returncode != 0 and "Server error" not in result.stdout:
                run.failures.append(
                    f"{caller}/{part}: st exited {result.returncode}\n"
                    f"{result.stdout[-3000:]}{result.stderr[-2000:]}"
                )
        return run

    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fuzz, chosen)


def totals(runs: list[CallerRun]) -> str:
    """The lines the closing note quotes."""
    ops = len(set().union(*(r.operations for r in runs))) if runs else 0
    lines = [
        f"{'caller':<12}{'operations':>11}{'requests':>10}{'2xx':>8}{'4xx':>8}{'5xx':>6}",
        *(
            f"{r.caller:<12}{len(r.asked):>11}{r.requests:>10}"
            f"{sum(n for s, n in r.statuses.items() if s < 300):>8}"
            f"{sum(n for s, n in r.statuses.items() if 400 <= s < 500):>8}"
            f"{len(r.server_errors):>6}"
            for r in runs
        ),
        f"operations {ops} x callers {len(runs)} = {ops * len(runs)} fuzzed; "
        f"requests {sum(r.requests for r in runs)}; "
        f"5xx {sum(len(r.server_errors) for r in runs)}",
    ]
    return "\n".join(lines)
