"""Background jobs on arq: the registry, the worker settings, and enqueueing.

A job is ``async def job(ctx, *args)`` that calls a service. Jobs may run twice, late, or
after a restart, so each one re-reads the database and does only what is still due; the
database, not Redis, knows what is due. A sweeper (cron, every minute) calls each context's
``sweep`` to re-enqueue what is due but whose job was lost.

Contexts register their jobs in ``tendering.app.register_contexts``; run the worker with
``tendering worker`` (it registers them first), not bare ``arq``.

    await enqueue(queue, "publish_notice", notice_id, key=f"notice:{notice_id}", at=when)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar

from arq import ArqRedis, create_pool, cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.jobs import Job

from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.reports import use_font
from tendering.core.signing import load_platform_key
from tendering.settings import Settings

__all__ = [
    "Sweeper",
    "WorkerSettings",
    "connect_queue",
    "deserialize",
    "enqueue",
    "redis_settings",
    "register",
    "register_sweeper",
    "serialize",
    "sweep",
]

log = logging.getLogger("tendering.jobs")

JobFunction = Callable[..., Awaitable[Any]]
Sweeper = Callable[[dict[str, Any]], Awaitable[int]]

_FUNCTIONS: dict[str, JobFunction] = {}
_CRON: dict[str, CronJob] = {}
_SWEEPERS: dict[str, Sweeper] = {}


def register(function: JobFunction, *, cron_minute_step: int | None = None) -> None:
    """Make ``function`` runnable by the worker under its ``__name__`` (what ``enqueue``
    takes); with a step, also run it every N minutes. Registering again replaces it."""
    name = function.__name__
    _FUNCTIONS[name] = function
    if cron_minute_step is not None:
        minutes = set(range(0, 60, cron_minute_step))
        # arq would name it by __qualname__; keep the plain name everywhere.
        _CRON[name] = cron(
            function,  # type: ignore[arg-type]
            name=f"cron:{name}",
            minute=minutes,
            unique=True,
            run_at_startup=False,
        )


def register_sweeper(name: str, sweeper: Sweeper) -> None:
    """``sweeper(ctx)`` re-enqueues work whose time has come; returns how many it found."""
    _SWEEPERS[name] = sweeper


async def sweep(ctx: dict[str, Any]) -> int:
    """Runs every registered sweeper; one failing does not stop the others."""
    found = 0
    for name, sweeper in sorted(_SWEEPERS.items()):
        try:
            found += await sweeper(ctx)
        except Exception:
            log.exception("sweeper %s failed", name)
    return found


def _json_default(value: object) -> str:
    # A failed job's result is its exception: keep its message; refuse anything else.
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    raise TypeError(f"job arguments must be JSON values, not {type(value).__name__}")


def serialize(data: dict[str, Any]) -> bytes:
    """Jobs and results are stored as JSON, not arq's default pickle: what is in Redis
    stays readable and loading it can never run code."""
    return json.dumps(data, default=_json_default, ensure_ascii=False).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


async def connect_queue(settings: Settings) -> ArqRedis:
    if settings.redis_url is None:
        raise RuntimeError("REDIS_URL is not set and no embedded Redis was started")
    return await create_pool(
        redis_settings(settings.redis_url),
        default_queue_name=settings.queue_name,
        job_serializer=serialize,
        job_deserializer=deserialize,
    )


async def enqueue(
    queue: ArqRedis,
    function: str,
    *args: Any,
    key: str,
    at: datetime | None = None,
) -> Job | None:
    """Enqueue once per ``key``: a second enqueue of the same key while the first is
    queued or its result kept is a no-op (returns None). The key is deterministic
    (``notice:42``), so a retried request or a sweeper cannot double the work.
    """
    queue_name = queue.default_queue_name
    return await queue.enqueue_job(
        function, *args, _job_id=f"{queue_name}:{function}:{key}", _defer_until=at
    )


async def _startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or Settings.from_env()
    engine = make_engine(settings.async_database_url, pool_size=5)
    ctx["settings"] = settings
    ctx["engine"] = engine
    ctx["sessionmaker"] = make_sessionmaker(engine)
    ctx["platform_key"] = load_platform_key(settings)
    use_font(settings.cjk_font)  # opening records are rendered here


async def _shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        await engine.dispose()


class WorkerSettings:
    """arq settings; ``tendering worker`` fills in Redis, queue and the registered jobs."""

    functions: ClassVar[list[Any]] = []
    cron_jobs: ClassVar[list[CronJob]] = []
    on_startup = _startup
    on_shutdown = _shutdown
    max_tries = 5
    job_timeout = 600
    keep_result = 3600

    @classmethod
    def build(cls, settings: Settings) -> dict[str, Any]:
        """Keyword arguments for ``arq.Worker`` with everything registered so far."""
        if settings.redis_url is None:
            raise RuntimeError("REDIS_URL is not set and no embedded Redis was started")
        return {
            "functions": [
                func(f, name=n)  # type: ignore[arg-type]
                for n, f in {**_FUNCTIONS, "sweep": sweep}.items()
            ],
            "cron_jobs": [
                *_CRON.values(),
                cron(sweep, second=30, unique=True, run_at_startup=True),
            ],
            "on_startup": cls.on_startup,
            "on_shutdown": cls.on_shutdown,
            "redis_settings": redis_settings(settings.redis_url),
            "queue_name": settings.queue_name,
            "job_serializer": serialize,
            "job_deserializer": deserialize,
            "max_tries": cls.max_tries,
            "job_timeout": cls.job_timeout,
            "keep_result": cls.keep_result,
            "ctx": {"settings": settings},
        }
