"""Random selection of agencies (代理机构随机选取) through ``tendering.core.draws``.

    view = await start_selection(session, secrecy=, actor=staff, project=, client=, category=,
                                 count=1, backups=3, witness_id=, max_open=3)
        # draw.scheduled (commitment), then draw.pools_fixed (the weighted pool), one txn
    await draw_selection(session, secrecy=, key=, actor=witness, code=, witness_entropy=)
        # draw.drawn: the first `count` picks are offered, the rest wait as backups in order
    await respond(session, actor=agency, code=, accept=False, note=)
        # a decline offers the place to the next backup; none left: the selection failed

The selection's draw is unsealed: its transcript is public once drawn (agencies are not a
secret list like experts). Responses are events of the draw's stream: ``agency.offered``,
``agency.accepted``, ``agency.declined``, ``agency.completed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from agencies.credit import load_rulebooks, record_event, scores_on, today
from agencies.lookup import agency_by_code, own_agency
from agencies.models import (
    Agency,
    AgencyCertificate,
    AgencySelection,
    Engagement,
    EngagementState,
    FilingState,
    PoolEntry,
    PoolState,
    SelectionState,
    ServiceCategory,
)
from agencies.rules import Candidate, Certificate, weigh
from agencies.scoring import Rulebook, rulebook_in_effect
from tendering.core.audit import draw_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization
from tendering.core.clock import db_now
from tendering.core.draw import Category, Exclusion
from tendering.core.draws import (
    DrawKind,
    fix_draw_pools,
    make_draw,
    next_draw_code,
    schedule_draw,
)
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, NotFound, RuleViolation
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = [
    "OPEN_STATES",
    "complete_engagement",
    "draw_selection",
    "engagements_of",
    "fixed_pool",
    "respond",
    "selection_by_code",
    "start_selection",
]

OPEN_STATES = (EngagementState.OFFERED, EngagementState.ACCEPTED)


async def selection_by_code(
    session: AsyncSession, code: str, *, lock: bool = False
) -> AgencySelection:
    query = select(AgencySelection).where(col(AgencySelection.code) == code)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFound(
            f"选取 {code} 不存在 (there is no agency selection {code})",
            code=ErrorCode.AGENCY_SELECTION_NOT_FOUND,
        )
    return row


async def _client(session: AsyncSession, code: str) -> Organization:
    org = (
        await session.scalars(select(Organization).where(col(Organization.code) == code))
    ).one_or_none()
    if org is None:
        raise NotFound(
            f"委托人 {code} 不存在 (there is no organization {code})",
            code=ErrorCode.AGENCY_NOT_FOUND,
        )
    return org


async def _candidates(
    session: AsyncSession, *, category: str, on: date
) -> list[tuple[Agency, Candidate]]:
    """The agencies in the approved pool of ``category`` for ``on``'s year, as rules see them."""
    agencies = (
        await session.scalars(
            select(Agency)
            .join(PoolEntry, col(PoolEntry.agency_id) == col(Agency.id))
            .where(
                col(PoolEntry.category) == category,
                col(PoolEntry.year) == on.year,
                col(PoolEntry.state) == PoolState.APPROVED,
            )
            .order_by(col(Agency.code))
        )
    ).all()
    ids = [a.id for a in agencies]
    certificates: dict[int, list[Certificate]] = {}
    for row in (
        await session.scalars(
            select(AgencyCertificate).where(col(AgencyCertificate.agency_id).in_(ids))
        )
    ).all():
        certificates.setdefault(row.agency_id, []).append(
            Certificate(row.category, row.issued_on, row.expires_on)
        )
    open_counts = Counter(
        (
            await session.scalars(
                select(col(Engagement.agency_id)).where(
                    col(Engagement.agency_id).in_(ids),
                    col(Engagement.state).in_([s.value for s in OPEN_STATES]),
                )
            )
        ).all()
    )
    scores = await scores_on(session, agencies, on)
    found: list[tuple[Agency, Candidate]] = []
    for a in agencies:
        if a.id is None:
            raise Inconsistent("a.id is missing")
        candidate = Candidate(
            code=a.code,
            filing_approved=a.state == FilingState.APPROVED,
            suspended=a.suspended,
            certificates=tuple(certificates.get(a.id, [])),
            grade=scores[a.id].grade,
            score=scores[a.id].total,
            affiliations=frozenset(a.affiliations),
            open_engagements=open_counts[a.id],
        )
        found.append((a, candidate))
    return found


async def fixed_pool(
    session: AsyncSession,
    *,
    category: ServiceCategory,
    on: date,
    client_credit_code: str | None,
    max_open: int,
    count: int,
    backups: int,
    book: Rulebook,
) -> Category:
    """The draw-v1 category: every candidate weighed, or excluded with its rule."""
    pool: list[tuple[str, int]] = []
    excluded: list[Exclusion] = []
    for _, candidate in await _candidates(session, category=category.value, on=on):
        verdict = weigh(
            candidate,
            category=category.value,
            on=on,
            client_credit_code=client_credit_code,
            max_open=max_open,
            book=book,
        )
        if isinstance(verdict, Exclusion):
            excluded.append(verdict)
        else:
            pool.append((candidate.code, verdict))
    if not pool:
        raise RuleViolation(
            f"{category.value} 类别没有符合条件的代理机构 (no agency of {category.value} is"
            f" eligible on {on.isoformat()}: {len(excluded)} excluded)",
            code=ErrorCode.AGENCY_NO_ELIGIBLE,
            field="category",
        )
    return Category.of(category.value, count=count, backups=backups, pool=pool, excluded=excluded)


async def start_selection(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    actor: Actor,
    project: str,
    client: str,
    category: ServiceCategory,
    count: int,
    backups: int,
    witness_id: int,
    max_open: int,
) -> AgencySelection:
    """Schedule the draw (commitment) and fix its weighted pool, in one transaction."""
    client_org = await _client(session, client)
    on = await today(session)
    code = await next_draw_code(session, "AG")
    await schedule_draw(
        session,
        secrecy=secrecy,
        kind=DrawKind.AGENCIES,
        code=code,
        subject=f"organization:{client_org.code}",
        title=project,
        witness_id=witness_id,
        actor=actor,
        sealed=False,
    )
    book = rulebook_in_effect(await load_rulebooks(session), on)
    chosen = await fixed_pool(
        session,
        category=category,
        on=on,
        client_credit_code=client_org.credit_code,
        max_open=max_open,
        count=count,
        backups=backups,
        book=book,
    )
    await fix_draw_pools(session, secrecy=secrecy, code=code, categories=[chosen], actor=actor)
    selection = AgencySelection(
        code=code,
        project=project,
        client_id=client_org.id,  # type: ignore[arg-type]
        category=category.value,
        on_date=on,
        count=count,
        backups=backups,
        state=SelectionState.SCHEDULED,
        requested_by=actor.user_id,  # type: ignore[arg-type]
    )
    session.add(selection)
    await session.flush()
    return selection


async def draw_selection(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    key: PlatformKey,
    actor: Actor,
    code: str,
    witness_entropy: str,
) -> dict[str, Any]:
    """The witness's entropy in, the draw made; the first picks are offered the work."""
    selection = await selection_by_code(session, code, lock=True)
    signed = await make_draw(
        session, secrecy=secrecy, key=key, code=code, witness_entropy=witness_entropy, actor=actor
    )
    picks: list[str] = signed["categories"][0]["picks"]
    agencies = {
        a.code: a
        for a in (await session.scalars(select(Agency).where(col(Agency.code).in_(picks)))).all()
    }
    now = await db_now(session)
    for rank, pick in enumerate(picks):
        offered = rank < selection.count
        session.add(
            Engagement(
                selection_id=selection.id,  # type: ignore[arg-type]
                agency_id=agencies[pick].id,  # type: ignore[arg-type]
                rank=rank,
                state=EngagementState.OFFERED if offered else EngagementState.WAITING,
                offered_at=now if offered else None,
            )
        )
    selection.state = SelectionState.OFFERED
    await session.flush()
    for pick in picks[: selection.count]:
        await record(
            session,
            stream=draw_stream(code),
            action="agency.offered",
            actor=actor,
            payload={"agency": pick},
        )
    return signed


async def engagements_of(
    session: AsyncSession, selection: AgencySelection, *, lock: bool = False
) -> list[tuple[Engagement, Agency]]:
    query = (
        select(Engagement, Agency)
        .join(Agency, col(Agency.id) == col(Engagement.agency_id))
        .where(col(Engagement.selection_id) == selection.id)
        .order_by(col(Engagement.rank))
    )
    if lock:
        query = query.with_for_update(of=Engagement)
    return [(e, a) for e, a in (await session.execute(query)).all()]


def _settle(selection: AgencySelection, engagements: Sequence[Engagement]) -> None:
    states = [e.state for e in engagements]
    if EngagementState.OFFERED in states:
        return
    serving = sum(s in (EngagementState.ACCEPTED, EngagementState.COMPLETED) for s in states)
    enough = serving >= selection.count
    selection.state = SelectionState.ENGAGED if enough else SelectionState.FAILED


async def respond(
    session: AsyncSession, *, actor: Actor, code: str, accept: bool, note: str
) -> AgencySelection:
    """The actor's agency accepts or declines the place it was offered; a decline offers it
    to the next backup in pick order."""
    agency = await own_agency(session, actor)
    selection = await selection_by_code(session, code, lock=True)
    rows = await engagements_of(session, selection, lock=True)
    mine = next(
        (e for e, a in rows if a.id == agency.id and e.state == EngagementState.OFFERED), None
    )
    if mine is None:
        raise Conflict(
            f"贵机构在选取 {code} 中没有待确认的委托 (your agency has no offer waiting in {code})",
            code=ErrorCode.AGENCY_ENGAGEMENT_STATE,
        )
    now = await db_now(session)
    mine.state = EngagementState.ACCEPTED if accept else EngagementState.DECLINED
    mine.note, mine.responded_at = note, now
    action = "agency.accepted" if accept else "agency.declined"
    await record(
        session,
        stream=draw_stream(code),
        action=action,
        actor=actor,
        payload={"agency": agency.code, "note": note},
    )
    if not accept:
        backup = next(((e, a) for e, a in rows if e.state == EngagementState.WAITING), None)
        if backup is not None:
            backup[0].state, backup[0].offered_at = EngagementState.OFFERED, now
            await record(
                session,
                stream=draw_stream(code),
                action="agency.offered",
                actor=actor,
                payload={"agency": backup[1].code, "replaces": agency.code},
            )
    _settle(selection, [e for e, _ in rows])
    await session.flush()
    return selection


async def complete_engagement(
    session: AsyncSession, *, actor: Actor, code: str, agency_code: str, rating: int, note: str
) -> AgencySelection:
    """The engagement ended: the client's rating (1-5) is recorded as an integrity event."""
    selection = await selection_by_code(session, code, lock=True)
    agency = await agency_by_code(session, agency_code)
    rows = await engagements_of(session, selection, lock=True)
    mine = next(
        (e for e, a in rows if a.id == agency.id and e.state == EngagementState.ACCEPTED), None
    )
    if mine is None:
        raise Conflict(
            f"{agency_code} 在选取 {code} 中没有进行中的委托 (no accepted engagement to complete)",
            code=ErrorCode.AGENCY_ENGAGEMENT_STATE,
        )
    mine.state = EngagementState.COMPLETED
    await record(
        session,
        stream=draw_stream(code),
        action="agency.completed",
        actor=actor,
        payload={"agency": agency_code, "rating": rating},
    )
    await record_event(
        session,
        actor=actor,
        code=agency_code,
        type_code=f"rating.{rating}",
        occurred_on=await today(session),
        note=note,
        source=f"selection:{code}",
    )
    await session.flush()
    return selection
