"""Answers to drawn places: the one-time link, declines and silence, and the sealed list.

    await answer(session, secrecy=s, token="...", accept=False)   # the next backup is asked
    await expire_unanswered(session, secrecy=s)                    # a job: silence = decline
    places = await drawn_list(session, secrecy=s, code=..., actor=staff_or_witness)

A category whose backups are used up gets a supplementary draw (a new commitment in its own
``draw:<code>``), and the witness draws it as the first. Every change is recorded in the
draw's chain stream (``expert.confirmed`` / ``declined`` / ``expired`` / ``called`` with the
place's number, never the expert: the list stays sealed until the evaluation starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from experts.confirmations import Place, call_next, open_places, token_sha256
from experts.models import AssignmentState, Expert, ExpertAssignment, RequestState
from experts.personal import open_personal
from experts.requests import family, load_request, lock_root, schedule_supplement
from tendering.core.audit import draw_stream, record
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.clock import db_now
from tendering.core.draws import read_transcript
from tendering.core.errors import Conflict, ErrorCode, Forbidden, NotFound
from tendering.core.secrecy import Secrecy

__all__ = ["Asked", "ListedPlace", "answer", "asked", "drawn_list", "expire_unanswered"]


@dataclass(frozen=True, slots=True)
class Asked:
    """What a link shows its expert: the evaluation, not the committee."""

    lot: str
    title: str
    evaluation_at: datetime
    place: str
    deadline: datetime | None
    state: AssignmentState


async def _by_token(session: AsyncSession, token: str) -> ExpertAssignment:
    row = (
        await session.scalars(
            select(ExpertAssignment)
            .where(col(ExpertAssignment.token_sha256) == token_sha256(token))
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise NotFound("链接无效 (this link is not valid)", code=ErrorCode.EXPERT_LINK)
    return row


async def asked(session: AsyncSession, *, token: str) -> Asked:
    row = await _by_token(session, token)
    request = await load_request(session, row.draw_code)
    return Asked(
        request.lot,
        request.title,
        request.evaluation_at,
        request.place,
        row.deadline,
        AssignmentState(row.state),
    )


async def _move_on(
    session: AsyncSession, secrecy: Secrecy, code: str, category: str, actor: Actor
) -> None:
    """Ask the category's next backup, or top the category up with a supplementary draw."""
    # The first draw's row is the request's lock: two declines at once call two backups in
    # turn (each reads the places after the other committed), not the same one twice, and
    # make one supplementary draw between them, not two that could pick the same expert.
    request = await load_request(session, code)
    await lock_root(session, request)
    request = await load_request(session, code, lock=True)
    if await call_next(session, secrecy, request, category, await family(session, request)):
        await record(
            session,
            stream=draw_stream(code),
            action="expert.called",
            actor=actor,
            payload={"category": category},
        )
        return
    extra = await schedule_supplement(
        session, secrecy=secrecy, request=request, category=category, count=1
    )
    await record(
        session,
        stream=draw_stream(code),
        action="expert.supplement",
        actor=actor,
        payload={"category": category, "supplement": extra.draw_code},
    )


async def answer(session: AsyncSession, *, secrecy: Secrecy, token: str, accept: bool) -> Asked:
    """The expert's one answer; the link works once, before its deadline."""
    row = await _by_token(session, token)
    now = await db_now(session)
    if row.state != AssignmentState.NOTIFIED.value:
        raise Conflict(
            "此链接已使用或已失效 (this link was used already or is closed)",
            code=ErrorCode.EXPERT_LINK,
        )
    if row.deadline is not None and row.deadline < now:
        raise Conflict("确认时间已过 (the time to answer has passed)", code=ErrorCode.EXPERT_LINK)
    row.state = (AssignmentState.CONFIRMED if accept else AssignmentState.DECLINED).value
    row.answered_at = now
    await session.flush()
    actor = SYSTEM
    await record(
        session,
        stream=draw_stream(row.draw_code),
        action="expert.confirmed" if accept else "expert.declined",
        actor=actor,
        payload={"slot": row.slot, "category": row.category},
    )
    if not accept:
        await _move_on(session, secrecy, row.draw_code, row.category, actor)
    return await _asked_of(session, row)


async def _asked_of(session: AsyncSession, row: ExpertAssignment) -> Asked:
    request = await load_request(session, row.draw_code)
    return Asked(
        request.lot,
        request.title,
        request.evaluation_at,
        request.place,
        row.deadline,
        AssignmentState(row.state),
    )


async def expire_unanswered(session: AsyncSession, *, secrecy: Secrecy) -> int:
    """Places asked whose time passed: closed as expired, the next backup asked."""
    now = await db_now(session)
    rows = (
        await session.scalars(
            select(ExpertAssignment)
            .where(
                col(ExpertAssignment.state) == AssignmentState.NOTIFIED.value,
                col(ExpertAssignment.deadline) < now,
            )
            .order_by(col(ExpertAssignment.id))
            .with_for_update(skip_locked=True)
        )
    ).all()
    actor = Actor.system("experts.expire_unanswered")
    for row in rows:
        row.state = AssignmentState.EXPIRED.value
        await session.flush()
        await record(
            session,
            stream=draw_stream(row.draw_code),
            action="expert.expired",
            actor=actor,
            payload={"slot": row.slot, "category": row.category},
        )
        await _move_on(session, secrecy, row.draw_code, row.category, actor)
    return len(rows)


@dataclass(frozen=True, slots=True)
class ListedPlace:
    place: Place
    name: str
    id_masked: str
    employer: str
    phone: str


def _may_see(request: Any, actor: Actor) -> bool:
    if request.state == RequestState.RELEASED.value:
        return True
    return actor.user_id is None or actor.user_id in (request.requested_by, request.witness_id)


async def drawn_list(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> list[ListedPlace]:
    """Who was drawn (this draw and its supplements), each place checked against its signed
    transcript; before the evaluation starts only for its staff member and its witness."""
    request = await load_request(session, code)
    if not _may_see(request, actor):
        raise Forbidden(
            f"专家名单在评标开始前保密 (the list of {code} is sealed until the evaluation"
            " starts: only the staff member running it and its witness may see it)",
            code=ErrorCode.DRAW_SEALED,
        )
    listed = []
    for draw_code in await family(session, request):
        state = (await load_request(session, draw_code)).state
        if state in (RequestState.SCHEDULED.value, RequestState.POOLS_FIXED.value):
            continue  # a supplementary draw not made yet
        transcript = await read_transcript(session, secrecy=secrecy, code=draw_code, actor=SYSTEM)
        picks = [p for c in transcript["categories"] for p in c["picks"]]
        for place in await open_places(session, secrecy, [draw_code]):
            if place.slot >= len(picks) or picks[place.slot] != place.expert:
                raise Conflict(
                    f"抽取 {draw_code} 第{place.slot}位与签名记录不符 (a place does not match the"
                    " signed transcript: the table was altered)",
                    code=ErrorCode.EXPERT_SEALED_BROKEN,
                )
            listed.append(await _listed(session, secrecy, place))
    return listed


async def _listed(session: AsyncSession, secrecy: Secrecy, place: Place) -> ListedPlace:
    expert = (await session.scalars(select(Expert).where(col(Expert.code) == place.expert))).one()
    phone = open_personal(secrecy, expert.id_tag, expert.personal).phone
    return ListedPlace(place, expert.name, expert.id_masked, expert.employer, phone)
