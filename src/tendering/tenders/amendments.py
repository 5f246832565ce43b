"""Amendments and clarifications (澄清/修改), and questions (答疑).

An amendment is public on the notice and reaches the inbox of every organization registered
for a lot of the notice (computed when read: ``registration.own_messages``). One issued
with fewer than 15 days (the center's ``amendment_days``) left moves the deadline and the
opening out; the amendment row keeps the old and new times, so the push shows on the
notice, in OCDS and in Atom.

A published answer is final: answering again is refused. A correction is a new
clarification naming the question (``question``), issued like any other, so it moves the
deadline when fewer than 15 days are left (实施条例 第二十一条), and the notice keeps both.

A question is public without its asker: the asker's organization is kept sealed in one
column no API returns (in clear it would name a registered bidder to a reader of the
database); the audit chain gets a random ``asker_ref`` and the actor ``system:qa``.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import lot_stream
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    Inconsistent,
    InvalidInput,
    NotFound,
)
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
from tendering.tenders.rules import DeadlinePush, check_moved_deadline, push_deadline
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
    project = await session.get(TenderProject, notice.project_id)
    if project is None:
        raise Inconsistent("project is missing")
    rules, calendar = await project_rules(session, project), await load_calendar(session)
    if data.bid_deadline is not None:
        if data.bid_deadline <= now:
            raise InvalidInput("bid_deadline must be in the future.", field="bid_deadline")
        moved = data.bid_deadline - notice.bid_deadline
        push = DeadlinePush(data.bid_deadline, notice.opening_at + moved, pushed=False)
    else:
        push = push_deadline(
            rules,
            calendar,
            issued_at=now,
            bid_deadline=notice.bid_deadline,
            opening_at=notice.opening_at,
        )
    if push.bid_deadline != notice.bid_deadline:
        # A moved deadline passes the checks of publication (never shorter than the law's
        # periods, never on a rest day); the push's own result is checked the same way.
        check_moved_deadline(
            rules,
            calendar,
            first=max(notice.documents_from, notice.published_at or notice.documents_from),
            issued_at=now,
            bid_deadline=push.bid_deadline,
            entered=data.bid_deadline is not None,
        )
    if data.question is not None:
        await _answered_question(session, notice_id, data.question)
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
        question=data.question,
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
            "question": data.question,
        },
    )
    return amendment


async def _answered_question(session: AsyncSession, notice_id: int, number: int) -> Question:
    """The notice's question ``number``, which must have a published answer to correct."""
    question = await _question(session, notice_id, number)
    if question.answer is None:
        raise InvalidInput(
            f"question: 问题{number}尚未答复，没有可更正的答复；请直接答复。 Question {number} has "
            "no published answer to correct: answer it instead.",
            field="question",
        )
    return question


async def _question(session: AsyncSession, notice_id: int, number: int) -> Question:
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
    return question


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
    """Staff answer publicly, once: a published answer is final (a correction is a new
    clarification naming the question, :func:`issue_amendment`)."""
    # The notice's row lock orders answers to its questions; the guard below holds anyway.
    notice = await get_notice(session, notice_id, lock=True)
    if notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.CLOSED):
        raise NotFound("No such notice.", code=ErrorCode.TENDER_NO_NOTICE)
    question = await _question(session, notice_id, number)
    answered = await session.execute(
        update(Question)
        .where(col(Question.id) == question.id, col(Question.answer).is_(None))
        .values(answer=answer, answered_at=func.clock_timestamp())
        .returning(col(Question.id))
    )
    if answered.first() is None:
        raise Conflict(
            f"问题{number}已经答复，答复一经发布不得更改；如需更正，请发布澄清并注明问题编号"
            f"（POST /api/tenders/notices/{notice_id}/amendments，kind=clarification，"
            f"question={number}），少于15日的将顺延投标截止时间。 Question {number} is answered "
            "already and a published answer is final: issue a clarification naming it.",
            code=ErrorCode.TENDER_ANSWER_FINAL,
            field="answer",
        )
    await session.refresh(question)
    await record_for_lots(
        session,
        await notice_lots(session, notice_id),
        action="question.answered",
        actor=actor,
        payload={"notice": notice_id, "question": number, "answer": answer},
    )
    return question
