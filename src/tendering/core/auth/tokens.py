"""Login tokens: random, shown once, stored only as their SHA-256, checked per request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.clock import rfc3339
from tendering.core.errors import ErrorCode

__all__ = [
    "TokenProblem",
    "csrf_token_for",
    "hash_token",
    "issue_token",
    "resolve_token",
    "resolve_token_once",
    "revoke_token",
    "revoke_user_tokens",
]

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


async def revoke_token(session: AsyncSession, token: str) -> None:
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
           t.revoked_at IS NOT NULL AS revoked, t.expires_at <= clock_timestamp() AS expired
    FROM api_token t
    JOIN app_user u ON u.id = t.user_id
    JOIN organization o ON o.id = u.organization_id
    WHERE t.token_hash = :h
    """
)


async def resolve_token_once(engine: AsyncEngine, token: str) -> Actor | TokenProblem:
    """:func:`resolve_token` in one round trip, as every authenticated request does it.

    One statement on a pooled connection in autocommit: no BEGIN, no ROLLBACK (a read of
    committed rows needs no transaction of its own). Nothing is cached, so a logout, a
    revocation, a deactivation or an expiry counts from the next request on.
    """
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await resolve_token(connection, token)


async def resolve_token(
    session: AsyncSession | AsyncConnection, token: str
) -> Actor | TokenProblem:
    row = (await session.execute(_RESOLVE, {"h": hash_token(token)})).one_or_none()
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
