"""``tendering serve | worker | migrate | demo``: running the composed platform.

Beside ``app.py`` and ``cli.py`` because it composes: it registers every context
(``app.register_contexts``) and builds the app (``app.create_app``) for the server and the
worker that ``core/runtime.py`` runs, so the kernel imports nothing above it.
"""

from __future__ import annotations

import asyncio
import unicodedata

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.core.cli_support import embedded_servers, platform_settings, run_with_database
from tendering.core.demo import DemoBook, demo_logins, has_demo, run_demo
from tendering.core.errors import Inconsistent
from tendering.core.interpreter import tune_interpreter
from tendering.core.migrate import downgrade, upgrade
from tendering.core.runtime import (
    configure_logging,
    pending_migrations,
    public_url,
    run_server,
    run_worker,
    sigterm_as_exit,
)
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tendering.settings import Settings
from tendering.tenders.cli import end_bidding

__all__ = ["demo", "migrate", "serve", "worker"]


def _migrate(settings: Settings) -> None:
    upgrade(settings.async_database_url)


def _require_current_schema(settings: Settings) -> None:
    pending = pending_migrations(settings)
    if pending:
        raise click.ClickException(
            f"The database schema is behind ({len(pending)} migration(s) to apply: "
            f"{', '.join(reversed(pending))}). Run `tendering migrate` first."
        )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _print_logins(book: DemoBook | None, *, again: bool = False) -> None:
    logins = book.logins if book is not None else demo_logins()
    rows: list[tuple[str, ...]] = [
        ("用户名 username", "密码 password", "角色 role", "单位 organization")
    ]
    rows += [(x.username, x.password, str(x.role), x.organization) for x in logins]
    head = "demo logins (unless changed since)" if again else "demo logins"
    click.echo(f"\n{head}:\n{_table(rows)}")
    for note in book.notes if book is not None else []:
        click.echo(f"- {note}")


# ``tendering.app`` is imported when a command runs, not when ``tendering seal`` starts.


async def _serve(settings: Settings, *, with_worker: bool) -> None:
    from tendering.app import create_app, register_contexts

    tune_interpreter()
    register_contexts()
    await run_server(create_app(settings), settings, with_worker=with_worker)


async def _work(settings: Settings) -> None:
    from tendering.app import register_contexts

    register_contexts()
    await run_worker(settings)


def _fill_demo(settings: Settings, *, on_existing_data: str) -> None:
    from tendering.app import register_contexts

    register_contexts()

    async def fill(maker: async_sessionmaker[AsyncSession]) -> tuple[DemoBook | None, bool]:
        key = load_platform_key(settings)
        book = await run_demo(maker, secrecy=Secrecy.of(key), key=key)
        return book, book is None and await has_demo(maker)

    book, demo_present = run_with_database(settings, fill)
    if book is not None:
        _print_logins(book)
    elif demo_present:
        click.echo("the demo data is already in this database")
        _print_logins(None, again=True)
    else:
        click.echo(on_existing_data)


@click.command()
@click.option(
    "--demo",
    "with_demo",
    is_flag=True,
    help="Fill an empty database with the demo county center first and print its logins.",
)
def serve(with_demo: bool) -> None:
    """Serve the platform on TENDERING_HOST:TENDERING_PORT.

    With no DATABASE_URL/REDIS_URL it starts private PostgreSQL and Redis under
    TENDERING_DATA_DIR, applies the migrations and runs the job worker in this process;
    Ctrl-C stops all of it. With both URLs set it starts nothing, runs no worker (run
    `tendering worker` beside it) and refuses to start on an out-of-date schema (run
    `tendering migrate`). With only one set, it starts the other and runs the worker.
    """
    configure_logging()
    settings = platform_settings()
    # Only our own embedded database is migrated here; a given one by `tendering migrate`.
    own_database = settings.database_url is None
    with sigterm_as_exit(), embedded_servers(settings, redis=True) as (settings, embedded):
        if own_database:
            _migrate(settings)
        else:
            _require_current_schema(settings)
        if with_demo:
            _fill_demo(settings, on_existing_data="the database already has data: no demo added")
        if settings.database_url is None or settings.redis_url is None:
            raise Inconsistent("settings.database_url or settings.redis_url is missing")
        click.echo(
            f"\ntendering serving http://{settings.host}:{settings.port}"
            f"  (API docs: http://{settings.host}:{settings.port}/schema)\n"
            f"  database: {public_url(settings.database_url)}\n"
            f"  redis:    {public_url(settings.redis_url)}\n"
            f"  worker:   {'in this process' if embedded else 'run `tendering worker`'}\n"
            "Press Ctrl-C to stop.\n"
        )
        asyncio.run(_serve(settings, with_worker=embedded))
    click.echo("tendering stopped")


@click.command()
def worker() -> None:
    """Run the background job worker (arq) with every context's jobs and the sweeper.

    Needs DATABASE_URL and REDIS_URL: on the embedded default `tendering serve` runs the
    worker itself. Stops on Ctrl-C/SIGTERM; unfinished jobs run again later.
    """
    settings = platform_settings()
    if settings.database_url is None or settings.redis_url is None:
        raise click.ClickException(
            "tendering worker needs DATABASE_URL and REDIS_URL. On the embedded default "
            "(neither set) `tendering serve` already runs the worker in its own process."
        )
    configure_logging()
    click.echo(
        f"tendering worker: queue {settings.queue_name!r} on {public_url(settings.redis_url)}, "
        f"database {public_url(settings.database_url)}"
    )
    asyncio.run(_work(settings))
    click.echo("worker stopped")


@click.command()
@click.option(
    "--downgrade",
    "down_to",
    metavar="REVISION",
    default=None,
    help="Go down to REVISION instead (e.g. `base`: drops every table).",
)
def migrate(down_to: str | None) -> None:
    """Bring the database schema up to date (Alembic upgrade head).

    With no DATABASE_URL it migrates the embedded database under TENDERING_DATA_DIR.
    """
    settings = platform_settings()
    with sigterm_as_exit(), embedded_servers(settings, redis=False) as (settings, _):
        if settings.database_url is None:
            raise Inconsistent("settings.database_url is missing")
        click.echo(f"database: {public_url(settings.database_url)}")
        if down_to is not None:
            downgrade(settings.async_database_url, down_to)
            click.echo(f"database schema is at {down_to}")
        else:
            _migrate(settings)
            click.echo("database schema is up to date")


@click.group(invoke_without_command=True)
@click.pass_context
def demo(context: click.Context) -> None:
    """Fill an empty database with a realistic county trading center and print its logins.

    Refuses (changing nothing) when the database already holds organizations. With no
    DATABASE_URL it uses the embedded database (migrating it first). Its subcommands help
    a trial on the demo database (`tendering demo end-bidding LOT`).
    """
    if context.invoked_subcommand is not None:
        return
    settings = platform_settings()
    with sigterm_as_exit(), embedded_servers(settings, redis=False) as (settings, embedded):
        if embedded:
            _migrate(settings)
        else:
            _require_current_schema(settings)
        _fill_demo(
            settings,
            on_existing_data=(
                "the database already has organizations: the demo only fills an empty "
                "database, nothing was changed"
            ),
        )


demo.add_command(end_bidding)
