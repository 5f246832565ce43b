"""The reserve price (底价): entered by the designated user before the cut-off, sealed until
the result, fixed after the cut-off.

Like a sealed bid, only a keyed commitment goes into the chain::

    commitment = HMAC-SHA256(key=nonce, msg=utf8(f"reserve-v1|{code}|{reserve_fen}"))  (hex)

with a random 16-byte ``nonce``. The reserve and the nonce are stored only sealed
(``Secrecy.seal``, purpose ``auction-reserve|<code>``). At the result :func:`open_reserve`
opens the box, recomputes the commitment and checks it against the row and the chain's
latest ``auction.reserve_entered`` event; the result event then publishes ``reserve_fen`` and
``nonce`` so anyone can re-check the commitment. Entering again before the cut-off replaces
the reserve (a new commitment in the chain); after the cut-off nothing changes it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from auction.lookup import auction_for_update
from auction.models import Auction, AuctionState
from tendering.core.audit import auction_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Forbidden, Inconsistent
from tendering.core.secrecy import Secrecy

__all__ = [
    "OpenedReserve",
    "enter_reserve",
    "open_reserve",
    "reserve_commitment",
    "seal_reserve",
]

RESERVE_VERSION = "reserve-v1"


def reserve_commitment(code: str, reserve_fen: int, nonce: bytes) -> str:
    message = f"{RESERVE_VERSION}|{code}|{reserve_fen}".encode()
    return hmac.new(nonce, message, hashlib.sha256).hexdigest()


def _purpose(code: str) -> str:
    return f"auction-reserve|{code}"


@dataclass(frozen=True)
class OpenedReserve:
    reserve_fen: int
    nonce: str  # hex
    commitment: str


async def enter_reserve(
    session: AsyncSession, *, secrecy: Secrecy, actor: Actor, code: str, reserve_fen: int
) -> Auction:
    """Seal ``reserve_fen`` as the auction's reserve. Only the designated user, only before
    the cut-off by the database clock (409 ``auction.reserve`` after it)."""
    row = await auction_for_update(session, code)
    if row.reserve_user_id is None or actor.user_id != row.reserve_user_id:
        raise Forbidden(
            "只有指定的底价录入人可以录入底价: only the designated user may enter the reserve.",
            code=ErrorCode.AUTH_FORBIDDEN,
            field="reserve_fen",
        )
    now = await db_now(session)
    if now >= row.reserve_cutoff_at or row.state in (AuctionState.CLOSED, AuctionState.CANCELLED):
        raise Conflict(
            f"底价录入已于 {rfc3339(row.reserve_cutoff_at)} 截止，不能再录入或修改 "
            "(the reserve is fixed after its cut-off).",
            code=ErrorCode.AUCTION_RESERVE,
            field="reserve_fen",
            details={"cutoff_at": rfc3339(row.reserve_cutoff_at)},
        )
    await seal_reserve(session, secrecy=secrecy, actor=actor, row=row, reserve_fen=reserve_fen)
    return row


async def seal_reserve(
    session: AsyncSession, *, secrecy: Secrecy, actor: Actor, row: Auction, reserve_fen: int
) -> str:
    """Seal ``reserve_fen`` on ``row`` and chain its commitment (who and when are the
    caller's to check: :func:`enter_reserve`); returns the commitment."""
    nonce = os.urandom(16)
    commitment = reserve_commitment(row.code, reserve_fen, nonce)
    row.reserve_box = secrecy.seal(
        _purpose(row.code), {"reserve_fen": reserve_fen, "nonce": nonce.hex()}
    )
    row.reserve_commitment = commitment
    row.reserve_entered_at = await db_now(session)
    await session.flush()
    await record(
        session,
        stream=auction_stream(row.code),
        action="auction.reserve_entered",
        actor=actor,
        payload={"version": RESERVE_VERSION, "commitment": commitment},
    )
    return commitment


async def _chained_commitment(session: AsyncSession, code: str) -> str | None:
    found = await session.execute(
        text(
            "SELECT payload->>'commitment' FROM audit_event WHERE stream = :stream "
            "AND action = 'auction.reserve_entered' ORDER BY seq DESC LIMIT 1"
        ),
        {"stream": auction_stream(code)},
    )
    value = found.scalar_one_or_none()
    return str(value) if value is not None else None


async def open_reserve(
    session: AsyncSession, *, secrecy: Secrecy, row: Auction
) -> OpenedReserve | None:
    """The sealed reserve, checked against its commitment on the row and in the chain;
    ``None`` when none was entered (no reserve: any bid at the start price or more sells).
    A box that does not match its commitment is :class:`Inconsistent` (a damaged row)."""
    if row.reserve_box is None or row.reserve_commitment is None:
        return None
    opened = secrecy.open(_purpose(row.code), row.reserve_box)
    reserve_fen, nonce = int(opened["reserve_fen"]), str(opened["nonce"])
    commitment = reserve_commitment(row.code, reserve_fen, bytes.fromhex(nonce))
    chained = await _chained_commitment(session, row.code)
    if not (
        hmac.compare_digest(commitment, row.reserve_commitment)
        and chained is not None
        and hmac.compare_digest(commitment, chained)
    ):
        raise Inconsistent(f"the sealed reserve of {row.code} does not match its commitment")
    return OpenedReserve(reserve_fen=reserve_fen, nonce=nonce, commitment=commitment)
