"""Revealing a lot's registrations once its opening has finished.

Until then who registered, and how many, are secret (招标投标法第二十二条; see
``tenders/registration.py``). The opening calls :func:`reveal_registrations` in its own
transaction when it finishes: the audit chain's commitments to each registration and to its
deposit account are opened in the lot's stream, so anyone can match them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, NotFound
from tendering.core.secrecy import Secrecy
from tendering.ledger import reveal_deposits
from tendering.tenders import rules
from tendering.tenders.models import Lot, Notice, NoticeLot, Registration
from tendering.tenders.registration import any_tag, registration_tag

__all__ = ["reveal_registrations"]


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
            code=ErrorCode.TENDER_NOT_OPENED,
        )
    stream = lot_stream(lot.code)
    # Two reveals at once would both see nothing revealed yet and reveal everything twice.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"reveal:{stream}", 0)))
    )
    rows = await _unrevealed(session, lot, stream, secrecy)
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
        raise NotFound(f"No lot {lot_code} with a notice.", code=ErrorCode.TENDER_NO_LOT)
    return row[0], row[1]


async def _unrevealed(
    session: AsyncSession, lot: Lot, stream: str, secrecy: Secrecy
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
    if lot.id is None:
        raise Inconsistent("lot.id is missing")
    # Every organization, not only today's bidders: a row must not stay hidden because its
    # organization changed. A few thousand HMACs, once per opening.
    organizations = (await session.scalars(select(Organization))).all()
    by_tag = {
        registration_tag(secrecy, lot_id=lot.id, organization_id=o.id or 0): o
        for o in organizations
    }
    query = (
        select(Registration)
        .where(col(Registration.tag) == any_tag(by_tag))
        .order_by(col(Registration.registered_at), col(Registration.ref))
    )
    rows = (await session.scalars(query)).all()
    return [(r, by_tag[r.tag]) for r in rows if r.ref not in done]
