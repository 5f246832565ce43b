"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).

One check costs 64 MiB and about 0.1 s of a core. On the event loop, 100 concurrent wrong
logins took ``/health`` from 5 ms to a median of 0.9 s; so requests hash through
:class:`PasswordChecks`, which runs them in a few threads (argon2-cffi lets go of the GIL
while it hashes) and refuses more than it can queue::

    checks = PasswordChecks(workers=2, queue=64)
    ok = await checks.verify(user.password_hash, password)   # 429 auth.busy when full

At most ``workers`` checks run at once (memory: ``workers`` x 64 MiB), ``queue`` more wait
for a thread, and one beyond that is refused at once with :class:`TooManyRequests`
(``Retry-After``) rather than queued without bound. The plain functions below are for the
command line and the demo, which have no loop to keep free.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tendering.core.errors import ErrorCode, TooManyRequests

__all__ = ["PasswordChecks", "hash_password", "needs_rehash", "verify_password"]

T = TypeVar("T")

_hasher = PasswordHasher()

# Verifying against this when the user does not exist keeps a wrong username as slow as a
# wrong password, so timing does not tell which logins exist. Made at the first such check,
# not at import: every process importing this module (each `tendering` command that touches
# the database, every server start) would pay a hash it seldom needs.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password")
    return _DUMMY_HASH


BUSY_RETRY_SECONDS = 2


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Niceness of the checking threads (and of Argon2's lane threads, which inherit it): when
# the cores are busy the event loop's thread goes first, so a storm of logins slows the
# logins, not every other request. Idle cores still go to the checks.
PASSWORD_NICENESS = 10


def _yield_to_the_loop() -> None:
    # On Linux a thread's niceness is its own; elsewhere this may not apply, which only
    # costs the priority.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_NICENESS)


class PasswordChecks:
    """Argon2id off the event loop, a bounded number at once (see the module docstring)."""

    def __init__(self, *, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="password", initializer=_yield_to_the_loop
        )
        # Running or waiting, counted until the thread is done with it: a request that goes
        # away does not stop its check, so it keeps its place until then.
        self._admitted = 0
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        return self._admitted

    def _release(self, _: Future[Any]) -> None:
        with self._lock:
            self._admitted -= 1

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._admitted >= self.workers + self.queue:
                raise TooManyRequests(
                    "登录繁忙，请稍后再试 (the platform is checking too many passwords at"
                    f" once; try again in {BUSY_RETRY_SECONDS} seconds).",
                    retry_after=BUSY_RETRY_SECONDS,
                    code=ErrorCode.AUTH_BUSY,
                )
            self._admitted += 1
        try:
            future = self._executor.submit(work, *args)
        except BaseException:
            self._release(Future())
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """:func:`verify_password` in a worker thread; 429 ``auth.busy`` when full."""
        return await self._run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        """:func:`hash_password` in a worker thread; 429 ``auth.busy`` when full."""
        return await self._run(hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
