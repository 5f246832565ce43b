"""``tendering users``: manage logins from the command line."""

from __future__ import annotations

import click

__all__ = ["users"]


@click.group()
def users() -> None:
    """Create and list users."""
