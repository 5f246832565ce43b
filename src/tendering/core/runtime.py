"""Running the platform: the web server and the job worker on one event loop.

``run_server(app, settings, with_worker=True)`` serves ``app`` with uvicorn and,
for the embedded default, runs the arq worker beside it. SIGINT (Ctrl-C) and SIGTERM stop
the server (open requests finish), then the worker (running jobs are cancelled; arq retries
them later, and jobs are idempotent), then return, so the caller can stop the embedded
servers. A second Ctrl-C stops at once without waiting for open requests.

The kernel imports no context: the caller (``tendering/runtime.py``) composes the app and
registers every context's jobs (``app.register_contexts``) before calling these.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
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
    "SWITCH_INTERVAL",
    "configure_logging",
    "pending_migrations",
    "public_url",
    "run_server",
    "run_worker",
    "sigterm_as_exit",
    "tune_interpreter",
]

log = logging.getLogger("tendering.runtime")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def configure_logging(level: int = logging.INFO) -> None:
    """Our own and arq's messages on stderr (uvicorn configures its own loggers)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every pg_ctl call


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


async def _stop_worker(worker: Worker, task: asyncio.Task[None]) -> None:
    await worker.close()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _worker(settings: Settings) -> Worker:
    return Worker(**WorkerSettings.build(settings), handle_signals=False)


# How long a thread may keep the GIL while another waits for it (CPython's default: 5 ms).
# The event loop runs Python almost all the time; the threads beside it (an opening's
# decryption, an upload's hashing and writes) let go of the GIL at each C call, 30-odd times
# per MiB, and each time waited up to 5 ms to get it back while the loop served requests.
# Four threads opening 200 bids of 1 MB beside one busy Python thread took 13 s at 5 ms and
# 2.3 s at 0.5 ms (1.1 s with nothing beside them, either way).
SWITCH_INTERVAL = 0.0005


def tune_interpreter() -> None:
    """Settings of the interpreter for a serving process (see ``SWITCH_INTERVAL``)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


async def run_server(app: Litestar, settings: Settings, *, with_worker: bool) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; with ``with_worker`` the arq worker (every job
    registered so far) runs alongside."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="info",
        server_header=False,
    )
    server = _Server(config)

    def on_signal(sig: signal.Signals) -> None:
        if server.should_exit and sig == signal.SIGINT:
            server.force_exit = True
        server.should_exit = True
        log.info("%s received: stopping", sig.name)

    worker = _worker(settings) if with_worker else None
    task: asyncio.Task[None] | None = None
    with _signal_handlers(on_signal):
        if worker is not None:
            task = asyncio.create_task(worker.async_run())
            task.add_done_callback(lambda t: _worker_ended(t, server))
        try:
            await server.serve()
        finally:
            if worker is not None and task is not None:
                log.info("stopping the job worker")
                await _stop_worker(worker, task)


def _worker_ended(task: asyncio.Task[None], server: uvicorn.Server) -> None:
    if task.cancelled() or server.should_exit:
        return
    # The in-process worker must not die silently: stop the whole platform instead.
    log.error("the job worker stopped unexpectedly: %r; stopping", task.exception())
    server.should_exit = True


async def run_worker(settings: Settings) -> None:
    """Run the arq worker with every job registered so far until SIGINT/SIGTERM
    (``tendering worker``)."""
    worker = _worker(settings)
    stopped = asyncio.Event()
    with _signal_handlers(lambda sig: stopped.set()):
        task = asyncio.create_task(worker.async_run())
        waiter = asyncio.create_task(stopped.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        log.info("stopping the job worker")
        await _stop_worker(worker, task)
