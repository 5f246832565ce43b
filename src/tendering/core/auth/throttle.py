"""Slowing down password guessing: failed logins counted in Redis, per address and username.

    keys = LoginKeys.of(namespace, username=username, address=client)
    if (refusal := await refused(redis, keys)) is not None:   # before checking the password
        raise refusal
    await note_failure(redis, keys)                            # after a wrong password
    await forget_failures(redis, keys)                         # after a right one

Two counters, each refusing only its own subject, so that neither one address nor one
username can be used to lock out anyone else:

- **username from this address**: after ``MAX_FAILURES`` wrong passwords for one username
  from one address, that address may not try that username for the window. The real user,
  from their own address, still logs in; a guesser cannot lock them out.
- **this address**: after ``MAX_ADDRESS_FAILURES`` wrong passwords from one address over
  any usernames, that address may not log in at all for the window (a guesser spraying one
  common password over many usernames). Other addresses are not affected.

There is deliberately no counter per username over every address: any stranger could then
lock a user out. The address is the real client's (``core/clients.py``, behind
``TENDERING_TRUSTED_PROXIES``), not a load balancer's, which would make every client one.

Counters use commands every supported Redis has (the embedded one is Redis 6.2, which
refuses ``EXPIRE ... NX``): ``SET key 0 NX EX window`` then ``INCR`` in one MULTI/EXEC, so
the first failure starts the window and later ones count in it. Counters live only in Redis:
losing them costs nothing but a fresh allowance. If Redis is unreachable, logins are not
blocked (the check fails open and logs one line): the database, not Redis, is what must work.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from tendering.core.errors import TooManyRequests

__all__ = [
    "MAX_ADDRESS_FAILURES",
    "MAX_FAILURES",
    "WINDOW_SECONDS",
    "LoginKeys",
    "forget_failures",
    "note_failure",
    "refused",
]

log = logging.getLogger("tendering.auth")

MAX_FAILURES = 10  # one username from one address
MAX_ADDRESS_FAILURES = 50  # one address, any usernames
WINDOW_SECONDS = 15 * 60


def _digest(*parts: str) -> str:
    # Hashed so arbitrary usernames make well-formed, bounded keys.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class LoginKeys:
    """The Redis keys of one login attempt's two counters."""

    username_from_address: str
    address: str

    @classmethod
    def of(cls, namespace: str, *, username: str, address: str) -> LoginKeys:
        return cls(
            username_from_address=f"{namespace}:login-failures:pair:{_digest(username, address)}",
            address=f"{namespace}:login-failures:addr:{_digest(address)}",
        )


def _unavailable() -> None:
    # One line, not a traceback per login: Redis being away is expected now and then.
    log.warning("login throttle unavailable (Redis); logins are not being counted")


async def refused(redis: Any, keys: LoginKeys) -> TooManyRequests | None:
    """The refusal to raise before checking the password, or ``None`` to go on."""
    try:
        pair, address = await redis.mget([keys.username_from_address, keys.address])
        if pair is not None and int(pair) >= MAX_FAILURES:
            wait = await redis.ttl(keys.username_from_address)
            what = "this username from your address"
        elif address is not None and int(address) >= MAX_ADDRESS_FAILURES:
            wait = await redis.ttl(keys.address)
            what = "logins from your address"
        else:
            return None
    except Exception:  # fail open, see the module docstring
        _unavailable()
        return None
    wait = int(wait) if isinstance(wait, int) and wait > 0 else WINDOW_SECONDS
    return TooManyRequests(
        f"登录失败次数过多，请稍后再试 (too many failed logins for {what}; wait"
        f" {WINDOW_SECONDS // 60} minutes, or ask an admin to check the account).",
        retry_after=wait,
    )


async def note_failure(redis: Any, keys: LoginKeys) -> None:
    try:
        async with redis.pipeline(transaction=True) as pipe:
            for key in (keys.username_from_address, keys.address):
                pipe.set(key, 0, nx=True, ex=WINDOW_SECONDS)  # starts the window once
                pipe.incr(key)  # keeps the key's expiry
            await pipe.execute()
    except Exception:
        _unavailable()


async def forget_failures(redis: Any, keys: LoginKeys) -> None:
    """After a right password: that username from that address starts afresh. The address's
    own count stays (one valid login must not reset a sprayer's allowance)."""
    try:
        await redis.delete(keys.username_from_address)
    except Exception:
        _unavailable()
