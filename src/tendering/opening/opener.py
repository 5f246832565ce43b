"""The steps of opening a lot's bids with the rebuilt key (the runner drives them).

Each bid's result is a row (``opening_result``), an ``opening_event`` (the live channel) and
an audit event that also opens the submission's sealed evidence (the commitment's nonce and
the bidder's signature, ``bids.open_evidence``), so anyone can match the global
stream's ``bid.sealed`` events to the bids opened and check each bidder's signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.bids import (
    Evidence,
    LotTerms,
    StoredBid,
    current_bids,
    open_evidence,
    reveal_decoys,
    reveal_withdrawals,
    tag_for,
    unmask_head,
)
from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization
from tendering.core.blobs import BlobStore
from tendering.core.clock import db_now, rfc3339
from tendering.core.crypto.receipt import Receipt
from tendering.core.errors import Inconsistent
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey
from tendering.ledger import deposit_status
from tendering.opening import record as opening_record
from tendering.opening.decrypt import OpenedEnvelope, open_stored_bid
from tendering.opening.events import add_event, add_events
from tendering.opening.models import BidOutcome, Opening, OpeningResult, OpeningState
from tendering.tenders import (
    LotResult,
    LotView,
    min_valid_bids,
    record_lot_result,
    reveal_registrations,
)

__all__ = [
    "OpenedBid",
    "bids_to_open",
    "decrypt_bid",
    "finish_opening",
    "receipt_hash",
    "record_results",
]


def receipt_hash(bid: StoredBid, *, lot: str, bidder: str) -> str:
    """SHA-256 (hex) of the receipt's canonical bytes: what the bidder's receipt proves."""
    receipt = Receipt(
        bidder=bidder,
        lot=lot,
        received_at=rfc3339(bid.received_at),
        seq=bid.seq,
        sha256=bid.sha256,
        size=bid.size,
    )
    return hashlib.sha256(receipt.canonical_bytes()).hexdigest()


async def _organizations(session: AsyncSession, codes: set[str]) -> dict[str, Organization]:
    """The organizations whose codes the envelopes name, in one query."""
    codes.discard("")
    if not codes:
        return {}
    found = await session.scalars(select(Organization).where(col(Organization.code).in_(codes)))
    return {org.code: org for org in found}


def _judge(
    bid: StoredBid,
    opened: OpenedEnvelope,
    org: Organization | None,
    *,
    terms: LotTerms,
    platform_key: PlatformKey,
) -> OpenedEnvelope:
    if opened.bidder and (
        org is None
        or tag_for(platform_key, lot_id=terms.lot_id, organization_id=org.id or 0) != bid.bidder_tag
    ):
        # The upload was checked for the caller's own code: a mismatch now means the
        # stored row or file was changed on the platform's side.
        opened = OpenedEnvelope(
            BidOutcome.PLATFORM_FAULT,
            "the envelope's bidder does not match the submission record",
            bidder=opened.bidder,
        )
    return opened


async def _judge_deposit(
    session: AsyncSession,
    opened: OpenedEnvelope,
    org: Organization | None,
    *,
    terms: LotTerms,
    platform_key: PlatformKey,
) -> OpenedEnvelope:
    """A valid bid of a bidder that no longer held its deposit as of the deadline is invalid:
    the upload checked the deposit, but the bank may take a credit back afterwards (a
    reversal), and the ledger then books the deposit as never received (issue 17.2)."""
    if opened.outcome != BidOutcome.VALID or org is None or terms.deposit_fen <= 0:
        return opened
    status = await deposit_status(
        session,
        org.id or 0,
        f"lot:{terms.code}",
        terms.bid_deadline,
        secrecy=Secrecy.of(platform_key),
    )
    if status.state == "received":
        return opened
    reason = (
        f"截止时间前未持有投标保证金，投标无效 (no deposit held as of the deadline: "
        f"{status.state}, {status.received_fen} of {terms.deposit_fen} fen)"
    )
    return OpenedEnvelope(
        BidOutcome.REVOKED,
        reason,
        bidder=opened.bidder,
        plaintext_sha256=opened.plaintext_sha256,
    )


async def bids_to_open(
    session: AsyncSession, lot_id: int, *, platform_key: PlatformKey
) -> tuple[list[StoredBid], int]:
    """The current bids that have no result yet, and how many already have one (an opening
    interrupted and resumed opens only the rest)."""
    current = await current_bids(session, lot_id, platform_key=platform_key)
    done = set(
        (
            await session.scalars(
                select(col(OpeningResult.bid_id)).where(col(OpeningResult.lot_id) == lot_id)
            )
        ).all()
    )
    return [b for b in current if b.id not in done], len(done)


@dataclass(frozen=True)
class OpenedBid:
    envelope: OpenedEnvelope
    evidence: Evidence | None  # None: the row's sealed evidence does not open (altered)


def decrypt_bid(
    bid: StoredBid,
    *,
    terms: LotTerms,
    private_key: X25519PrivateKey,
    store: BlobStore,
    secrecy: Secrecy,
) -> OpenedBid:
    """Open one stored bid and its row's sealed evidence (blocking: run it in a thread;
    decryption and hashing release the GIL, so several bids open at once)."""
    envelope = open_stored_bid(
        store.path(bid.sha256),
        private_key=private_key,
        lot=terms.code,
        receipt_sha256=bid.sha256,
        fields=terms.bid_fields,
        store=store,
        unmask=partial(unmask_head, secrecy=secrecy, sha256_hex=bid.sha256),
    )
    evidence = open_evidence(bid.evidence, lot=terms.code, private_key=private_key)
    return OpenedBid(envelope, evidence)


async def record_results(
    session: AsyncSession,
    results: Sequence[tuple[StoredBid, OpenedBid]],
    *,
    terms: LotTerms,
    actor: Actor,
    platform_key: PlatformKey,
) -> None:
    """Record opened bids, in order: their result rows, live steps and audit events (the
    rows and steps of the whole batch at once: one round trip each, not one per bid)."""
    orgs = await _organizations(session, {opened.envelope.bidder for _, opened in results})
    summaries, audited = [], []
    for bid, opened_bid in results:
        org = orgs.get(opened_bid.envelope.bidder)
        opened = _judge(bid, opened_bid.envelope, org, terms=terms, platform_key=platform_key)
        opened = await _judge_deposit(session, opened, org, terms=terms, platform_key=platform_key)
        row = _result_row(bid, opened, org, terms=terms)
        session.add(row)
        summary = _summary(row, opened, org)
        summaries.append(summary)
        audited.append(_audited(summary, bid, opened, opened_bid.evidence))
    await add_events(session, terms.lot_id, "bid_opened", summaries)
    for payload in audited:
        await record(
            session,
            stream=lot_stream(terms.code),
            action="opening.bid_opened",
            actor=actor,
            payload=payload,
        )


def _result_row(
    bid: StoredBid, opened: OpenedEnvelope, org: Organization | None, *, terms: LotTerms
) -> OpeningResult:
    if bid.id is None:
        raise Inconsistent("bid.id is missing")
    return OpeningResult(
        lot_id=terms.lot_id,
        bid_id=bid.id,
        organization_id=org.id if org is not None else None,
        bidder=opened.bidder,
        seq=bid.seq,
        receipt_sha256=receipt_hash(bid, lot=terms.code, bidder=opened.bidder),
        outcome=opened.outcome,
        reason=opened.reason,
        price_fen=opened.price_fen,
        form=opened.form if opened.outcome == BidOutcome.VALID else {},
        plaintext_sha256=opened.plaintext_sha256,
    )


def _summary(
    row: OpeningResult, opened: OpenedEnvelope, org: Organization | None
) -> dict[str, Any]:
    """What the live step shows of a result (and the audit event starts from)."""
    return {
        "bidder": opened.bidder,
        "bidder_name": org.name if org is not None else "",
        "seq": row.seq,
        "outcome": opened.outcome.value,
        "reason": opened.reason,
        "price_fen": opened.price_fen,
        "receipt_sha256": row.receipt_sha256,
        "may_claim_loss": opened.outcome == BidOutcome.PLATFORM_FAULT,
    }


def _audited(
    summary: dict[str, Any], bid: StoredBid, opened: OpenedEnvelope, evidence: Evidence | None
) -> dict[str, Any]:
    return summary | {
        "sha256": bid.sha256,
        "plaintext_sha256": opened.plaintext_sha256,
        # opens the bid.sealed commitment; the signature anyone can check with the
        # bidder's registered key (null: the row's evidence was altered on the platform)
        "nonce": evidence.nonce if evidence else None,
        "bidder_signature": evidence.bidder_signature if evidence else None,
    }


async def finish_opening(
    session: AsyncSession,
    *,
    terms: LotTerms,
    lot: LotView,
    actor: Actor,
    platform_key: PlatformKey,
    store: BlobStore,
) -> list[str]:
    """Decide 开标 or 流标 from the results recorded, write the signed record, and say so;
    the SHA-256 of the decoys' files, to remove once this commits (``bids.reveal_decoys``)."""
    valid = (
        await session.scalar(
            select(func.count()).where(
                col(OpeningResult.lot_id) == terms.lot_id,
                col(OpeningResult.outcome) == BidOutcome.VALID,
            )
        )
    ) or 0
    # 招标投标法 第二十八条: fewer than 3 valid bids (or the project's stricter number) fail.
    needed = await min_valid_bids(session, lot.id)
    state = OpeningState.OPENED if valid >= needed else OpeningState.FAILED
    now = await db_now(session)
    await session.execute(
        update(Opening)
        .where(col(Opening.lot_id) == terms.lot_id)
        .values(state=state, finished_at=now, valid_bids=valid, heartbeat_at=None)
    )
    signed = await opening_record.write_record(
        session, terms=terms, lot=lot, platform_key=platform_key, store=store
    )
    payload = {
        "state": state.value,
        "valid_bids": valid,
        "finished_at": rfc3339(now),
        "record_sha256": signed.sha256,
        "record_signature": signed.signature,
    }
    if state == OpeningState.FAILED:
        payload["reason"] = f"有效投标不足{needed}家，流标 (fewer than {needed} valid bids)"
    await add_event(session, terms.lot_id, "finished", payload)
    result = LotResult.OPENED if state == OpeningState.OPENED else LotResult.FAILED
    await record_lot_result(session, lot_id=terms.lot_id, result=result, at=now)
    await record(
        session,
        stream=lot_stream(terms.code),
        action=f"opening.{state.value}",
        actor=actor,
        payload=payload,
    )
    # Who registered, paid a deposit or withdrew is no longer secret: open those
    # commitments too.
    await reveal_registrations(
        session, lot_code=terms.code, actor=actor, secrecy=Secrecy.of(platform_key)
    )
    await reveal_withdrawals(
        session, lot_id=terms.lot_id, lot_code=terms.code, actor=actor, platform_key=platform_key
    )
    return await reveal_decoys(
        session,
        lot_id=terms.lot_id,
        lot_code=terms.code,
        actor=actor,
        platform_key=platform_key,
        store=store,
    )
