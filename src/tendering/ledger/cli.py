"""``tendering ledger``: check the deposit ledger from the command line.

    DATABASE_URL=postgresql://auditor@db/tendering tendering ledger verify

Exit code 0 when every invariant holds, 1 when one does not (each problem printed in plain
words), 2 when the command cannot run (bad settings, no database). Read access is enough.
Without ``DATABASE_URL`` it checks the embedded database under ``TENDERING_DATA_DIR``.
"""

from __future__ import annotations

import click

from tendering.core.cli_support import platform_database, run_in_session
from tendering.ledger.verify import verify_ledger

__all__ = ["ledger"]


@click.group()
def ledger() -> None:
    """The deposit ledger (保证金): verify its invariants."""


@ledger.command()
def verify() -> None:
    """Debits = credits, balances = sums of transfers, no flagged account negative, every
    statement line booked or in suspense, every bank statement's balances in the books."""
    with platform_database() as settings:
        problems = run_in_session(settings, verify_ledger, writes=False)
    for problem in problems:
        click.echo(f"PROBLEM: {problem}")
    if problems:
        raise SystemExit(1)
    click.echo(
        "ledger OK: debits equal credits, balances match transfers, "
        "no flagged account negative, every statement line booked or in suspense, "
        "the bank's balances agree with the books"
    )
