from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq.jobs import SerializationError
from arq.worker import Worker
from sqlalchemy import text

from tendering.core import jobs
from tendering.core.signing import load_platform_key
from tendering.settings import Settings


@pytest.fixture
def job_settings(settings: Settings) -> Settings:
    """A queue of its own, so nothing else's jobs run here."""
    return replace(settings, queue_name=f"tendering-test-{secrets.token_hex(4)}")


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register test jobs into empty registries that are restored afterwards."""
    monkeypatch.setattr(jobs, "_FUNCTIONS", {})
    monkeypatch.setattr(jobs, "_CRON", {})
    monkeypatch.setattr(jobs, "_SWEEPERS", {})


async def run_burst(settings: Settings, **overrides: Any) -> Worker:
    """A worker that runs what is queued now, then returns."""
    options = {**jobs.WorkerSettings.build(settings), "cron_jobs": [], **overrides}
    worker = Worker(**options, burst=True, handle_signals=False, poll_delay=0.05)
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker


async def test_a_job_enqueued_twice_with_the_same_key_runs_once(job_settings):
    calls: list[int] = []

    async def publish_notice(ctx: dict[str, Any], notice_id: int) -> int:
        calls.append(notice_id)
        return notice_id

    jobs.register(publish_notice)
    queue = await jobs.connect_queue(job_settings)
    try:
        first = await jobs.enqueue(queue, "publish_notice", 7, key="notice:7")
        second = await jobs.enqueue(queue, "publish_notice", 7, key="notice:7")
        other = await jobs.enqueue(queue, "publish_notice", 8, key="notice:8")
        assert first is not None and other is not None
        assert second is None

        worker = await run_burst(job_settings)

        assert sorted(calls) == [7, 8]
        assert worker.jobs_complete == 2
        # Its result is kept, so a retried request still does not run it again.
        assert await jobs.enqueue(queue, "publish_notice", 7, key="notice:7") is None
    finally:
        await queue.aclose()


async def test_jobs_get_a_sessionmaker_settings_and_the_platform_key(job_settings):
    seen: dict[str, Any] = {}

    async def read_database_clock(ctx: dict[str, Any]) -> None:
        async with ctx["sessionmaker"]() as session:
            seen["one"] = (await session.execute(text("SELECT 1"))).scalar_one()
        seen["queue"] = ctx["settings"].queue_name
        seen["key"] = ctx["platform_key"].public_b64

    jobs.register(read_database_clock)
    queue = await jobs.connect_queue(job_settings)
    try:
        await jobs.enqueue(queue, "read_database_clock", key="clock")
        await run_burst(job_settings)
    finally:
        await queue.aclose()

    assert seen == {
        "one": 1,
        "queue": job_settings.queue_name,
        "key": load_platform_key(job_settings).public_b64,
    }


async def test_one_failing_sweeper_does_not_stop_the_others(job_settings, caplog):
    swept: list[str] = []

    async def broken(ctx: dict[str, Any]) -> int:
        raise RuntimeError("lost connection")

    def counting(name: str, found: int) -> jobs.Sweeper:
        async def sweeper(ctx: dict[str, Any]) -> int:
            swept.append(name)
            return found

        return sweeper

    jobs.register_sweeper("a-broken", broken)
    jobs.register_sweeper("b-notices", counting("b-notices", 2))
    jobs.register_sweeper("c-refunds", counting("c-refunds", 1))
    queue = await jobs.connect_queue(job_settings)
    try:
        job = await jobs.enqueue(queue, "sweep", key="sweep-now")
        assert job is not None
        await run_burst(job_settings)
        assert await job.result(timeout=5) == 3
    finally:
        await queue.aclose()

    assert swept == ["b-notices", "c-refunds"]
    assert "sweeper a-broken failed" in caplog.text


async def test_the_sweeper_runs_on_worker_start(job_settings):
    swept: list[int] = []

    async def due_notices(ctx: dict[str, Any]) -> int:
        swept.append(1)
        return 0

    jobs.register_sweeper("notices", due_notices)
    options = jobs.WorkerSettings.build(job_settings)
    started = datetime.now(UTC)
    await run_burst(job_settings, cron_jobs=options["cron_jobs"])
    ended = datetime.now(UTC)
    # Its schedule (second 30 of every minute) may fire once more if the burst ran across it.
    second_30 = ended.replace(second=30, microsecond=0)
    if second_30 > ended:
        second_30 -= timedelta(minutes=1)
    assert swept == [1] or (started < second_30 <= ended and swept == [1, 1])


async def test_jobs_are_stored_as_json_and_refuse_other_arguments(job_settings):
    queue = await jobs.connect_queue(job_settings)
    try:
        job = await jobs.enqueue(queue, "publish_notice", 7, "县第一中学", key="notice:7")
        assert job is not None
        raw = await queue.get(f"arq:job:{job.job_id}")
        assert json.loads(raw)["a"] == [7, "县第一中学"]

        with pytest.raises(SerializationError) as refused:
            await jobs.enqueue(queue, "publish_notice", datetime.now(UTC), key="notice:8")
        assert "JSON values, not datetime" in str(refused.value.__cause__)
    finally:
        await queue.aclose()


async def test_a_failed_job_keeps_its_error_message(job_settings):
    async def refund_deposit(ctx: dict[str, Any]) -> None:
        raise ValueError("account 6217 is closed")

    jobs.register(refund_deposit)
    queue = await jobs.connect_queue(job_settings)
    try:
        job = await jobs.enqueue(queue, "refund_deposit", key="refund:1")
        assert job is not None
        await run_burst(job_settings, max_tries=1)
        info = await job.result_info()
    finally:
        await queue.aclose()
    assert info is not None and not info.success
    assert info.result == "ValueError: account 6217 is closed"


def test_worker_settings_hold_registered_jobs_and_their_schedules(job_settings):
    async def checkpoint(ctx: dict[str, Any]) -> int:
        return 0

    jobs.register(checkpoint, cron_minute_step=15)
    options = jobs.WorkerSettings.build(job_settings)

    assert [f.name for f in options["functions"]] == ["checkpoint", "sweep"]
    crons = {c.name: c for c in options["cron_jobs"]}
    assert set(crons) == {"cron:checkpoint", "cron:sweep"}
    assert crons["cron:checkpoint"].minute == {0, 15, 30, 45}
    assert options["queue_name"] == job_settings.queue_name


def test_worker_settings_refuse_without_redis(job_settings):
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        jobs.WorkerSettings.build(replace(job_settings, redis_url=None))
