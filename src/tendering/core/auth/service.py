"""Use cases of auth: organizations, users, logging in and out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.passwords import hash_password, needs_rehash, verify_password
from tendering.core.auth.tokens import issue_token, revoke_token
from tendering.core.errors import Conflict, InvalidInput, Unauthorized

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "create_organization",
    "create_user",
    "find_organization",
    "log_in",
    "log_out",
]

MIN_PASSWORD_LENGTH = 8


async def find_organization(session: AsyncSession, code: str) -> Organization | None:
    return (
        await session.execute(select(Organization).where(col(Organization.code) == code))
    ).scalar_one_or_none()


async def create_organization(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    kind: OrgKind,
    region: str = "",
    credit_code: str | None = None,
    actor: Actor = SYSTEM,
) -> Organization:
    if await find_organization(session, code) is not None:
        raise Conflict(f"An organization with code {code!r} already exists.", field="code")
    org = Organization(code=code, name=name, kind=kind, region=region, credit_code=credit_code)
    session.add(org)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="organization.created",
        actor=actor,
        payload={"organization": code, "kind": str(kind), "name": name},
    )
    return org


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    organization: Organization,
    display_name: str | None = None,
    actor: Actor = SYSTEM,
) -> User:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            field="password",
        )
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        organization_id=organization.id,  # type: ignore[arg-type]
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"The username {username!r} is taken.", field="username") from None
    await record(
        session,
        stream=GLOBAL,
        action="user.created",
        actor=actor,
        payload={
            "user": user.id,
            "username": username,
            "role": str(role),
            "organization": organization.code,
        },
    )
    return user


async def log_in(
    session: AsyncSession, *, username: str, password: str, hours: int
) -> tuple[str, str, User]:
    """Checks the password; returns (token, expires_at, user). Same error for any failure."""
    user = (
        await session.execute(select(User).where(col(User.username) == username))
    ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("Wrong username or password.", code="auth.bad_credentials")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    assert user.id is not None
    token, expires_at = await issue_token(session, user_id=user.id, hours=hours)
    return token, expires_at, user


async def log_out(session: AsyncSession, token: str) -> None:
    await revoke_token(session, token)
