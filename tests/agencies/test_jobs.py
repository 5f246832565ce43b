"""The daily rescoring runs in the arq worker, from the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from arq.constants import job_key_prefix, result_key_prefix
from arq.worker import Worker
from sqlalchemy import select, update

from agencies import credit
from agencies.models import Agency
from tendering.app import register_contexts
from tendering.core.jobs import WorkerSettings, connect_queue, enqueue


@pytest.mark.committed
async def test_the_worker_rescores_agencies_left_at_yesterdays_score(
    session, settings, approved_agency
):
    register_contexts()
    person, _ = await approved_agency("audit")
    on = await credit.today(session)
    await session.execute(
        update(Agency)
        .where(Agency.code == person.organization.code)
        .values(scored_on=on - timedelta(days=1))
    )
    await session.commit()
    queue = await connect_queue(settings)
    try:
        assert await enqueue(queue, "rescore_agencies", key="test") is not None
        worker = Worker(**WorkerSettings.build(settings), burst=True, handle_signals=False)
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    finally:
        job_id = f"{settings.queue_name}:rescore_agencies:test"
        await queue.delete(result_key_prefix + job_id, job_key_prefix + job_id)
        await queue.aclose()
    agency = (
        await session.scalars(
            select(Agency)
            .where(Agency.code == person.organization.code)
            .execution_options(populate_existing=True)
        )
    ).one()
    assert agency.scored_on == on
