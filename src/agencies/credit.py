"""Integrity records (诚信档案): rulebooks, events, disputes, and the scores they give.

Scores are never typed in: they follow from the recorded events and the rulebook in effect
on the day (``agencies.scoring``). Each agency's current score and grade are stored for
lists and the draw; :func:`rescore` refreshes them and writes a :class:`GradeChange` when the
grade moves (the public history and its Atom feed). Events in the global audit stream:
``agency.rulebook_published``, ``agency.event_recorded``, ``agency.event_disputed``,
``agency.dispute_decided``, ``agency.grade_changed``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from agencies.lookup import agency_by_code, own_agency
from agencies.models import Agency, AgencyEvent, AgencyRulebook, EventState, GradeChange
from agencies.scoring import (
    DEFAULT_RULEBOOK,
    EventRecord,
    Rulebook,
    Score,
    rulebook_in_effect,
    score_on,
)
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, NotFound, RuleViolation

__all__ = [
    "FIRST_EFFECTIVE",
    "decide_dispute",
    "dispute_event",
    "event_by_id",
    "events_of",
    "explain",
    "load_rulebooks",
    "publish_rulebook",
    "record_event",
    "rescore",
    "rescore_all",
    "scores_on",
    "today",
]

FIRST_EFFECTIVE = date(2000, 1, 1)  # the default rulebook covers every earlier event


async def today(session: AsyncSession) -> date:
    """The database's date (Beijing time: the center's working day)."""
    value = await session.scalar(select(func.timezone("Asia/Shanghai", func.now())))
    if value is None:
        raise Inconsistent("value is missing")
    return value.date()  # type: ignore[no-any-return]


async def load_rulebooks(session: AsyncSession) -> list[Rulebook]:
    """Every version; the first call on an empty platform stores the default as version 1."""
    query = select(AgencyRulebook).order_by(col(AgencyRulebook.version))
    rows = (await session.scalars(query)).all()
    if not rows:
        await session.execute(
            insert(AgencyRulebook)
            .values(
                version=1,
                effective_from=FIRST_EFFECTIVE,
                body=DEFAULT_RULEBOOK,
                note="默认规则 (the platform's default)",
                created_by="system:agencies",
            )
            .on_conflict_do_nothing()
        )
        rows = (await session.scalars(query)).all()
    return [Rulebook.from_json(r.version, r.effective_from, r.body) for r in rows]


async def publish_rulebook(
    session: AsyncSession, *, actor: Actor, effective_from: date, body: dict[str, Any], note: str
) -> Rulebook:
    """A new version, in effect from ``effective_from`` (today or later: a past score must
    stay what it was)."""
    on = await today(session)
    if effective_from < on:
        raise RuleViolation(
            "新规则不能追溯生效 (effective_from must be today or later: past scores stay as"
            " they were computed)",
            code=ErrorCode.AGENCY_RULEBOOK_INVALID,
            field="effective_from",
        )
    await load_rulebooks(session)  # version 1 is stored before version 2
    await session.execute(select(func.pg_advisory_xact_lock(0x7E0D_A6E0)))
    version = int(await session.scalar(select(func.max(col(AgencyRulebook.version)))) or 0) + 1
    book = Rulebook.from_json(version, effective_from, body)
    session.add(
        AgencyRulebook(
            version=version,
            effective_from=effective_from,
            body=book.to_json(),
            note=note,
            created_by=actor.ref,
        )
    )
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.rulebook_published",
        actor=actor,
        payload={"version": version, "effective_from": effective_from.isoformat()},
    )
    if effective_from == on:  # in effect at once: today's scores follow it now
        await rescore_all(session, on=on, actor=actor, every=True)
    return book


async def event_by_id(session: AsyncSession, event_id: int, *, lock: bool = False) -> AgencyEvent:
    query = select(AgencyEvent).where(col(AgencyEvent.id) == event_id)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFound(
            f"诚信事件 {event_id} 不存在 (there is no event {event_id})",
            code=ErrorCode.AGENCY_EVENT_NOT_FOUND,
        )
    return row


async def record_event(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str,
    type_code: str,
    occurred_on: date,
    note: str,
    source: str = "",
) -> AgencyEvent:
    """Record an event of a type the current rulebook knows, and rescore the agency."""
    agency = await agency_by_code(session, code, lock=True)
    on = await today(session)
    book = rulebook_in_effect(await load_rulebooks(session), on)
    if book.event_type(type_code) is None:
        raise RuleViolation(
            f"现行规则第{book.version}版无事件类型 {type_code} (no such event type in rulebook"
            f" version {book.version})",
            code=ErrorCode.AGENCY_RULEBOOK_INVALID,
            field="type_code",
        )
    if occurred_on > on:
        raise RuleViolation(
            "事件日期不能晚于今天 (occurred_on cannot be in the future)",
            code=ErrorCode.AGENCY_RULEBOOK_INVALID,
            field="occurred_on",
        )
    event = AgencyEvent(
        agency_id=agency.id,  # type: ignore[arg-type]
        type_code=type_code,
        occurred_on=occurred_on,
        note=note,
        source=source,
        state=EventState.RECORDED,
        recorded_by=actor.ref,
    )
    session.add(event)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.event_recorded",
        actor=actor,
        payload={
            "agency": code,
            "event": event.id,
            "type": type_code,
            "occurred_on": occurred_on.isoformat(),
        },
    )
    await rescore(session, agency, on=on, actor=actor)
    return event


async def dispute_event(
    session: AsyncSession, *, actor: Actor, event_id: int, reason: str
) -> AgencyEvent:
    """The agency objects (异议) to one of its own events; it counts until staff decide."""
    agency = await own_agency(session, actor)
    event = await event_by_id(session, event_id, lock=True)
    if event.agency_id != agency.id:
        raise NotFound(
            f"诚信事件 {event_id} 不存在 (there is no event {event_id})",
            code=ErrorCode.AGENCY_EVENT_NOT_FOUND,
        )
    if event.state != EventState.RECORDED:
        raise Conflict(
            f"该事件已是 {event.state}，不能再提异议 (the event is {event.state}: one dispute"
            " per event)",
            code=ErrorCode.AGENCY_DISPUTE_STATE,
            details={"state": event.state},
        )
    event.state = EventState.DISPUTED
    event.dispute_reason = reason
    event.disputed_at = await db_now(session)
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="agency.event_disputed",
        actor=actor,
        payload={"agency": agency.code, "event": event_id},
    )
    return event


async def decide_dispute(
    session: AsyncSession, *, actor: Actor, event_id: int, uphold: bool, note: str
) -> AgencyEvent:
    """Staff decide a dispute: upheld, the event is void and its points go; the score
    follows at once."""
    event = await event_by_id(session, event_id, lock=True)
    if event.state != EventState.DISPUTED:
        raise Conflict(
            f"该事件没有待处理的异议 (event {event_id} is {event.state}, not disputed)",
            code=ErrorCode.AGENCY_DISPUTE_STATE,
            details={"state": event.state},
        )
    event.state = EventState.UPHELD if uphold else EventState.DISMISSED
    event.decision_note = note
    event.decided_by = actor.user_id
    event.decided_at = await db_now(session)
    await session.flush()
    agency = await session.get(Agency, event.agency_id, with_for_update=True)
    if agency is None:
        raise Inconsistent("agency is missing")
    await record(
        session,
        stream=GLOBAL,
        action="agency.dispute_decided",
        actor=actor,
        payload={"agency": agency.code, "event": event_id, "state": event.state},
    )
    await rescore(session, agency, on=await today(session), actor=actor)
    return event


async def events_of(
    session: AsyncSession, agency_ids: Iterable[int], *, counted_only: bool = True
) -> dict[int, list[AgencyEvent]]:
    query = select(AgencyEvent).where(col(AgencyEvent.agency_id).in_(list(agency_ids)))
    if counted_only:
        query = query.where(col(AgencyEvent.state) != EventState.UPHELD)
    found: dict[int, list[AgencyEvent]] = defaultdict(list)
    for row in (await session.scalars(query.order_by(col(AgencyEvent.id)))).all():
        found[row.agency_id].append(row)
    return found


def _records(events: Sequence[AgencyEvent]) -> list[EventRecord]:
    return [EventRecord(e.id, e.type_code, e.occurred_on) for e in events if e.id is not None]


async def scores_on(
    session: AsyncSession, agencies: Sequence[Agency], on: date
) -> dict[int, Score]:
    """Each agency's score on ``on``, under the rulebook in effect that day."""
    book = rulebook_in_effect(await load_rulebooks(session), on)
    events = await events_of(session, [a.id for a in agencies if a.id is not None])
    return {
        a.id: score_on(_records(events.get(a.id, [])), book, on=on)
        for a in agencies
        if a.id is not None
    }


async def explain(session: AsyncSession, code: str, on: date | None = None) -> Score:
    """The score of agency ``code`` on ``on`` (default today), one line per event."""
    agency = await agency_by_code(session, code)
    day = on or await today(session)
    return (await scores_on(session, [agency], day))[agency.id]  # type: ignore[index]


async def rescore(session: AsyncSession, agency: Agency, *, on: date, actor: Actor) -> Score:
    """Store the agency's score on ``on``; a grade that moves is written to its history."""
    result = (await scores_on(session, [agency], on))[agency.id]  # type: ignore[index]
    await _store(session, agency, result, actor=actor)
    await session.flush()
    return result


async def _store(session: AsyncSession, agency: Agency, result: Score, *, actor: Actor) -> None:
    on = result.on
    old = agency.grade
    agency.score, agency.grade, agency.scored_on = result.total, result.grade, on
    if old != result.grade:
        session.add(
            GradeChange(
                agency_id=agency.id,  # type: ignore[arg-type]
                on_date=on,
                old_grade=old,
                new_grade=result.grade,
                score=result.total,
                rulebook_version=result.rulebook_version,
            )
        )
        await record(
            session,
            stream=GLOBAL,
            action="agency.grade_changed",
            actor=actor,
            payload={
                "agency": agency.code,
                "from": old,
                "to": result.grade,
                "score": result.total,
                "on": on.isoformat(),
                "rulebook": result.rulebook_version,
            },
        )


async def rescore_all(session: AsyncSession, *, on: date, actor: Actor, every: bool = False) -> int:
    """Rescore every agency not yet scored for ``on`` (decay moves scores as days pass), or
    ``every`` one (a rulebook took effect today); returns how many were rescored. Running it
    again the same day does nothing."""
    query = select(Agency).order_by(col(Agency.id)).with_for_update(skip_locked=True)
    if not every:
        query = query.where((col(Agency.scored_on).is_(None)) | (col(Agency.scored_on) < on))
    rows = (await session.scalars(query)).all()
    scores = await scores_on(session, rows, on)  # one rulebook read, one events query
    for agency in rows:
        await _store(session, agency, scores[agency.id], actor=actor)  # type: ignore[index]
    await session.flush()
    return len(rows)
