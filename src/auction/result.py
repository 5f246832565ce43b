"""The result (成交 or 流拍): what the bidding side's closing calls, once, in its transaction.

``settle(session, auction, ...)`` takes the auction row the caller locked
(``auction_for_update``) when bidding has ended, and:

1. finds the highest accepted bid (ties cannot happen: each accepted bid beats the last);
2. opens the sealed reserve and checks it against its commitment (``reserve.py``); the
   highest bid wins if it reaches the reserve (no reserve entered: any bid wins), else the
   auction fails (流拍, also when nobody bid);
3. writes the result confirmation (成交确认书, or the 流拍 record) as a PDF with an embedded CJK
   font, stores it and signs its SHA-256 with the platform key exactly as the opening record
   is signed (standard base64 Ed25519 over the raw 32-byte digest);
4. converts the winner's deposit to payment (``close_deposit(to="converted")``) and puts every
   other deposit of the auction in one refund batch (``create_refund_batch``);
5. records ``auction.sold`` or ``auction.failed`` in ``auction_stream(code)`` with the
   winner's paddle, the price, the opened reserve with its nonce (anyone can recompute the
   commitment) and the PDF's hash and signature.

Settling a closed auction again returns its result and changes nothing (idempotent).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auction.announcements import seller_name
from auction.listing_rules import describe_subject
from auction.lookup import paddle_tag
from auction.models import (
    Auction,
    AuctionBid,
    AuctionKind,
    AuctionRegistration,
    AuctionState,
    Outcome,
)
from auction.public import KIND_NAMES
from auction.registration import deposit_subject, holder_of
from auction.reserve import OpenedReserve, open_reserve
from tendering.core.audit import auction_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.blobs import BlobStore
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, present
from tendering.core.money import yuan
from tendering.core.reports import Report, render_pdf
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey
from tendering.ledger import close_deposit, create_refund_batch

__all__ = ["Settlement", "settle", "settlement_of"]

MAX_RESULT_BYTES = 64 * 1024 * 1024
CST = ZoneInfo("Asia/Shanghai")
_SETTLER = Actor.system("auction.settle")


@dataclass(frozen=True)
class Settlement:
    code: str
    outcome: Outcome
    winner_paddle: str | None
    final_price_fen: int | None
    reserve_fen: int | None
    result_at: datetime
    result_sha256: str
    result_signature: str


def settlement_of(row: Auction) -> Settlement:
    """The result a settled ``row`` holds."""
    return Settlement(
        code=row.code,
        outcome=Outcome(present(row.outcome, "auction.outcome")),
        winner_paddle=row.winner_paddle,
        final_price_fen=row.final_price_fen,
        reserve_fen=row.reserve_fen,
        result_at=present(row.result_at, "auction.result_at"),
        result_sha256=present(row.result_sha256, "auction.result_sha256"),
        result_signature=present(row.result_signature, "auction.result_signature"),
    )


async def _bids(session: AsyncSession, auction_id: int) -> list[AuctionBid]:
    query = (
        select(AuctionBid)
        .where(col(AuctionBid.auction_id) == auction_id)
        .order_by(col(AuctionBid.seq))
    )
    return list((await session.scalars(query)).all())


def _report(
    row: Auction, bids: list[AuctionBid], reserve: OpenedReserve | None, seller: str
) -> Report:
    sold = row.outcome == Outcome.SOLD
    subject = describe_subject(row.subject)
    facts = [
        ("拍卖编号 Auction", f"{row.code} {row.title}"),
        ("类别 Kind", KIND_NAMES[AuctionKind(row.kind)]),
        ("标的 Subject", subject),
        ("出让方 Seller", seller),
        ("方式 Mode", "挂牌出让 listing" if row.mode == "listing" else "拍卖 live auction"),
        ("起始价 Start price", f"{yuan(row.start_price_fen)} 元"),
        ("加价幅度 Increment", f"{yuan(row.increment_fen)} 元"),
        ("底价 Reserve", f"{yuan(reserve.reserve_fen)} 元" if reserve else "无 none"),
        ("底价承诺 Reserve commitment", reserve.commitment if reserve else "-"),
        ("结果 Outcome", "成交 sold" if sold else "流拍 failed"),
        ("竞得人竞买号 Winner's paddle", row.winner_paddle or "-"),
        (
            "成交价 Final price",
            f"{yuan(row.final_price_fen)} 元" if row.final_price_fen is not None else "-",
        ),
        ("确认时间 Result time", rfc3339(present(row.result_at, "auction.result_at"))),
        ("有效出价 Accepted bids", str(len(bids))),
    ]
    rows = [
        [str(b.seq), b.paddle, yuan(b.amount_fen), b.phase, rfc3339(present(b.accepted_at, "at"))]
        for b in bids
    ]
    notes = [
        "本确认书的 SHA-256 由平台以 Ed25519 签名，签名与哈希记入拍卖审计链 "
        f"({auction_stream(row.code)})，可用 tendering audit verify 核对。"
    ]
    return Report(
        title=("成交确认书 Result confirmation" if sold else "流拍记录 Failed auction record")
        + f" — {row.code}",
        facts=facts,
        columns=["序号 Seq", "竞买号 Paddle", "出价(元) Amount", "阶段 Phase", "时间 Time"],
        rows=rows,
        notes=notes,
        filename=f"auction-result-{row.code}",
    )


async def _move_deposits(
    session: AsyncSession, *, secrecy: Secrecy, row: Auction, winner_org: int | None
) -> None:
    subject = deposit_subject(row.code)
    if winner_org is not None:
        await close_deposit(
            session,
            secrecy=secrecy,
            bidder_org_id=winner_org,
            subject=subject,
            to="converted",
            reason=f"{row.code} 成交，保证金转作价款 (deposit converted to payment)",
            actor=_SETTLER,
        )
    try:
        await create_refund_batch(
            session,
            secrecy=secrecy,
            subject=subject,
            paid_on=present(row.result_at, "auction.result_at").astimezone(CST).date(),
            actor=_SETTLER,
            request_key=f"auction-settle:{row.code}",
        )
    except Conflict as nothing:
        if nothing.code != ErrorCode.LEDGER_NOTHING_TO_REFUND:
            raise


async def _winner_org(session: AsyncSession, *, secrecy: Secrecy, row: Auction, paddle: str) -> int:
    """The organization behind the winning paddle, found by its keyed ``paddle_tag``."""
    tag = paddle_tag(secrecy, present(row.id, "auction.id"), paddle)
    found = (
        await session.execute(
            select(AuctionRegistration).where(col(AuctionRegistration.paddle_tag) == tag)
        )
    ).scalar_one_or_none()
    if found is None:
        raise Inconsistent(f"no registration holds paddle {paddle} of {row.code}")
    return holder_of(secrecy, found).organization_id


async def settle(
    session: AsyncSession,
    auction: Auction,
    *,
    secrecy: Secrecy,
    key: PlatformKey,
    store: BlobStore,
) -> Settlement:
    """Decide, record and sign the result of ``auction`` (locked by the caller); see the
    module docstring. A closed auction answers its result again."""
    if auction.state == AuctionState.CLOSED:
        return settlement_of(auction)
    if auction.state == AuctionState.CANCELLED:
        raise Conflict(
            f"拍卖 {auction.code} 已撤销 (the auction was cancelled)", code=ErrorCode.AUCTION_STATE
        )
    auction_id = present(auction.id, "auction.id")
    bids = await _bids(session, auction_id)
    top = max(bids, key=lambda b: b.amount_fen, default=None)
    reserve = await open_reserve(session, secrecy=secrecy, row=auction)
    sold = top is not None and (reserve is None or top.amount_fen >= reserve.reserve_fen)
    auction.state = AuctionState.CLOSED
    auction.outcome = Outcome.SOLD if sold else Outcome.FAILED
    auction.winner_paddle = top.paddle if sold and top else None
    auction.final_price_fen = top.amount_fen if sold and top else None
    auction.reserve_fen = reserve.reserve_fen if reserve else None
    auction.result_at = await db_now(session)
    auction.ends_at = None
    seller = await seller_name(session, auction.seller_id)
    pdf = await asyncio.to_thread(render_pdf, _report(auction, bids, reserve, seller))
    stored = await store.write_bytes(pdf, limit=MAX_RESULT_BYTES)
    auction.result_sha256 = stored.sha256
    auction.result_signature = key.sign_b64(bytes.fromhex(stored.sha256))
    winner_org = None
    if sold and top is not None:
        winner_org = await _winner_org(session, secrecy=secrecy, row=auction, paddle=top.paddle)
    await _move_deposits(session, secrecy=secrecy, row=auction, winner_org=winner_org)
    await session.flush()
    await record(
        session,
        stream=auction_stream(auction.code),
        action="auction.sold" if sold else "auction.failed",
        actor=_SETTLER,
        payload={
            "winner_paddle": auction.winner_paddle,
            "final_price_fen": auction.final_price_fen,
            "bids": len(bids),
            "last_seq": auction.last_seq,
            "reserve_fen": reserve.reserve_fen if reserve else None,
            "reserve_nonce": reserve.nonce if reserve else None,
            "reserve_commitment": reserve.commitment if reserve else None,
            "result_sha256": auction.result_sha256,
            "result_signature": auction.result_signature,
            "result_at": rfc3339(auction.result_at),
        },
    )
    return settlement_of(auction)
