"""The demo's opening-key custodians: three users with a known passphrase, so the demo
lots get their opening keys at publication and a visitor can seal, submit and open bids."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.core.demo import DemoBook
from tendering.core.errors import Inconsistent
from tendering.opening.ceremony import register_custodian_key

__all__ = ["DEMO_CUSTODIANS", "DEMO_PASSPHRASE", "add_demo_custodians"]

# Three organizations (交易中心, 财政局, 住建局), two of them supervisory: any two of the three
# who open a lot come from two organizations (opening/custodians.py).
DEMO_CUSTODIANS = ("staff", "supervisor", "supervisor2")
DEMO_PASSPHRASE = "demo-custodian-2026"  # noqa: S105 (printed to the demo's visitor)


async def add_demo_custodians(session: AsyncSession, book: DemoBook) -> None:
    """The demo step (before the tenders' one, whose lots name these custodians)."""
    for username in DEMO_CUSTODIANS:
        user = book.users[username]
        if user.id is None:
            raise Inconsistent("user.id is missing")
        actor = Actor(user.id, user.username, Role(user.role), user.organization_id, None)
        await register_custodian_key(session, actor=actor, passphrase=DEMO_PASSPHRASE)
        book.custodians.append(user.id)
    book.notes.append(
        f"opening-key custodians {', '.join(DEMO_CUSTODIANS)} (any 2 of 3 open a lot), "
        f"passphrase {DEMO_PASSPHRASE}."
    )
