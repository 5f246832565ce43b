"""Password guessing is slowed down: 10 failures in 15 minutes for one username from one
address, or 50 from one address, and that address is refused; nobody else is."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from tendering.core.auth.models import Role
from tendering.core.auth.throttle import (
    MAX_ADDRESS_FAILURES,
    MAX_FAILURES,
    WINDOW_SECONDS,
    LoginKeys,
    forget_failures,
    note_failure,
    refused,
)
from tendering.core.embedded import start_redis
from tendering.settings import Settings, TrustedProxies
from tests.conftest import TEST_PASSWORD
from tests.isolation import InLoopTestClient

BALANCER = "10.0.0.5"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The platform behind a load balancer in 10.0.0.0/8."""
    return replace(settings, trusted_proxies=TrustedProxies([ip_network("10.0.0.0/8")]))


class _Through:
    """ASGI: every request arrives from ``peer`` (the load balancer, or a client directly)."""

    def __init__(self, app: Any, peer: str) -> None:
        self.app = app
        self.peer = peer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope["client"] = (self.peer, 40000)
        await self.app(scope, receive, send)


@pytest.fixture
async def balancer(app: Any) -> AsyncIterator[InLoopTestClient]:
    """A client whose requests all come through the load balancer."""
    async with InLoopTestClient(_Through(app, BALANCER)) as client:  # type: ignore[arg-type]
        yield client


async def _attempt(client: Any, username: str, password: str, *, via: str | None = None) -> Any:
    headers = {"X-Forwarded-For": via} if via else {}
    return await client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=headers
    )


async def test_after_too_many_failures_even_the_right_password_waits(client, people):
    staff = await people.user(Role.STAFF, username="throttled-staff")
    for _ in range(MAX_FAILURES):
        assert (await _attempt(client, staff.username, "a-wrong-guess")).status_code == 401
    response = await _attempt(client, staff.username, TEST_PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "request.too_many"
    assert "15 minutes" in response.json()["detail"]
    assert 0 < int(response.headers["retry-after"]) <= WINDOW_SECONDS


async def test_a_successful_login_resets_the_count(client, people):
    staff = await people.user(Role.STAFF, username="forgetful-staff")
    for _ in range(MAX_FAILURES - 1):
        assert (await _attempt(client, staff.username, "a-wrong-guess")).status_code == 401
    assert (await _attempt(client, staff.username, TEST_PASSWORD)).status_code == 200
    for _ in range(MAX_FAILURES - 1):
        assert (await _attempt(client, staff.username, "a-wrong-guess")).status_code == 401
    assert (await _attempt(client, staff.username, TEST_PASSWORD)).status_code == 200


async def test_one_usernames_failures_do_not_block_another(client, people):
    for _ in range(MAX_FAILURES):
        await _attempt(client, "someone-else", "a-wrong-guess")
    staff = await people.user(Role.STAFF, username="unaffected-staff")
    assert (await _attempt(client, staff.username, TEST_PASSWORD)).status_code == 200


async def test_a_guesser_behind_the_balancer_does_not_lock_the_user_out(balancer, people):
    """The balancer's own address is not the client: before trusted proxies, ten wrong
    passwords from anyone locked the username for everyone behind it."""
    staff = await people.user(Role.STAFF, username="balanced-staff")
    for _ in range(MAX_FAILURES):
        wrong = await _attempt(balancer, staff.username, "a-wrong-guess", via="203.0.113.7")
        assert wrong.status_code == 401
    guesser = await _attempt(balancer, staff.username, TEST_PASSWORD, via="203.0.113.7")
    assert guesser.status_code == 429
    user = await _attempt(balancer, staff.username, TEST_PASSWORD, via="198.51.100.9")
    assert user.status_code == 200


async def test_a_made_up_forwarded_address_does_not_earn_new_tries(balancer, client, people):
    """Only the hop the balancer appended is believed: what the guesser wrote to its left,
    and the whole header from a peer that is no proxy, are ignored."""
    staff = await people.user(Role.STAFF, username="spoofed-staff")
    for n in range(MAX_FAILURES):
        made_up = f"192.0.2.{n}, 203.0.113.7"  # the balancer appended 203.0.113.7
        assert (await _attempt(balancer, staff.username, "x" * 9, via=made_up)).status_code == 401
    again = await _attempt(balancer, staff.username, TEST_PASSWORD, via="192.0.2.99, 203.0.113.7")
    assert again.status_code == 429
    for n in range(MAX_FAILURES):  # straight to the platform, not through a proxy
        direct = await _attempt(client, "other-staff", "x" * 9, via=f"192.0.2.{n}")
        assert direct.status_code == 401
    direct = await _attempt(client, "other-staff", "x" * 9, via="192.0.2.200")
    assert direct.status_code == 429


async def test_one_address_spraying_usernames_is_stopped_and_only_it(balancer, people):
    staff = await people.user(Role.STAFF, username="sprayed-staff")
    for n in range(MAX_ADDRESS_FAILURES):
        wrong = await _attempt(balancer, f"user-{n}", "Spring2026!", via="203.0.113.50")
        assert wrong.status_code == 401
    sprayer = await _attempt(balancer, staff.username, TEST_PASSWORD, via="203.0.113.50")
    assert sprayer.status_code == 429
    assert "your address" in sprayer.json()["detail"]
    other = await _attempt(balancer, staff.username, TEST_PASSWORD, via="203.0.113.51")
    assert other.status_code == 200


# The counters themselves, on every Redis the platform runs with: the embedded one is Redis
# 6.2, which refused the `EXPIRE ... NX` the counter used (so it never counted there).


@pytest.fixture(scope="module")
def embedded_redis_url() -> Iterator[str]:
    base = Path(tempfile.mkdtemp(prefix="tendering-throttle-"))
    server = start_redis(base)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["machine", "embedded"])
async def redis_client(request, servers, embedded_redis_url) -> AsyncIterator[Any]:
    url = servers.redis_url if request.param == "machine" else embedded_redis_url
    client = aioredis.Redis.from_url(url)
    yield client
    await client.aclose()


async def test_the_counters_count_and_expire_on_every_redis(redis_client, caplog):
    keys = LoginKeys.of(f"throttle-test-{id(caplog)}", username="clerk", address="192.0.2.1")
    await redis_client.delete(keys.username_from_address, keys.address)
    for _ in range(MAX_FAILURES - 1):
        await note_failure(redis_client, keys)
    assert await refused(redis_client, keys) is None
    await note_failure(redis_client, keys)
    refusal = await refused(redis_client, keys)
    assert refusal is not None
    assert 0 < refusal.retry_after <= WINDOW_SECONDS
    for key in (keys.username_from_address, keys.address):  # the window runs from the first
        assert 0 < await redis_client.ttl(key) <= WINDOW_SECONDS
    assert int(await redis_client.get(keys.address)) == MAX_FAILURES
    await forget_failures(redis_client, keys)
    assert await refused(redis_client, keys) is None
    assert int(await redis_client.get(keys.address)) == MAX_FAILURES  # the address keeps it
    assert "throttle unavailable" not in caplog.text
    await redis_client.delete(keys.address)
