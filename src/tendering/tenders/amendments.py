"""Amendments and clarifications (澄清/修改), and questions (答疑).

An amendment is public on the notice and reaches the inbox of every organization registered
for a lot of the notice (computed when read: ``registration.own_messages``). One issued
with fewer than 15 days (the center's ``amendment_days``) left moves the deadline and the
opening out; the amendment row keeps the old and new times, so the push shows on the
notice, in OCDS and in Atom.

A question is public without its asker: the asker's organization is kept sealed in one
column no API returns (in clear it would name a registered bidder to a reader of the
database); the audit chain gets a random ``asker_ref`` and the actor ``system:qa``.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import lot_stream
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tendering.core.holidays import load_calendar
from tendering.core.secrecy import Secrecy
from tendering.ledger import set_deposit_terms
from tendering.tenders.models import (
    Amendment,
    NoticeStatus,
    Question,
    TenderProject,
)
from tendering.tenders.projects import project_rules
from tendering.tenders.registration import registered_for_notice
from tendering.tenders.rules import push_deadline
from tendering.tenders.schemas import AmendmentCreate
from tendering.tenders.service import get_notice, notice_lots, record_for_lots

__all__ = ["QA_ACTOR", "answer_question", "ask_question", "issue_amendment", "seal_asker"]

QA_ACTOR = "system:qa"


def seal_asker(secrecy: Secrecy, asker_ref: str, *, organization_id: int) -> str:
    """The asking organization, sealed to its question (fixed-width, so the box's length
    does not tell one organization from another)."""
    return secrecy.seal(f"question|{asker_ref}", {"organization_id": f"{organization_id:020d}"})


async def issue_amendment(
    session: AsyncSession, *, actor: Actor, notice_id: int, data: AmendmentCreate, secrecy: Secrecy
) -> Amendment:
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status != NoticeStatus.PUBLISHED:
        raise Conflict(
            f"Notice {notice_id} is {notice.status}; only a published notice is amended.",
            code=ErrorCode.TENDER_NOTICE_STATE,
        )
    now = await db_now(session)
    if now >= notice.bid_deadline:
        raise Conflict(
            "The bid deadline has passed; the notice can no longer be amended.",
            code=ErrorCode.TENDER_DEADLINE_PASSED,
        )
    deadline, opening = notice.bid_deadline, notice.opening_at
    if data.bid_deadline is not None:
        if data.bid_deadline <= now:
            raise InvalidInput("bid_deadline must be in the future.", field="bid_deadline")
        deadline, opening = data.bid_deadline, opening + (data.bid_deadline - deadline)
    project = await session.get(TenderProject, notice.project_id)
    assert project is not None
    push = push_deadline(
        await project_rules(session, project),
        await load_calendar(session),
        issued_at=now,
        bid_deadline=deadline,
        opening_at=opening,
    )
    number = 1 + (
        await session.scalar(
            select(func.coalesce(func.max(col(Amendment.number)), 0)).where(
                col(Amendment.notice_id) == notice_id
            )
        )
        or 0
    )
    amendment = Amendment(
        notice_id=notice_id,
        number=number,
        kind=data.kind,
        title=data.title,
        body=data.body,
        issued_at=now,
        old_deadline=notice.bid_deadline,
        new_deadline=push.bid_deadline,
        old_opening=notice.opening_at,
        new_opening=push.opening_at,
        pushed=push.pushed,
    )
    session.add(amendment)
    notice.bid_deadline, notice.opening_at = push.bid_deadline, push.opening_at
    notice.documents_to = min(notice.documents_to, push.bid_deadline)
    await session.flush()
    lots = await notice_lots(session, notice_id)
    if amendment.new_deadline != amendment.old_deadline:
        for lot in lots:  # deposits are due by the bid deadline: move theirs too
            await set_deposit_terms(
                session,
                secrecy=secrecy,
                subject=lot_stream(lot.code),
                deadline=amendment.new_deadline,
                actor=actor,
            )
    await record_for_lots(
        session,
        lots,
        action="notice.amended",
        actor=actor,
        payload={
            "notice": notice_id,
            "amendment": number,
            "kind": data.kind.value,
            "title": data.title,
            "old_deadline": rfc3339(amendment.old_deadline),
            "new_deadline": rfc3339(amendment.new_deadline),
            "new_opening": rfc3339(amendment.new_opening),
            "deadline_pushed": push.pushed,
        },
    )
    return amendment


async def ask_question(
    session: AsyncSession, *, actor: Actor, notice_id: int, text: str, secrecy: Secrecy
) -> Question:
    """A registered bidder asks; the question is published without the asker."""
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status != NoticeStatus.PUBLISHED:
        raise NotFound("No such notice.", code=ErrorCode.TENDER_NO_NOTICE)
    registered = await registered_for_notice(
        session, notice_id=notice_id, organization_id=actor.organization_id or 0, secrecy=secrecy
    )
    if not registered:
        raise Forbidden(
            "Only a bidder registered for a lot of this notice (获取招标文件) may ask a question.",
            code=ErrorCode.TENDER_NOT_REGISTERED,
        )
    now = await db_now(session)
    if now >= notice.bid_deadline:
        raise Conflict(
            "The bid deadline has passed; questions are closed.",
            code=ErrorCode.TENDER_DEADLINE_PASSED,
        )
    number = 1 + (
        await session.scalar(
            select(func.coalesce(func.max(col(Question.number)), 0)).where(
                col(Question.notice_id) == notice_id
            )
        )
        or 0
    )
    asker_ref = secrets.token_hex(16)
    question = Question(
        notice_id=notice_id,
        number=number,
        text=text,
        asker=seal_asker(secrecy, asker_ref, organization_id=actor.organization_id or 0),
        asker_ref=asker_ref,
        asked_at=now,
    )
    session.add(question)
    await session.flush()
    await record_for_lots(
        session,
        await notice_lots(session, notice_id),
        action="question.asked",
        actor=QA_ACTOR,
        payload={
            "notice": notice_id,
            "question": number,
            "asker_ref": question.asker_ref,
            "text": text,
        },
    )
    return question


async def answer_question(
    session: AsyncSession, *, actor: Actor, notice_id: int, number: int, answer: str
) -> Question:
    """Staff answer publicly (a second answer replaces the first, both in the chain)."""
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.CLOSED):
        raise NotFound("No such notice.", code=ErrorCode.TENDER_NO_NOTICE)
    question = (
        await session.scalars(
            select(Question).where(
                col(Question.notice_id) == notice_id, col(Question.number) == number
            )
        )
    ).first()
    if question is None:
        raise NotFound(
            f"Notice {notice_id} has no question {number}.", code=ErrorCode.TENDER_NO_QUESTION
        )
    question.answer, question.answered_at = answer, await db_now(session)
    await session.flush()
    await record_for_lots(
        session,
        await notice_lots(session, notice_id),
        action="question.answered",
        actor=actor,
        payload={"notice": notice_id, "question": number, "answer": answer},
    )
    return question
