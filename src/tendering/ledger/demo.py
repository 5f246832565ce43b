"""The demo's bank statement: bidder1-3 have paid the deposit of the school's first lot, so a
visitor can seal and submit a bid for it as any of them."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core import csvfile
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, Role
from tendering.core.clock import db_now
from tendering.core.demo import DemoBook
from tendering.core.money import yuan
from tendering.ledger.imports import import_statement
from tendering.ledger.service import get_deposit, list_deposits
from tendering.ledger.statements import CSV_COLUMNS

__all__ = ["DEMO_BANK_ACCOUNT", "add_demo_deposits", "add_demo_requested_deposits"]

DEMO_BANK_ACCOUNT = "110060149018800012345"  # the center's settlement account (demo)


async def add_demo_deposits(session: AsyncSession, book: DemoBook) -> None:
    """The demo step (after the tenders' one, which opened the deposit accounts)."""
    year = (await db_now(session)).year
    subject = f"lot:JY-{year}-0001-01"
    now = await db_now(session)
    out = io.StringIO()
    writer = csvfile.dict_writer(out, CSV_COLUMNS)
    writer.writeheader()
    paid = []
    for n in (1, 2, 3):
        org = book.users[f"bidder{n}"].organization_id
        for account in await list_deposits(
            session, secrecy=book.secrecy, bidder_org_id=org, subject=subject
        ):
            writer.writerow(
                {
                    "bank_account": DEMO_BANK_ACCOUNT,
                    "bank_ref": f"DEMO{year}{n:04d}",
                    "value_time": (now - timedelta(hours=1)).isoformat(),
                    "booking_date": now.date().isoformat(),
                    "direction": "C",
                    "amount": yuan(account.amount_due_fen),
                    "currency": "CNY",
                    "virtual_account": account.number,
                    "counterparty_name": await _name(session, org),
                    "counterparty_account": f"62220{n:014d}",
                    "memo": f"投标保证金 {subject[4:]}",
                }
            )
            paid.append(f"bidder{n}")
    if not paid:
        return
    staff = book.users["staff"]
    actor = Actor(staff.id, staff.username, Role(staff.role), staff.organization_id, OrgKind.CENTER)
    await import_statement(session, out.getvalue().encode(), secrecy=book.secrecy, actor=actor)
    book.notes.append(
        f"the bank statement paid the deposits of {', '.join(paid)} for {subject[4:]}: "
        "they can seal and submit bids for it."
    )


async def add_demo_requested_deposits(session: AsyncSession, book: DemoBook) -> None:
    """Pay ``book.deposits_due`` in full, each an hour before its deadline (or now), from
    one bank statement: the deposits other contexts' demo steps asked for."""
    if not book.deposits_due:
        return
    now = await db_now(session)
    out = io.StringIO()
    writer = csvfile.dict_writer(out, CSV_COLUMNS)
    writer.writeheader()
    for n, (org, subject) in enumerate(book.deposits_due, start=1):
        account = await get_deposit(
            session, secrecy=book.secrecy, bidder_org_id=org, subject=subject
        )
        value_time = min(now, account.deadline) - timedelta(hours=1)
        writer.writerow(
            {
                "bank_account": DEMO_BANK_ACCOUNT,
                "bank_ref": f"DEMOREQ{now.year}{n:05d}",
                "value_time": value_time.isoformat(),
                "booking_date": value_time.date().isoformat(),
                "direction": "C",
                "amount": yuan(account.amount_due_fen),
                "currency": "CNY",
                "virtual_account": account.number,
                "counterparty_name": await _name(session, org),
                "counterparty_account": f"62221{org:014d}",
                "memo": f"保证金 {subject.partition(':')[2]}",
            }
        )
    staff = book.users["staff"]
    actor = Actor(staff.id, staff.username, Role(staff.role), staff.organization_id, OrgKind.CENTER)
    await import_statement(session, out.getvalue().encode(), secrecy=book.secrecy, actor=actor)


async def _name(session: AsyncSession, organization_id: int | None) -> str:
    org = await session.get(Organization, organization_id)
    return org.name if org is not None else ""
