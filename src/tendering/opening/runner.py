"""Opening a lot's bids in the background, with the rebuilt key held in memory only.

The k-th custodian's request rebuilds the key and commits the opening as ``opening``; it then
hands the key to this process's :class:`OpeningRunner` and answers at once, so a lot of many
large bids is not opened inside one HTTP request and one long transaction. The runner opens
the bids a few at a time (two per core) and records the results in short transactions as
they come (one per bid when bids are slow to open, the ones done meanwhile together when
they are quick), so watchers see them live; then it decides 开标 or 流标 and writes the signed
record. The key never leaves the process: not through Redis to a worker, not into a table.

While it runs, the runner beats ``opening.heartbeat_at``. If it fails, it puts the opening
back to waiting for custodians; if its process dies, the sweeper (:mod:`.jobs`) does so once
the heartbeat is stale. Every step first checks, under the row's lock, that the opening is
still running, so a runner the sweeper gave up on stops instead of racing a new one.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from litestar import Litestar
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.bids import LotTerms, StoredBid, lot_terms
from tendering.core.auth.actor import Actor
from tendering.core.blobs import BlobStore
from tendering.core.db import session_scope
from tendering.core.deps import platform_of
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey
from tendering.opening import ceremony, opener, service
from tendering.opening.events import add_event
from tendering.opening.live import Announcer

__all__ = [
    "HEARTBEAT_SECONDS",
    "RUNNER_STATE_KEY",
    "STALE_SECONDS",
    "OpeningRunner",
    "start_runner",
    "stop_runner",
]

log = logging.getLogger("tendering.opening")

RUNNER_STATE_KEY = "opening_runner"
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60  # twelve missed beats: the process is gone, not busy


class OpeningStopped(Exception):
    """The opening is no longer running (the sweeper put it back to waiting)."""


@dataclass(frozen=True)
class _Job:
    lot_code: str
    lot_id: int
    actor: Actor


class OpeningRunner:
    """The openings this process is running."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        platform_key: PlatformKey,
        store: BlobStore,
        announcer: Announcer,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.platform_key = platform_key
        self.store = store
        self.announcer = announcer
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def start(
        self, *, lot_code: str, lot_id: int, private_key: X25519PrivateKey, actor: Actor
    ) -> None:
        """Open the lot's bids in the background (call after the k-th share committed)."""
        job = _Job(lot_code=lot_code, lot_id=lot_id, actor=actor)
        task = asyncio.create_task(self._run(job, private_key), name=f"opening {lot_code}")
        self._tasks[lot_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(lot_id, None))

    async def close(self) -> None:
        """Shutting down: stop every opening and put it back to waiting for custodians."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: _Job, private_key: X25519PrivateKey) -> None:
        heartbeat = asyncio.create_task(self._beat(job.lot_id))
        try:
            await self._open(job, private_key)
        except OpeningStopped:
            log.warning("opening of %s stopped: it is no longer running", job.lot_code)
        except asyncio.CancelledError:
            await asyncio.shield(self._interrupt(job, "平台停止运行 (the platform was stopped)"))
            raise
        except Exception:
            log.exception("opening of %s failed", job.lot_code)
            await self._interrupt(job, "平台内部错误 (a platform error stopped the opening)")
        finally:
            heartbeat.cancel()
            del private_key  # Python cannot wipe memory; drop the last reference at once

    async def _open(self, job: _Job, private_key: X25519PrivateKey) -> None:
        async with self._step(job) as session:
            terms = await lot_terms(session, job.lot_code)
            todo, done = await opener.bids_to_open(
                session, job.lot_id, platform_key=self.platform_key
            )
            await add_event(
                session, job.lot_id, "opening_bids", {"bids": len(todo) + done, "opened": done}
            )
        opened: asyncio.Queue[tuple[StoredBid, opener.OpenedBid]] = asyncio.Queue()
        decrypting = self._decrypt_all(todo, terms, private_key, opened)
        try:
            await self._record_as_they_come(job, terms, len(todo), opened, decrypting)
        finally:
            for task in decrypting:
                task.cancel()
        async with self._step(job) as session:
            lot = await ceremony.lot_of(session, job.lot_id)
            decoys = await opener.finish_opening(
                session,
                terms=terms,
                lot=lot,
                actor=job.actor,
                platform_key=self.platform_key,
                store=self.store,
            )
        for sha256 in decoys:  # their rows are gone with the commit; now their files
            await asyncio.to_thread(self.store.path(sha256).unlink, missing_ok=True)

    def _decrypt_all(
        self,
        todo: list[StoredBid],
        terms: LotTerms,
        private_key: X25519PrivateKey,
        opened: asyncio.Queue[tuple[StoredBid, opener.OpenedBid]],
    ) -> list[asyncio.Task[None]]:
        """Open the bids in threads, two per core, each put on ``opened`` when done: a
        small bid spends about half its time waiting for its plaintext's fsync, so one
        per core left the cores idle (300 bids of 1 MB and 10 of 100 MB: 13.6 s with one
        per core, 11.0 s with two, on two cores)."""
        gate = asyncio.Semaphore(2 * (os.cpu_count() or 1))

        async def decrypt(bid: StoredBid) -> None:
            async with gate:
                result = await asyncio.to_thread(
                    opener.decrypt_bid,
                    bid,
                    terms=terms,
                    private_key=private_key,
                    store=self.store,
                    secrecy=Secrecy.of(self.platform_key),
                )
            await opened.put((bid, result))

        return [asyncio.create_task(decrypt(bid)) for bid in todo]

    async def _record_as_they_come(
        self,
        job: _Job,
        terms: LotTerms,
        expected: int,
        opened: asyncio.Queue[tuple[StoredBid, opener.OpenedBid]],
        decrypting: list[asyncio.Task[None]],
    ) -> None:
        recorded = 0
        while recorded < expected:
            batch = [await _next(opened, decrypting)]
            while not opened.empty():  # what finished meanwhile shares one transaction
                batch.append(opened.get_nowait())
            async with self._step(job) as session:
                await opener.record_results(
                    session, batch, terms=terms, actor=job.actor, platform_key=self.platform_key
                )
            recorded += len(batch)

    @asynccontextmanager
    async def _step(self, job: _Job) -> AsyncIterator[AsyncSession]:
        """One short transaction of the running opening, under the opening row's lock; it
        stops the runner if the opening no longer runs (the sweeper put it back)."""
        async with self.announcer.transaction(self.sessionmaker) as session:
            if await service.lock_running(session, job.lot_id) is None:
                raise OpeningStopped(job.lot_code)
            yield session

    async def _beat(self, lot_id: int) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                async with session_scope(self.sessionmaker) as session:
                    if not await service.beat(session, lot_id):
                        return
            except Exception:  # a missed beat is not fatal; twelve are
                log.exception("opening heartbeat of lot %s failed", lot_id)

    async def _interrupt(self, job: _Job, reason: str) -> None:
        try:
            async with self.announcer.transaction(self.sessionmaker) as session:
                await service.interrupt_opening(
                    session, lot_id=job.lot_id, reason=reason, actor=job.actor
                )
        except Exception:  # the sweeper resets it once the heartbeat is stale
            log.exception("could not put the opening of %s back to waiting", job.lot_code)


async def _next(
    opened: asyncio.Queue[tuple[StoredBid, opener.OpenedBid]], decrypting: list[asyncio.Task[None]]
) -> tuple[StoredBid, opener.OpenedBid]:
    """The next opened bid; raises what a decryption raised instead of waiting forever."""
    getting = asyncio.ensure_future(opened.get())
    while True:
        failed = [t for t in decrypting if t.done() and not t.cancelled() and t.exception()]
        if failed:
            getting.cancel()
            raise failed[0].exception()  # type: ignore[misc]
        done, _ = await asyncio.wait(
            [getting, *(t for t in decrypting if not t.done())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if getting in done:
            return getting.result()


async def start_runner(app: Litestar) -> None:
    """App start-up: this process's runner, publishing through its own Redis client."""
    platform = platform_of(app.state)
    settings = platform.settings
    app.state[RUNNER_STATE_KEY] = OpeningRunner(
        platform.sessionmaker,
        platform_key=platform.key,
        store=platform.blobs,
        announcer=Announcer(
            Redis.from_url(settings.concrete_redis_url), settings.async_database_url
        ),
    )


async def stop_runner(app: Litestar) -> None:
    runner: OpeningRunner | None = app.state.get(RUNNER_STATE_KEY)
    if runner is not None:
        await runner.close()
        await runner.announcer.redis.aclose()
