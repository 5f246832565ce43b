"""Registration for a lot (获取招标文件), kept secret until opening.

Who registered, and how many, must not leak to other bidders or the public (招标投标法
第二十二条: 招标人不得向他人透露已获取招标文件的潜在投标人的名称、数量). So:

- a bidder reaches only its own registrations; every "not yours", "no such lot", "not
  published" and "no such reference" is the same 404 with the same words;
- registering twice answers exactly like registering once (one ``INSERT ... ON CONFLICT DO
  NOTHING``, then a read of the caller's own row), so no answer depends on anyone else;
- no row id, sequence or count is ever returned: the handle is a random ``ref``;
- the audit chain holds, in the global stream, only a hiding commitment to each
  registration (``registration.made``) and to its deposit account (``deposit.opened``),
  under system actors: no organization, no lot, and nothing in the lot's own stream, whose
  length would count them;
- when the opening has finished, :func:`reveal_registrations` opens them in the lot's stream
  (``registration.revealed``, ``deposit.revealed``) so anyone can match the commitments.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, NotFound
from tendering.core.secrecy import Secrecy
from tendering.ledger import DepositView, get_deposit, open_deposit_account, reveal_deposits
from tendering.tenders import rules
from tendering.tenders.models import (
    Amendment,
    Lot,
    Notice,
    NoticeLot,
    NoticeStatus,
    Registration,
    RegistrationMessage,
)

__all__ = [
    "REGISTRATION_ACTOR",
    "is_registered",
    "own_deposit",
    "own_messages",
    "own_registration",
    "own_registrations",
    "register_for_lot",
    "reveal_registrations",
]

# Acts for the bidder in the audit chain: the bidder's own user would name the bidder.
REGISTRATION_SYSTEM = Actor.system("registration")
REGISTRATION_ACTOR = REGISTRATION_SYSTEM.ref
_NOT_FOUND = "No registration of yours was found for this lot or reference."


def _not_found() -> NotFound:
    return NotFound(_NOT_FOUND, code="tender.no_registration")


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
    now = await db_now(session)
    if not notice.documents_from <= now < notice.documents_to:
        raise Conflict(
            "Documents for this lot are available from "
            f"{rfc3339(notice.documents_from)} to {rfc3339(notice.documents_to)}; "
            "registration is open only then.",
            code="tender.registration_closed",
        )
    ref, nonce = secrets.token_hex(16), secrets.token_hex(16)
    inserted = (
        await session.execute(
            insert(Registration)
            .values(
                lot_id=lot.id,
                organization_id=actor.organization_id,
                user_id=actor.user_id,
                ref=ref,
                registered_at=now,
                nonce=nonce,
            )
            .on_conflict_do_nothing(index_elements=["lot_id", "organization_id"])
            .returning(col(Registration.ref))
        )
    ).scalar()
    if lot.deposit_fen > 0:
        # The bidder's own virtual account (子账号) for this lot's deposit; idempotent, so a
        # second registration takes the same path and gets the same account.
        await open_deposit_account(
            session,
            secrecy=secrecy,
            bidder_org_id=actor.organization_id or 0,
            subject=lot_stream(lot.code),
            amount_due_fen=lot.deposit_fen,
            deadline=notice.bid_deadline,
            actor=REGISTRATION_SYSTEM,
        )
    if inserted is not None:
        fields = rules.registered_fields(
            lot=lot.code, organization=actor.organization_id or 0, registration=ref
        )
        await record(
            session,
            stream=GLOBAL,
            action="registration.made",
            actor=REGISTRATION_ACTOR,
            payload={"commitment": rules.registration_commitment(fields, nonce)},
        )
    return await own_registration(session, actor=actor, lot_code=lot.code)


async def reveal_registrations(
    session: AsyncSession, *, lot_code: str, actor: Actor, secrecy: Secrecy
) -> int:
    """Open the lot's registration and deposit commitments in its own stream, at the opening.

    The opening must call this, in its transaction, when a lot's opening finishes (opened
    or failed): until then who registered, and how many, are secret (招标投标法 第二十二条).
    Records one ``registration.revealed`` per registration (the committed fields, the
    organization's code and name, the registration time and the nonce), then the ledger's
    ``deposit.revealed`` for every deposit account of the lot; a second call reveals nothing
    again. Refused (409 ``tender.not_opened``) before the lot's opening time. Returns how
    many registrations it revealed.
    """
    lot, opening_at = await _lot_with_opening(session, lot_code)
    if await db_now(session) < opening_at:
        raise Conflict(
            f"The opening of {lot_code} is at {rfc3339(opening_at)}; who registered stays "
            "secret until then.",
            code="tender.not_opened",
        )
    stream = lot_stream(lot.code)
    # Two reveals at once would both see nothing revealed yet and reveal everything twice.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"reveal:{stream}", 0)))
    )
    rows = await _unrevealed(session, lot, stream)
    for registration, organization in rows:
        fields = rules.registered_fields(
            lot=lot.code, organization=organization.id or 0, registration=registration.ref
        )
        await record(
            session,
            stream=stream,
            action="registration.revealed",
            actor=actor,
            payload=fields
            | {
                "nonce": registration.nonce,
                "organization_code": organization.code,
                "organization_name": organization.name,
                "registered_at": rfc3339(registration.registered_at),
            },
        )
    await reveal_deposits(session, secrecy=secrecy, subject=stream, actor=actor)
    return len(rows)


async def _lot_with_opening(session: AsyncSession, lot_code: str) -> tuple[Lot, datetime]:
    """The lot and the opening time of its latest notice (an amendment may have moved it)."""
    query = (
        select(Lot, col(Notice.opening_at))
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
        .where(col(Lot.code) == lot_code)
        .order_by(col(Notice.id).desc())
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"No lot {lot_code} with a notice.", code="tender.no_lot")
    return row[0], row[1]


async def _unrevealed(
    session: AsyncSession, lot: Lot, stream: str
) -> list[tuple[Registration, Organization]]:
    revealed = (
        await session.execute(
            text(
                "SELECT payload ->> 'registration' FROM audit_event"
                " WHERE stream = :stream AND action = 'registration.revealed'"
            ),
            {"stream": stream},
        )
    ).scalars()
    done = set(revealed)
    query = (
        select(Registration, Organization)
        .join(Organization, col(Organization.id) == col(Registration.organization_id))
        .where(col(Registration.lot_id) == lot.id)
        .order_by(col(Registration.registered_at), col(Registration.ref))
    )
    rows = (await session.execute(query)).all()
    return [(r, o) for r, o in rows if r.ref not in done]


async def own_registration(
    session: AsyncSession, *, actor: Actor, lot_code: str | None = None, ref: str | None = None
) -> tuple[Registration, str, int]:
    """The caller's registration by lot code or by ref, with the lot code and notice id."""
    query = (
        select(Registration, col(Lot.code), col(NoticeLot.notice_id))
        .join(Lot, col(Lot.id) == col(Registration.lot_id))
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .join(Notice, col(Notice.id) == col(NoticeLot.notice_id))
        .where(col(Registration.organization_id) == actor.organization_id)
        .order_by(col(Notice.id).desc())
    )
    if lot_code is not None:
        query = query.where(col(Lot.code) == lot_code)
    if ref is not None:
        query = query.where(col(Registration.ref) == ref)
    row = (await session.execute(query)).first()
    if row is None:
        raise _not_found()
    return row[0], row[1], row[2]


async def own_registrations(
    session: AsyncSession, *, actor: Actor
) -> list[tuple[Registration, str, int]]:
    query = (
        select(Registration, col(Lot.code), func.max(col(NoticeLot.notice_id)))
        .join(Lot, col(Lot.id) == col(Registration.lot_id))
        .join(NoticeLot, col(NoticeLot.lot_id) == col(Lot.id))
        .where(col(Registration.organization_id) == actor.organization_id)
        .group_by(col(Registration.id), col(Lot.code))
        .order_by(col(Registration.registered_at).desc())
    )
    return [(r, code, notice) for r, code, notice in (await session.execute(query)).all()]


async def own_messages(
    session: AsyncSession, *, actor: Actor
) -> list[tuple[RegistrationMessage, Amendment]]:
    query = (
        select(RegistrationMessage, Amendment)
        .join(Amendment, col(Amendment.id) == col(RegistrationMessage.amendment_id))
        .where(col(RegistrationMessage.organization_id) == actor.organization_id)
        .order_by(col(RegistrationMessage.delivered_at).desc())
    )
    return [(m, a) for m, a in (await session.execute(query)).all()]


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


async def is_registered(session: AsyncSession, *, lot_code: str, organization_id: int) -> bool:
    """For the bids context: may this organization bid on the lot?"""
    query = (
        select(col(Registration.id))
        .join(Lot, col(Lot.id) == col(Registration.lot_id))
        .where(col(Lot.code) == lot_code, col(Registration.organization_id) == organization_id)
    )
    return (await session.scalar(query)) is not None
