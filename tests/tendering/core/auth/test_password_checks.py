"""Password checks (Argon2id, 64 MiB and ~0.1 s each) never run on the event loop, and
beyond what the threads and their queue hold a login is refused at once: 429 ``auth.busy``.
The figures (``/health`` under a login storm) are ``bench/login_storm.py``'s."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from tendering.core.auth import passwords
from tendering.core.auth.models import Role
from tendering.core.auth.passwords import PasswordChecks
from tendering.core.deps import platform_of
from tendering.core.errors import TooManyRequests
from tests.conftest import TEST_PASSWORD

HOLD_SECONDS = 10  # a held check lets go by itself after this, so a broken test ends


class _HeldHasher:
    """The run's quick hasher, but each check waits until the test lets it go, and notes
    the thread it ran on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.threads: list[int] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.threads.append(threading.get_ident())
        self.release.wait(HOLD_SECONDS)
        return bool(self.inner.verify(password_hash, password))

    def hash(self, password: str) -> str:
        return str(self.inner.hash(password))

    def check_needs_rehash(self, password_hash: str) -> bool:
        return bool(self.inner.check_needs_rehash(password_hash))


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> _HeldHasher:
    hasher = _HeldHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    return hasher


async def _login(client: Any, username: str, password: str = TEST_PASSWORD) -> Any:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


async def test_a_login_checks_the_password_off_the_event_loop(client, people, held):
    held.release.set()
    staff = await people.user(Role.STAFF)
    assert (await _login(client, staff.username)).status_code == 200
    assert (await _login(client, staff.username, "a-wrong-guess")).status_code == 401
    assert len(held.threads) == 2
    assert threading.get_ident() not in held.threads


@pytest.fixture
def settings(settings):
    return replace(settings, password_workers=1, password_queue=1)


async def _until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        await asyncio.sleep(0.01)


@pytest.mark.committed
async def test_beyond_the_queue_a_login_is_refused_busy_and_the_rest_goes_on(
    app, client, people, held
):
    staff = await people.user(Role.STAFF)
    checks = platform_of(app.state).passwords
    # One check running (held), one waiting for the thread: the queue is full.
    first = asyncio.create_task(_login(client, staff.username))
    second = asyncio.create_task(_login(client, staff.username, "a-wrong-guess"))
    await _until(lambda: checks.admitted == 2)

    refused = await asyncio.wait_for(_login(client, staff.username), HOLD_SECONDS / 2)
    assert refused.status_code == 429
    assert refused.json()["code"] == "auth.busy"
    assert int(refused.headers["retry-after"]) > 0
    # Everything else is served meanwhile.
    health = await asyncio.wait_for(client.get("/health"), HOLD_SECONDS / 2)
    assert health.status_code == 200

    held.release.set()
    assert (await first).status_code == 200
    assert (await second).status_code == 401
    assert checks.admitted == 0
    assert (await _login(client, staff.username)).status_code == 200


async def test_a_check_keeps_its_place_until_its_thread_is_done():
    """A login that goes away (its client left) does not stop its check: the place is
    freed when the thread finishes, so running checks never exceed the bound."""
    release = threading.Event()
    checks = PasswordChecks(workers=1, queue=0)
    try:
        waiting = asyncio.create_task(checks._run(release.wait, HOLD_SECONDS))
        await _until(lambda: checks.admitted == 1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(TooManyRequests):
            await checks.verify(None, "still-running")
        release.set()
        await _until(lambda: checks.admitted == 0)
        assert await checks.verify(None, "anything") is False
    finally:
        release.set()
        checks.close()
