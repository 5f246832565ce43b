"""Use cases of auth: organizations, users, logging in and out.

Each change is one function, run in the caller's transaction, with its ``global`` audit
event recorded in that same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import APPEND_CHAINED, GLOBAL, chain_events, record
from tendering.core.auth.access import OVERSIGHT_ROLES, ensure_own_organization, hidden
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.auth.models import Organization, OrgKind, Role, User
from tendering.core.auth.passwords import PasswordChecks, hash_password, needs_rehash
from tendering.core.auth.rules import (
    MIN_PASSWORD_LENGTH,
    ensure_organization_codes,
    ensure_role_fits,
)
from tendering.core.auth.tokens import issue_token, revoke_token, revoke_user_tokens
from tendering.core.errors import (
    Conflict,
    ErrorCode,
    Inconsistent,
    InvalidInput,
    RuleViolation,
    Unauthorized,
)
from tendering.core.pagination import LimitOffset, paginate

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "NewOrganization",
    "change_password",
    "create_organization",
    "create_organizations",
    "create_user",
    "create_user_in",
    "deactivate_user",
    "ensure_center_organization",
    "find_organization",
    "find_user",
    "list_organizations",
    "list_users",
    "log_in",
    "log_out",
    "read_login",
    "read_organization",
]


async def find_organization(session: AsyncSession, code: str) -> Organization | None:
    return (
        await session.execute(select(Organization).where(col(Organization.code) == code))
    ).scalar_one_or_none()


async def find_user(session: AsyncSession, username: str) -> User | None:
    return (
        await session.execute(select(User).where(col(User.username) == username))
    ).scalar_one_or_none()


async def read_login(session: AsyncSession, user_id: int) -> tuple[User, Organization]:
    """A logged-in user and its organization (for "who am I")."""
    row = (
        await session.execute(
            select(User, Organization)
            .join(Organization, col(Organization.id) == col(User.organization_id))
            .where(col(User.id) == user_id)
        )
    ).one()
    return row[0], row[1]


async def read_organization(session: AsyncSession, *, actor: Actor, code: str) -> Organization:
    """One directory entry: oversight roles see any, everyone else only their own (else 404)."""
    org = await find_organization(session, code)
    thing = f"Organization {code}"
    if org is None:
        raise hidden(thing)
    ensure_own_organization(actor, org.id, thing=thing, except_roles=OVERSIGHT_ROLES)
    return org


async def list_organizations(
    session: AsyncSession, page: LimitOffset, *, kind: OrgKind | None = None
) -> tuple[Sequence[Organization], int]:
    """A page of organizations ordered by code, and the total count."""
    query = select(Organization).order_by(col(Organization.code))
    if kind is not None:
        query = query.where(col(Organization.kind) == kind)
    rows, total = await paginate(session, query, page)
    return [org for (org,) in rows], total


async def list_users(
    session: AsyncSession,
    page: LimitOffset,
    *,
    organization: str | None = None,
    role: Role | None = None,
) -> tuple[Sequence[tuple[User, str]], int]:
    """A page of (user, organization code) ordered by username, and the total count."""
    query = (
        select(User, col(Organization.code))
        .join(Organization, col(Organization.id) == col(User.organization_id))
        .order_by(col(User.username))
    )
    if organization is not None:
        query = query.where(col(Organization.code) == organization)
    if role is not None:
        query = query.where(col(User.role) == role)
    rows, total = await paginate(session, query, page)
    return [(user, code) for user, code in rows], total


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
    """Register an organization; 400 for a malformed code, 409 when the code is taken."""
    ensure_organization_codes(code, credit_code)
    taken = Conflict(f"An organization with code {code!r} already exists.", field="code")
    if await find_organization(session, code) is not None:
        raise taken
    org = Organization(code=code, name=name, kind=kind, region=region, credit_code=credit_code)
    session.add(org)
    try:
        # A concurrent insert of the same code passes the check above; the unique index
        # decides, and the savepoint keeps the caller's transaction usable.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise taken from None
    await session.refresh(org)  # created_at comes from the database
    await record(
        session,
        stream=GLOBAL,
        action="organization.created",
        actor=actor,
        payload={"organization": code, "kind": str(kind), "name": name},
    )
    return org


@dataclass(frozen=True, slots=True)
class NewOrganization:
    """An organization for :func:`create_organizations`."""

    code: str
    name: str
    kind: OrgKind
    region: str = ""
    credit_code: str | None = None


_APPEND_EVENTS = text("WITH " + APPEND_CHAINED + " SELECT 1")


async def create_organizations(
    session: AsyncSession, new: Sequence[NewOrganization], *, actor: Actor = SYSTEM
) -> list[Organization]:
    """:func:`create_organization` for many at once (the demo's county of agencies), in
    their order and with the same audit events, in four round trips whatever their number;
    400 for a malformed code, 409 naming a code taken (or given twice) and nothing written."""
    for org in new:
        ensure_organization_codes(org.code, org.credit_code)
    codes = [org.code for org in new]
    twice = next((code for n, code in enumerate(codes) if code in codes[:n]), None)
    taken = (
        twice
        or (
            await session.execute(
                select(col(Organization.code)).where(col(Organization.code).in_(codes)).limit(1)
            )
        ).scalar_one_or_none()
    )
    if taken is not None:
        raise Conflict(f"An organization with code {taken!r} already exists.", field="code")
    try:
        # As in create_organization: a concurrent insert of a code passes the check above.
        async with session.begin_nested():
            made = await session.scalars(
                insert(Organization).returning(Organization, sort_by_parameter_order=True),
                [asdict(org) for org in new],
            )
            orgs = list(made.all())
    except IntegrityError:
        raise Conflict("An organization with one of these codes already exists.") from None
    audit = await chain_events(
        session,
        stream=GLOBAL,
        actor=actor,
        events=[
            (
                "organization.created",
                {"organization": org.code, "kind": str(org.kind), "name": org.name},
            )
            for org in new
        ],
    )
    await session.execute(_APPEND_EVENTS, audit.params)
    return orgs


CENTER_CODE = "CENTER"
CENTER_NAME = "公共资源交易中心"


async def ensure_center_organization(session: AsyncSession, *, actor: Actor) -> Organization:
    """The trading center's organization: the first one of kind center, created if none."""
    center = (
        await session.execute(
            select(Organization)
            .where(col(Organization.kind) == OrgKind.CENTER)
            .order_by(col(Organization.id))
            .limit(1)
        )
    ).scalar_one_or_none()
    if center is not None:
        return center
    return await create_organization(
        session, code=CENTER_CODE, name=CENTER_NAME, kind=OrgKind.CENTER, actor=actor
    )


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    organization: Organization,
    display_name: str | None = None,
    actor: Actor = SYSTEM,
    password_hash: str | None = None,
) -> User:
    """Create a login in ``organization``; 409 when the username is taken.

    ``password_hash``: an Argon2id hash of ``password`` made already (:func:`hash_password`),
    for callers making many logins with one password (the demo); else it is made here.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            field="password",
        )
    ensure_role_fits(role, OrgKind(organization.kind), organization=organization.code)
    taken = Conflict(f"The username {username!r} is taken.", field="username")
    if await find_user(session, username) is not None:
        raise taken
    # Argon2id takes tens of milliseconds of CPU: off the event loop, as logins check it.
    if password_hash is None:
        password_hash = await asyncio.to_thread(hash_password, password)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=password_hash,
        role=role,
        organization_id=organization.id,  # type: ignore[arg-type]
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise taken from None
    await session.refresh(user)  # created_at comes from the database
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


async def create_user_in(
    session: AsyncSession,
    *,
    organization_code: str,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    actor: Actor = SYSTEM,
) -> tuple[User, Organization]:
    """:func:`create_user` with the organization named by its code (400 when unknown)."""
    org = await find_organization(session, organization_code)
    if org is None:
        raise RuleViolation(
            f"There is no organization with code {organization_code!r}; create it first.",
            code=ErrorCode.USER_ORGANIZATION_UNKNOWN,
            field="organization",
        )
    user = await create_user(
        session,
        username=username,
        password=password,
        role=role,
        organization=org,
        display_name=display_name,
        actor=actor,
    )
    return user, org


async def deactivate_user(
    session: AsyncSession, *, username: str, actor: Actor
) -> tuple[User, Organization]:
    """Disable a login and log out every one of its tokens. Doing it twice changes nothing.

    Returns the user and its organization."""
    user = await find_user(session, username)
    if user is None:
        raise hidden(f"User {username}")
    if user.id is not None and user.id == actor.user_id:
        raise Conflict(
            "You cannot deactivate your own account; ask another admin.",
            code=ErrorCode.USER_DEACTIVATE_SELF,
            field="username",
        )
    organization = await session.get(Organization, user.organization_id)
    # a foreign key
    if organization is None:
        raise Inconsistent("organization is missing")
    if not user.is_active:
        return user, organization
    user.is_active = False
    if user.id is None:
        raise Inconsistent("user.id is missing")
    await revoke_user_tokens(session, user.id)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="user.deactivated",
        actor=actor,
        payload={"user": user.id, "username": username},
    )
    return user, organization


async def change_password(
    session: AsyncSession,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    keep_token: str | None,
    passwords: PasswordChecks,
) -> None:
    """A user sets a new password; every other login of theirs is logged out. The hashing
    runs in ``passwords``' threads (429 ``auth.busy`` when they are full)."""
    if actor.user_id is None:
        raise Inconsistent("actor.user_id is missing")
    user = await session.get(User, actor.user_id)
    if user is None:
        raise Inconsistent("user is missing")
    if not await passwords.verify(user.password_hash, current_password):
        raise RuleViolation(
            "The current password is wrong.",
            code=ErrorCode.AUTH_WRONG_PASSWORD,
            field="current_password",
        )
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The new password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            field="new_password",
        )
    if new_password == current_password:
        raise RuleViolation(
            "The new password must differ from the current one.",
            code=ErrorCode.AUTH_SAME_PASSWORD,
            field="new_password",
        )
    user.password_hash = await passwords.hash(new_password)
    await revoke_user_tokens(session, actor.user_id, except_token=keep_token)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="user.password_changed",
        actor=actor,
        payload={"user": actor.user_id, "username": user.username},
    )


async def log_in(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    hours: int,
    passwords: PasswordChecks,
) -> tuple[str, str, User]:
    """Checks the password in ``passwords``' threads (429 ``auth.busy`` when they are full);
    returns (token, expires_at, user). Same error for any failure."""
    user = await find_user(session, username)
    # Nothing is written yet: end the read so that its connection goes back to the pool while
    # the password is checked (~0.1 s, longer in a queue). A login storm would otherwise hold
    # every connection, and every other request would wait for one.
    await session.commit()
    ok = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("Wrong username or password.", code=ErrorCode.AUTH_BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash(password)
    if user.id is None:
        raise Inconsistent("user.id is missing")
    token, expires_at = await issue_token(session, user_id=user.id, hours=hours)
    return token, expires_at, user


async def log_out(session: AsyncSession, token: str) -> None:
    await revoke_token(session, token)
