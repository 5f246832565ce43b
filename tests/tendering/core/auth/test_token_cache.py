"""The per-request token check remembers an answer for at most a second, and never past a
logout, revocation or deactivation made in this process, nor past the token's expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.auth.tokens import (
    TOKEN_CACHE_SECONDS,
    TokenProblem,
    issue_token,
    resolve_token_once,
)
from tendering.core.db import make_sessionmaker
from tendering.core.errors import ErrorCode


async def _token(engine, people, role=Role.BIDDER):
    person = await people.user(role)
    async with make_sessionmaker(engine)() as session, session.begin():
        token, _ = await issue_token(session, user_id=person.user.id, hours=1)
    return person, token


async def _code(engine, token):
    found = await resolve_token_once(engine, token)
    return found.code if isinstance(found, TokenProblem) else "ok"


async def test_a_logout_counts_from_the_next_request_with_the_answer_remembered(
    client, people, engine
):
    _, token = await _token(engine, people)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    assert isinstance(await resolve_token_once(engine, token), Actor)  # remembered now
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == ErrorCode.AUTH_TOKEN_REVOKED


async def test_a_deactivation_counts_from_the_next_request(client, people, engine, admin_headers):
    person, token = await _token(engine, people)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    path = f"/api/users/{person.username}/deactivate"
    assert (await client.post(path, headers=admin_headers)).status_code == 200
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == ErrorCode.AUTH_USER_DISABLED


async def test_a_revocation_made_elsewhere_counts_within_the_bound(people, engine):
    person, token = await _token(engine, people)
    assert await _code(engine, token) == "ok"
    # As another process (the CLI, a second server) would: straight in the table.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_token SET revoked_at = clock_timestamp() WHERE user_id = :u"),
            {"u": person.user.id},
        )
    await asyncio.sleep(TOKEN_CACHE_SECONDS + 0.05)
    assert await _code(engine, token) == ErrorCode.AUTH_TOKEN_REVOKED


async def test_an_answer_is_not_remembered_past_the_tokens_expiry(people, engine):
    person, token = await _token(engine, people)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_token SET expires_at = clock_timestamp() + :t WHERE user_id = :u"),
            {"u": person.user.id, "t": timedelta(milliseconds=200)},
        )
    assert await _code(engine, token) == "ok"
    await asyncio.sleep(0.25)  # expired, well within TOKEN_CACHE_SECONDS
    assert await _code(engine, token) == ErrorCode.AUTH_TOKEN_EXPIRED
