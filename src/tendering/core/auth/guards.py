"""Route guards. Every route has one or is marked public; object-level checks live in
services (``access.py``).

    @get("/deposits", guards=[requires_role(Role.STAFF, Role.SUPERVISOR)])
    async def deposits(request: Request[Any, Any, Any]) -> ...:
        actor = current_actor(request)

    @get("/api/notices", opt=public("anyone may read published notices"))
    async def notices() -> ...: ...

A test walks every route of the app and fails on one with neither.
"""

from __future__ import annotations

from typing import Any, NoReturn

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.auth.tokens import TokenProblem
from tendering.core.errors import ErrorCode, Forbidden, PlatformError, Unauthorized

__all__ = ["PUBLIC_OPT", "current_actor", "public", "requires_login", "requires_role"]

PUBLIC_OPT = "public"


def public(reason: str) -> dict[str, Any]:
    """Route ``opt`` marking a deliberately public route, with why (for the guard check)."""
    if not reason.strip():
        raise ValueError("say why the route is public")
    return {PUBLIC_OPT: reason}


_ROLE_NAMES = {
    Role.BIDDER: "投标人 bidder",
    Role.STAFF: "交易中心工作人员 staff",
    Role.SUPERVISOR: "监督人员 supervisor",
    Role.AUCTIONEER: "拍卖主持人 auctioneer",
    Role.EXPERT: "评标专家 expert",
    Role.AGENCY: "代理机构 agency",
    Role.ADMIN: "管理员 admin",
}


def _refuse(connection: ASGIConnection[Any, Any, Any, Any], error: PlatformError) -> NoReturn:
    """Raise ``error``; on a WebSocket as a close code 4401/4403 with the error code as the
    reason (a close reason holds at most 123 bytes, so the long message cannot go there)."""
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        raise WebSocketException(detail=error.code, code=4000 + error.status)
    raise error


def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The logged-in actor, or 401 (403 when a cookie came without its CSRF proof)."""
    user = connection.scope.get("user")
    if isinstance(user, Actor):
        return user
    problem = connection.scope.get("auth")
    if isinstance(problem, TokenProblem):
        error_type = Forbidden if problem.status == 403 else Unauthorized
        _refuse(connection, error_type(problem.message, code=problem.code))
    _refuse(
        connection,
        Unauthorized(
            "Please log in: send 'Authorization: Bearer <token>' from POST /api/auth/login.",
            code=ErrorCode.AUTH_LOGIN_REQUIRED,
        ),
    )


# Guards are coroutines although they do no I/O: Litestar runs a plain function guard in a
# worker thread, two thread hops on every request (about a fifth of a refused bid's CPU in
# bench/auction_hot.py's race).


async def requires_login(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    current_actor(connection)


def requires_role(*roles: Role) -> Guard:
    """A guard admitting only users whose role is one of ``roles``."""
    allowed = frozenset(roles)
    names = ", ".join(_ROLE_NAMES[r] for r in roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = current_actor(connection)
        if actor.role not in allowed:
            _refuse(
                connection,
                Forbidden(
                    f"This needs the role {names}; you are logged in as "
                    f"{_ROLE_NAMES[actor.role] if actor.role else 'system'}.",
                    code=ErrorCode.AUTH_ROLE_REQUIRED,
                    details={"required": sorted(allowed), "role": actor.role},
                ),
            )

    guard.__name__ = f"requires_role_{'_'.join(sorted(allowed))}"
    return guard
