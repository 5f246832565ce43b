"""Login, logout and who-am-I; the organization and user directory (admin)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.access import OVERSIGHT_ROLES
from tendering.core.auth.guards import public, requires_login, requires_role
from tendering.core.auth.middleware import CSRF_COOKIE, SESSION_COOKIE
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.same_site import same_site_json
from tendering.core.auth.schemas import (
    LoginRequest,
    LoginResponse,
    Me,
    OrganizationCreate,
    OrganizationRead,
    PasswordChange,
    UserCreate,
    UserRead,
)
from tendering.core.auth.service import (
    change_password,
    create_organization,
    create_user_in,
    deactivate_user,
    list_organizations,
    list_users,
    log_in,
    log_out,
    read_login,
    read_organization,
)
from tendering.core.auth.throttle import LoginKeys, forget_failures, note_failure, refused
from tendering.core.auth.tokens import csrf_token_for
from tendering.core.clients import request_client
from tendering.core.db import DbSession
from tendering.core.deps import AppSettings, CurrentActor, Page, Passwords, Queue
from tendering.core.errors import Inconsistent, Unauthorized
from tendering.core.pagination import OffsetPagination
from tendering.settings import Settings

__all__ = ["OrganizationController", "UserController", "auth_handlers"]


async def _me(session: AsyncSession, user_id: int) -> Me:
    user, org = await read_login(session, user_id)
    if user.id is None:
        raise Inconsistent("user.id is missing")
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        organization=org.code,
        organization_name=org.name,
        organization_kind=org.kind,
    )


def _session_cookies(settings: Settings, token: str, csrf: str) -> list[Cookie]:
    """The HttpOnly session cookie, and the readable CSRF cookie pages echo back."""
    lifetime = settings.token_hours * 3600
    return [
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            max_age=lifetime,
            path="/",
        ),
        # Readable by this site's pages, which echo it in the X-CSRF-Token header.
        Cookie(
            key=CSRF_COOKIE,
            value=csrf,
            httponly=False,
            samesite="strict",
            secure=settings.secure_cookies,
            max_age=lifetime,
            path="/",
        ),
    ]


@post(
    "/api/auth/login",
    tags=["auth"],
    summary="Log in; returns a bearer token and sets the session cookie",
    security=[{}],  # anyone: overrides the document-wide bearer requirement
    opt=public("logging in is how one gets a login"),
    guards=[same_site_json],  # JSON from this site only (login CSRF)
)
async def login(
    data: JSONBody[LoginRequest],
    db_session: DbSession,
    passwords: Passwords,
    settings: AppSettings,
    queue: Queue,  # the login throttle's counters live beside the jobs
    request: Request[Any, Any, Any],  # the client's address, behind trusted proxies
) -> Response[LoginResponse]:
    redis = queue
    address = request_client(request, settings.trusted_proxies)
    keys = LoginKeys.of(settings.queue_name, username=data.username, address=address)
    if redis is not None and (refusal := await refused(redis, keys)) is not None:
        raise refusal
    try:
        token, expires_at, user = await log_in(
            db_session,
            username=data.username,
            password=data.password,
            hours=settings.token_hours,
            passwords=passwords,
        )
    except Unauthorized:
        if redis is not None:
            await note_failure(redis, keys)
        raise
    if redis is not None:
        await forget_failures(redis, keys)
    if user.id is None:
        raise Inconsistent("user.id is missing")
    csrf = csrf_token_for(token)
    body = LoginResponse(
        token=token, expires_at=expires_at, csrf_token=csrf, user=await _me(db_session, user.id)
    )
    cookies = _session_cookies(settings, token, csrf)
    return Response(body, status_code=200, cookies=cookies)


@post("/api/auth/logout", tags=["auth"], guards=[requires_login], status_code=204)
async def logout(
    db_session: DbSession,
    request: Request[Any, Any, Any],  # the login token this request came with ends
) -> Response[None]:
    token = request.scope.get("auth")
    if isinstance(token, str):
        await log_out(db_session, token)
    gone = [Cookie(key=name, value="", max_age=0) for name in (SESSION_COOKIE, CSRF_COOKIE)]
    return Response(None, status_code=204, cookies=gone)


@post(
    "/api/auth/password",
    tags=["auth"],
    guards=[requires_login],
    status_code=204,
    summary="Change one's own password; other logins are logged out",
)
async def password(
    data: JSONBody[PasswordChange],
    db_session: DbSession,
    actor: CurrentActor,
    passwords: Passwords,
    request: Request[Any, Any, Any],  # the login token this request came with stays valid
) -> None:
    token = request.scope.get("auth")
    await change_password(
        db_session,
        actor=actor,
        current_password=data.current_password,
        new_password=data.new_password,
        keep_token=token if isinstance(token, str) else None,
        passwords=passwords,
    )


@get("/api/auth/me", tags=["auth"], guards=[requires_login])
async def me(db_session: DbSession, actor: CurrentActor) -> Me:
    # a request's actor is always a user
    if actor.user_id is None:
        raise Inconsistent("actor.user_id is missing")
    return await _me(db_session, actor.user_id)


def _org_read(org: Organization) -> OrganizationRead:
    return OrganizationRead.model_validate(org, from_attributes=True)


def _user_read(user: User, organization: str) -> UserRead:
    return UserRead(
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        organization=organization,
        is_active=user.is_active,
        created_at=user.created_at,
    )


class OrganizationController(Controller):
    """The directory of organizations (bidders, agencies, the center, bureaus, tenderers)."""

    path = "/api/organizations"
    tags = ["directory"]  # noqa: RUF012

    @post("/", guards=[requires_role(Role.ADMIN)], summary="Register an organization")
    async def create(
        self,
        data: JSONBody[OrganizationCreate],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> OrganizationRead:
        org = await create_organization(
            db_session,
            code=data.code,
            name=data.name,
            kind=data.kind,
            region=data.region,
            credit_code=data.credit_code,
            actor=actor,
        )
        return _org_read(org)

    @get("/", guards=[requires_role(*sorted(OVERSIGHT_ROLES))], summary="List organizations")
    async def index(
        self,
        db_session: DbSession,
        page: Page,
        kind: FromQuery[OrgKind | None] = None,
    ) -> OffsetPagination[OrganizationRead]:
        rows, total = await list_organizations(db_session, page, kind=kind)
        return OffsetPagination([_org_read(o) for o in rows], page.limit, page.offset, total)

    @get(
        "/{code:str}",
        guards=[requires_login],
        summary="One organization (oversight roles: any; others: their own)",
    )
    async def read(
        self, code: FromPath[str], db_session: DbSession, actor: CurrentActor
    ) -> OrganizationRead:
        org = await read_organization(db_session, actor=actor, code=code)
        return _org_read(org)


class UserController(Controller):
    """Logins (admin only)."""

    path = "/api/users"
    tags = ["directory"]  # noqa: RUF012
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012

    @post("/", summary="Create a user in an organization")
    async def create(
        self, data: JSONBody[UserCreate], db_session: DbSession, actor: CurrentActor
    ) -> UserRead:
        user, org = await create_user_in(
            db_session,
            organization_code=data.organization,
            username=data.username,
            password=data.password,
            role=data.role,
            display_name=data.display_name,
            actor=actor,
        )
        return _user_read(user, org.code)

    @get("/", summary="List users")
    async def index(
        self,
        db_session: DbSession,
        page: Page,
        organization: FromQuery[str | None] = None,
        role: FromQuery[Role | None] = None,
    ) -> OffsetPagination[UserRead]:
        rows, total = await list_users(db_session, page, organization=organization, role=role)
        return OffsetPagination([_user_read(u, c) for u, c in rows], page.limit, page.offset, total)

    @post(
        "/{username:str}/deactivate",
        status_code=200,
        summary="Deactivate a user; every login token of theirs stops working",
    )
    async def deactivate(
        self, username: FromPath[str], db_session: DbSession, actor: CurrentActor
    ) -> UserRead:
        user, org = await deactivate_user(db_session, username=username, actor=actor)
        return _user_read(user, org.code)


auth_handlers = [login, logout, password, me, OrganizationController, UserController]
