from __future__ import annotations

from sqlalchemy import text

from tendering.core.auth.models import Role
from tendering.core.auth.tokens import csrf_token_for, hash_token


async def test_only_the_tokens_hash_is_stored(client, people, login, engine):
    staff = await people.user(Role.STAFF)
    token = (await login(staff))["Authorization"].removeprefix("Bearer ")
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT token_hash FROM api_token"))).scalars().all()
    assert stored == [hash_token(token)]
    assert token not in stored


def test_the_csrf_token_is_neither_the_token_nor_its_stored_hash():
    token = "tdr_example"
    assert csrf_token_for(token) not in {token, hash_token(token)}
    assert csrf_token_for(token) == csrf_token_for(token)
    assert csrf_token_for(token) != csrf_token_for("tdr_other")
