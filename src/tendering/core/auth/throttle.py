"""Slowing down password guessing: failed logins counted in Redis per username and address.

    if await too_many_failures(redis, key):      # before checking the password
        raise TooManyRequestsException(...)
    await note_failure(redis, key)                # after a wrong password
    await forget_failures(redis, key)             # after a right one

The key is (username, client address), so a guesser from one address is stopped without
locking the real user out from their own machine. Counters live only in Redis: losing them
on a Redis restart costs nothing but a fresh allowance. If Redis is unreachable, logins are
not blocked (the check fails open and logs it): the database, not Redis, is what must work.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

__all__ = [
    "MAX_FAILURES",
    "WINDOW_SECONDS",
    "forget_failures",
    "note_failure",
    "throttle_key",
    "too_many_failures",
]

log = logging.getLogger("tendering.auth")

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60


def throttle_key(namespace: str, username: str, address: str) -> str:
    # Hashed so arbitrary usernames make well-formed, bounded keys.
    digest = hashlib.sha256(f"{username}\x00{address}".encode()).hexdigest()[:32]
    return f"{namespace}:login-failures:{digest}"


async def too_many_failures(redis: Any, key: str) -> bool:
    try:
        count = await redis.get(key)
    except Exception:  # fail open, see the module docstring
        log.warning("login throttle unavailable (Redis)", exc_info=True)
        return False
    return count is not None and int(count) >= MAX_FAILURES


async def note_failure(redis: Any, key: str) -> None:
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS, nx=True)
            await pipe.execute()
    except Exception:
        log.warning("login throttle unavailable (Redis)", exc_info=True)


async def forget_failures(redis: Any, key: str) -> None:
    try:
        await redis.delete(key)
    except Exception:
        log.warning("login throttle unavailable (Redis)", exc_info=True)
