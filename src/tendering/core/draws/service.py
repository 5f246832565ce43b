"""A draw's steps, each in the caller's transaction with its event in ``draw:<code>``.

Every drawing context (experts, agencies) runs its draws through these, so they are listed
and served alike (``GET /api/draws``) and their chain events read the same::

    view = await schedule_draw(session, secrecy=s, kind=DrawKind.EXPERTS, code="ED-2026-0001",
                               subject="lot:L-1", title="...", witness_id=7, actor=staff)
    view = await fix_draw_pools(session, secrecy=s, code=view.code, categories=[...], actor=staff)
    signed = await make_draw(session, secrecy=s, key=k, code=view.code,
                             witness_entropy="...", actor=witness)
    await release_draw(session, secrecy=s, code=view.code, actor=system)

Events: ``draw.scheduled`` (commitment), ``draw.pools_fixed`` (pool hash, pool sizes),
``draw.drawn`` (SHA-256 of the signed transcript's canonical bytes, SHA-256 of the entropy),
``draw.released`` (server secret and transcript hash, once the list may be known).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import draw_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role, User
from tendering.core.clock import db_now
from tendering.core.draw import (
    Category,
    commitment_of,
    new_server_secret,
    pool_hash,
    run_draw,
    signed_transcript,
)
from tendering.core.draws.models import Draw, DrawKind, DrawState
from tendering.core.draws.views import (
    DrawView,
    categories_of,
    expect_state,
    load_row,
    open_part,
    seal_encoded,
    seal_part,
    transcript_sha256,
)
from tendering.core.errors import Conflict, ErrorCode, Forbidden, InvalidInput
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = [
    "fix_draw_pools",
    "make_draw",
    "next_draw_code",
    "release_draw",
    "schedule_draw",
]

MAX_ENTROPY_CHARS = 500


async def next_draw_code(session: AsyncSession, prefix: str) -> str:
    """``<prefix>-<year>-<NNNN>``, the next free number of the database's current year."""
    year = (await db_now(session)).year
    stem = f"{prefix}-{year}-"
    await session.execute(select(func.pg_advisory_xact_lock(0x7E0D_0D00, func.hashtext(stem))))
    last = await session.scalar(
        select(func.max(col(Draw.code))).where(col(Draw.code).startswith(stem, autoescape=True))
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last and last.rsplit("-", 1)[1].isdigit() else 1
    return f"{stem}{number:04d}"


async def _check_witness(session: AsyncSession, witness_id: int) -> User:
    user = await session.get(User, witness_id)
    if user is None or not user.is_active or user.role != Role.SUPERVISOR:
        raise InvalidInput(
            f"见证人须为在职的监督人员 (the witness, user {witness_id}, must be an active"
            " supervisor)",
            code=ErrorCode.DRAW_WITNESS,
            field="witness_id",
        )
    return user


async def schedule_draw(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    kind: DrawKind,
    code: str,
    subject: str,
    title: str,
    witness_id: int,
    actor: Actor,
    supplements: str | None = None,
    sealed: bool = True,
    requested_by: int | None = None,
) -> DrawView:
    """Pick the server secret and publish its commitment (step 1 of draw-v1).

    ``requested_by`` is the staff member the draw is run by, when the actor scheduling it
    is the platform itself (a supplementary draw after a decline): they may read it sealed."""
    await _check_witness(session, witness_id)
    secret = new_server_secret()
    values = {
        "code": code,
        "kind": kind.value,
        "subject": subject,
        "title": title,
        "supplements": supplements,
        "state": DrawState.SCHEDULED.value,
        "sealed": sealed,
        "commitment": commitment_of(secret),
        "secret": seal_part(secrecy, "secret", code, {"server_secret": secret.hex()}),
        "requested_by": requested_by
        or (actor.user_id if actor.user_id is not None else witness_id),
        "witness_id": witness_id,
    }
    made = await session.execute(
        insert(Draw).values(**values).on_conflict_do_nothing().returning(col(Draw.id))
    )
    if made.scalar_one_or_none() is None:
        raise Conflict(
            f"抽取编号 {code} 已被使用 (the draw code {code} is taken)",
            code=ErrorCode.DRAW_DUPLICATE,
            field="code",
        )
    payload: dict[str, Any] = {
        "algorithm": "draw-v1",
        "kind": kind.value,
        "subject": subject,
        "commitment": values["commitment"],
        "witness": f"user:{witness_id}",
    }
    if supplements is not None:
        payload["supplements"] = supplements
    await record(
        session, stream=draw_stream(code), action="draw.scheduled", actor=actor, payload=payload
    )
    return DrawView.of(await load_row(session, code))


async def fix_draw_pools(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    code: str,
    categories: Sequence[Category],
    actor: Actor,
) -> DrawView:
    """Fix the eligible pools and publish their hash (step 2), before any entropy."""
    row = await load_row(session, code, lock=True)
    expect_state(row, DrawState.SCHEDULED, "固定候选池 (fix its pools)")
    digest = pool_hash(categories)
    sealed_pools = {"categories": [c.to_stored() for c in categories]}
    encoded = json.dumps(sealed_pools, separators=(",", ":"), ensure_ascii=False).encode()
    row.pools = seal_encoded(secrecy, "pools", code, encoded)
    row.pool_hash = digest
    row.state = DrawState.POOLS_FIXED
    row.pools_fixed_at = await db_now(session)
    await session.flush()
    await record(
        session,
        stream=draw_stream(code),
        action="draw.pools_fixed",
        actor=actor,
        payload={
            "pool_hash": digest,
            "categories": [
                {
                    "category": c.category,
                    "count": c.count,
                    "backups": c.backups,
                    "eligible": len(c.pool),
                }
                for c in categories
            ],
        },
    )
    return DrawView.of(row)


def _entropy(value: str) -> str:
    if not value.strip() or len(value) > MAX_ENTROPY_CHARS:
        raise InvalidInput(
            f"见证人随机数须为1至{MAX_ENTROPY_CHARS}个字符 (witness_entropy is free text of 1 to"
            f" {MAX_ENTROPY_CHARS} characters, typed by the witness)",
            code=ErrorCode.DRAW_ENTROPY,
            field="witness_entropy",
        )
    try:
        value.encode()
    except UnicodeEncodeError:
        raise InvalidInput(
            "见证人随机数含无效字符 (witness_entropy holds characters with no UTF-8 form)",
            code=ErrorCode.DRAW_ENTROPY,
            field="witness_entropy",
        ) from None
    return value


async def make_draw(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    key: PlatformKey,
    code: str,
    witness_entropy: str,
    actor: Actor,
) -> dict[str, Any]:
    """The witness's entropy in, the secret revealed, the picks made, the transcript signed
    and stored (steps 3 to 5). Only the draw's witness may; the draw happens once."""
    entropy = _entropy(witness_entropy)
    row = await load_row(session, code, lock=True)
    if actor.user_id != row.witness_id:
        raise Forbidden(
            f"只有抽取 {code} 的见证人可以输入随机数 (only the witness named for draw {code} may"
            " enter the entropy)",
            code=ErrorCode.DRAW_NOT_WITNESS,
        )
    expect_state(row, DrawState.POOLS_FIXED, "抽取 (draw)")
    secret = bytes.fromhex(open_part(secrecy, "secret", code, row.secret)["server_secret"])
    categories = categories_of(open_part(secrecy, "pools", code, row.pools))
    transcript = run_draw(
        draw=code,
        server_secret=secret,
        witness_entropy=entropy,
        categories=categories,
        known_pool_hash=row.pool_hash,
    )
    # The signed transcript's canonical bytes, made once: hashed for the chain and sealed.
    signed, encoded = signed_transcript(transcript, key, made_here=True)
    digest = hashlib.sha256(encoded).hexdigest()
    row.transcript = seal_encoded(secrecy, "transcript", code, encoded)
    row.transcript_sha256 = digest
    row.state = DrawState.DRAWN
    row.drawn_at = await db_now(session)
    if not row.sealed:
        row.published = signed
    await session.flush()
    await record(
        session,
        stream=draw_stream(code),
        action="draw.drawn",
        actor=actor,
        payload={
            "transcript_sha256": digest,
            "entropy_sha256": hashlib.sha256(entropy.encode()).hexdigest(),
        },
    )
    return signed


async def release_draw(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> DrawView:
    """Publish a drawn transcript in clear (the evaluation starts); again: nothing more."""
    row = await load_row(session, code, lock=True)
    if row.state == DrawState.RELEASED:
        return DrawView.of(row)
    expect_state(row, DrawState.DRAWN, "公开 (release it)")
    signed = open_part(secrecy, "transcript", code, row.transcript)
    row.published = signed
    row.state = DrawState.RELEASED
    row.released_at = await db_now(session)
    await session.flush()
    await record(
        session,
        stream=draw_stream(code),
        action="draw.released",
        actor=actor,
        payload={
            "server_secret": signed["server_secret"],
            "transcript_sha256": row.transcript_sha256 or transcript_sha256(signed),
        },
    )
    return DrawView.of(row)
