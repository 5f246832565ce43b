"""答疑: a registered bidder asks, everyone reads the question, nobody learns who asked."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.db import make_sessionmaker
from tendering.core.errors import Conflict
from tendering.core.secrecy import Secrecy
from tendering.tenders.amendments import answer_question
from tests.tendering.tenders.conftest import time_passes


async def test_question_is_published_without_the_askers_identity(desk, client, engine):
    notice_id, (lot,) = await desk.published()
    asker, headers = await desk.bidder()
    await client.post(f"/api/lots/{lot}/registration", headers=headers)
    asked = await client.post(
        f"/api/notices/{notice_id}/questions",
        headers=headers,
        json={"text": "第2标段的工期是否可以延长？"},
    )
    assert asked.status_code == 201, asked.text
    assert set(asked.json()) == {"number", "text", "asked_at", "answer", "answered_at"}

    answered = await client.post(
        f"/api/tenders/notices/{notice_id}/questions/1/answer",
        headers=desk.staff_headers,
        json={"answer": "工期以招标文件为准。"},
    )
    assert answered.status_code == 201

    detail = await client.get(f"/api/public/notices/{notice_id}")
    assert detail.json()["questions"] == [
        {
            "number": 1,
            "text": "第2标段的工期是否可以延长？",
            "asked_at": asked.json()["asked_at"],
            "answer": "工期以招标文件为准。",
            "answered_at": answered.json()["answered_at"],
        }
    ]
    identity = [
        asker.organization.code,
        asker.organization.name,
        asker.username,
        f"user:{asker.user.id}",
    ]
    for response in (
        asked,
        answered,
        detail,
        await client.get(f"/api/public/notices/{notice_id}/ocds"),
        await client.get("/api/public/feed.atom"),
    ):
        assert not any(word in response.text for word in identity)

    # The audit chain a supervisor reads has the question, not the asker.
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT actor, payload::text AS payload FROM audit_event "
                    "WHERE stream = :stream AND action = 'question.asked'"
                ),
                {"stream": f"lot:{lot}"},
            )
        ).all()
    assert [r.actor for r in rows] == ["system:qa"]
    assert not any(word in rows[0].payload for word in identity)
    assert '"asker_ref"' in rows[0].payload

    # The table a DBA reads has the asker only sealed to its question, under the platform key.
    async with engine.connect() as conn:
        question = (await conn.execute(text("SELECT * FROM tender_question"))).mappings().one()
    assert not any("organization" in column for column in question)
    secrecy = Secrecy.of(client.app.state["platform_key"])
    purpose = f"question|{question['asker_ref']}"
    assert int(secrecy.open(purpose, question["asker"])["organization_id"]) == asker.organization.id
    with pytest.raises(InvalidTag):
        Secrecy.from_seed(os.urandom(32)).open(purpose, question["asker"])


async def test_only_a_registered_bidder_may_ask(desk, client):
    notice_id, _ = await desk.published()
    _, headers = await desk.bidder()
    response = await client.post(
        f"/api/notices/{notice_id}/questions", headers=headers, json={"text": "请问？"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "tender.not_registered"
    draft_project = await desk.project()
    draft = await desk.notice(draft_project, [await desk.lot(draft_project)])
    hidden = await client.post(
        f"/api/notices/{draft}/questions", headers=headers, json={"text": "请问？"}
    )
    assert hidden.status_code == 404


async def _asked(desk, client) -> tuple[int, str]:
    notice_id, (lot,) = await desk.published()
    _, headers = await desk.bidder()
    await client.post(f"/api/lots/{lot}/registration", headers=headers)
    asked = await client.post(
        f"/api/notices/{notice_id}/questions", headers=headers, json={"text": "工期可否延长？"}
    )
    assert asked.status_code == 201, asked.text
    return notice_id, lot


async def test_a_published_answer_is_final(desk, client):
    notice_id, _ = await _asked(desk, client)
    answer = f"/api/tenders/notices/{notice_id}/questions/1/answer"
    first = await client.post(answer, headers=desk.staff_headers, json={"answer": "不可以。"})
    assert first.status_code == 201
    second = await client.post(answer, headers=desk.staff_headers, json={"answer": "可以。"})
    assert second.status_code == 409, second.text
    assert second.json()["code"] == "tender.answer_final"
    assert "澄清" in second.json()["detail"] and "question=1" in second.json()["detail"]
    public = (await client.get(f"/api/public/notices/{notice_id}")).json()["questions"][0]
    assert public["answer"] == "不可以。" and public["answered_at"] == first.json()["answered_at"]


async def test_a_correction_is_a_clarification_that_moves_a_near_deadline(desk, client, engine):
    notice_id, _ = await _asked(desk, client)
    answer = f"/api/tenders/notices/{notice_id}/questions/1/answer"
    await client.post(answer, headers=desk.staff_headers, json={"answer": "不可以。"})
    await time_passes(engine, notice_id, timedelta(days=11))  # 10 days left
    before = (await client.get(f"/api/public/notices/{notice_id}")).json()
    correction = {
        "kind": "clarification",
        "title": "关于问题1答复的更正",
        "body": "经招标人确认，工期可延长30日历天。",
        "question": 1,
    }
    issued = await client.post(
        f"/api/tenders/notices/{notice_id}/amendments", headers=desk.staff_headers, json=correction
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["question"] == 1 and issued.json()["deadline_pushed"] is True
    after = (await client.get(f"/api/public/notices/{notice_id}")).json()
    assert after["questions"][0]["answer"] == "不可以。"  # the answer stays as published
    assert after["amendments"][0]["question"] == 1
    assert after["bid_deadline"] != before["bid_deadline"]


async def test_a_correction_must_name_an_answered_question(desk, client):
    notice_id, _ = await _asked(desk, client)
    amendments = f"/api/tenders/notices/{notice_id}/amendments"
    body = {"kind": "clarification", "title": "更正", "body": "内容", "question": 1}
    unanswered = await client.post(amendments, headers=desk.staff_headers, json=body)
    assert unanswered.status_code == 400 and unanswered.json()["field"] == "question"
    missing = await client.post(amendments, headers=desk.staff_headers, json=body | {"question": 9})
    assert missing.status_code == 404
    detail = await client.get(f"/api/public/notices/{notice_id}")
    assert detail.json()["amendments"] == []


@pytest.mark.committed
async def test_two_answers_at_once_publish_one(desk, client, engine):
    notice_id, _ = await _asked(desk, client)
    staff = Actor(1, "staff", Role.STAFF, None, None)

    async def answer(text: str) -> str:
        async with make_sessionmaker(engine)() as session, session.begin():
            await answer_question(session, actor=staff, notice_id=notice_id, number=1, answer=text)
        return text

    outcomes = await asyncio.gather(answer("甲"), answer("乙"), return_exceptions=True)
    published = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(published) == 1 and len(refused) == 1, outcomes
    public = (await client.get(f"/api/public/notices/{notice_id}")).json()["questions"][0]
    assert public["answer"] == published[0]
