"""Running the platform: the web server and the job worker on one event loop.

``run_server(app, settings, with_worker=True)`` serves ``app`` with uvicorn and,
for the embedded default, runs the arq worker beside it. SIGINT (Ctrl-C) and SIGTERM stop
the server (open requests finish), then the worker (running jobs are cancelled; arq retries
them later, and jobs are idempotent), then return, so the caller can stop the embedded
servers. A second Ctrl-C stops at once without waiting for open requests.

A lost Redis stops neither: arq's worker ends with a connection error when its Redis goes
away, so :func:`supervise_worker` closes what is left of it and starts a new one after a
backoff (``BACKOFF_FIRST`` doubling to ``BACKOFF_MAX``) until Redis answers again; the
server keeps serving meanwhile (what needs Redis degrades: live channels poll the database,
an enqueue that fails is left to the sweeper).

The kernel imports no context: the caller (``tendering/runtime.py``) composes the app and
registers every context's jobs (``app.register_contexts``) before calling these.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Generator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import uvicorn
from alembic.script import ScriptDirectory
from arq.worker import Worker
from litestar import Litestar

from tendering.core.jobs import WorkerSettings
from tendering.core.migrate import alembic_config
from tendering.settings import Settings

__all__ = [
    "configure_logging",
    "pending_migrations",
    "public_url",
    "run_server",
    "run_worker",
    "server_config",
    "sigterm_as_exit",
    "supervise_worker",
]

log = logging.getLogger("tendering.runtime")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def configure_logging(level: int = logging.INFO) -> None:
    """Our own and arq's messages on stderr (uvicorn configures its own loggers)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def public_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Until the loop takes over, SIGTERM raises SystemExit so ``finally`` blocks run
    (the default would kill the process and leave the embedded servers running)."""

    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def pending_migrations(settings: Settings) -> list[str]:
    """Revisions between the database's current one and head (empty when up to date)."""
    script = ScriptDirectory.from_config(alembic_config(settings.async_database_url))

    async def current() -> set[str]:
        plain = "postgresql://" + settings.async_database_url.split("://", 1)[1]
        conn = await asyncpg.connect(plain)
        try:
            exists = await conn.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
            if not exists:
                return set()
            return {r[0] for r in await conn.fetch("SELECT version_num FROM alembic_version")}
        finally:
            await conn.close()

    heads = set(script.get_heads())
    have = asyncio.run(current())
    if have == heads:
        return []
    lowers: list[str | None] = list(have) or [None]
    pending: list[str] = []
    for lower in lowers:
        for rev in script.iterate_revisions("heads", lower):
            if rev.revision not in pending:
                pending.append(rev.revision)
    return pending


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``run_server`` owns the signals so the
    worker and the embedded servers stop after it (uvicorn would re-raise SIGTERM at
    the end and kill the process before they do)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.contextmanager
def _signal_handlers(on_signal: Callable[[signal.Signals], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        yield
    finally:
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)


async def _close_worker(worker: Worker) -> None:
    """Close ``worker`` even when its Redis is gone: arq's ``close`` then raises before it
    runs ``on_shutdown``, which would leave the database engine open."""
    try:
        await worker.close()
        return
    except Exception as error:  # Redis gone: the connection errors of redis-py and OSError
        log.info("closing the job worker without its Redis (%s)", error)
    if worker.on_shutdown is not None:
        try:
            await worker.on_shutdown(worker.ctx)
        except Exception:
            log.exception("the job worker's shutdown failed")
    pool, worker._pool = worker._pool, None
    if pool is not None:
        with contextlib.suppress(Exception):
            await pool.close(close_connection_pool=True)


async def _stop_worker(worker: Worker, task: asyncio.Task[None]) -> None:
    await _close_worker(worker)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _worker(settings: Settings) -> Worker:
    return Worker(**WorkerSettings.build(settings), handle_signals=False)


BACKOFF_FIRST = 0.5  # seconds before the first reconnection
BACKOFF_MAX = 30.0
# A worker that ran this long before it failed was healthy: start the backoff over.
_HEALTHY_SECONDS = 60.0


async def supervise_worker(settings: Settings, stopping: asyncio.Event) -> None:
    """Run the arq worker until ``stopping`` is set, starting a new one with backoff
    whenever it ends on its own (its Redis went away, or was not there yet)."""
    loop = asyncio.get_running_loop()
    delay = BACKOFF_FIRST
    while not stopping.is_set():
        worker = _worker(settings)
        started = loop.time()
        task = asyncio.create_task(worker.async_run())
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if stopping.is_set():
            log.info("stopping the job worker")
            await _stop_worker(worker, task)
            return
        error = None if task.cancelled() else task.exception()
        await _stop_worker(worker, task)
        if loop.time() - started > _HEALTHY_SECONDS:
            delay = BACKOFF_FIRST
        log.warning("the job worker stopped (%r); starting it again in %.1f s", error, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
        delay = min(delay * 2, BACKOFF_MAX)


def server_config(app: Litestar, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for ``app``. Its own ``X-Forwarded-For`` handling is off: it
    would believe the header from 127.0.0.1 by default and overwrite the client address;
    only ``core/clients.py`` reads it, and only from ``TENDERING_TRUSTED_PROXIES``."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="info",
        server_header=False,
        proxy_headers=False,
    )


async def run_server(app: Litestar, settings: Settings, *, with_worker: bool) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; with ``with_worker`` the arq worker (every job
    registered so far) runs alongside."""
    server = _Server(server_config(app, settings))

    def on_signal(sig: signal.Signals) -> None:
        if server.should_exit and sig == signal.SIGINT:
            server.force_exit = True
        server.should_exit = True
        log.info("%s received: stopping", sig.name)

    stopping = asyncio.Event()
    task: asyncio.Task[None] | None = None
    with _signal_handlers(on_signal):
        if with_worker:
            task = asyncio.create_task(supervise_worker(settings, stopping))
        try:
            await server.serve()
        finally:
            if task is not None:
                stopping.set()
                await task


async def run_worker(settings: Settings) -> None:
    """Run the arq worker with every job registered so far until SIGINT/SIGTERM
    (``tendering worker``); a lost Redis is waited for, not fatal."""
    stopping = asyncio.Event()
    with _signal_handlers(lambda sig: stopping.set()):
        await supervise_worker(settings, stopping)
