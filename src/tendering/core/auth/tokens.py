"""Login tokens: random, shown once, stored only as their SHA-256, checked per request.

Each request's check (:func:`resolve_token_once`) is one statement, its answer remembered
for at most ``TOKEN_CACHE_SECONDS`` (1 s) and never past the token's expiry. A logout, a
revocation or a deactivation made in this process forgets every remembered answer when it
is made and again when its transaction commits, so here it counts from the next request;
made in another process (another ``tendering serve``, the CLI), it counts within that
second. The trade-off: a bidder's burst of requests costs one lookup a second instead of
one each (no pool checkout, no round trip), for a bound of one second on a revocation
elsewhere.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode

__all__ = [
    "TOKEN_CACHE_SECONDS",
    "TokenProblem",
    "csrf_token_for",
    "forget_resolved_tokens",
    "hash_token",
    "issue_token",
    "resolve_token_once",
    "revoke_token",
    "revoke_user_tokens",
]

TOKEN_CACHE_SECONDS = 1.0  # the bound for a revocation made in another process
_CACHE_LIMIT = 50_000  # tokens remembered at once; past it the cache starts over

TOKEN_PREFIX = "tdr_"  # noqa: S105 - a visible prefix so leaked tokens are recognisable


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(token: str) -> str:
    """The CSRF token that goes with a session token (the signed double-submit pattern).

    Derived from the session token, which is 256 random bits kept in an HttpOnly cookie: a
    page of this platform gets it from the readable ``tendering_csrf`` cookie or the login
    response, another site can neither read nor compute it. Distinct from ``hash_token`` so
    the stored token hash never travels.
    """
    return hashlib.sha256(b"tendering-csrf-v1|" + token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenProblem:
    """Why a presented token was not accepted (shown to the caller as it is).

    ``status`` is 401 (log in again) or 403 (the login is fine, the request is not: CSRF).
    """

    code: ErrorCode
    message: str
    status: int = 401


async def issue_token(session: AsyncSession, *, user_id: int, hours: int) -> tuple[str, str]:
    """Store a new token for ``user_id``; returns (token, expires_at RFC 3339)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = (
        await session.execute(
            text(
                "INSERT INTO api_token (token_hash, user_id, created_at, expires_at)"
                " VALUES (:h, :u, clock_timestamp(), clock_timestamp() + :ttl)"
                " RETURNING expires_at"
            ),
            {"h": hash_token(token), "u": user_id, "ttl": timedelta(hours=hours)},
        )
    ).one()
    return token, rfc3339(row.expires_at)


class _Resolved:
    """The remembered answers: token hash -> (actor, monotonic deadline)."""

    def __init__(self) -> None:
        self.actors: dict[str, tuple[Actor, float]] = {}
        self.generation = 0  # moved by every forget: a lookup begun before it is not kept

    def forget(self) -> None:
        self.actors.clear()
        self.generation += 1


_resolved = _Resolved()


def forget_resolved_tokens() -> None:
    """Forget every remembered token answer (a token or a user changed)."""
    _resolved.forget()


def _forget_now_and_at_commit(session: AsyncSession) -> None:
    # Now, and again once the change is visible: a lookup that read the old row before the
    # commit must not be remembered past it.
    _resolved.forget()
    event.listen(session.sync_session, "after_commit", lambda _: _resolved.forget(), once=True)


async def revoke_token(session: AsyncSession, token: str) -> None:
    _forget_now_and_at_commit(session)
    await session.execute(
        text(
            "UPDATE api_token SET revoked_at = clock_timestamp()"
            " WHERE token_hash = :h AND revoked_at IS NULL"
        ),
        {"h": hash_token(token)},
    )


async def revoke_user_tokens(
    session: AsyncSession, user_id: int, *, except_token: str | None = None
) -> None:
    """Log out every token of ``user_id`` (on deactivation), or all but ``except_token``."""
    _forget_now_and_at_commit(session)
    await session.execute(
        text(
            "UPDATE api_token SET revoked_at = clock_timestamp()"
            " WHERE user_id = :u AND revoked_at IS NULL AND token_hash <> :keep"
        ),
        {"u": user_id, "keep": hash_token(except_token) if except_token else ""},
    )


_RESOLVE = text(
    """
    SELECT u.id, u.username, u.role, u.is_active, u.organization_id, o.kind,
           t.revoked_at IS NOT NULL AS revoked, t.expires_at <= clock_timestamp() AS expired,
           extract(epoch FROM t.expires_at - clock_timestamp())::float8 AS remaining
    FROM api_token t
    JOIN app_user u ON u.id = t.user_id
    JOIN organization o ON o.id = u.organization_id
    WHERE t.token_hash = :h
    """
)


async def resolve_token_once(engine: AsyncEngine, token: str) -> Actor | TokenProblem:
    """The actor a login token stands for, or why it stands for none: remembered for at
    most ``TOKEN_CACHE_SECONDS`` (see the module), else one statement on a pooled connection
    in autocommit (a read of committed rows needs no BEGIN or ROLLBACK)."""
    key = hash_token(token)
    began = time.monotonic()
    known = _resolved.actors.get(key)
    if known is not None and known[1] > began:
        return known[0]
    generation = _resolved.generation
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = (await connection.execute(_RESOLVE, {"h": key})).one_or_none()
    found = _judge(row)
    if isinstance(found, Actor) and row is not None and generation == _resolved.generation:
        if len(_resolved.actors) >= _CACHE_LIMIT:
            _resolved.actors.clear()
        lasts = min(TOKEN_CACHE_SECONDS, float(row.remaining))
        _resolved.actors[key] = (found, began + lasts)
    return found


def _judge(row: Any) -> Actor | TokenProblem:
    if row is None:
        return TokenProblem(
            ErrorCode.AUTH_TOKEN_INVALID, "This login token is not valid; log in again."
        )
    if not row.is_active:
        return TokenProblem(
            ErrorCode.AUTH_USER_DISABLED, "This user account has been deactivated; ask an admin."
        )
    if row.revoked:
        return TokenProblem(
            ErrorCode.AUTH_TOKEN_REVOKED, "This login token was logged out; log in again."
        )
    if row.expired:
        return TokenProblem(
            ErrorCode.AUTH_TOKEN_EXPIRED, "This login token has expired; log in again."
        )
    return Actor(
        user_id=row.id,
        username=row.username,
        role=Role(row.role),
        organization_id=row.organization_id,
        organization_kind=OrgKind(row.kind),
    )
