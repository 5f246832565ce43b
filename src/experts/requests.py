"""A lot's draw request through draw-v1 (``tendering.core.draws``), each step in the
caller's transaction:

    view = await request_draw(session, secrecy=s, spec=DrawRequestIn(...), actor=staff)
    await fix_pools(session, secrecy=s, code=view.draw_code, actor=staff)   # avoidance applied
    signed = await draw_experts(session, secrecy=s, key=k, code=..., witness_entropy="...",
                                actor=witness)                               # places asked
    await release_experts(session, secrecy=s, code=..., actor=staff)         # evaluation starts

Scheduling checks the committee rule and publishes the commitment in ``draw:<code>``;
fixing the pools applies every avoidance rule as of then and publishes the pool hash; the
witness's entropy makes the draw. A category whose backups run out is topped up by a
supplementary draw (:func:`schedule_supplement`) with a new commitment.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from experts.confirmations import open_places, place_assignments
from experts.models import (
    AssignmentState,
    Expert,
    ExpertAssignment,
    ExpertDrawRequest,
    ExpertService,
    RequestState,
)
from experts.pools import eligible_pools, load_candidates
from experts.rules import Avoidance, committee_problem
from experts.schemas import DrawRequestIn
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.bulk import collector_paused
from tendering.core.clock import db_now
from tendering.core.draws import (
    DrawKind,
    DrawView,
    fix_draw_pools,
    make_draw,
    next_draw_code,
    release_draw,
    schedule_draw,
)
from tendering.core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = [
    "avoidance_of",
    "draw_experts",
    "fix_pools",
    "fix_supplement",
    "load_request",
    "lock_root",
    "open_parties",
    "release_experts",
    "request_draw",
    "schedule_supplement",
    "waiting_supplements",
]

CST = timezone(timedelta(hours=8), "CST")
PREFIX = "ED"
MAX_AHEAD = timedelta(days=366)  # a request is for an evaluation being prepared


def _parties_purpose(code: str) -> str:
    return f"expert_request:{code}"


def open_parties(secrecy: Secrecy, request: ExpertDrawRequest) -> dict[str, Any]:
    return secrecy.open(_parties_purpose(request.draw_code), request.parties)


async def load_request(
    session: AsyncSession, code: str, *, lock: bool = False
) -> ExpertDrawRequest:
    query = select(ExpertDrawRequest).where(col(ExpertDrawRequest.draw_code) == code)
    if lock:
        query = query.with_for_update()
    row = (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()
    if row is None:
        raise NotFound(
            f"专家抽取 {code} 不存在 (there is no expert draw {code})",
            code=ErrorCode.EXPERT_NOT_FOUND,
        )
    return row


def _expect(row: ExpertDrawRequest, state: RequestState, step: str) -> None:
    if row.state != state:
        raise Conflict(
            f"专家抽取 {row.draw_code} 现在是 {row.state} 状态，不能{step} (the request is"
            f" {row.state}; this step needs it {state.value})",
            code=ErrorCode.EXPERT_STATE,
            details={"state": row.state, "needed": state.value},
        )


async def _check_spec(session: AsyncSession, spec: DrawRequestIn, *, supplement: bool) -> None:
    specialties = [c.specialty for c in spec.categories]
    if len(set(specialties)) != len(specialties):
        raise InvalidInput(
            "同一专业只能出现一次 (a specialty may appear only once)", field="categories"
        )
    problem = (
        None
        if supplement
        else committee_problem([c.count for c in spec.categories], spec.tenderer_reps)
    )
    if problem:
        raise InvalidInput(problem, code=ErrorCode.EXPERT_COMMITTEE, field="categories")
    now = await db_now(session)
    if not now < spec.evaluation_at <= now + MAX_AHEAD:
        raise InvalidInput(
            "评标时间须在将来一年之内 (evaluation_at must be in the future, within a year)",
            field="evaluation_at",
        )
    codes = [e.expert for e in spec.exclusions]
    if len(set(codes)) != len(codes):
        raise InvalidInput("回避名单中有重复的专家 (an expert is listed twice)", field="exclusions")
    known = set(
        (await session.scalars(select(col(Expert.code)).where(col(Expert.code).in_(codes)))).all()
    )
    missing = [c for c in codes if c not in known]
    if missing:
        raise InvalidInput(
            f"回避名单中的专家不存在：{', '.join(missing)} (no such experts)", field="exclusions"
        )


async def request_draw(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    spec: DrawRequestIn,
    actor: Actor,
    supplements: str | None = None,
    requested_by: int | None = None,
) -> ExpertDrawRequest:
    """Check the request and the committee rule, schedule its draw (the commitment)."""
    await _check_spec(session, spec, supplement=supplements is not None)
    code = await next_draw_code(session, PREFIX)
    view = await schedule_draw(
        session,
        secrecy=secrecy,
        kind=DrawKind.EXPERTS,
        code=code,
        subject=f"lot:{spec.lot}",
        title=spec.title,
        witness_id=spec.witness_id,
        actor=actor,
        supplements=supplements,
        sealed=True,
        requested_by=requested_by,
    )
    parties = {
        "bidders": list(spec.bidders),
        "exclusions": [e.model_dump() for e in spec.exclusions],
    }
    row = ExpertDrawRequest(
        draw_code=code,
        supplements=supplements,
        lot=spec.lot,
        title=spec.title,
        tenderer=spec.tenderer,
        evaluation_at=spec.evaluation_at,
        place=spec.place,
        tenderer_reps=spec.tenderer_reps,
        categories=[c.model_dump() for c in spec.categories],
        rules=spec.rules.model_dump(),
        parties=secrecy.seal(_parties_purpose(code), parties),
        confirm_minutes=spec.confirm_minutes,
        state=RequestState.SCHEDULED.value,
        requested_by=requested_by or view.requested_by,
        witness_id=spec.witness_id,
    )
    session.add(row)
    await session.flush()
    return row


def avoidance_of(request: ExpertDrawRequest, parties: dict[str, Any]) -> Avoidance:
    return Avoidance(
        day=request.evaluation_at.astimezone(CST).date(),
        tenderer=request.tenderer,
        bidders=tuple(parties["bidders"]),
        lookback_years=int(request.rules["lookback_years"]),
        service_months=int(request.rules["service_months"]),
        max_per_year=int(request.rules["max_per_year"]),
        staff={e["expert"]: e["reason"] for e in parties["exclusions"]},
    )


async def family(session: AsyncSession, request: ExpertDrawRequest) -> list[str]:
    """The draw codes of a request: the first draw and its supplementary ones, in order."""
    root = request.supplements or request.draw_code
    rows = await session.scalars(
        select(col(ExpertDrawRequest.draw_code))
        .where(
            (col(ExpertDrawRequest.draw_code) == root)
            | (col(ExpertDrawRequest.supplements) == root)
        )
        .order_by(col(ExpertDrawRequest.id))
    )
    return list(rows.all())


async def _pending_counts(session: AsyncSession, secrecy: Secrecy, year: int) -> dict[str, int]:
    """Places answered yes or still asked in draws of this year not yet released: they
    count toward ``max_per_year`` before the served evaluation is written at release."""
    codes = (
        await session.scalars(
            select(col(ExpertDrawRequest.draw_code)).where(
                col(ExpertDrawRequest.state) == RequestState.DRAWN.value,
                col(ExpertDrawRequest.evaluation_at) >= datetime(year, 1, 1, tzinfo=CST),
                col(ExpertDrawRequest.evaluation_at) < datetime(year + 1, 1, 1, tzinfo=CST),
            )
        )
    ).all()
    counts: dict[str, int] = {}
    for place in await open_places(session, secrecy, list(codes)):
        if place.state in (AssignmentState.CONFIRMED, AssignmentState.NOTIFIED):
            counts[place.expert] = counts.get(place.expert, 0) + 1
    return counts


async def _earlier_undrawn(session: AsyncSession, request: ExpertDrawRequest) -> list[str]:
    """Draws of the request before this one not drawn yet: this one's pool would not know
    whom they pick, so it waits for them (an expert is drawn once per request)."""
    codes = await family(session, request)
    earlier = codes[: codes.index(request.draw_code)]
    found = await session.scalars(
        select(col(ExpertDrawRequest.draw_code)).where(
            col(ExpertDrawRequest.draw_code).in_(earlier),
            col(ExpertDrawRequest.state).in_(
                [RequestState.SCHEDULED.value, RequestState.POOLS_FIXED.value]
            ),
        )
    )
    return list(found.all())


async def fix_pools(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> DrawView:
    """Apply every avoidance rule now and fix the pools (their hash goes to the chain)."""
    request = await load_request(session, code, lock=True)
    _expect(request, RequestState.SCHEDULED, "固定候选池 (fix its pools)")
    waiting = await _earlier_undrawn(session, request)
    if waiting:
        raise Conflict(
            f"请先完成抽取 {', '.join(waiting)} (draw {', '.join(waiting)} first: this"
            " supplementary draw excludes whoever it picks)",
            code=ErrorCode.EXPERT_STATE,
            details={"waiting_for": waiting},
        )
    avoidance = avoidance_of(request, open_parties(secrecy, request))
    earlier = [c for c in await family(session, request) if c != code]
    drawn_this_year = await _pending_counts(session, secrecy, avoidance.day.year)
    drawn_before = [p.expert for p in await open_places(session, secrecy, earlier)]
    with collector_paused():  # the whole pool at once: a few hundred thousand objects
        candidates = await load_candidates(
            session,
            specialties=[c["specialty"] for c in request.categories],
            avoidance=avoidance,
            drawn_this_year=drawn_this_year,
        )
        categories = eligible_pools(
            candidates.facts,
            request.categories,
            avoidance,
            already_drawn=drawn_before,
            plain=candidates.plain,
        )
        del candidates
        view = await fix_draw_pools(
            session, secrecy=secrecy, code=code, categories=categories, actor=actor
        )
    request.state = RequestState.POOLS_FIXED.value
    await session.flush()
    return view


async def draw_experts(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    key: PlatformKey,
    code: str,
    witness_entropy: str,
    actor: Actor,
) -> tuple[dict[str, Any], list[str]]:
    """The witness draws; each pick becomes a place, the serving ones are asked. Returns the
    signed transcript and the categories short of experts (to top up)."""
    request = await load_request(session, code, lock=True)
    _expect(request, RequestState.POOLS_FIXED, "抽取 (draw)")
    with collector_paused():  # the pools reopened and the transcript: the whole pool at once
        signed = await make_draw(
            session,
            secrecy=secrecy,
            key=key,
            code=code,
            witness_entropy=witness_entropy,
            actor=actor,
        )
    await place_assignments(session, secrecy, request, signed)
    request.state = RequestState.DRAWN.value
    await session.flush()
    short = [c["category"] for c in signed["categories"] if len(c["picks"]) < c["count"]]
    return signed, [c for c in short for _ in range(_missing(signed, c))]


def _missing(signed: dict[str, Any], category: str) -> int:
    found = next(c for c in signed["categories"] if c["category"] == category)
    return int(found["count"]) - len(found["picks"])


async def schedule_supplement(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    request: ExpertDrawRequest,
    category: str,
    count: int,
) -> ExpertDrawRequest:
    """A supplementary draw for ``count`` more of ``category``, with its own commitment.

    A supplementary draw of the request still waiting for its pools takes the places in
    instead (its commitment covers only its secret; the counts are fixed with the pools),
    so a run of declines makes one draw, not one per place. The caller holds the lock of
    the request's first draw (:func:`lock_root`)."""
    root = await load_request(session, request.supplements or request.draw_code)
    pending = (
        await session.scalars(
            select(ExpertDrawRequest)
            .where(
                col(ExpertDrawRequest.supplements) == root.draw_code,
                col(ExpertDrawRequest.state) == RequestState.SCHEDULED.value,
            )
            .order_by(col(ExpertDrawRequest.id))
            .limit(1)
            .with_for_update()
        )
    ).first()
    wanted = next(c for c in root.categories if c["specialty"] == category)
    if pending is not None:
        categories = [dict(c) for c in pending.categories]
        mine = next((c for c in categories if c["specialty"] == category), None)
        if mine is None:
            categories.append({"specialty": category, "count": count, "backups": wanted["backups"]})
        else:
            mine["count"] = int(mine["count"]) + count
        pending.categories = categories
        await session.flush()
        return pending
    parties = open_parties(secrecy, root)
    spec = DrawRequestIn(
        lot=root.lot,
        title=root.title,
        tenderer=root.tenderer,
        bidders=parties["bidders"],
        evaluation_at=root.evaluation_at,
        place=root.place,
        tenderer_reps=root.tenderer_reps,
        categories=[{"specialty": category, "count": count, "backups": wanted["backups"]}],
        exclusions=parties["exclusions"],
        rules=root.rules,
        witness_id=root.witness_id,
        confirm_minutes=root.confirm_minutes,
    )
    return await request_draw(
        session,
        secrecy=secrecy,
        spec=spec,
        actor=SYSTEM,
        supplements=root.draw_code,
        requested_by=root.requested_by,
    )


async def lock_root(session: AsyncSession, request: ExpertDrawRequest) -> ExpertDrawRequest:
    """Lock the request's first draw: the one lock every change of its places takes, so two
    answers at once (in the first draw or a supplementary one) move on one after the other."""
    return await load_request(session, request.supplements or request.draw_code, lock=True)


async def waiting_supplements(session: AsyncSession) -> list[str]:
    """Supplementary draws still to have their pools fixed, oldest first."""
    found = await session.scalars(
        select(col(ExpertDrawRequest.draw_code))
        .where(
            col(ExpertDrawRequest.supplements).is_not(None),
            col(ExpertDrawRequest.state) == RequestState.SCHEDULED.value,
        )
        .order_by(col(ExpertDrawRequest.id))
    )
    return list(found.all())


async def fix_supplement(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> bool:
    """Fix a supplementary draw's pools once its earlier draws are all made, so the witness
    only enters the entropy (the job ``fix_supplementary_pools``); False: not now."""
    await lock_root(session, await load_request(session, code))
    request = await load_request(session, code, lock=True)
    if request.state != RequestState.SCHEDULED.value or await _earlier_undrawn(session, request):
        return False
    await fix_pools(session, secrecy=secrecy, code=code, actor=actor)
    return True


async def release_experts(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> ExpertDrawRequest:
    """The evaluation starts: the list is published (each drawn transcript released), who
    served is written (avoidance reads it), unanswered places are closed."""
    root = await load_request(session, code, lock=True)
    if root.supplements is not None:
        raise Conflict(
            f"请公开原抽取 {root.supplements} (release the first draw, {root.supplements})",
            code=ErrorCode.EXPERT_STATE,
        )
    if root.state == RequestState.RELEASED.value:
        return root
    _expect(root, RequestState.DRAWN, "公开名单 (release its list)")
    codes = await family(session, root)
    served_on = root.evaluation_at.astimezone(CST).date()
    places = await open_places(session, secrecy, codes)
    found = await session.execute(
        select(col(Expert.code), col(Expert.id)).where(
            col(Expert.code).in_([p.expert for p in places])
        )
    )
    experts = {code: int(expert_id or 0) for code, expert_id in found.all()}
    for place in places:
        if place.state == AssignmentState.CONFIRMED:
            session.add(
                ExpertService(
                    expert_id=experts[place.expert],
                    draw_code=place.draw_code,
                    tenderer=root.tenderer,
                    served_on=served_on,
                )
            )
    for request_code in codes:
        request = await load_request(session, request_code, lock=True)
        if request.state == RequestState.DRAWN.value:
            await release_draw(session, secrecy=secrecy, code=request_code, actor=actor)
        request.state = RequestState.RELEASED.value
    await _close_open_places(session, codes)
    await session.flush()
    return root


async def _close_open_places(session: AsyncSession, codes: list[str]) -> None:
    await session.execute(
        update(ExpertAssignment)
        .where(
            col(ExpertAssignment.draw_code).in_(codes),
            col(ExpertAssignment.state).in_(
                [AssignmentState.WAITING.value, AssignmentState.NOTIFIED.value]
            ),
        )
        .values(state=AssignmentState.UNUSED.value)
    )
