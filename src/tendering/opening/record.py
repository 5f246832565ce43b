"""The opening record (开标记录表): a PDF with an embedded CJK font subset, signed.

It lists the lot, the times, the custodians who entered passphrases, and each bid with its
bidder, price, receipt hash and status. The PDF is stored in the blob store; its SHA-256
is signed by the platform (standard base64 Ed25519 over the raw 32-byte digest, the same
kind as the bidders' signatures), and both go into the opening row and the audit chain::

    signed = await write_record(session, terms=..., lot=..., platform_key=..., store=...)
    signed.sha256, signed.signature
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids import LotTerms, lot_key
from tendering.core.auth.models import User
from tendering.core.blobs import BlobStore
from tendering.core.clock import rfc3339
from tendering.core.errors import Inconsistent
from tendering.core.money import yuan
from tendering.core.reports import Report, render_pdf
from tendering.core.signing import PlatformKey
from tendering.opening.models import BidOutcome, Opening, OpeningResult, OpeningState
from tendering.tenders import LotView, min_valid_bids

__all__ = ["OUTCOME_LABELS", "SignedRecord", "build_report", "write_record"]

MAX_RECORD_BYTES = 64 * 1024 * 1024
OUTCOME_LABELS = {
    BidOutcome.VALID: "有效",
    BidOutcome.REVOKED: "无效(投标人原因，视为撤回)",
    BidOutcome.PLATFORM_FAULT: "无效(平台原因，视为撤回，可申请赔偿)",
}
STATE_LABELS = {
    OpeningState.STARTED: "开标中",
    OpeningState.OPENED: "开标完成",
    OpeningState.FAILED: "流标",
}


async def _result(session: AsyncSession, opening: Opening, lot: LotView) -> str:
    state = OpeningState(opening.state)
    shown = f"{STATE_LABELS[state]}; 有效投标 {opening.valid_bids} 家"
    if state == OpeningState.FAILED:
        shown += f" (不足{await min_valid_bids(session, lot.id)}家)"
    return shown


@dataclass(frozen=True)
class SignedRecord:
    sha256: str
    signature: str


async def build_report(session: AsyncSession, *, terms: LotTerms, lot: LotView) -> Report:
    opening = await session.get(Opening, terms.lot_id, populate_existing=True)
    key = await lot_key(session, terms.lot_id)
    if opening is None or key is None:
        raise Inconsistent("opening or key is missing")
    names = {
        u.id: f"{u.display_name or u.username} (user:{u.id})"
        for u in (
            await session.scalars(select(User).where(col(User.id).in_(opening.custodians)))
        ).all()
    }
    results = (
        await session.scalars(
            select(OpeningResult)
            .where(col(OpeningResult.lot_id) == terms.lot_id)
            .order_by(col(OpeningResult.seq))
        )
    ).all()
    rows = [
        [
            str(i),
            r.bidder or "(未知)",
            str(r.seq),
            yuan(r.price_fen) if r.price_fen is not None else "-",
            r.receipt_sha256[:32] + "\n" + r.receipt_sha256[32:],
            OUTCOME_LABELS[BidOutcome(r.outcome)] + (f": {r.reason}" if r.reason else ""),
        ]
        for i, r in enumerate(results, start=1)
    ]
    facts = [
        ("标段 Lot", f"{lot.code} {lot.title}"),
        ("投标截止 Bid deadline", rfc3339(terms.bid_deadline)),
        ("开标时间 Opening time", rfc3339(terms.opening_at)),
        ("开标开始 Started", rfc3339(opening.started_at)),
        ("开标结束 Finished", rfc3339(opening.finished_at) if opening.finished_at else "-"),
        ("开标密钥 Opening key_id", key.key_id),
        (
            f"密钥保管人 Custodians ({key.k}/{key.n})",
            "; ".join(names[u] for u in opening.custodians if u in names),
        ),
        ("结果 Result", await _result(session, opening, lot)),
    ]
    return Report(
        title=f"开标记录表 Bid opening record — {lot.code}",
        facts=facts,
        columns=["序号", "投标人", "回执序号", "投标报价(元)", "回执哈希 SHA-256", "状态"],
        rows=rows,
        filename=f"opening-{lot.code}",
    )


async def write_record(
    session: AsyncSession,
    *,
    terms: LotTerms,
    lot: LotView,
    platform_key: PlatformKey,
    store: BlobStore,
) -> SignedRecord:
    report = await build_report(session, terms=terms, lot=lot)
    pdf = await asyncio.to_thread(render_pdf, report)
    stored = await store.write_bytes(pdf, limit=MAX_RECORD_BYTES)
    signature = platform_key.sign_b64(bytes.fromhex(stored.sha256))
    await session.execute(
        update(Opening)
        .where(col(Opening.lot_id) == terms.lot_id)
        .values(record_sha256=stored.sha256, record_signature=signature)
    )
    return SignedRecord(sha256=stored.sha256, signature=signature)
