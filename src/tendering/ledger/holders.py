"""Who holds a deposit account, and on what terms, kept from whoever reads the database.

A ``deposit_account`` row names its holder only by ``holder_tag`` =
``secrecy.tag("deposit", subject, bidder_org_id)`` and keeps the bidder, the subject, the
amount due and the deadline sealed in ``terms`` (``core/secrecy.py``): the amount and the
deadline are the lot's own values, so in clear they would group the rows by lot and count
its bidders (招标投标法第二十二条). The box is sealed for ``"deposit:<number>"``, so it opens
only in its own row; opening it also checks it against the row's tag, so a box or a tag
moved to another row is refused rather than read as someone else's account.

    tag = holder_tag(secrecy, bidder_org_id=7, subject="lot:L-1")
    box = seal_terms(secrecy, number, AccountTerms(7, "lot:L-1", 5_000_000, deadline))
    terms = open_terms(secrecy, number=number, holder_tag=tag, box=box)

To find a subject's accounts, :func:`subject_tags` computes the tag of every bidder
organization (only bidders get accounts) for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.clock import parse_rfc3339, rfc3339
from tendering.core.errors import ErrorCode, PlatformError
from tendering.core.secrecy import Secrecy

__all__ = [
    "AccountTerms",
    "SealedTermsBroken",
    "holder_tag",
    "open_terms",
    "seal_terms",
    "subject_tags",
]


class SealedTermsBroken(PlatformError):
    """A row's sealed terms do not open with the platform key, or not as its own: the row
    was altered in the database, or the platform runs with another key than it wrote with.
    Nothing the caller sent can fix it: a 500 naming the account."""

    default_code = ErrorCode.LEDGER_SEALED_TERMS


@dataclass(frozen=True)
class AccountTerms:
    bidder_org_id: int
    subject: str
    amount_due_fen: int
    deadline: datetime


def holder_tag(secrecy: Secrecy, *, bidder_org_id: int, subject: str) -> str:
    return secrecy.tag("deposit", subject, bidder_org_id)


def _purpose(number: str) -> str:
    return f"deposit:{number}"


def seal_terms(secrecy: Secrecy, number: str, terms: AccountTerms) -> str:
    return secrecy.seal(
        _purpose(number),
        {
            "bidder_org_id": terms.bidder_org_id,
            "subject": terms.subject,
            "amount_due_fen": terms.amount_due_fen,
            "deadline": rfc3339(terms.deadline),
        },
    )


def open_terms(secrecy: Secrecy, *, number: str, holder_tag: str, box: str) -> AccountTerms:
    """The terms sealed in account ``number``'s row, checked against the row's tag."""
    try:
        value = secrecy.open(_purpose(number), box)
        terms = AccountTerms(
            bidder_org_id=int(value["bidder_org_id"]),
            subject=str(value["subject"]),
            amount_due_fen=int(value["amount_due_fen"]),
            deadline=parse_rfc3339(value["deadline"]),
        )
    except (InvalidTag, ValueError, KeyError, TypeError):
        terms = None
    if terms is None or holder_tag != _tag_of(secrecy, terms):
        raise SealedTermsBroken(
            f"保证金子账号 {number} 的密封条款无法打开 (the sealed terms of deposit account"
            f" {number} do not open with the platform key as this account's own: the row was"
            " altered in the database, or the platform runs with another signing key)"
        )
    return terms


def _tag_of(secrecy: Secrecy, terms: AccountTerms) -> str:
    return holder_tag(secrecy, bidder_org_id=terms.bidder_org_id, subject=terms.subject)


async def subject_tags(
    session: AsyncSession,
    secrecy: Secrecy,
    subject: str,
    bidder_org_ids: list[int] | None = None,
) -> list[str]:
    """The holder tags ``subject``'s accounts can have: one per bidder organization (or per
    one of ``bidder_org_ids``, when given)."""
    if bidder_org_ids is None:
        ids = (
            await session.execute(text("SELECT id FROM organization WHERE kind = 'bidder'"))
        ).scalars()
        bidder_org_ids = list(ids)
    return [holder_tag(secrecy, bidder_org_id=org, subject=subject) for org in bidder_org_ids]
