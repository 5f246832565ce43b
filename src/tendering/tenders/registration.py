"""Registration for a lot (获取招标文件), kept secret until opening.

Who registered, and how many, must not leak to other bidders, the public or a reader of
the database (招标投标法第二十二条: 招标人不得向他人透露已获取招标文件的潜在投标人的名称、数量). So:

- a bidder reaches only its own registrations; every "not yours", "no such lot", "not
  published" and "no such reference" is the same 404 with the same words;
- registering twice answers exactly like registering once (one ``INSERT ... ON CONFLICT DO
  NOTHING``, then a read of the caller's own row), so no answer depends on anyone else;
- no row id, sequence or count is ever returned: the handle is a random ``ref``;
- the table names no lot, organization or user: a row is found by its ``tag``, the keyed
  hash of (lot, organization), which differs for every row, so nothing groups rows by lot;
  ``holder`` seals the lot, organization and user (``core/secrecy.py``). An organization's
  rows are found by computing its tag for every published lot, a lot's (at the reveal) by
  computing every organization's; who a row belongs to always comes from the tag found,
  never from the sealed box alone;
- an amendment reaches a registered organization's inbox by computation (its
  registrations, then the amendments issued since on those lots' notices): a table of
  deliveries would count each notice's registered bidders;
- the audit chain holds, in the global stream, only a hiding commitment to each
  registration (``registration.made``) and to its deposit account (``deposit.opened``),
  under system actors: no organization, no lot, and nothing in the lot's own stream, whose
  length would count them;
- when the opening has finished, ``tenders/reveal.py`` opens them in the lot's stream
  (``registration.revealed``, ``deposit.revealed``) so anyone can match the commitments.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import String, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, NotFound
from tendering.core.secrecy import Secrecy
from tendering.ledger import DepositView, get_deposit, open_deposit_account
from tendering.tenders import rules
from tendering.tenders.models import Amendment, Lot, Notice, NoticeLot, NoticeStatus, Registration

__all__ = [
    "REGISTRATION_ACTOR",
    "any_tag",
    "is_registered",
    "own_deposit",
    "own_messages",
    "own_registration",
    "own_registrations",
    "register_for_lot",
    "registered_for_notice",
    "registration_tag",
]

# Acts for the bidder in the audit chain: the bidder's own user would name the bidder.
REGISTRATION_SYSTEM = Actor.system("registration")
REGISTRATION_ACTOR = REGISTRATION_SYSTEM.ref
_NOT_FOUND = "No registration of yours was found for this lot or reference."
_LISTED = (NoticeStatus.PUBLISHED, NoticeStatus.CLOSED)  # a lot one could have registered for


def _not_found() -> NotFound:
    return NotFound(_NOT_FOUND, code=ErrorCode.TENDER_NO_REGISTRATION)


def registration_tag(secrecy: Secrecy, *, lot_id: int, organization_id: int) -> str:
    """The row's only handle on its lot and organization (see the module docstring)."""
    return secrecy.tag("registration", lot_id, organization_id)


def _seal_holder(
    secrecy: Secrecy, tag: str, *, lot_id: int, organization_id: int, user_id: int
) -> str:
    # Fixed-width digits, so the box's length does not tell small ids from large ones; the
    # row's tag in the purpose, so a box moved to another row does not open there.
    ids = {"lot_id": lot_id, "organization_id": organization_id, "user_id": user_id}
    return secrecy.seal(f"registration|{tag}", {k: f"{v:020d}" for k, v in ids.items()})


def _open_holder(secrecy: Secrecy, row: Registration) -> dict[str, int] | None:
    """The sealed ids of a row, or None when its box does not open (altered or moved)."""
    try:
        box = secrecy.open(f"registration|{row.tag}", row.holder)
    except (InvalidTag, ValueError):
        return None
    return {k: int(v) for k, v in box.items()}


def any_tag(values: Iterable[str]) -> Any:
    """``= ANY(:array)``: one parameter however many tags are looked for."""
    return any_(literal(list(values), ARRAY(String)))


async def _open_lot(session: AsyncSession, lot_code: str) -> tuple[Lot, Notice]:
    """The lot with its published notice, or the one 404 (unknown and unpublished alike)."""
    query = (
        select(Lot, Notice)
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
        .where(col(Lot.code) == lot_code, col(Notice.status) == NoticeStatus.PUBLISHED)
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise _not_found()
    return row[0], row[1]


async def register_for_lot(
    session: AsyncSession, *, actor: Actor, lot_code: str, secrecy: Secrecy
) -> tuple[Registration, str, int]:
    """Register the actor's organization for a lot (idempotent): as :func:`own_registration`."""
    lot, notice = await _open_lot(session, lot_code)
    if lot.id is None:
        raise Inconsistent("lot.id is missing")
    now = await db_now(session)
    if not notice.documents_from <= now < notice.documents_to:
        raise Conflict(
            "Documents for this lot are available from "
            f"{rfc3339(notice.documents_from)} to {rfc3339(notice.documents_to)}; "
            "registration is open only then.",
            code=ErrorCode.TENDER_REGISTRATION_CLOSED,
        )
    organization_id = actor.organization_id or 0
    tag = registration_tag(secrecy, lot_id=lot.id, organization_id=organization_id)
    ref, nonce = secrets.token_hex(16), secrets.token_hex(16)
    holder = _seal_holder(
        secrecy, tag, lot_id=lot.id, organization_id=organization_id, user_id=actor.user_id or 0
    )
    inserted = (
        await session.execute(
            insert(Registration)
            .values(tag=tag, holder=holder, ref=ref, registered_at=now, nonce=nonce)
            .on_conflict_do_nothing(index_elements=["tag"])
            .returning(col(Registration.ref))
        )
    ).scalar()
    if lot.deposit_fen > 0:
        # The bidder's own virtual account (子账号) for this lot's deposit; idempotent, so a
        # second registration takes the same path and gets the same account.
        await open_deposit_account(
            session,
            secrecy=secrecy,
            bidder_org_id=organization_id,
            subject=lot_stream(lot.code),
            amount_due_fen=lot.deposit_fen,
            deadline=notice.bid_deadline,
            actor=REGISTRATION_SYSTEM,
        )
    if inserted is not None:
        fields = rules.registered_fields(
            lot=lot.code, organization=organization_id, registration=ref
        )
        await record(
            session,
            stream=GLOBAL,
            action="registration.made",
            actor=REGISTRATION_ACTOR,
            payload={"commitment": rules.registration_commitment(fields, nonce)},
        )
    return await own_registration(session, actor=actor, lot_code=lot.code, secrecy=secrecy)


async def _listed_lots(session: AsyncSession) -> dict[int, tuple[str, int]]:
    """Every lot one could have registered for: its code and latest notice id, by lot id."""
    listed = (
        select(col(NoticeLot.lot_id))
        .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
        .where(col(Notice.status).in_(_LISTED))
    )
    query = (
        select(col(Lot.id), col(Lot.code), func.max(col(NoticeLot.notice_id)))
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .where(col(Lot.id).in_(listed))
        .group_by(col(Lot.id), col(Lot.code))
    )
    return {lot_id or 0: (code, notice) for lot_id, code, notice in (await session.execute(query))}


async def _own_rows(
    session: AsyncSession, organization_id: int, lot_ids: Iterable[int], secrecy: Secrecy
) -> list[tuple[Registration, int]]:
    """The organization's registrations among these lots, each with its lot id."""
    by_tag = {
        registration_tag(secrecy, lot_id=lot_id, organization_id=organization_id): lot_id
        for lot_id in lot_ids
    }
    if not by_tag:
        return []
    query = (
        select(Registration)
        .where(col(Registration.tag) == any_tag(by_tag))
        .order_by(col(Registration.registered_at).desc(), col(Registration.ref))
    )
    return [(r, by_tag[r.tag]) for r in (await session.scalars(query)).all()]


async def _latest_notice(session: AsyncSession, lot_code: str) -> tuple[int, int] | None:
    """A lot's id and its latest notice's id, by the lot's code."""
    query = (
        select(col(Lot.id), col(NoticeLot.notice_id))
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .where(col(Lot.code) == lot_code)
        .order_by(col(NoticeLot.notice_id).desc())
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0] or 0, row[1])


async def own_registration(
    session: AsyncSession,
    *,
    actor: Actor,
    secrecy: Secrecy,
    lot_code: str | None = None,
    ref: str | None = None,
) -> tuple[Registration, str, int]:
    """The caller's registration by lot code or by ref, with the lot code and notice id."""
    organization_id = actor.organization_id or 0
    if lot_code is None:
        # By ref: the sealed box says which lot to try; the tag decides whether it is ours.
        row = await session.scalar(select(Registration).where(col(Registration.ref) == ref))
        held = None if row is None else _open_holder(secrecy, row)
        if row is None or held is None:
            raise _not_found()
        lot_code = await session.scalar(select(col(Lot.code)).where(col(Lot.id) == held["lot_id"]))
        if lot_code is None:
            raise _not_found()
    found = await _latest_notice(session, lot_code)
    if found is None:
        raise _not_found()
    lot_id, notice_id = found
    tag = registration_tag(secrecy, lot_id=lot_id, organization_id=organization_id)
    query = select(Registration).where(col(Registration.tag) == tag)
    if ref is not None:
        query = query.where(col(Registration.ref) == ref)
    row = await session.scalar(query)
    if row is None:
        raise _not_found()
    return row, lot_code, notice_id


async def own_registrations(
    session: AsyncSession, *, actor: Actor, secrecy: Secrecy
) -> list[tuple[Registration, str, int]]:
    """The caller's registrations, newest first, each with its lot code and latest notice."""
    lots = await _listed_lots(session)
    rows = await _own_rows(session, actor.organization_id or 0, lots, secrecy)
    return [(r, *lots[lot_id]) for r, lot_id in rows]


async def own_messages(session: AsyncSession, *, actor: Actor, secrecy: Secrecy) -> list[Amendment]:
    """The inbox: every amendment of a notice of a lot the caller registered for, issued
    after it registered, newest first (its ``issued_at`` is when it was delivered)."""
    lots = await _listed_lots(session)
    rows = await _own_rows(session, actor.organization_id or 0, lots, secrecy)
    if not rows:
        return []
    since: dict[int, datetime] = {}  # lot id -> when the caller registered for it
    for row, lot_id in rows:
        since[lot_id] = min(since.get(lot_id, row.registered_at), row.registered_at)
    query = (
        select(Amendment, col(NoticeLot.lot_id))
        .join(NoticeLot, col(NoticeLot.notice_id) == col(Amendment.notice_id))
        .where(col(NoticeLot.lot_id).in_(since))
    )
    found: dict[int, Amendment] = {}
    for amendment, lot_id in (await session.execute(query)).all():
        if amendment.issued_at >= since[lot_id]:
            found[amendment.id or 0] = amendment
    return sorted(found.values(), key=lambda a: (a.issued_at, a.id or 0), reverse=True)


async def own_deposit(
    session: AsyncSession, *, actor: Actor, lot_code: str, secrecy: Secrecy
) -> DepositView | None:
    """The caller's deposit account for a lot it registered for (None when none is due)."""
    try:
        return await get_deposit(
            session,
            secrecy=secrecy,
            bidder_org_id=actor.organization_id,
            subject=lot_stream(lot_code),
        )
    except NotFound:
        return None


async def registered_for_notice(
    session: AsyncSession, *, notice_id: int, organization_id: int, secrecy: Secrecy
) -> bool:
    """Has the organization registered for any lot of the notice (it may ask questions)?"""
    lots = await session.scalars(
        select(col(NoticeLot.lot_id)).where(col(NoticeLot.notice_id) == notice_id)
    )
    return bool(await _own_rows(session, organization_id, lots.all(), secrecy))


async def is_registered(
    session: AsyncSession, *, lot_code: str, organization_id: int, secrecy: Secrecy
) -> bool:
    """For the bids context: may this organization bid on the lot?"""
    lot_id = await session.scalar(select(col(Lot.id)).where(col(Lot.code) == lot_code))
    if lot_id is None:
        return False
    tag = registration_tag(secrecy, lot_id=lot_id, organization_id=organization_id)
    found = await session.scalar(select(col(Registration.id)).where(col(Registration.tag) == tag))
    return found is not None
