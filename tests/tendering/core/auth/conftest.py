from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tendering.core.auth.models import Role

VALID_CREDIT_CODE = "91350100M000100Y43"


@pytest.fixture
async def admin_headers(people: Any, login: Any) -> dict[str, str]:
    admin = await people.user(Role.ADMIN)
    return await login(admin)


@pytest.fixture
def audit_actions(engine: Any) -> Any:
    """``await audit_actions()``: the global stream's actions in order."""

    async def _actions() -> list[tuple[str, str]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT action, actor FROM audit_event WHERE stream = 'global' ORDER BY seq")
            )
            return [(r.action, r.actor) for r in rows]

    return _actions
