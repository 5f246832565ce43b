"""The experts' worker jobs: silence calls the next backup, the outbox is sent, a started
evaluation is released; registered with the worker by the app."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from experts import jobs as expert_jobs
from experts.notifier import LogNotifier, set_notifier
from tendering.app import register_contexts
from tendering.core import jobs
from tendering.core.db import make_sessionmaker

from .test_draws import Inbox, _drawn


@pytest.fixture
def ctx(engine, key):
    return {"sessionmaker": make_sessionmaker(engine), "platform_key": key}


@pytest.fixture
def inbox():
    box = Inbox()
    set_notifier(box)
    yield box
    set_notifier(LogNotifier())


def test_the_app_registers_the_jobs_with_the_worker():
    register_contexts()
    names = {
        "expire_expert_answers",
        "fix_supplementary_pools",
        "deliver_expert_messages",
        "release_started_evaluations",
    }
    assert names <= set(jobs._FUNCTIONS) and names <= set(jobs._CRON)


async def test_silence_past_the_deadline_calls_the_next_backup(session, secrecy, key, desk, ctx):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    assert await expert_jobs.expire_expert_answers(ctx) == 0  # nothing due yet
    await session.execute(
        text(
            "UPDATE expert_assignment SET deadline = clock_timestamp() - interval '1 second'"
            " WHERE draw_code = :c AND slot = 0"
        ),
        {"c": request.draw_code},
    )
    await session.commit()
    assert await expert_jobs.expire_expert_answers(ctx) == 1
    states = dict(
        (
            await session.execute(
                text("SELECT slot, state FROM expert_assignment WHERE draw_code = :c"),
                {"c": request.draw_code},
            )
        ).all()
    )
    assert states[0] == "expired" and states[3] == "notified" and states[4] == "waiting"


async def test_a_supplementary_draw_gets_its_pools_from_the_job(session, secrecy, key, desk, ctx):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    await session.execute(
        text(
            "UPDATE expert_assignment SET deadline = clock_timestamp() - interval '1 second'"
            " WHERE draw_code = :c AND category = 'A0802' AND state = 'notified'"
        ),
        {"c": request.draw_code},
    )
    await session.commit()
    assert await expert_jobs.fix_supplementary_pools(ctx) == 0  # none yet
    assert await expert_jobs.expire_expert_answers(ctx) == 2  # the backup, then a new draw
    assert await expert_jobs.fix_supplementary_pools(ctx) == 1
    assert await expert_jobs.fix_supplementary_pools(ctx) == 0  # once
    state, actor = (
        await session.execute(
            text(
                "SELECT r.state, e.actor FROM expert_draw_request r JOIN audit_event e"
                " ON e.stream = 'draw:' || r.draw_code AND e.action = 'draw.pools_fixed'"
                " WHERE r.supplements = :c"
            ),
            {"c": request.draw_code},
        )
    ).one()
    assert (state, actor) == ("pools_fixed", "system:experts.fix_supplementary_pools")


async def test_the_outbox_is_sent_once_and_a_started_evaluation_released(
    session, secrecy, key, desk, ctx, inbox
):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    await session.commit()
    assert await expert_jobs.deliver_expert_messages(ctx) == 5
    assert await expert_jobs.deliver_expert_messages(ctx) == 0
    assert len(inbox.sent) == 5
    assert await expert_jobs.release_started_evaluations(ctx) == 0  # not started yet
    await session.execute(
        text(
            "UPDATE expert_draw_request SET evaluation_at = clock_timestamp() - interval '1 minute'"
        )
    )
    await session.commit()
    assert await expert_jobs.release_started_evaluations(ctx) == 1
    state = await session.scalar(
        text("SELECT state FROM draw WHERE code = :c"), {"c": request.draw_code}
    )
    assert state == "released"


class Down:
    async def send(self, to: str, text: str) -> None:
        raise ConnectionError("gateway down")


async def test_a_failed_send_stays_in_the_outbox_with_its_error(session, secrecy, key, desk, ctx):
    await _drawn(session, secrecy, key, desk)
    await session.commit()
    set_notifier(Down())
    try:
        assert await expert_jobs.deliver_expert_messages(ctx) == 0
    finally:
        set_notifier(LogNotifier())
    rows = (await session.execute(text("SELECT attempts, error, sent_at FROM expert_outbox"))).all()
    assert len(rows) == 5 and all(r == (1, "ConnectionError: gateway down", None) for r in rows)
    assert await expert_jobs.deliver_expert_messages(ctx) == 5  # the log notifier takes them
