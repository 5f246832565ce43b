"""``tendering users``: run through click against the test database, then log in by the API."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner, Result

from tendering.cli import main
from tendering.core.auth.models import OrgKind, Role


@pytest.fixture
def tendering(database_url, committed):
    """``await tendering("users", "list", input=...)``: the CLI in a thread (it runs its own
    event loop), with DATABASE_URL pointing at the test database."""

    async def _run(*args: str, input: str | None = None, env: dict | None = None) -> Result:
        runner = CliRunner()
        environment = {"DATABASE_URL": database_url, **(env or {})}
        return await asyncio.to_thread(
            runner.invoke, main, list(args), input=input, env=environment
        )

    return _run


async def test_create_admin_prompts_twice_and_creates_the_center(tendering, client, audit_actions):
    result = await tendering(
        "users", "create-admin", "--username", "root-admin", input="s3cret-pass\ns3cret-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat the password" in result.output
    assert "s3cret-pass" not in result.output
    assert "created admin root-admin in CENTER (公共资源交易中心)" in result.output
    login = await client.post(
        "/api/auth/login", json={"username": "root-admin", "password": "s3cret-pass"}
    )
    assert login.status_code == 200
    assert login.json()["user"]["role"] == "admin"
    assert login.json()["user"]["organization_kind"] == "center"
    assert await audit_actions() == [
        ("organization.created", "system:cli"),
        ("user.created", "system:cli"),
    ]


async def test_create_admin_reuses_an_existing_center(tendering, people):
    center = await people.organization(OrgKind.CENTER, code="ZX-001", name="某县公共资源交易中心")
    result = await tendering(
        "users", "create-admin", "--username", "admin2", "--password-stdin", input="long-pass-1\n"
    )
    assert result.exit_code == 0, result.output
    assert f"in {center.code}" in result.output


async def test_mismatched_prompts_ask_again(tendering):
    result = await tendering(
        "users",
        "create-admin",
        "--username",
        "admin3",
        input="first-pass-1\nother-pass-1\nfirst-pass-1\nfirst-pass-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


async def test_create_user_in_an_organization_then_list(tendering, people, client):
    org = await people.organization(OrgKind.BIDDER)
    result = await tendering(
        "users",
        "create",
        "--username",
        "wang.fang",
        "--role",
        "bidder",
        "--organization",
        org.code,
        "--password-stdin",
        input="bidder-pass-1\n",
    )
    assert result.exit_code == 0, result.output
    listing = await tendering("users", "list", "--organization", org.code)
    assert listing.exit_code == 0
    assert listing.output.split("\t")[:4] == ["wang.fang", "bidder", org.code, "active"]
    login = await client.post(
        "/api/auth/login", json={"username": "wang.fang", "password": "bidder-pass-1"}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (
            ["--username", "x y", "--role", "bidder", "--organization", "B"],
            "long-pass-1\n",
            "username",
        ),
        (
            ["--username", "ok-name", "--role", "bidder", "--organization", "B"],
            "short\n",
            "password",
        ),
        (
            ["--username", "ok-name", "--role", "bidder", "--organization", "NOPE"],
            "long-pass-1\n",
            "NOPE",
        ),
        (
            ["--username", "ok-name", "--role", "king", "--organization", "B"],
            "long-pass-1\n",
            "king",
        ),
        (["--username", "ok-name", "--role", "bidder", "--organization", "B"], "\n", "no password"),
    ],
)
async def test_bad_input_is_a_clear_error_not_a_traceback(tendering, args, stdin, words):
    result = await tendering("users", "create", *args, "--password-stdin", input=stdin)
    assert result.exit_code != 0
    assert words in result.output
    assert "Traceback" not in result.output


async def test_a_taken_username_is_refused(tendering, people):
    person = await people.user(Role.BIDDER)
    result = await tendering(
        "users",
        "create",
        "--username",
        person.username,
        "--role",
        "bidder",
        "--organization",
        person.organization.code,
        "--password-stdin",
        input="long-pass-1\n",
    )
    assert result.exit_code == 1
    assert "is taken" in result.output


async def test_a_bad_or_unreachable_database_url_is_said_plainly(tendering):
    bad = await tendering("users", "list", env={"DATABASE_URL": "mysql://x/y"})
    assert bad.exit_code == 2
    assert "DATABASE_URL must start with" in bad.output
    down = await tendering(
        "users", "list", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    assert down.exit_code == 2
    assert "cannot reach the database" in down.output
    assert "Traceback" not in down.output


def test_every_users_command_has_help():
    runner = CliRunner()
    for command in ("create-admin", "create", "list"):
        result = runner.invoke(main, ["users", command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output
