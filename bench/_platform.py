"""Shared by the attack benchmarks: the real ``tendering serve`` command on a scratch
database, and logins made with the production Argon2id cost."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._lot import (
    REDIS_URL,
    SERVER_SEED,
    free_port,
    import_builders,
    scratch_database,
    wait_until_up,
)

TENDERING = Path(sys.executable).with_name("tendering")


@dataclass(frozen=True)
class Served:
    url: str
    pid: int
    database_url: str
    log: Path


@contextmanager
def serving(settings: dict[str, str]) -> Iterator[Served]:
    """``tendering serve`` (uvicorn, as in production) on a fresh database and the local
    Redis, with ``settings`` as extra environment; stopped with SIGTERM on exit."""
    with scratch_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = os.environ | {
            "DATABASE_URL": "postgresql://" + database_url.split("://", 1)[1],
            "REDIS_URL": REDIS_URL,
            "TENDERING_PORT": str(port),
            "TENDERING_DATA_DIR": str(Path(tmp) / "data"),
            "TENDERING_SIGNING_KEY": base64.b64encode(SERVER_SEED).decode(),
            "TENDERING_QUEUE": f"bench-{secrets.token_hex(4)}",  # its own throttle counters
            **settings,
        }
        log = Path(tmp) / "serve.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [str(TENDERING), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
            url = f"http://127.0.0.1:{port}"
            try:
                import_builders()  # the benchmarks' users are made with them
                wait_until_up(url, seconds=60)
                yield Served(url=url, pid=server.pid, database_url=database_url, log=log)
            finally:
                server.terminate()
                server.wait(timeout=60)


def open_files(pid: int) -> int:
    """How many file descriptors ``pid`` holds (sockets, files, pipes)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
