"""Decoy submissions, so the tables do not count a lot's bids even by elimination.

A bid row names no lot (``bids/service.py``), but while only one lot takes bids, every new
row, stored file and ``bid.sealed`` commitment is that lot's: a reader of the database could
count them. So each lot taking bids also gets a few decoys, planted by the worker at times
spread over its bidding period, that look like bids in every table and file:

- a ``bid`` row with a tag, a clock ``seq`` and evidence sealed to the lot's opening key;
- a real tbid1 envelope of random plaintext sealed to that key, stored as uploads are
  (header masked, same writeback, same fsync);
- a ``bid.sealed`` commitment in the global audit stream.

How many (1 to ``MAX_DECOYS``) and when derive from the platform key, so nothing stores the
plan: the first decoy within the first hour of the period (else the first hours' rows would
all be real), the others spread over it. How big is drawn when each is planted, from the
sizes of the platform's real bids (the newest ``SIZE_HISTORY`` stored bids that are no
lot's decoys, ``MIN_HISTORY`` of them at least; before that, log-uniform between
``MIN_PLAIN`` and ``MAX_PLAIN``), never above the lot's own size limit. The opening never
opens a decoy (it looks up real organizations' tags only); when it finishes it reveals them
in the lot's stream (``bid.decoys_revealed``: each one's bidder code, seq, SHA-256 and nonce,
so anyone can match every ``bid.sealed`` commitment of the period) and removes them.

Limits: decoys blur the count by up to ``MAX_DECOYS``, they do not hide it absolutely; while
the history is short, a bid far outside ``MIN_PLAIN`` to ``MAX_PLAIN`` is likely real.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids import service
from tendering.bids.at_rest import HEADER_AT, unmask_head
from tendering.bids.evidence import Evidence, seal_evidence
from tendering.bids.models import Bid, LotKey
from tendering.bids.upload import stage_envelope
from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.blobs import BlobStore
from tendering.core.clock import db_now
from tendering.core.crypto.envelope import EnvelopeSealer, EnvelopeValidator
from tendering.core.crypto.header import MAX_HEADER_LEN, parse_header
from tendering.core.db import session_scope
from tendering.core.errors import RuleViolation
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey
from tendering.tenders import lots_taking_bids

__all__ = [
    "MAX_DECOYS",
    "Decoy",
    "draw_size",
    "plan",
    "plant_due_decoys",
    "reveal_decoys",
]

MAX_DECOYS = 5
MIN_PLAIN, MAX_PLAIN = 2_000, 20_000_000
FIRST_DECOY_WITHIN = timedelta(hours=1)
SIZE_HISTORY, MIN_HISTORY = 2_000, 20
_JITTER = 0.1  # a drawn real size is scaled by up to ±10 %, so no decoy copies a bid's size
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Decoy:
    index: int
    tag: str  # its bid row's bidder_tag
    nonce: str  # opens its bid.sealed commitment
    fraction: float  # how far into the bidding period it is planted, 0 to 0.95
    plain_size: int

    def due_at(self, start: datetime, deadline: datetime) -> datetime:
        """When to plant it: the first one within the period's first hour."""
        span = (deadline - start) * 0.95
        if self.index == 0:
            return start + min(FIRST_DECOY_WITHIN, span) * (self.fraction / 0.95)
        return start + (deadline - start) * self.fraction

    def bidder(self, secrecy: Secrecy, length: int) -> str:
        """The code in its envelope's header: as long as a real bidder's (the header's
        length is in clear), and no organization's."""
        return ("DECOY-" + secrecy.tag("decoy-code", self.tag).upper())[: max(length, 8)]


def _unit(secrecy: Secrecy, *parts: str | int) -> float:
    """A number in [0, 1) that only the platform key can predict."""
    return int(secrecy.tag(*parts)[:13], 16) / 16**13


def plan(secrecy: Secrecy, lot_id: int) -> list[Decoy]:
    """The lot's decoys. ``plain_size`` is the prior, log-uniform (bid sizes spread over
    magnitudes), used only until the platform has real bids to draw from."""
    count = 1 + int(_unit(secrecy, "decoy-count", lot_id) * MAX_DECOYS)
    spread = math.log(MAX_PLAIN / MIN_PLAIN)
    return [
        Decoy(
            index=i,
            tag=secrecy.tag("decoy", lot_id, i),
            nonce=secrecy.tag("decoy-nonce", lot_id, i)[:32],
            fraction=0.95 * _unit(secrecy, "decoy-at", lot_id, i),
            plain_size=int(MIN_PLAIN * math.exp(_unit(secrecy, "decoy-size", lot_id, i) * spread)),
        )
        for i in range(count)
    ]


def draw_size(real_sizes: Sequence[int], *, prior: int, limit: int) -> int:
    """A decoy's plaintext size: one of ``real_sizes`` at random, scaled by up to
    ±``_JITTER``; ``prior`` while there are fewer than ``MIN_HISTORY``; at most ``limit``."""
    size = prior
    if len(real_sizes) >= MIN_HISTORY:
        chance = secrets.SystemRandom()
        size = int(chance.choice(real_sizes) * math.exp(chance.uniform(-_JITTER, _JITTER)))
    return max(1, min(size, limit))


# -- planting ------------------------------------------------------------------------------


async def _real_sizes(session: AsyncSession, secrecy: Secrecy) -> list[int]:
    """Sizes of the newest stored bids that are no lot's decoys (the decoys of opened lots
    are gone; those of any lot with a key are recognised by their tags)."""
    lot_ids = (await session.scalars(select(col(LotKey.lot_id)))).all()
    decoy_tags = {d.tag for lot_id in lot_ids for d in plan(secrecy, lot_id)}
    rows = (
        await session.execute(
            select(col(Bid.bidder_tag), col(Bid.size))
            .order_by(col(Bid.id).desc())
            .limit(SIZE_HISTORY)
        )
    ).all()
    return [int(size) for tag, size in rows if tag not in decoy_tags]


async def _code_length(session: AsyncSession) -> int:
    """A bidder code's length, so a decoy's header is as long as a real one's."""
    lengths = (
        await session.scalars(text("SELECT length(code) FROM organization WHERE kind = 'bidder'"))
    ).all()
    return secrets.choice(lengths) if lengths else 9


async def _sealed_chunks(sealer: EnvelopeSealer, size: int) -> AsyncIterator[bytes]:
    left = size
    while left > 0:
        take = min(left, _CHUNK)
        left -= take
        for part in await asyncio.to_thread(sealer.feed_parts, os.urandom(take)):
            yield part
    yield sealer.finish()


async def plant_due_decoys(
    sessionmaker: Any, *, store: BlobStore, platform_key: PlatformKey
) -> int:
    """Plant every decoy whose time has come and that is not there yet; how many."""
    secrecy = Secrecy.of(platform_key)
    async with session_scope(sessionmaker) as session:
        lots = await lots_taking_bids(session)
        code_length = await _code_length(session)
        now = await db_now(session)
    planted = 0
    sizes: list[int] | None = None  # read once, when a decoy is due
    for lot_id, code, start, deadline in lots:
        for decoy in plan(secrecy, lot_id):
            if decoy.due_at(start, deadline) <= now:
                if sizes is None:
                    async with session_scope(sessionmaker) as session:
                        sizes = await _real_sizes(session, secrecy)
                bidder = decoy.bidder(secrecy, code_length)
                planted += await _plant(
                    sessionmaker, code, lot_id, decoy, bidder, store, secrecy, sizes
                )
    return planted


async def _plant(
    sessionmaker: Any,
    lot_code: str,
    lot_id: int,
    decoy: Decoy,
    bidder: str,
    store: BlobStore,
    secrecy: Secrecy,
    real_sizes: Sequence[int],
) -> int:
    async with session_scope(sessionmaker) as session:
        if await session.scalar(select(col(Bid.id)).where(col(Bid.bidder_tag) == decoy.tag)):
            return 0
        try:
            terms = await service.lot_terms(session, lot_code)
        except RuleViolation:  # no opening key yet (ceremony waiting): no bid can come either
            return 0
    public_raw = base64.b64decode(terms.public_key)
    sealer = EnvelopeSealer(opening_public_key=public_raw, lot=lot_code, bidder=bidder)
    # Under the lot's limit by more than the envelope's overhead (header, a tag per chunk).
    limit = terms.max_bytes - terms.max_bytes // 100 - MAX_HEADER_LEN
    size = draw_size(real_sizes, prior=decoy.plain_size, limit=limit)
    staged = await stage_envelope(
        _sealed_chunks(sealer, size),
        store=store,
        validator=EnvelopeValidator(expected_lot=lot_code, expected_bidder=bidder),
        secrecy=secrecy,
    )
    try:
        async with session_scope(sessionmaker) as session:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                {"k": f"bid:{decoy.tag}"},
            )
            if await session.scalar(select(col(Bid.id)).where(col(Bid.bidder_tag) == decoy.tag)):
                return 0  # another worker planted it meanwhile
            signature = base64.b64encode(os.urandom(64)).decode()
            evidence = Evidence(nonce=decoy.nonce, bidder_signature=signature)
            row = await service.insert_bid(
                session,
                lot_id=lot_id,
                tag=decoy.tag,
                checked=staged.checked,
                evidence=seal_evidence(evidence, lot=lot_code, opening_public_raw=public_raw),
            )
            if row is None:  # the deadline passed meanwhile
                return 0
            await service.record_sealed(
                session,
                lot=lot_code,
                bidder=bidder,
                sha256=staged.checked.sha256_hex,
                seq=row.seq,
                nonce=decoy.nonce,
            )
            await staged.settle(store)
        return 1
    finally:
        await staged.discard()


# -- revealing -----------------------------------------------------------------------------


async def reveal_decoys(
    session: AsyncSession,
    *,
    lot_id: int,
    lot_code: str,
    actor: Actor,
    platform_key: PlatformKey,
    store: BlobStore,
) -> list[str]:
    """At the end of the opening: say which ``bid.sealed`` commitments were decoys, so each
    one of the period is accounted for, and delete their rows; the SHA-256 of their files,
    for the caller to remove once this commits (a rollback keeps rows and files alike)."""
    secrecy = Secrecy.of(platform_key)
    by_tag = {d.tag: d for d in plan(secrecy, lot_id)}
    rows = (
        await session.scalars(
            select(Bid).where(col(Bid.bidder_tag).in_(by_tag)).order_by(col(Bid.seq))
        )
    ).all()
    if not rows:
        return []
    revealed = [
        {
            "bidder": await asyncio.to_thread(_stored_bidder, store, row.sha256, secrecy),
            "nonce": by_tag[row.bidder_tag].nonce,
            "seq": row.seq,
            "sha256": row.sha256,
        }
        for row in rows
    ]
    await record(
        session,
        stream=lot_stream(lot_code),
        action="bid.decoys_revealed",
        actor=actor,
        payload={"decoys": revealed},
    )
    await session.execute(delete(Bid).where(col(Bid.id).in_([r.id for r in rows])))
    return [row.sha256 for row in rows]


def _stored_bidder(store: BlobStore, sha256_hex: str, secrecy: Secrecy) -> str:
    """The bidder code in a stored envelope's (masked) header; "" if the file is gone."""
    try:
        with store.path(sha256_hex).open("rb") as handle:
            head = handle.read(HEADER_AT + MAX_HEADER_LEN)
    except FileNotFoundError:
        return ""
    header = parse_header(unmask_head(head, secrecy=secrecy, sha256_hex=sha256_hex))
    return header.bidder if header is not None else ""
