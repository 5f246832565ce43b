"""Shared by the bids benchmarks: a throwaway database, a published lot, bidders.

Reuses the test suite's builders (``tests/tendering/bids/conftest.py``) against any client
with ``get/post/put`` coroutines: a real server (httpx) or the in-process test client.
Imported by the benchmarks' server processes too (``script --serve``), which need none of the
builders (``tests.conftest``: a second or more): those are imported when a world is made, or
while a server starts (:func:`import_builders`).
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from bench._scratch import create_migrated

from tendering.core.embedded import with_database
from tendering.settings import asyncpg_url

if TYPE_CHECKING:
    from tests.tendering.bids.conftest import BidWorld

    from tendering.core.secrecy import Secrecy

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVER_SEED = os.urandom(32)  # the platform key of every server this run starts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(script: str, database_url: str, data_dir: str) -> Iterator[tuple[str, int]]:
    """``script --serve`` on a free port against ``database_url`` and the local Redis; its
    URL and pid once it answers. Stopped on exit."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TENDERING_PORT": str(port),
        "TENDERING_DATA_DIR": data_dir,
        "TENDERING_SIGNING_KEY": base64.b64encode(SERVER_SEED).decode(),
    }
    server = subprocess.Popen([sys.executable, script, "--serve"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        import_builders()
        wait_until_up(url)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def import_builders() -> None:
    """Imports the test suite's builders, which :func:`make_world` uses: a second or two,
    spent while a server subprocess starts (on the other core) rather than after it."""
    for name in (
        "tests.conftest",
        "tests.tendering.bids.conftest",
        "tests.tendering.tenders.conftest",
    ):
        importlib.import_module(name)


def wait_until_up(url: str, seconds: float = 20.0) -> None:
    """Until the server at ``url`` answers (it starts in a subprocess). One client for every
    try: each new one loads the CA bundle (70 ms of the CPU the server is starting on)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=1) as client:
        while True:
            try:
                client.get(f"{url}/api/platform/key")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _create_migrated(name: str, url: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await create_migrated(conn, name, url)
    finally:
        await conn.close()


@contextmanager
def scratch_database() -> Iterator[str]:
    """A migrated database for one run (asyncpg URL), dropped afterwards."""
    name = f"tendering_bench_{os.getpid()}_{secrets.token_hex(3)}"
    url = asyncpg_url(with_database(ADMIN_URL, name))
    try:
        asyncio.run(_create_migrated(name, url))
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def make_world(client: Any, database_url: str, *, secrecy: Secrecy | None = None) -> BidWorld:
    """A bench world on ``client``; ``secrecy`` is the server's (that of a server started
    by :func:`server_process` when not given), which the world's deposits are sealed with."""
    from tests.conftest import TEST_PASSWORD, People
    from tests.tendering.bids.conftest import BidWorld
    from tests.tendering.tenders.conftest import TenderDesk

    from tendering.core.auth.models import OrgKind, Role
    from tendering.core.auth.passwords import hash_password
    from tendering.core.db import make_engine
    from tendering.core.secrecy import Secrecy

    engine = make_engine(database_url, pool_size=5)
    people = People(engine, hash_password(TEST_PASSWORD))

    async def login(person: Any) -> dict[str, str]:
        response = await client.post(
            "/api/auth/login", json={"username": person.username, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    staff = await people.user(Role.STAFF)
    tenderer = await people.organization(OrgKind.TENDERER, name="某某县第一中学")
    desk = TenderDesk(client, people, login, await login(staff), tenderer.code)
    secrecy = secrecy or Secrecy.from_seed(SERVER_SEED)
    return BidWorld(client, people, login, engine, desk, secrecy)
