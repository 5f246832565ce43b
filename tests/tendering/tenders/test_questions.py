"""答疑: a registered bidder asks, everyone reads the question, nobody learns who asked."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from tendering.core.secrecy import Secrecy


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
