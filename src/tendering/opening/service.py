"""Use cases of the bid opening (开标).

Staff start the opening at or after the opening time (one guarded ``INSERT ... ON CONFLICT DO
NOTHING``: starting twice opens once). Each custodian then enters a passphrase; the shares
entered wait in ``opening_pending_share`` (fewer than k say nothing about the key). The
request that brings the k-th share holds the opening row's lock, rebuilds the key in memory,
deletes the pending shares and moves the opening to ``opening``; once that commits, the
process's :class:`~tendering.opening.runner.OpeningRunner` opens the bids in the
background and drops the key. Each step is an ``opening_event`` row, which the live channel
and ``after_seq`` polling show. A runner that fails, or whose process dies (its heartbeat
stops), puts the opening back to waiting: the key died with it, custodians enter again and
only the bids without a result are opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from tendering.bids import LotTerms, lot_key, lot_terms
from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.auth.models import Organization
from tendering.core.clock import db_now, rfc3339
from tendering.core.crypto import shamir
from tendering.core.crypto.ceremony import rebuild_opening_key
from tendering.core.db import session_scope
from tendering.core.errors import (
    Conflict,
    ErrorCode,
    Inconsistent,
    NotFound,
    RuleViolation,
    ShareError,
)
from tendering.opening import ceremony
from tendering.opening.custodians import check_lot_custodians
from tendering.opening.events import add_event
from tendering.opening.models import (
    Opening,
    OpeningEvent,
    OpeningPendingShare,
    OpeningResult,
    OpeningState,
)

__all__ = [
    "OpeningView",
    "beat",
    "enter_passphrase",
    "events_after",
    "interrupt_opening",
    "lock_running",
    "opening_view",
    "record_refused_passphrase",
    "results_of",
    "stalled_openings",
    "start_opening",
]


@dataclass(frozen=True)
class OpeningView:
    opening: Opening
    lot: LotTerms
    k: int
    entered: list[int]


async def _terms(session: AsyncSession, lot_code: str) -> LotTerms:
    return await lot_terms(session, lot_code)


async def start_opening(session: AsyncSession, *, actor: Actor, lot_code: str) -> OpeningView:
    """Start the opening of ``lot_code``; a second call returns the first one's state."""
    if actor.user_id is None:
        raise Inconsistent("actor.user_id is missing")
    terms = await _terms(session, lot_code)
    now = await db_now(session)
    if now < terms.opening_at or now < terms.bid_deadline:
        raise RuleViolation(
            f"未到开标时间 {rfc3339(terms.opening_at)} (the opening time has not come).",
            code=ErrorCode.OPENING_TOO_EARLY,
        )
    inserted = (
        await session.execute(
            insert(Opening)
            .values(
                lot_id=terms.lot_id,
                state=OpeningState.STARTED,
                started_by=actor.user_id,
                started_at=func.clock_timestamp(),
                custodians=[],
                valid_bids=0,
                last_event_seq=0,
            )
            .on_conflict_do_nothing(index_elements=["lot_id"])
            .returning(col(Opening.lot_id))
        )
    ).scalar()
    if inserted is not None:
        key = await lot_key(session, terms.lot_id)
        if key is None:
            raise Inconsistent("the lot has no opening key")
        await add_event(session, terms.lot_id, "started", {"k": key.k, "n": key.n})
        await record(
            session,
            stream=lot_stream(terms.code),
            action="opening.started",
            actor=actor,
            payload={"started_at": rfc3339(now), "key_id": terms.key_id},
        )
    return await opening_view(session, lot_code)


async def opening_view(session: AsyncSession, lot_code: str) -> OpeningView:
    terms = await _terms(session, lot_code)
    opening = await session.get(Opening, terms.lot_id, populate_existing=True)
    if opening is None:
        raise NotFound(
            "该标段尚未开标 (the opening has not started).", code=ErrorCode.OPENING_NOT_STARTED
        )
    key = await lot_key(session, terms.lot_id)
    if key is None:
        raise Inconsistent("the lot has no opening key")
    entered = list(opening.custodians)
    return OpeningView(opening=opening, lot=terms, k=key.k, entered=entered)


async def enter_passphrase(
    session: AsyncSession,
    *,
    actor: Actor,
    lot_code: str,
    passphrase: str,
) -> tuple[OpeningView, X25519PrivateKey | None]:
    """A custodian's passphrase; with the k-th, the rebuilt key for the runner (see the
    module docstring)."""
    if actor.user_id is None:
        raise Inconsistent("actor.user_id is missing")
    terms = await _terms(session, lot_code)
    opening = await session.get(Opening, terms.lot_id, with_for_update=True, populate_existing=True)
    if opening is None:
        raise NotFound(
            "该标段尚未开标 (the opening has not started).", code=ErrorCode.OPENING_NOT_STARTED
        )
    if opening.state == OpeningState.OPENING:
        raise Conflict("正在开标 (the bids are being opened).", code=ErrorCode.OPENING_RUNNING)
    if opening.state != OpeningState.STARTED:
        raise Conflict("开标已完成 (the bids are already open).", code=ErrorCode.OPENING_FINISHED)
    if actor.user_id in opening.custodians:
        raise Conflict(
            "您已输入口令 (you have already entered your passphrase).",
            code=ErrorCode.OPENING_ENTERED,
        )
    key = await lot_key(session, terms.lot_id)
    if key is None:
        raise Inconsistent("the lot has no opening key")
    lot = await ceremony.lot_of(session, terms.lot_id)
    # The ceremony checked the custodians; people change roles and employers since.
    await check_lot_custodians(session, lot.custodian_ids, k=lot.custodian_k)
    share = await ceremony.custodian_share(
        session, lot=lot, key=key, user_id=actor.user_id, passphrase=passphrase
    )
    entered = [*opening.custodians, actor.user_id]
    opening.custodians = entered
    await session.flush()
    await add_event(
        session,
        terms.lot_id,
        "custodian_entered",
        {"custodian": f"user:{actor.user_id}", "entered": len(entered), "needed": key.k},
    )
    await record(
        session,
        stream=lot_stream(terms.code),
        action="opening.custodian_entered",
        actor=actor,
        payload={"entered": len(entered), "needed": key.k},
    )
    if len(entered) < key.k:
        session.add(
            OpeningPendingShare(
                lot_id=terms.lot_id,
                user_id=actor.user_id,
                share=share.to_bytes(),
                entered_at=await db_now(session),
            )
        )
        await session.flush()
        return await opening_view(session, lot_code), None
    shares = await _pending_shares(session, terms.lot_id)
    await session.execute(
        delete(OpeningPendingShare).where(col(OpeningPendingShare.lot_id) == terms.lot_id)
    )
    try:
        private = rebuild_opening_key([*shares, share], key_id=key.key_id)
    except ShareError as error:
        raise RuleViolation(f"密钥无法重建 ({error.message}).", code=error.code) from None
    del shares, share
    opening.state = OpeningState.OPENING
    opening.heartbeat_at = await db_now(session)
    await session.flush()
    await add_event(session, terms.lot_id, "key_rebuilt", {"key_id": key.key_id})
    return await opening_view(session, lot_code), private


async def lock_running(session: AsyncSession, lot_id: int) -> Opening | None:
    """The opening row, locked, if it is still being opened (a runner's every step checks:
    the sweeper may have put a stalled opening back to waiting)."""
    opening = await session.get(Opening, lot_id, with_for_update=True, populate_existing=True)
    if opening is None or opening.state != OpeningState.OPENING:
        return None
    return opening


async def beat(session: AsyncSession, lot_id: int) -> bool:
    """The runner is alive; False once the opening is no longer running."""
    result = await session.execute(
        update(Opening)
        .where(col(Opening.lot_id) == lot_id, col(Opening.state) == OpeningState.OPENING)
        .values(heartbeat_at=func.clock_timestamp())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def interrupt_opening(
    session: AsyncSession, *, lot_id: int, reason: str, actor: Actor = SYSTEM
) -> bool:
    """Put an opening whose runner failed or vanished back to waiting for custodians: the
    rebuilt key died with it, so k custodians enter their passphrases again, and the
    bids already opened keep their results. False if it was not running."""
    reset = (
        await session.execute(
            update(Opening)
            .where(col(Opening.lot_id) == lot_id, col(Opening.state) == OpeningState.OPENING)
            .values(state=OpeningState.STARTED, custodians=[], heartbeat_at=None)
            .returning(col(Opening.lot_id))
        )
    ).scalar()
    if reset is None:
        return False
    lot = await ceremony.lot_of(session, lot_id)
    payload = {"reason": reason, "action": "请保管人重新输入口令 (custodians enter again)"}
    await add_event(session, lot_id, "interrupted", payload)
    await record(
        session,
        stream=lot_stream(lot.code),
        action="opening.interrupted",
        actor=actor,
        payload=payload,
    )
    return True


async def stalled_openings(session: AsyncSession, *, stale_seconds: int) -> list[int]:
    """Openings whose runner has not beaten for ``stale_seconds`` (its process died)."""
    query = select(col(Opening.lot_id)).where(
        col(Opening.state) == OpeningState.OPENING,
        col(Opening.heartbeat_at) < func.clock_timestamp() - timedelta(seconds=stale_seconds),
    )
    return list((await session.scalars(query)).all())


async def record_refused_passphrase(
    sessionmaker: async_sessionmaker[AsyncSession], *, actor: Actor, lot_code: str
) -> None:
    """Keep a wrong passphrase on the lot's record (guessing shows), in a transaction of its
    own: the request that carried it is refused and rolls back everything it did."""
    async with session_scope(sessionmaker) as session:
        await record(
            session,
            stream=lot_stream(lot_code),
            action="opening.passphrase_refused",
            actor=actor,
            payload={"lot": lot_code},
        )


async def _pending_shares(session: AsyncSession, lot_id: int) -> list[shamir.Share]:
    rows = (
        await session.scalars(
            select(col(OpeningPendingShare.share)).where(col(OpeningPendingShare.lot_id) == lot_id)
        )
    ).all()
    return [shamir.Share.from_bytes(bytes(r)) for r in rows]


async def events_after(session: AsyncSession, lot_code: str, after_seq: int) -> list[OpeningEvent]:
    terms = await _terms(session, lot_code)
    query = (
        select(OpeningEvent)
        .where(col(OpeningEvent.lot_id) == terms.lot_id, col(OpeningEvent.seq) > after_seq)
        .order_by(col(OpeningEvent.seq))
        .limit(500)
    )
    return list((await session.scalars(query)).all())


async def results_of(session: AsyncSession, lot_id: int) -> list[tuple[OpeningResult, str]]:
    """Each opened bid with its bidder's name, in submission order."""
    query = (
        select(OpeningResult, col(Organization.name))
        .outerjoin(Organization, col(Organization.id) == col(OpeningResult.organization_id))
        .where(col(OpeningResult.lot_id) == lot_id)
        .order_by(col(OpeningResult.seq))
    )
    return [(r, name or "") for r, name in (await session.execute(query)).all()]
