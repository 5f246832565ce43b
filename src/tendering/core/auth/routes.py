"""Login, logout and who-am-I."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.auth.guards import current_actor, requires_login
from tendering.core.auth.middleware import SESSION_COOKIE
from tendering.core.auth.models import Organization, User
from tendering.core.auth.schemas import LoginRequest, LoginResponse, Me
from tendering.core.auth.service import log_in, log_out
from tendering.core.db import DbSession
from tendering.settings import Settings

__all__ = ["auth_handlers"]


async def _me(session: AsyncSession, user: User) -> Me:
    org = await session.get(Organization, user.organization_id)
    assert org is not None and user.id is not None
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        organization=org.code,
        organization_name=org.name,
        organization_kind=org.kind,
    )


@post("/api/auth/login", tags=["auth"], summary="Log in; returns a bearer token", security=[])
async def login(
    data: JSONBody[LoginRequest], db_session: DbSession, request: Request[Any, Any, Any]
) -> Response[LoginResponse]:
    settings: Settings = request.app.state["settings"]
    token, expires_at, user = await log_in(
        db_session, username=data.username, password=data.password, hours=settings.token_hours
    )
    body = LoginResponse(token=token, expires_at=expires_at, user=await _me(db_session, user))
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.token_hours * 3600,
        path="/",
    )
    return Response(body, status_code=200, cookies=[cookie])


@post("/api/auth/logout", tags=["auth"], guards=[requires_login], status_code=204)
async def logout(db_session: DbSession, request: Request[Any, Any, Any]) -> Response[None]:
    token = request.scope.get("auth")
    if isinstance(token, str):
        await log_out(db_session, token)
    return Response(
        None, status_code=204, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0)]
    )


@get("/api/auth/me", tags=["auth"], guards=[requires_login])
async def me(db_session: DbSession, request: Request[Any, Any, Any]) -> Me:
    actor: Actor = current_actor(request)
    user = await db_session.get(User, actor.user_id)
    assert user is not None
    return await _me(db_session, user)


auth_handlers = [login, logout, me]
