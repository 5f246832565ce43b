from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from arq import Retry
from arq.worker import Worker
from sqlalchemy import text

from tendering.core import jobs
from tendering.core.auth.actor import Actor
from tendering.core.db import make_sessionmaker
from tendering.tenders import jobs as tender_jobs
from tendering.tenders.service import schedule_notice

STAFF = Actor.system("test-staff")


async def scheduled_notice(desk, engine, *, due: bool) -> tuple[int, list[str]]:
    """A notice scheduled for an hour from now; ``due`` moves that hour into the past
    (as if it had passed) without touching the database clock."""
    project = await desk.project()
    lots = [await desk.lot(project, 1), await desk.lot(project, 2)]
    start = datetime.now(UTC) + timedelta(hours=1)
    notice_id = await desk.notice(project, lots, start=start)
    async with make_sessionmaker(engine)() as session, session.begin():
        await schedule_notice(session, actor=STAFF, notice_id=notice_id, publish_at=start)
        if due:
            await session.execute(
                text(
                    "UPDATE tender_notice SET publish_at = now() - interval '1 second' "
                    "WHERE id = :id"
                ),
                {"id": notice_id},
            )
    return notice_id, lots


async def published_events(engine, lots: list[str]) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT stream, actor FROM audit_event WHERE action = 'notice.published' "
                "AND stream = ANY(:streams) ORDER BY stream"
            ),
            {"streams": [f"lot:{code}" for code in lots]},
        )
        return [(r.stream, r.actor) for r in rows]


async def status_of(engine, notice_id: int) -> str:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT status FROM tender_notice WHERE id = :id"), {"id": notice_id}
            )
        ).scalar_one()


@pytest.mark.committed
async def test_publication_job_runs_once_even_if_enqueued_twice(desk, engine, settings):
    notice_id, lots = await scheduled_notice(desk, engine, due=True)
    job_settings = replace(settings, queue_name=f"tendering-test-{secrets.token_hex(4)}")
    queue = await jobs.connect_queue(job_settings)
    try:
        first = await jobs.enqueue(queue, "publish_notice", notice_id, key=f"notice:{notice_id}")
        again = await jobs.enqueue(queue, "publish_notice", notice_id, key=f"notice:{notice_id}")
        # A copy under another key (say, an operator re-enqueued it by hand) also runs.
        copy = await jobs.enqueue(queue, "publish_notice", notice_id, key="by-hand")
        assert first is not None and copy is not None and again is None
        options = {**jobs.WorkerSettings.build(job_settings), "cron_jobs": []}
        worker = Worker(**options, burst=True, handle_signals=False, poll_delay=0.05)
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete == 2 and worker.jobs_failed == 0
        assert sorted([await first.result(), await copy.result()]) == [False, True]
    finally:
        await queue.aclose()
    assert await status_of(engine, notice_id) == "published"
    assert await published_events(engine, lots) == [
        (f"lot:{lots[0]}", "system:publish_notice"),
        (f"lot:{lots[1]}", "system:publish_notice"),
    ]


async def test_job_run_before_its_time_asks_to_be_retried_and_publishes_nothing(desk, engine):
    notice_id, lots = await scheduled_notice(desk, engine, due=False)
    ctx = {"sessionmaker": make_sessionmaker(engine)}
    with pytest.raises(Retry) as retry:
        await tender_jobs.publish_notice(ctx, notice_id)
    assert retry.value.defer_score is not None and retry.value.defer_score > 3_000_000
    assert await status_of(engine, notice_id) == "scheduled"
    assert await published_events(engine, lots) == []


async def test_sweeper_publishes_a_due_notice_whose_job_was_lost(desk, engine):
    notice_id, lots = await scheduled_notice(desk, engine, due=True)
    waiting, _ = await scheduled_notice(desk, engine, due=False)
    ctx = {"sessionmaker": make_sessionmaker(engine)}
    assert await tender_jobs.sweep_due_notices(ctx) == 1
    assert await tender_jobs.sweep_due_notices(ctx) == 0
    assert await status_of(engine, notice_id) == "published"
    assert await status_of(engine, waiting) == "scheduled"
    assert len(await published_events(engine, lots)) == 2


@pytest.mark.committed
async def test_racing_publications_publish_once(desk, engine):
    notice_id, lots = await scheduled_notice(desk, engine, due=True)
    ctx = {"sessionmaker": make_sessionmaker(engine)}
    results = await asyncio.gather(*(tender_jobs.publish_notice(ctx, notice_id) for _ in range(6)))
    assert sorted(results) == [False] * 5 + [True]
    assert len(await published_events(engine, lots)) == 2


async def test_staff_schedule_through_the_api_enqueues_after_commit(desk, client, settings):
    project = await desk.project()
    lot = await desk.lot(project)
    start = datetime.now(UTC) + timedelta(hours=2)
    notice_id = await desk.notice(project, [lot], start=start)
    response = await client.post(
        f"/api/tenders/notices/{notice_id}/schedule",
        headers=desk.staff_headers,
        json={"publish_at": start.isoformat()},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "scheduled"
    queue = await jobs.connect_queue(settings)  # the app's own pool lives on its loop
    job_id = f"{settings.queue_name}:publish_notice:notice:{notice_id}"
    assert await queue.exists(f"arq:job:{job_id}") == 1
    await queue.zrem(queue.default_queue_name, job_id)
    await queue.delete(f"arq:job:{job_id}")
    await queue.aclose()
    past = await client.post(
        f"/api/tenders/notices/{notice_id}/schedule",
        headers=desk.staff_headers,
        json={"publish_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()},
    )
    assert past.status_code == 400
    assert past.json()["field"] == "publish_at"
