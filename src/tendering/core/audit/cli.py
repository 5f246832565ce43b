"""``tendering audit``: verify the audit chain."""

from __future__ import annotations

import click

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """Verify and checkpoint the audit chain (chain-v1)."""
