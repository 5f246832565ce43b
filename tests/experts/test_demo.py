"""The demo: a generated pool and a draw made, witnessed and answered."""

from __future__ import annotations

from sqlalchemy import text

from experts.demo import DEMO_EXPERTS
from tendering.app import register_contexts
from tendering.core.db import make_sessionmaker
from tendering.core.demo import run_demo


async def test_the_demo_has_a_pool_and_a_completed_draw(engine, session, key, secrecy):
    register_contexts()
    book = await run_demo(make_sessionmaker(engine), secrecy=secrecy, key=key)
    assert book is not None and any("专家抽取" in n for n in book.notes)
    assert await session.scalar(text("SELECT count(*) FROM expert")) == DEMO_EXPERTS
    state = await session.scalar(text("SELECT state FROM draw WHERE kind = 'experts'"))
    assert state == "drawn"
    states = (
        await session.execute(
            text("SELECT state, count(*) FROM expert_assignment GROUP BY state ORDER BY state")
        )
    ).all()
    assert states == [("confirmed", 4), ("declined", 1), ("notified", 1), ("waiting", 2)]
    called = await session.scalar(
        text("SELECT count(*) FROM audit_event WHERE action = 'expert.called'")
    )
    assert called == 1
