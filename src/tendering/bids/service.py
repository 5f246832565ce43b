"""Use cases of sealed-bid submission.

A submission is decided in one short transaction after the upload has streamed to a
staging file (no transaction stays open during an upload): the deposit is read at the
database clock, the previous current bid of the same bidder is marked replaced, and the new
row is inserted by one statement guarded by ``clock_timestamp() < bid_deadline``, the
deadline read in that same statement (an amendment may have moved it) and judged by the
database clock when the row is written, so an upload that began before the deadline and
finished after it is refused. Who bid, for which lot, is kept out of the tables: a row
carries only ``bidder_tag``, a keyed tag of (lot, organization) that differs for every pair,
so rows cannot be grouped by lot; the opening finds a lot's bids by computing the tag of
every bidder organization. It is kept out of the audit chain too (a hiding commitment in the
global stream, opened by the opening record).

A receipt's ``seq`` orders a lot's submissions without counting them: it is the database
clock's microseconds at the insert (one more than the last ``seq`` when that is not less),
unique across the platform. A counter, per lot or platform-wide, would let a bidder who
submits twice learn how many submissions came in between.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Text,
    cast,
    extract,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids import rules
from tendering.bids.evidence import Evidence, seal_evidence
from tendering.bids.lot_keys import lot_key
from tendering.bids.models import Bid, BidderKey, BidState
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization
from tendering.core.clock import db_now, rfc3339
from tendering.core.crypto.bidder_keys import parse_public_key, verify_file_signature
from tendering.core.crypto.envelope import CheckedEnvelope
from tendering.core.crypto.receipt import Receipt, sign_receipt
from tendering.core.errors import (
    ErrorCode,
    Inconsistent,
    InvalidInput,
    NotFound,
    RuleViolation,
    present,
)
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey
from tendering.ledger import deposit_status
from tendering.tenders import bid_deadline_sql, is_registered, published_lot

__all__ = [
    "LotTerms",
    "check_before_upload",
    "insert_bid",
    "lot_terms",
    "own_bid",
    "record_sealed",
    "submit_bid",
    "tag_for",
    "withdraw_bid",
]

MIB = 1024 * 1024
DEFAULT_MAX_BID_BYTES = 1024 * MIB


@dataclass(frozen=True)
class LotTerms:
    lot_id: int
    code: str
    bid_deadline: datetime
    opening_at: datetime
    deposit_fen: int
    bid_fields: list[dict[str, Any]]
    key_id: str
    public_key: str
    max_bytes: int = DEFAULT_MAX_BID_BYTES


def tag_for(platform_key: PlatformKey, *, lot_id: int, organization_id: int) -> str:
    """The bid rows' tag of (lot, organization); the same tag every bid version carries."""
    return Secrecy.of(platform_key).tag(lot_id, organization_id)


# -- the lot's terms -----------------------------------------------------------------------


async def lot_terms(
    session: AsyncSession, lot_code: str, *, max_bytes: int | None = None
) -> LotTerms:
    """The published lot's deadline, form and opening key; one 404 for anything else."""
    lot = await published_lot(session, lot_code)
    if lot is None:
        raise NotFound(
            f"没有已发布的标段 {lot_code} (no published lot).", code=ErrorCode.BID_NO_LOT
        )
    key = await lot_key(session, lot.lot_id)
    if key is None:
        raise RuleViolation(
            "该标段尚未举行密钥仪式，暂不能投标 (the lot has no opening key yet).",
            code=ErrorCode.BID_NO_OPENING_KEY,
        )
    return LotTerms(
        lot_id=lot.lot_id,
        code=lot.code,
        bid_deadline=lot.bid_deadline,
        opening_at=lot.opening_at,
        deposit_fen=lot.deposit_fen,
        bid_fields=list(lot.bid_fields),
        key_id=key.key_id,
        public_key=key.public_key,
        # The lot's own limit; a platform-wide cap (``max_bytes``), when set, can only lower it.
        max_bytes=min(lot.max_bid_mb * MIB, max_bytes or lot.max_bid_mb * MIB),
    )


async def _organization_code(session: AsyncSession, organization_id: int) -> str:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise Inconsistent("the bidder's organization is missing")
    return org.code


def _late(terms: LotTerms) -> RuleViolation:
    return RuleViolation(
        f"已过投标截止时间 {rfc3339(terms.bid_deadline)}，投标被拒绝 (late: the bid deadline has "
        "passed).",
        code=ErrorCode.BID_LATE,
        details={"bid_deadline": rfc3339(terms.bid_deadline)},
    )


async def _check_deposit(
    session: AsyncSession, terms: LotTerms, org_id: int, at: datetime, platform_key: PlatformKey
) -> None:
    if terms.deposit_fen <= 0:
        return
    secrecy = Secrecy.of(platform_key)
    status = await deposit_status(session, org_id, f"lot:{terms.code}", at, secrecy=secrecy)
    if status.state != "received":
        raise RuleViolation(
            f"投标保证金未到账 (no deposit: {status.received_fen} of {terms.deposit_fen} fen "
            "received before the deadline).",
            code=ErrorCode.BID_NO_DEPOSIT,
        )


async def check_before_upload(
    session: AsyncSession, *, actor: Actor, terms: LotTerms, platform_key: PlatformKey
) -> str:
    """Refuse early (late, no deposit, no key) before any byte is read; the bidder's code."""
    if actor.organization_id is None:
        raise Inconsistent("a bidder account without its organization")
    now = await db_now(session)
    if now >= terms.bid_deadline:
        raise _late(terms)
    secrecy = Secrecy.of(platform_key)
    if not await is_registered(
        session, lot_code=terms.code, organization_id=actor.organization_id, secrecy=secrecy
    ):
        raise RuleViolation(
            "您未获取该标段的招标文件，不能投标 (not registered for this lot).",
            code=ErrorCode.BID_NOT_REGISTERED,
        )
    await _check_deposit(session, terms, actor.organization_id, now, platform_key)
    keys = await _active_keys(session, actor.organization_id)
    if not keys:
        raise RuleViolation(
            "请先登记投标人签名公钥 (register a bidder signing key first).",
            code=ErrorCode.BID_NO_BIDDER_KEY,
        )
    return await _organization_code(session, actor.organization_id)


async def _active_keys(session: AsyncSession, organization_id: int) -> list[str]:
    query = select(col(BidderKey.public_key)).where(
        col(BidderKey.organization_id) == organization_id, col(BidderKey.revoked_at).is_(None)
    )
    return list((await session.scalars(query)).all())


# -- submission ----------------------------------------------------------------------------

_CLOCK_SEQ = 1_000_000_000_000_000  # receipts before migration 0009 carry smaller seqs


def _insert(*, lot_id: int, tag: str, checked: CheckedEnvelope, evidence: str) -> Any:
    """One statement: ``WITH ok AS (SELECT clock_timestamp() AS at WHERE clock_timestamp() <
    <the lot's deadline>) INSERT INTO bid ... SELECT ..., ok.at, ... FROM ok RETURNING ...``;
    the deadline is the tenders context's subquery (``bid_deadline_sql``)."""
    now = func.clock_timestamp()
    ok = select(now.label("at")).where(now < bid_deadline_sql(lot_id)).cte("ok")
    seq = func.greatest(
        cast(extract("epoch", ok.c.at) * 1_000_000, BigInteger),
        select(func.max(col(Bid.seq)) + 1).where(col(Bid.seq) >= _CLOCK_SEQ).scalar_subquery(),
    )
    row = select(
        literal(tag, String),
        seq,
        literal(BidState.CURRENT.value, String),
        literal(checked.sha256_hex, String),
        literal(checked.size, BigInteger),
        ok.c.at,
        literal(evidence, Text),
    ).select_from(ok)
    columns = ["bidder_tag", "seq", "state", "sha256", "size", "received_at", "evidence"]
    return (
        insert(Bid)
        .from_select(columns, row)
        .returning(col(Bid.id), col(Bid.seq), col(Bid.received_at))
    )


async def insert_bid(
    session: AsyncSession, *, lot_id: int, tag: str, checked: CheckedEnvelope, evidence: str
) -> Any:
    """The new current row (``id``, ``seq``, ``received_at``), or ``None`` when the lot's
    deadline has passed. Two inserts that read the same microsecond collide on
    ``uq_bid_seq`` (receipts before migration 0009 carry per-lot counters, below 10**15,
    that the index leaves out): the later one tries again."""
    statement = _insert(lot_id=lot_id, tag=tag, checked=checked, evidence=evidence)
    for attempt in range(5):
        try:
            async with session.begin_nested():
                return (await session.execute(statement)).first()
        except IntegrityError as error:
            if "uq_bid_seq" not in str(error.orig) or attempt == 4:
                raise
    raise AssertionError("unreachable")


async def submit_bid(
    session: AsyncSession,
    *,
    actor: Actor,
    terms: LotTerms,
    checked: CheckedEnvelope,
    signature: str,
    platform_key: PlatformKey,
) -> dict[str, Any]:
    """Accept the checked envelope (replacing the bidder's current bid); the signed receipt."""
    if actor.organization_id is None:
        raise Inconsistent("a bidder account without its organization")
    org_id = actor.organization_id
    bidder = await _organization_code(session, org_id)
    keys = await _active_keys(session, org_id)
    if not any(verify_file_signature(parse_public_key(k), checked.sha256, signature) for k in keys):
        raise InvalidInput(
            "X-Bid-Signature: 签名无效 (bad signature: it does not verify with any registered, "
            "unrevoked key of your organization over the file's SHA-256).",
            code=ErrorCode.BID_BAD_SIGNATURE,
            field="X-Bid-Signature",
        )
    tag = tag_for(platform_key, lot_id=terms.lot_id, organization_id=org_id)
    # One submission per bidder and lot at a time: a concurrent replacement waits here.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"bid:{tag}"}
    )
    await _check_deposit(session, terms, org_id, await db_now(session), platform_key)
    await _mark(session, tag, BidState.REPLACED, withdrawn=False)
    nonce = secrets.token_hex(16)
    row = await insert_bid(
        session,
        lot_id=terms.lot_id,
        tag=tag,
        checked=checked,
        evidence=seal_evidence(
            Evidence(nonce=nonce, bidder_signature=signature),
            lot=terms.code,
            opening_public_raw=base64.b64decode(terms.public_key),
        ),
    )
    if row is None:
        raise _late(terms)
    receipt = Receipt(
        bidder=bidder,
        lot=terms.code,
        received_at=rfc3339(row.received_at),
        seq=row.seq,
        sha256=checked.sha256_hex,
        size=checked.size,
    )
    document = sign_receipt(receipt, platform_key)
    await record_sealed(
        session, lot=terms.code, bidder=bidder, sha256=receipt.sha256, seq=receipt.seq, nonce=nonce
    )
    return document


async def record_sealed(
    session: AsyncSession, *, lot: str, bidder: str, sha256: str, seq: int, nonce: str
) -> None:
    """The submission's hiding commitment in the global stream (``bid.sealed``): the one
    way a bid, or a decoy that must look like one, enters the audit chain."""
    commitment = rules.commitment(lot=lot, bidder=bidder, sha256=sha256, seq=seq, nonce=nonce)
    await record(
        session,
        stream=GLOBAL,
        action="bid.sealed",
        actor="system:bids",
        payload={"commitment": commitment},
    )


async def _mark(
    session: AsyncSession, tag: str, state: BidState, *, withdrawn: bool
) -> tuple[int, int] | None:
    """Mark the (lot, bidder)'s current bid; its (id, seq), or None without one."""
    values: dict[str, Any] = {"state": state}
    if withdrawn:
        values["withdrawn_at"] = func.clock_timestamp()
    result = await session.execute(
        update(Bid)
        .where(
            col(Bid.bidder_tag) == tag,
            col(Bid.state) == BidState.CURRENT,
        )
        .values(**values)
        .returning(col(Bid.id), col(Bid.seq))
    )
    row = result.first()
    return None if row is None else (present(row[0], "the marked bid's id"), row[1])


def withdrawal_nonce(secrecy: Secrecy, bid_id: int) -> str:
    """The nonce of a withdrawal's commitment. Derived from the platform key and the
    withdrawn row, as the decoys' nonces are (bids/decoys.py): unguessable without the key,
    different for every withdrawal, and nothing extra stored; the opening reveals it."""
    return secrecy.tag("withdrawal-nonce", bid_id)[:32]


def _receipt_of(bid: Bid, *, lot: str, bidder: str, platform_key: PlatformKey) -> dict[str, Any]:
    """The receipt signed again (Ed25519 is deterministic: the same bytes as at submission)."""
    receipt = Receipt(
        bidder=bidder,
        lot=lot,
        received_at=rfc3339(bid.received_at),
        seq=bid.seq,
        sha256=bid.sha256,
        size=bid.size,
    )
    return sign_receipt(receipt, platform_key)


async def own_bid(
    session: AsyncSession, *, actor: Actor, terms: LotTerms, platform_key: PlatformKey
) -> dict[str, Any]:
    """The caller's current bid's receipt; the same 404 as for a lot it did not bid on."""
    if actor.organization_id is None:
        raise Inconsistent("a bidder account without its organization")
    tag = tag_for(platform_key, lot_id=terms.lot_id, organization_id=actor.organization_id)
    bid = await session.scalar(
        select(Bid).where(
            col(Bid.bidder_tag) == tag,
            col(Bid.state) == BidState.CURRENT,
        )
    )
    if bid is None:
        raise NotFound(
            "您在该标段没有有效投标 (you have no current bid on this lot).", code=ErrorCode.BID_NONE
        )
    bidder = await _organization_code(session, actor.organization_id)
    return _receipt_of(bid, lot=terms.code, bidder=bidder, platform_key=platform_key)


async def withdraw_bid(
    session: AsyncSession, *, actor: Actor, terms: LotTerms, platform_key: PlatformKey
) -> None:
    """Withdraw the caller's current bid before the deadline (database clock)."""
    if actor.organization_id is None:
        raise Inconsistent("a bidder account without its organization")
    tag = tag_for(platform_key, lot_id=terms.lot_id, organization_id=actor.organization_id)
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"bid:{tag}"}
    )
    if await db_now(session) >= terms.bid_deadline:
        raise _late(terms)
    withdrawn = await _mark(session, tag, BidState.WITHDRAWN, withdrawn=True)
    if withdrawn is None:
        raise NotFound(
            "您在该标段没有有效投标 (you have no current bid on this lot).", code=ErrorCode.BID_NONE
        )
    bid_id, seq = withdrawn
    bidder = await _organization_code(session, actor.organization_id)
    nonce = withdrawal_nonce(Secrecy.of(platform_key), bid_id)
    commitment = rules.withdrawal_commitment(lot=terms.code, bidder=bidder, seq=seq, nonce=nonce)
    await record(
        session,
        stream=GLOBAL,
        action="bid.withdrawn",
        actor="system:bids",
        payload={"commitment": commitment},
    )
