"""``tendering users``: manage logins from the command line.

    $ tendering users create-admin --username admin          # asks for the password twice
    $ printf '%s\\n' "$PW" | tendering users create --username zhang.wei --role bidder \\
          --organization BID-0001 --password-stdin
    $ tendering users list --role staff

Uses the database of ``DATABASE_URL``, or the embedded one when it is unset (the same
settings as ``tendering serve``). Every change is recorded in the global audit stream with
the actor ``system:cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.auth.schemas import UserCreate
from tendering.core.auth.service import create_user_in, ensure_center_organization, list_users
from tendering.core.cli_support import platform_database, run_in_session
from tendering.core.pagination import LimitOffset

__all__ = ["users"]

CLI_ACTOR = Actor.system("cli")
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]], *, create: bool = False) -> T:
    """Run ``work`` in one transaction on the platform's database (embedded when unset;
    made there only when ``create``: the first administrator may come before any serve)."""
    with platform_database(create=create) as settings:
        return run_in_session(settings, work, writes=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.UsageError("--password-stdin: no password on standard input")
        return line
    typed: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt="Repeat the password"
    )
    return typed


def _checked(**fields: str) -> UserCreate:
    """The same checks as the API (username format, password length, role, code)."""
    try:
        return UserCreate.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise click.UsageError(problems) from None


_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@click.group()
def users() -> None:
    """Create and list users."""


@users.command("create-admin")
@click.option("--username", required=True, help="The admin's login name.")
@click.option("--display-name", default=None, help="Shown in the pages (default: username).")
@_password_stdin
def create_admin(username: str, display_name: str | None, password_stdin: bool) -> None:
    """Create an admin user in the center (creates the center "CENTER" if there is none)."""
    password = _password(password_stdin)
    data = _checked(username=username, password=password, role="admin", organization="CENTER")

    async def work(session: AsyncSession) -> str:
        center = await ensure_center_organization(session, actor=CLI_ACTOR)
        await create_user_in(
            session,
            organization_code=center.code,
            username=data.username,
            password=data.password,
            role=Role.ADMIN,
            display_name=display_name,
            actor=CLI_ACTOR,
        )
        return f"{center.code} ({center.name})"

    where = _run(work, create=True)
    click.echo(f"created admin {username} in {where}")


@users.command("create")
@click.option("--username", required=True, help="The login name.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--organization", required=True, help="The organization's code, e.g. BID-0001.")
@click.option("--display-name", default=None, help="Shown in the pages (default: username).")
@_password_stdin
def create(
    username: str, role: str, organization: str, display_name: str | None, password_stdin: bool
) -> None:
    """Create a user with ROLE in the organization with code ORGANIZATION."""
    password = _password(password_stdin)
    data = _checked(username=username, password=password, role=role, organization=organization)

    async def work(session: AsyncSession) -> None:
        await create_user_in(
            session,
            organization_code=data.organization,
            username=data.username,
            password=data.password,
            role=data.role,
            display_name=display_name,
            actor=CLI_ACTOR,
        )

    _run(work)
    click.echo(f"created {role} {username} in {organization}")


@users.command("list")
@click.option("--organization", default=None, help="Only this organization's users (code).")
@click.option("--role", default=None, type=click.Choice([r.value for r in Role]))
def list_(organization: str | None, role: str | None) -> None:
    """List users: username, role, organization, active or not, display name."""

    async def work(session: AsyncSession) -> list[str]:
        rows, _ = await list_users(
            session,
            LimitOffset(limit=100_000, offset=0),  # the whole directory, for the operator
            organization=organization,
            role=Role(role) if role else None,
        )
        return [
            "\t".join(
                [
                    u.username,
                    u.role,
                    code,
                    "active" if u.is_active else "deactivated",
                    u.display_name,
                ]
            )
            for u, code in rows
        ]

    lines = _run(work)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("no users", err=True)
