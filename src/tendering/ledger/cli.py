"""``tendering ledger``: check the deposit ledger from the command line.

    DATABASE_URL=postgresql://auditor@db/tendering tendering ledger verify

Exit code 0 when every invariant holds, 1 when one does not (each problem printed in plain
words), 2 when the command cannot run (no DATABASE_URL). Read access is enough.
"""

from __future__ import annotations

import asyncio

import click

from tendering.core.db import make_engine, make_sessionmaker
from tendering.ledger.verify import verify_ledger
from tendering.settings import Settings, SettingsError

__all__ = ["ledger"]


class CannotRun(click.ClickException):
    exit_code = 2


@click.group()
def ledger() -> None:
    """The deposit ledger (保证金): verify its invariants."""


async def _verify(url: str) -> list[str]:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await verify_ledger(session)
    finally:
        await engine.dispose()


@ledger.command()
def verify() -> None:
    """Debits = credits, balances = sums of transfers, no flagged account negative, every
    statement line booked or in suspense."""
    try:
        settings = Settings.from_env()
        url = settings.async_database_url
    except SettingsError as exc:
        raise CannotRun(f"{exc}. Point DATABASE_URL at the platform's PostgreSQL.") from None
    problems = asyncio.run(_verify(url))
    for problem in problems:
        click.echo(f"PROBLEM: {problem}")
    if problems:
        raise SystemExit(1)
    click.echo(
        "ledger OK: debits equal credits, balances match transfers, "
        "no flagged account negative, every statement line booked or in suspense"
    )
