"""What every ``tendering`` subcommand needs: settings, a database, one session.

With no ``DATABASE_URL`` a command works on the embedded default, as ``serve`` does: it
starts the private PostgreSQL under the data directory (or joins the one a running
``serve`` already started) and stops it again when done. Only commands that may make a
platform (``serve``, ``migrate``, ``demo``, creating users) create an embedded database
where there is none; the others (``ledger verify``, ``audit verify`` ...) say there is no
database and exit 2, rather than check an empty new one and report it clean.

    with platform_database() as settings:
        run_in_session(settings, work, writes=True)
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

import click
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.core.db import make_engine, make_sessionmaker, session_scope
from tendering.core.embedded import EmbeddedServers, NotInstalled, start_embedded
from tendering.core.errors import PlatformError
from tendering.core.migrate import upgrade
from tendering.core.reports import use_font
from tendering.settings import Settings, SettingsError

__all__ = [
    "CannotRun",
    "embedded_database_exists",
    "embedded_servers",
    "platform_database",
    "platform_settings",
    "run_in_session",
    "run_with_database",
]

T = TypeVar("T")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class CannotRun(click.ClickException):
    """The command cannot run at all (configuration, unreachable database): exit code 2."""

    exit_code = 2


def platform_settings() -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise CannotRun(str(exc)) from None
    use_font(settings.cjk_font)
    return settings


@contextmanager
def embedded_servers(settings: Settings, *, redis: bool) -> Iterator[tuple[Settings, bool]]:
    """``settings`` with concrete URLs, starting the embedded servers for unset ones and
    stopping them on the way out. Yields (settings, whether anything was started)."""
    want_pg = settings.database_url is None
    want_redis = redis and settings.redis_url is None
    if not (want_pg or want_redis):
        yield settings, False
        return
    click.echo(f"starting the embedded servers in {settings.data_dir.resolve()} ...", err=True)
    try:
        started: EmbeddedServers = start_embedded(
            settings.data_dir, postgres=want_pg, redis=want_redis
        )
    except NotInstalled as exc:
        raise CannotRun(str(exc)) from None
    try:
        yield (
            replace(
                settings,
                database_url=started.database_url or settings.database_url,
                redis_url=started.redis_url or settings.redis_url,
            ),
            True,
        )
    finally:
        click.echo("stopping the embedded servers ...", err=True)
        # A second Ctrl-C here would leave PostgreSQL or Redis running: finish the stop.
        # (Only the main thread may set handlers; elsewhere no signal arrives here anyway.)
        in_main = threading.current_thread() is threading.main_thread()
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS if in_main}
        try:
            started.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        click.echo("embedded servers stopped", err=True)


def embedded_database_exists(settings: Settings) -> bool:
    """Whether the data directory holds an embedded PostgreSQL cluster already."""
    return (settings.data_dir / "postgres" / "PG_VERSION").is_file()


@contextmanager
def platform_database(
    settings: Settings | None = None, *, create: bool = False
) -> Iterator[Settings]:
    """Settings whose ``DATABASE_URL`` is concrete: the given one, else the embedded one
    (brought up to the current schema first, as ``serve`` would).

    Without ``DATABASE_URL`` and with no embedded database in the data directory, refuses
    (:class:`CannotRun`, exit code 2) unless ``create``: a command that reads the platform
    must not invent an empty one to read.
    """
    settings = settings or platform_settings()
    if settings.database_url is None and not create and not embedded_database_exists(settings):
        raise CannotRun(
            f"no database: DATABASE_URL is not set and there is no embedded database in "
            f"{settings.data_dir.resolve()} (no postgres/ there). Set DATABASE_URL to the "
            "platform's database, or TENDERING_DATA_DIR to the data directory `tendering "
            "serve` uses. 没有数据库：未设置 DATABASE_URL，数据目录中也没有平台的数据库。"
        )
    with embedded_servers(settings, redis=False) as (ready, started):
        if started:
            upgrade(ready.async_database_url)
        yield ready


def run_in_session(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, writes: bool
) -> T:
    """Run ``work`` with one session; with ``writes``, in one transaction committed at the end.

    Without ``writes`` the session is handed over not yet begun, so ``work`` may open the
    snapshot it needs (e.g. a read-only repeatable-read one). Platform errors and database
    trouble become plain messages.
    """

    async def with_session(maker: async_sessionmaker[AsyncSession]) -> T:
        if writes:
            async with session_scope(maker) as session:
                return await work(session)
        async with maker() as session:
            return await work(session)

    return run_with_database(settings, with_session)


def run_with_database(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    """Run ``work`` on its own event loop with a small engine for one command, disposed
    after; platform errors and database trouble become plain messages."""

    async def main() -> T:
        engine = make_engine(settings.async_database_url, pool_size=1)
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except PlatformError as exc:
        raise click.ClickException(exc.message) from None
    except OSError as exc:
        raise CannotRun(f"cannot reach the database: {exc}") from None
    except DBAPIError as exc:
        reason = str(exc.orig or exc).split("\n", 1)[0]
        raise CannotRun(f"the database refused: {reason}") from None
