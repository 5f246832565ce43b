"""Registration (竞买申请): apply, pay the deposit, staff approval, the paddle (竞买号).

Secret like tender registrations: the row names auction and organization only by a keyed
tag and a sealed holder (``models.py``), and the chain holds only the random public ``ref``
of each application (in the ``global`` stream, so neither an auction's stream nor the
global one counts its registrants). Staff of the center review applications (竞买资格审查);
bidders and the public learn paddles, never names, and no count before bidding starts.

The deposit goes to the bidder's own virtual account (``tendering.ledger``); staff can
approve only when ``deposit_status`` says it was received in full by the deadline. A paddle
is a random 4-digit number, unique in its auction and unrelated to the order of approval.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auction.lookup import (
    actors_registration,
    auction_for_update,
    get_auction,
    paddle_tag,
    registration_of,
    registration_tag,
)
from auction.models import Auction, AuctionRegistration, AuctionState, RegistrationState
from auction.schemas import RegistrationRead
from tendering.core.audit import GLOBAL, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind
from tendering.core.clock import db_now, rfc3339
from tendering.core.errors import Conflict, ErrorCode, Forbidden, Inconsistent, NotFound, present
from tendering.core.secrecy import Secrecy
from tendering.ledger import deposit_status, open_deposit_account

__all__ = [
    "Applicant",
    "applicants",
    "apply",
    "decide",
    "deposit_subject",
    "holder_of",
    "own_registration",
    "register",
]

_OPEN_STATES = (AuctionState.ANNOUNCED, AuctionState.LISTING)
# Who opens the bidder's deposit account and applies for it: the platform, so the chain
# never names the bidder's user next to its application.
_SYSTEM = Actor.system("auction.registration")


def deposit_subject(code: str) -> str:
    return f"auction:{code}"


def _purpose(tag: str) -> str:
    return f"auction-registration|{tag}"


@dataclass(frozen=True)
class Applicant:
    """An application with its opened holder (staff and settlement only)."""

    row: AuctionRegistration
    organization_id: int
    user_id: int


def _holder(secrecy: Secrecy, row: AuctionRegistration) -> tuple[int, int, int]:
    opened = secrecy.open(_purpose(row.tag), row.holder)
    return int(opened["auction_id"]), int(opened["organization_id"]), int(opened["user_id"])


def holder_of(secrecy: Secrecy, row: AuctionRegistration) -> Applicant:
    """The registration with its opened holder."""
    _, organization_id, user_id = _holder(secrecy, row)
    return Applicant(row=row, organization_id=organization_id, user_id=user_id)


async def apply(
    session: AsyncSession, *, secrecy: Secrecy, actor: Actor, code: str
) -> RegistrationRead:
    """Apply for the auction (idempotent: again returns the same application) and open the
    organization's deposit account for it."""
    if actor.organization_kind != OrgKind.BIDDER or actor.organization_id is None:
        raise Forbidden("只有竞买人单位可以报名 (only bidder organizations may apply)")
    auction = await get_auction(session, code)
    now = await db_now(session)
    if auction.state not in _OPEN_STATES or not (
        auction.registration_from <= now < auction.registration_to
    ):
        raise Conflict(
            f"报名时间为 {rfc3339(auction.registration_from)} 至 "
            f"{rfc3339(auction.registration_to)}，当前不能报名 (registration is not open).",
            code=ErrorCode.AUCTION_REGISTRATION_STATE,
            field="auction",
        )
    await register(
        session,
        secrecy=secrecy,
        auction=auction,
        organization_id=actor.organization_id,
        user_id=actor.user_id or 0,
    )
    return await own_registration(session, secrecy=secrecy, actor=actor, code=code)


async def register(
    session: AsyncSession, *, secrecy: Secrecy, auction: Auction, organization_id: int, user_id: int
) -> AuctionRegistration:
    """The organization's application (made once) and its deposit account; the window is
    the caller's to check (:func:`apply`; the demo backdates)."""
    auction_id = present(auction.id, "auction.id")
    row = await registration_of(
        session, secrecy=secrecy, auction_id=auction_id, organization_id=organization_id
    )
    if row is None:
        tag = registration_tag(secrecy, auction_id, organization_id)
        holder = {"auction_id": auction_id, "organization_id": organization_id, "user_id": user_id}
        # Two applications of one organization at once: the unique tag keeps one, the
        # other finds it (no 500 for a double click).
        inserted = (
            await session.execute(
                insert(AuctionRegistration)
                .values(
                    tag=tag,
                    holder=secrecy.seal(_purpose(tag), holder),
                    ref=secrets.token_hex(16),
                    state=RegistrationState.APPLIED,
                    applied_at=await db_now(session),
                    note="",
                )
                .on_conflict_do_nothing(index_elements=["tag"])
                .returning(col(AuctionRegistration.ref))
            )
        ).scalar()
        if inserted is not None:
            await record(
                session,
                stream=GLOBAL,
                action="auction.registration_applied",
                actor=_SYSTEM,
                payload={"registration": inserted},
            )
        row = present(
            await registration_of(
                session, secrecy=secrecy, auction_id=auction_id, organization_id=organization_id
            ),
            "registration",
        )
    await open_deposit_account(
        session,
        secrecy=secrecy,
        bidder_org_id=organization_id,
        subject=deposit_subject(auction.code),
        amount_due_fen=auction.deposit_fen,
        deadline=auction.deposit_deadline,
        actor=_SYSTEM,
    )
    return row


async def own_registration(
    session: AsyncSession, *, secrecy: Secrecy, actor: Actor, code: str
) -> RegistrationRead:
    """The caller's organization's application with its deposit account and status."""
    auction = await get_auction(session, code)
    row = await actors_registration(session, secrecy=secrecy, auction=auction, actor=actor)
    if row is None or actor.organization_id is None:
        raise NotFound(
            f"您的单位没有报名 {code} (no application of your organization)", field="auction"
        )
    status = await deposit_status(
        session,
        actor.organization_id,
        deposit_subject(code),
        await db_now(session),
        secrecy=secrecy,
    )
    return _read(row, code, account=status.number, status=status.state)


def _read(
    row: AuctionRegistration,
    code: str,
    *,
    account: str | None = None,
    status: str | None = None,
    organization: Organization | None = None,
) -> RegistrationRead:
    return RegistrationRead(
        ref=row.ref,
        auction=code,
        state=RegistrationState(row.state),
        applied_at=row.applied_at,
        decided_at=row.decided_at,
        note=row.note,
        paddle=row.paddle,
        deposit_account=account,
        deposit_status=status,
        organization_id=organization.id if organization else None,
        organization_name=organization.name if organization else None,
    )


async def _bidders(session: AsyncSession) -> list[Organization]:
    query = select(Organization).where(col(Organization.kind) == OrgKind.BIDDER)
    return list((await session.scalars(query.order_by(col(Organization.id)))).all())


async def applicants(
    session: AsyncSession, *, secrecy: Secrecy, auction: Auction
) -> list[Applicant]:
    """Every application for the auction, found by computing each bidder organization's
    tag (rows name no auction), in order of application."""
    auction_id = present(auction.id, "auction.id")
    tags = {
        registration_tag(secrecy, auction_id, org.id or 0): org for org in await _bidders(session)
    }
    if not tags:
        return []
    rows = (
        await session.scalars(
            select(AuctionRegistration)
            .where(col(AuctionRegistration.tag).in_(list(tags)))
            .order_by(col(AuctionRegistration.applied_at))
        )
    ).all()
    found = []
    for row in rows:
        held_auction, org_id, user_id = _holder(secrecy, row)
        if held_auction != auction_id or org_id != tags[row.tag].id:
            raise Inconsistent(f"registration {row.ref} is sealed for another holder")
        found.append(Applicant(row=row, organization_id=org_id, user_id=user_id))
    return found


async def list_applications(
    session: AsyncSession, *, secrecy: Secrecy, code: str
) -> list[RegistrationRead]:
    """Staff: every application with its organization and deposit status."""
    auction = await get_auction(session, code)
    now = await db_now(session)
    reads = []
    for applicant in await applicants(session, secrecy=secrecy, auction=auction):
        status = await deposit_status(
            session, applicant.organization_id, deposit_subject(code), now, secrecy=secrecy
        )
        org = await session.get(Organization, applicant.organization_id)
        reads.append(
            _read(applicant.row, code, account=status.number, status=status.state, organization=org)
        )
    return reads


async def _new_paddle(session: AsyncSession, secrecy: Secrecy, auction_id: int) -> tuple[str, str]:
    """A random paddle not yet used in this auction (the caller holds the auction's lock)."""
    for _ in range(100):
        paddle = str(1000 + secrets.randbelow(9000))
        tag = paddle_tag(secrecy, auction_id, paddle)
        taken = await session.scalar(
            select(col(AuctionRegistration.id)).where(col(AuctionRegistration.paddle_tag) == tag)
        )
        if taken is None:
            return paddle, tag
    raise Inconsistent("no free paddle number after 100 tries")


async def decide(
    session: AsyncSession,
    *,
    secrecy: Secrecy,
    actor: Actor,
    code: str,
    ref: str,
    approve: bool,
    note: str,
) -> RegistrationRead:
    """Staff approve (giving a paddle) or reject an application. Approval needs the
    deposit received in full by the deadline (the ledger decides), 409 otherwise."""
    auction = await auction_for_update(session, code)  # serializes paddle numbering
    row = (
        await session.execute(
            select(AuctionRegistration).where(col(AuctionRegistration.ref) == ref).with_for_update()
        )
    ).scalar_one_or_none()
    auction_id = present(auction.id, "auction.id")
    if row is None or _holder(secrecy, row)[0] != auction_id:
        raise NotFound(f"{code} 没有这份报名 (no such application)", field="ref")
    if row.state != RegistrationState.APPLIED or auction.state not in _OPEN_STATES:
        raise Conflict(
            f"报名 {ref} 已处理或拍卖已开始 (the application is {row.state}; "
            f"the auction is {auction.state}).",
            code=ErrorCode.AUCTION_REGISTRATION_STATE,
            field="ref",
        )
    _, org_id, _ = _holder(secrecy, row)
    now = await db_now(session)
    if approve:
        status = await deposit_status(session, org_id, deposit_subject(code), now, secrecy=secrecy)
        if status.state != "received":
            raise Conflict(
                f"竞买保证金未在 {rfc3339(auction.deposit_deadline)} 前足额到账（当前: "
                f"{status.state}，已到 {status.received_fen} 分，"
                f"应缴 {status.amount_due_fen} 分），"
                "不能批准 (the deposit was not received in full by the deadline).",
                code=ErrorCode.AUCTION_REGISTRATION_STATE,
                field="deposit",
                details={"deposit_status": status.state, "received_fen": status.received_fen},
            )
        row.paddle, row.paddle_tag = await _new_paddle(session, secrecy, auction_id)
    row.state = RegistrationState.APPROVED if approve else RegistrationState.REJECTED
    row.decided_at, row.decided_by, row.note = now, actor.user_id, note
    await session.flush()
    await record(
        session,
        stream=GLOBAL,
        action="auction.registration_decided",
        actor=actor,
        payload={"registration": ref, "approved": approve},
    )
    org = await session.get(Organization, org_id)
    return _read(row, code, organization=org)
